"""The torch engine (on the CPU, or on WORKBOOK_TEST_DEVICE: tests.test_loop.DEVICE) does what
the numpy engine does: dropout, the bonus's flips, shifts and projection on the device, snapshots
and ensembles; numpy's numbers where the randomness is shared, the same distribution where it is
not."""

import numpy as np
import pytest
import torch

from helpers.cifar import projection
from helpers.cifar.augment import flip_shift_torch, mirror_translate, mirror_translate_torch
from helpers.experiments import bonus
from helpers.model import ensemble
from helpers.model.network import to_device, to_numpy
from helpers.training import loop
from helpers.training.loop import Seams, train
from helpers.training.settings import Settings
from tests.test_bonus import SETTINGS, TinyRun, image_split
from tests.test_loop import DEVICE, SMALL, synthetic_split


def test_torch_mirror_translate_is_numpys_for_the_same_flips_and_shifts():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((16, 3072)).astype(np.float32)
    flip = rng.random(16) < 0.5
    dx, dy = rng.integers(-3, 4, 16), rng.integers(-3, 4, 16)
    for s in (0, 3):
        fx, fy = np.clip(dx, -s, s), np.clip(dy, -s, s)
        want = mirror_translate(X, flip, fx, fy, s)
        got = mirror_translate_torch(*(to_device(a, DEVICE) for a in (X, flip, fx, fy)), s)
        np.testing.assert_array_equal(to_numpy(got), want)


def test_torch_flip_shift_draws_flips_and_shifts_of_the_same_distribution():
    X = torch.zeros((4000, 3072), device=DEVICE)
    X.view(4000, 3, 32, 32)[:, :, :, 5] = 1.0  # a marked column: where it lands tells
    generator = torch.Generator(device=X.device).manual_seed(0)
    out = flip_shift_torch(X, generator, max_shift=2, p_flip=0.25).view(4000, 3, 32, 32)
    columns = out[:, 0].sum(dim=1).argmax(dim=1)  # the column the marked one moved to
    left, right = columns <= 7, columns >= 24  # 5 + dx, or mirrored: 26 + dx
    assert bool((left | right).all())
    assert float(right.float().mean()) == pytest.approx(0.25, abs=0.03)
    shifts = np.bincount(to_numpy(columns[left]) - 3, minlength=5)  # dx + 2 in 0 .. 4
    assert len(shifts) == 5 and shifts.min() > 0.8 * shifts.mean()  # dx uniform in -2 .. 2
    again = flip_shift_torch(X, torch.Generator(device=X.device).manual_seed(0), 2, 0.25)
    np.testing.assert_array_equal(to_numpy(again), to_numpy(out.reshape(4000, -1)))


def test_the_projection_on_the_device_is_numpys():
    rng = np.random.default_rng(0)
    X, mean = rng.standard_normal((2, 50, 3072), dtype=np.float32)
    fitted = projection.Projection(mean[0], rng.standard_normal((3072, 8), dtype=np.float32), 0.5)
    got = projection.on_device(fitted, DEVICE)(to_device(X, DEVICE))
    np.testing.assert_allclose(to_numpy(got), fitted(X), rtol=1e-4, atol=1e-4)


def test_dropout_rate_zero_on_torch_is_numpys_run():
    split = synthetic_split()
    want, history = train(split, SMALL, [1e-3, 1e-2], progress=False, seams=Seams(dropout=0.0))
    got, torch_history = train(split, SMALL, [1e-3, 1e-2], progress=False, device=DEVICE,
                               seams=Seams(dropout=[0.0, 0.0]))
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(torch_history["curves"]["val_loss"],
                               history["curves"]["val_loss"], rtol=1e-4)


def test_the_same_masks_give_numpys_numbers_on_torch(monkeypatch):
    """With the masks of each step injected (one numpy generator, either engine), dropout
    trains the same on both engines: only the draws differ between them."""
    def masks(self, n):
        N, m, _ = self.params["W1"].shape
        keep = to_numpy(self.keep).astype(np.float32).reshape(-1, 1, 1)
        U = (self.injected.random((N, m, n), dtype=np.float32) < keep).astype(np.float32) / keep
        W1 = self.params["W1"]
        return U if isinstance(W1, np.ndarray) else to_device(U, W1.device)

    monkeypatch.setattr(loop.State, "mask", masks)
    runs = []
    for device in (None, DEVICE):
        monkeypatch.setattr(loop.State, "injected", np.random.default_rng(7), raising=False)
        runs.append(train(synthetic_split(), SMALL, [1e-3, 1e-3], progress=False, device=device,
                          seams=Seams(dropout=[0.3, 0.5]))[0])
    for name, value in runs[0].items():
        np.testing.assert_allclose(runs[1][name], value, rtol=1e-4, atol=1e-6)


