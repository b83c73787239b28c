"""The ablation's bookkeeping, on a fake trainer: what is kept, and that the figure, the
ensemble and the chosen configuration always come from the kept configuration."""

import pytest

from helpers.experiments import bonus

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
