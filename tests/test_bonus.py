"""The bonus's training: snapshots at the end of each cycle, seeded augmentation, selection
on validation, and the ablation rows."""

import numpy as np
import pytest

from helpers.experiments import bonus
from helpers.report import tables
from helpers.training.settings import Settings
from tests.test_loop import synthetic_split

SETTINGS = Settings(eta_min=1e-3, eta_max=5e-2, n_s=5, cycles=3, batch_size=8, m=10)


def image_split(seed=0):
    """A synthetic split whose rows have CIFAR-10's 3072 values (augmentation needs them)."""
    return synthetic_split(n_train=40, n_val=20, d=3072, seed=seed)


def test_a_snapshot_at_each_cycle_end_and_the_last_is_the_result():
    params, history, snapshots = bonus.train_snapshots(image_split(), SETTINGS, [1e-3, 1e-2],
                                                       progress=False)
    assert sorted(snapshots, key=int) == ["10", "20", "30"]
    for k, v in params.items():
        np.testing.assert_array_equal(snapshots["30"][k], v)
    assert not np.allclose(snapshots["10"]["W1"], params["W1"])
    assert sorted(set(history["curves"]["step"])) == [0, 10, 20, 30]


def test_augmentation_is_seeded_and_changes_training():
    split = image_split()
    plain = bonus.train_snapshots(split, SETTINGS, [1e-3], progress=False)[0]
    a = bonus.train_snapshots(split, SETTINGS, [1e-3], max_shift=3, p_flip=0.5,
                              progress=False)[0]
    b = bonus.train_snapshots(split, SETTINGS, [1e-3], max_shift=3, p_flip=0.5,
                              progress=False)[0]
    np.testing.assert_array_equal(a["W1"], b["W1"])
    assert not np.allclose(a["W1"], plain["W1"])


def test_pick_takes_the_best_final_validation_accuracy():
    history = {"curves": {"step": [0, 0, 9, 9], "network": [0, 1, 0, 1],
                          "val_accuracy": [0.9, 0.1, 0.4, 0.5]}}
    assert bonus.pick([1e-4, 1e-3], history) == (1e-3, 1)  # the end counts, not step 0


def test_rows_and_the_table():
    split = image_split()
    params, _, snapshots = bonus.train_snapshots(split, SETTINGS, [1e-3, 1e-3], seeds=[0, 1],
                                                 progress=False)
    split.X_test, split.y_test = split.X_val, split.y_val
    single = bonus.accuracy_row("wider", params, split)
    assert len(single["val"]["values"]) == 2 and single["members"] == 1
    both = bonus.accuracy_row("ensemble", params, split, members=list(snapshots.values()))
    assert both["members"] == 6 and len(both["test"]["values"]) == 1
    table = tables.ablation([single, both])
    assert "| ensemble |" in table and table.count("\n") == 3
    assert f"{100 * single['val']['mean']:.2f} ± " in table


@pytest.mark.parametrize("shift", [-1, 33])
def test_impossible_shifts_are_refused(shift):
    with pytest.raises(ValueError):
        bonus.train_snapshots(image_split(), SETTINGS, [1e-3], max_shift=shift, progress=False)


# The ablation's bookkeeping, on a fake trainer (what is kept; the figure, the ensemble and the
# chosen configuration always from the kept configuration)

BASE = {"settings": {"m": 50, "cycles": 3, "eta_min": 1e-5, "eta_max": 0.1},
        "lambda": 1e-3, "accuracy_over_seeds": {p: {"mean": 0.50, "std": 0.01,
                                                    "values": [0.49, 0.51]}
                                                for p in ("val", "test")}}


def score(config: dict) -> float:
    """The fake validation accuracy of a configuration: wide helps less than base here..."""
    value = 0.50 + (-0.02 if config["m"] == 1000 else 0) + 0.03 * config["dropout"] \
        + (0.02 if config["cycles"] == 6 else 0)
    return round(value, 6)


class FakeRun:
    """What Ablation needs of a workbook Section: parameters, settings_for, cached."""

    parameters = {"batch_size": 100, "seed": 0}

    def __init__(self):
        self.trained = []

    def settings_for(self, split, **config):
        return config

    def cached(self, fn, split, settings, lambdas, seeds=None, dropout=0.0, **augment):
        config = {**settings, "lam": lambdas[0], "dropout": dropout, **augment}
        self.trained.append(config)
        params = {"config": config, "W1": [[0]] * len(lambdas)}
        history = {"config": config}
        snapshots = {str(t): {"config": config, "end": t} for t in (10, 20, 30)}
        return params, history, snapshots


@pytest.fixture
def fake_row(monkeypatch):
    def row(label, params, split, members=None):
        config = params["config"]
        value = score(config) + (0.01 if members else 0)
        spread = {"mean": value, "std": 0.0, "values": [value]}
        return {"row": label, "val": spread, "test": spread,
                "members": len(members) if members else 1, "config": config,
                "member_configs": [m["config"] for m in members or []]}

    monkeypatch.setattr(bonus, "accuracy_row", row)


def steps():
    return bonus.Ablation(FakeRun(), split=None, base=BASE, n_seeds=2, search_cycles=1)


def test_a_change_is_kept_only_when_validation_rises(fake_row):
    a = steps()
    wider = a.step("+ wider", m=1000)  # 0.48 < 0.50: not kept
    dropout = a.step("+ dropout", dropout=0.5)  # 0.515 > 0.50: kept
    longer = a.step("+ longer", cycles=6)  # 0.535: kept
    assert [wider["kept"], dropout["kept"], longer["kept"]] == [False, True, True]
    assert a.config["m"] == 50 and a.config["dropout"] == 0.5 and a.config["cycles"] == 6


def test_the_figure_and_ensemble_come_from_the_kept_configuration(fake_row):
    a = steps()
    a.step("+ wider", m=1000)  # trained, the best trained so far, but not kept
    a.step("+ narrower", m=20)  # 0.50: not better than the start either
    assert a.kept_history["config"]["m"] == 50  # not the wider network's curves
    group = a.ensemble("+ ensemble", 2)
    assert all(c["m"] == 50 for c in group["member_configs"])
    final = a.single_and_ensemble()
    assert final["configuration"] == a.config and final["single"] is a.rows[0]
    assert final["ensemble"] is group


def test_the_ensemble_before_any_step_trains_the_starting_configuration(fake_row):
    a = steps()
    group = a.ensemble("+ ensemble", 3)  # no AttributeError: it trains what is kept
    assert group["members"] == 3 and all(c["m"] == 50 for c in group["member_configs"])
    assert len(a.run.trained) == 1
    a.kept_history  # noqa: B018  (reuses that training)
    assert len(a.run.trained) == 1


def test_after_a_kept_change_its_own_training_serves_the_ensemble(fake_row):
    a = steps()
    a.step("+ dropout", dropout=0.5)
    trained = len(a.run.trained)
    group = a.ensemble("+ ensemble", 2)
    assert len(a.run.trained) == trained  # no retraining
    assert all(c["dropout"] == 0.5 for c in group["member_configs"])