def test_torch_dropout_is_seeded_and_a_network_draws_what_it_draws_alone():
    split = synthetic_split()
    kw = {"progress": False, "device": DEVICE}
    stack = train(split, SMALL, [1e-3, 1e-2], seams=Seams(dropout=[0.3, 0.5]), **kw)[0]
    alone = train(split, SMALL, [1e-2], seams=Seams(dropout=0.5), **kw)[0]
    again = train(split, SMALL, [1e-2], seams=Seams(dropout=0.5), **kw)[0]
    np.testing.assert_allclose(stack["W1"][1], alone["W1"][0], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(again["W1"], alone["W1"])
    plain = train(split, SMALL, [1e-2], **kw)[0]
    assert not np.allclose(plain["W1"], alone["W1"], atol=1e-4)
    other = train(split, Settings(**{**SMALL.to_dict(), "seed": 1}), [1e-2],
                  seams=Seams(dropout=0.5), **kw)[0]
    assert not np.allclose(other["W1"], alone["W1"], atol=1e-4)


def test_deterministic_rows_train_the_same_on_both_engines():
    """Every image flipped, none shifted: the rows seam draws nothing that matters, so the
    torch run (raw rows, flips and projection on the device) is numpy's."""
    split, kw = image_split(), {"k": 8, "max_shift": 0, "p_flip": 1.0, "snapshots": 2,
                                "progress": False}
    want, history, snaps, carried = bonus.train_recipe(split, SETTINGS, [1e-3, 1e-2],
                                                       [0.0, 0.0], **kw)
    got, torch_history, torch_snaps, _ = bonus.train_recipe(split, SETTINGS, [1e-3, 1e-2],
                                                            [0.0, 0.0], device=DEVICE, **kw)
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-5)
    assert sorted(torch_snaps) == sorted(snaps)
    for step, params in torch_snaps.items():
        assert all(isinstance(v, np.ndarray) for v in params.values())
        np.testing.assert_allclose(params["W1"], snaps[step]["W1"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(torch_snaps[max(torch_snaps, key=int)]["W1"], got["W1"])
    np.testing.assert_allclose(torch_history["curves"]["val_accuracy"],
                               history["curves"]["val_accuracy"], atol=1 / 24 + 1e-9)


def test_torch_augmentation_with_dropout_is_seeded_and_changes_training():
    split, kw = image_split(), {"k": 8, "progress": False, "device": DEVICE}
    plain = bonus.train_recipe(split, SETTINGS, [1e-3], [0.3], **kw)[0]
    a = bonus.train_recipe(split, SETTINGS, [1e-3], [0.3], max_shift=2, p_flip=0.5, **kw)[0]
    b = bonus.train_recipe(split, SETTINGS, [1e-3], [0.3], max_shift=2, p_flip=0.5, **kw)[0]
    np.testing.assert_array_equal(a["W1"], b["W1"])
    assert not np.allclose(a["W1"], plain["W1"], atol=1e-4)


def test_ensembles_read_torch_parameters():
    split = image_split()
    params = train(split, SETTINGS, [1e-3, 1e-2], progress=False)[0]
    on_torch = {k: to_device(v, DEVICE) for k, v in params.items()}
    want = ensemble.accuracy([params], split.X_val, split.y_val)
    assert ensemble.accuracy([on_torch], split.X_val, split.y_val) == want
    np.testing.assert_array_equal(ensemble.take(on_torch, 1)["W1"], params["W1"][1:])
    assert bonus.agreement([(None, on_torch), (None, params)], split.X_test) == 1.0


class DeviceRun(TinyRun):
    """A TinyRun whose trainings run on the torch engine (DEVICE)."""

    device = DEVICE


def test_a_tiny_study_on_torch_gives_numpys_verdicts():
    """Other draws of the masks and augmentation, the same verdicts and choice; accuracies
    within a tolerance (120 validation images of classes 0.5 std apart)."""
    studies = []
    for run in (TinyRun(), DeviceRun()):
        split = lambda seed: image_split(seed, n_train=240, n_val=120, signal=0.5)  # noqa: E731
        study = bonus.Study(run, split(0), split(1), bonus.Recipe(m=10, k=8, max_shift=2,
                            p_flip=0.5, cycles=2), seeds=(0, 1, 2), batch_size=8)
        study.full_recipe([1e-3], [0.0, 0.3])
        study.without("augmentation", "without flips and shifts", max_shift=0, p_flip=0.0)
        study.without("width", "without the width", m=1, lambdas=[1e-3], dropouts=[0.0])
        studies.append(study)
    numpy_study, torch_study = studies
    assert all(c[3]["device"] == DEVICE for c in torch_study.run.calls)
    for a, b in zip(numpy_study.rows, torch_study.rows, strict=True):
        assert a["row"] == b["row"] and a.get("kept") == b.get("kept")
        assert b["val"]["mean"] == pytest.approx(a["val"]["mean"], abs=0.1)
    assert [r.get("gain", {}).get("verdict") for r in torch_study.rows] == \
        [None, "no measurable difference", "worse", "better"]
    assert torch_study.chosen() == numpy_study.chosen()


def test_the_seams_and_the_device_enter_the_training_cache_key(monkeypatch):
    from helpers.workbook import cache
    from helpers.workbook.section import Section

    hook = lambda X, y, t: (X, y)  # noqa: E731
    key = cache.serialised(Seams(eta=np.ones(3), dropout=0.2, on_batch=hook))
    assert key == cache.serialised(Seams(eta=np.ones(3), dropout=0.2, on_batch=hook))
    assert key != cache.serialised(Seams(eta=np.ones(3), dropout=0.3, on_batch=hook))
    assert key != cache.serialised(Seams(eta=np.ones(3), dropout=0.2, on_batch=lambda X, y, t:
                                         (-X, y)))
    calls = []
    for device in ("", "cuda"):
        run = Section("02-clr-one-cycle", {"n_seeds": 2, "device": device}, official=False)
        monkeypatch.setattr(run, "cached", lambda fn, *a, **kw: calls.append(kw) or ({}, {}))
        run.train(synthetic_split(), SMALL, 0.01, eta=np.ones(3), parts=("val",))
    assert [c["device"] for c in calls] == [None, "cuda"]
    assert calls[0]["seams"] == Seams(eta=calls[0]["seams"].eta, parts=("val",))
