import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from helpers.training.loop import DivergenceError, Seams, train
from helpers.training.settings import Settings

# The torch engine's device in the tests: "cpu" here; WORKBOOK_TEST_DEVICE=cuda on a GPU
# machine runs the same tests there (tests/README.md).
DEVICE = os.environ.get("WORKBOOK_TEST_DEVICE", "cpu")


def synthetic_split(n_train=60, n_val=20, d=30, seed=0):
    """Random images and labels in the layout of helpers.cifar.data.Split (float32 rows)."""
    rng = np.random.default_rng(seed)
    make = lambda n: (rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, 10, n))  # noqa: E731
    (X_train, y_train), (X_val, y_val) = make(n_train), make(n_val)
    return SimpleNamespace(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val)


SMALL = Settings(eta_min=1e-3, eta_max=5e-2, n_s=10, cycles=2, batch_size=8, m=12)


def test_overfits_a_tiny_set():
    split = synthetic_split(n_train=20)
    settings = Settings(eta_min=1e-2, eta_max=2e-1, n_s=100, cycles=2, batch_size=10, m=50)
    _, history = train(split, settings, [0.0], progress=False)
    assert history["curves"]["train_accuracy"][-1] == 1.0
    assert history["curves"]["train_loss"][-1] < history["curves"]["train_loss"][0] / 10


def test_networks_side_by_side_equal_separate_runs():
    split = synthetic_split()
    settings = Settings(**{**SMALL.to_dict(), "dtype": "float64"})
    lambdas, seeds = [0.0, 1e-3, 1e-1], [0, 0, 5]
    stacked, history = train(split, settings, lambdas, seeds=seeds, progress=False)
    for k, (lam, seed) in enumerate(zip(lambdas, seeds, strict=True)):
        alone, alone_history = train(split, settings, [lam], seeds=[seed], progress=False)
        for name, value in alone.items():
            np.testing.assert_allclose(stacked[name][k], value[0], rtol=1e-10, atol=1e-12)
        rows = [i for i, net in enumerate(history["curves"]["network"]) if net == k]
        got = [history["curves"]["val_cost"][i] for i in rows]
        np.testing.assert_allclose(got, alone_history["curves"]["val_cost"], rtol=1e-10)
    assert not np.allclose(stacked["W1"][0], stacked["W1"][2])


def test_trainings_stepped_in_turn_equal_each_trained_alone(monkeypatch):
    """side_by_side steps training generators in turn in one thread: each output is train()'s
    digit for digit; only the first names its progress lines; the thread's name is kept."""
    from helpers.training import loop, progress

    split = synthetic_split()
    wide = Settings(**{**SMALL.to_dict(), "m": 20})
    alone = [train(split, SMALL, [1e-3, 1e-2], progress=False),
             train(split, wide, [1e-3], progress=False, seams=Seams(dropout=0.3))]
    named, ticker = [], loop.Ticker
    monkeypatch.setattr(loop, "Ticker", lambda total: named.append(progress.current()) or
                        ticker(total))
    progress.doing("row 'full', seed 0")
    together = loop.side_by_side([
        loop.training(split, SMALL, [1e-3, 1e-2], progress=False),
        loop.training(split, wide, [1e-3], progress=False, seams=Seams(dropout=0.3))])
    assert named == ["row 'full', seed 0", None] and progress.current() == "row 'full', seed 0"
    for (p, h), (q, g) in zip(together, alone, strict=True):
        assert all(np.array_equal(p[k], q[k]) for k in p)
        assert h["curves"] == g["curves"]


def test_history_records_about_ten_times_per_cycle_and_eta_every_step():
    _, history = train(synthetic_split(), SMALL, [0.01], progress=False)
    steps = history["curves"]["step"]
    assert steps == list(range(0, 40, 2)) + [40]
    assert history["eta"]["step"] == list(range(40))
    assert history["eta"]["eta"][0] == pytest.approx(1e-3) and max(history["eta"]["eta"]) == 5e-2
    assert {len(column) for column in history["curves"].values()} == {21}
    seconds = history["seconds"]
    assert 0 < seconds["evaluation"] < seconds["total"]


def test_training_is_deterministic_for_a_seed_and_not_across_seeds():
    split = synthetic_split()
    first, _ = train(split, SMALL, [0.01], progress=False)
    again, _ = train(split, SMALL, [0.01], progress=False)
    other, _ = train(split, Settings(**{**SMALL.to_dict(), "seed": 1}), [0.01], progress=False)
    np.testing.assert_array_equal(first["W1"], again["W1"])
    assert not np.allclose(first["W1"], other["W1"])


def test_a_learning_rate_too_large_stops_with_the_step():
    settings = Settings(eta_min=1e6, eta_max=1e7, n_s=10, batch_size=8, m=12)
    with pytest.raises(DivergenceError, match=r"diverged at step \d+"):
        train(synthetic_split(), settings, [0.0], progress=False)


