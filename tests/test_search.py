from types import SimpleNamespace

import numpy as np
import pytest

from helpers.experiments.search import best, centred_range, lambda_values, search
from helpers.training.loop import train
from helpers.training.settings import Settings


def test_grid_is_log_spaced_with_both_ends():
    values = lambda_values(-5, -1, 100)
    assert values.shape == (100,)
    assert values[0] == pytest.approx(1e-5) and values[-1] == pytest.approx(1e-1)
    np.testing.assert_allclose(np.diff(np.log10(values)), 4 / 99)


def test_random_values_are_log_uniform_seeded_and_sorted():
    values = lambda_values(-4, -2, 2000, kind="random", seed=3)
    np.testing.assert_array_equal(values, lambda_values(-4, -2, 2000, kind="random", seed=3))
    assert not np.array_equal(values, lambda_values(-4, -2, 2000, kind="random", seed=4))
    assert (np.diff(values) >= 0).all() and 1e-4 <= values[0] and values[-1] <= 1e-2
    exponents = np.log10(values)
    assert abs(np.mean(exponents < -3) - 0.5) < 0.05  # uniform in l, not in lambda


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-5, -1, 10, "sobol"), "kind must be one of"),
        ((-5, -1, 0), "count must be a positive integer"),
        ((-1, -5, 10), "must not be above l_max"),
    ],
)
def test_bad_search_ranges_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        lambda_values(*args)


def test_centred_range():
    assert centred_range(1e-3, 0.5) == pytest.approx((-3.5, -2.5))
    with pytest.raises(ValueError, match="must be > 0"):
        centred_range(0.0, 0.5)


def test_best_ranks_by_validation_accuracy_only():
    rows = [
        {"lambda": 1e-3, "train_accuracy": 0.9, "val_accuracy": 0.40},
        {"lambda": 1e-2, "train_accuracy": 0.5, "val_accuracy": 0.52},
        {"lambda": 1e-4, "train_accuracy": 0.6, "val_accuracy": 0.52},
        {"lambda": 1e-1, "train_accuracy": 0.4, "val_accuracy": 0.45},
    ]
    assert [r["lambda"] for r in best(rows, k=3)] == [1e-4, 1e-2, 1e-1]


def test_search_table_matches_separate_runs():
    rng = np.random.default_rng(0)
    make = lambda n: (rng.standard_normal((n, 16)).astype(np.float32), rng.integers(0, 10, n))  # noqa: E731
    (X_train, y_train), (X_val, y_val) = make(50), make(20)
    split = SimpleNamespace(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val)
    settings = Settings(eta_min=1e-3, eta_max=5e-2, n_s=8, batch_size=10, m=8, dtype="float64")
    lambdas = [1e-4, 1e-2, 1.0]
    rows = search(split, settings, lambdas, progress=False)
    assert [r["lambda"] for r in rows] == lambdas
    assert set(rows[0]) == {"lambda", "train_accuracy", "val_accuracy", "train_cost",
                            "val_cost", "train_loss", "val_loss"}
    for row, lam in zip(rows, lambdas, strict=True):
        _, history = train(split, settings, [lam], progress=False)
        for key in ("train_accuracy", "val_accuracy", "val_cost"):
            assert row[key] == pytest.approx(history["curves"][key][-1], rel=1e-9)
    assert rows[2]["val_cost"] != pytest.approx(rows[0]["val_cost"])
