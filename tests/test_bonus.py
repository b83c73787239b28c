"""The bonus's training: snapshots at the end of each cycle, seeded augmentation, selection
on validation, and the ablation rows."""

import numpy as np
import pytest

from helpers.experiments import bonus
from helpers.report import tables
from helpers.training.settings import Settings
from tests.test_training import synthetic_split

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