def test_torch_engine_matches_numpy():
    split = synthetic_split()
    settings = Settings(**{**SMALL.to_dict(), "dtype": "float64"})
    expected, _ = train(split, settings, [0.0, 0.01], progress=False)
    got, _ = train(split, settings, [0.0, 0.01], progress=False, device=torch.device(DEVICE))
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"eta_min": 0.2}, "eta_min .* above eta_max"),
        ({"n_s": 0}, "n_s must be at least 1"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"eta_max": -1.0}, "eta_max must be a number >= 0"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"learning_rate": 0.1}, r"unknown setting\(s\) \['learning_rate'\]"),
    ],
)
def test_nonsense_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_dict({**SMALL.to_dict(), **change})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lambdas": [-0.1]}, "lambda must be a finite number >= 0"),
        ({"lambdas": [float("nan")]}, "lambda must be a finite number >= 0"),
        ({"lambdas": []}, "no lambda given"),
        ({"lambdas": [0.1], "seeds": [1, 2]}, "2 seeds for 1 lambdas"),
        ({"lambdas": [0.1], "settings": Settings(batch_size=61)}, "larger than the 60"),
    ],
)
def test_bad_arguments_are_refused_before_training(kwargs, message, monkeypatch):
    def no_training(*args, **kw):
        raise AssertionError("training started")

    monkeypatch.setattr("helpers.training.loop.sgd_step", no_training)  # Run.step's name
    kwargs = {"settings": SMALL, **kwargs}
    with pytest.raises(ValueError, match=message):
        train(synthetic_split(), progress=False, **kwargs)



def test_the_schedule_seam_as_a_function_or_an_array_equals_the_default():
    from helpers.training.schedule import cyclic_eta

    split = synthetic_split()
    default, history = train(split, SMALL, [1e-3], progress=False)
    cycle = Seams(eta=lambda t: cyclic_eta(t, SMALL.eta_min, SMALL.eta_max, SMALL.n_s))
    as_function, _ = train(split, SMALL, [1e-3], progress=False, seams=cycle)
    as_array, _ = train(split, SMALL, [1e-3], progress=False,
                        seams=Seams(eta=history["eta"]["eta"]))
    for name, value in default.items():
        np.testing.assert_array_equal(as_function[name], value)
        np.testing.assert_array_equal(as_array[name], value)


def test_an_array_schedule_sets_the_step_count_and_changes_the_result():
    split = synthetic_split()
    rising = np.linspace(1e-4, 1e-1, 15)
    net, history = train(split, SMALL, [1e-3], progress=False, seams=Seams(eta=rising))
    assert history["eta"]["step"] == list(range(15))
    assert history["eta"]["eta"] == pytest.approx(rising.tolist())
    assert history["curves"]["step"][-1] == 15
    default, _ = train(split, SMALL, [1e-3], progress=False)
    assert not np.allclose(net["W2"], default["W2"])
    with pytest.raises(ValueError, match="learning rates must be finite"):
        train(split, SMALL, [1e-3], progress=False, seams=Seams(eta=[0.1, np.nan]))


def test_the_recording_seam_records_the_steps_asked_and_the_end():
    _, history = train(synthetic_split(), SMALL, [0.0, 1e-2], progress=False,
                       seams=Seams(record=[3, 7, 999]))
    assert history["curves"]["step"] == [3, 3, 7, 7, 40, 40]


def test_the_batch_hook_sees_every_step_and_changes_training():
    split = synthetic_split()
    seen = []

    def hook(X, y, t):
        seen.append((t, X.shape, y.shape))
        return X, y

    plain, _ = train(split, SMALL, [1e-3], progress=False)
    hooked, _ = train(split, SMALL, [1e-3], progress=False, seams=Seams(on_batch=hook))
    assert [t for t, *_ in seen] == list(range(SMALL.total_steps))
    assert all(tuple(shape) == ((8, 30), (8,)) for _, *shape in seen)
    np.testing.assert_array_equal(hooked["W1"], plain["W1"])  # the identity hook changes nothing
    flipped, _ = train(split, SMALL, [1e-3], progress=False,
                       seams=Seams(on_batch=lambda X, y, t: (-X, y)))
    assert not np.allclose(flipped["W1"], plain["W1"])
    before = split.X_train.copy()

    def in_place(X, y, t):
        X *= 0  # a hook may change its batch in place: the batch is a copy
        return X, y

    train(split, SMALL, [1e-3], progress=False, seams=Seams(on_batch=in_place))
    np.testing.assert_array_equal(split.X_train, before)


def test_a_range_test_stops_where_training_diverges_and_keeps_its_curves():
    split = synthetic_split()
    rising = np.geomspace(1e-3, 1e5, 60)
    with pytest.raises(DivergenceError):
        train(split, SMALL, [0.0], progress=False, seams=Seams(eta=rising))
    _, history = train(split, SMALL, [0.0], progress=False, seams=Seams(
        eta=rising, record=range(0, 60, 5), stop_on_divergence=True, parts=("val",)))
    stop = history["stopped_at"]
    assert 0 < stop < 60 and history["curves"]["step"][-1] == stop
    assert len(history["eta"]["eta"]) == stop and "train_accuracy" not in history["curves"]
    assert np.isfinite(history["curves"]["val_loss"][:-1]).all()  # the last step broke it
    assert np.isfinite(history["curves"]["val_accuracy"]).all()


def test_every_entry_point_that_takes_sizes_checks_them_first():
    """limit: 5 (five images, a mini-batch of 100): the training's own message everywhere,
    not a ZeroDivisionError from inside the mini-batches."""

    from helpers.experiments import bonus, range_test
    from helpers.training import loop, reference
    from helpers.training.settings import Settings

    message = "batch_size 100 is larger than the 5 training images"
    with pytest.raises(ValueError, match=message):
        loop.minibatches(5, 100, 0, 10)
    rng = np.random.default_rng(0)
    split = SimpleNamespace(X_train=rng.standard_normal((5, 6)).astype(np.float32),
                            y_train=np.arange(5))
    with pytest.raises(ValueError, match=message):
        reference.first_batch_check(split, Settings(n_s=10), 0.01)
    with pytest.raises(ValueError, match=message):
        range_test.etas(5, 100, 2, 1e-5, 1.0)
    with pytest.raises(ValueError, match=message):
        bonus.Study(None, split, split, bonus.Recipe(), [0, 1, 2], batch_size=100)
