"""Flips as a fixed permutation of the pixels: the mirror, the flipped images' projections
computed once (a flips-only mini-batch gathered, not projected), and test-time flips (each
network's scores of an image and its mirror image averaged)."""

import numpy as np
import pytest

from helpers.cifar.augment import MIRROR, gather_flip_shift, mirror_translate
from helpers.experiments import bonus
from helpers.model import ensemble
from helpers.model.network import init_params, scores, softmax
from helpers.training.settings import stream
from tests.test_bonus import SETTINGS, image_split


def test_the_mirror_reads_column_31_minus_j_of_the_same_row_and_channel():
    c, i, j = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    image = (10_000 * c + 100 * i + j).reshape(1, -1)  # each pixel names itself
    mirrored = image[:, MIRROR].reshape(3, 32, 32)
    np.testing.assert_array_equal(mirrored, 10_000 * c + 100 * i + (31 - j))  # rows kept
    np.testing.assert_array_equal(MIRROR[MIRROR], np.arange(3072))  # its own inverse
    X = np.random.default_rng(0).standard_normal((4, 3072)).astype(np.float32)
    n = len(X)
    np.testing.assert_array_equal(  # what the pixel-space augmentation's flip gives
        X[:, MIRROR], mirror_translate(X, np.ones(n, bool), np.zeros(n, int), np.zeros(n, int), 0))
    rows_mirrored = X.reshape(n, 3, 32, 32)[:, :, ::-1, :].reshape(n, -1)  # upside down: wrong
    assert not np.allclose(X[:, MIRROR], rows_mirrored)


def test_the_flipped_projections_are_the_projections_of_the_flipped_images():
    split = image_split()
    data, proj = bonus.features(split, 8)
    mirrored = bonus.mirrored_features(split, 8)
    assert mirrored is bonus.mirrored_features(split, 8)  # computed once
    np.testing.assert_allclose(mirrored, proj(split.X_train[:, MIRROR]), rtol=1e-5, atol=1e-5)
    assert not np.allclose(mirrored, data.X_train, atol=1e-3)
    with pytest.raises(ValueError, match="k > 0"):
        bonus.mirrored_features(split, 0)


def test_flips_alone_gather_the_rows_the_pixel_space_flip_then_projection_gives():
    """rows_hook with flips and no shifts: the same flips (the seed's augmentation stream, drawn
    alike) and the same rows, up to float rounding, as flipping each image and projecting it."""
    split = image_split()
    _, proj = bonus.features(split, 8)
    fast = bonus.rows_hook(split, proj, 3, 0, 0.5, None, 8)
    rng, order = stream("augmentation", 3), np.random.default_rng(1)
    flipped_any = False
    for t in range(6):
        index = order.permutation(48)[:8]
        got = fast(index, t)
        want = proj.centred(gather_flip_shift(split.X_train, index, rng, 0, 0.5, proj.mean))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        flipped_any |= not np.allclose(got, proj(split.X_train[index]), atol=1e-4)
    assert flipped_any  # some images were flipped (p = 0.5, 48 draws)
    # a run with flips alone trains (no per-step projection) and is seeded
    a, b = (bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], k=8, p_flip=0.5,
                               progress=False)[0] for _ in range(2))
    plain = bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], k=8, progress=False)[0]
    np.testing.assert_array_equal(a["W1"], b["W1"])
    assert not np.allclose(a["W1"], plain["W1"])


def test_flips_alone_on_the_torch_engine_gather_rows_or_their_mirror_images():
    torch = pytest.importorskip("torch")
    split = image_split()
    data, proj = bonus.features(split, 8)
    hook = bonus.rows_hook(split, proj, 3, 0, 0.5, "cpu", 8)
    index = torch.arange(48)
    rows = hook(index, 0).numpy()
    plain = np.isclose(rows, data.X_train).all(axis=1)
    mirror = np.isclose(rows, bonus.mirrored_features(split, 8)).all(axis=1)
    assert (plain | mirror).all() and plain.any() and mirror.any()


def test_test_time_flips_average_scores_not_probabilities():
    rng = np.random.default_rng(0)
    params = init_params(20, 6, [0, 1], np.float64)
    params = {k: v * 4 for k, v in params.items()}  # confident networks: the two averages part
    X, Xm = rng.standard_normal((30, 20)), rng.standard_normal((30, 20))
    got = ensemble.flip_averaged(params, X, Xm)
    want = softmax((scores(params, X)[0] + scores(params, Xm)[0]) / 2)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    wrong = (softmax(scores(params, X)[0]) + softmax(scores(params, Xm)[0])) / 2
    assert not np.allclose(got, wrong, atol=1e-3)
    np.testing.assert_allclose(ensemble.flip_averaged(params, X, X),
                               ensemble.probabilities(params, X), rtol=1e-10)
    with pytest.raises(ValueError, match="pair up"):
        ensemble.flip_averaged(params, X, Xm[:5])


def test_test_time_flips_read_the_mirror_images_through_the_runs_projection():
    split = image_split(signal=0.5)
    params, _, _, carried = bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], k=8,
                                               progress=False)
    data, _ = bonus.features(split, 8)
    X, y = split.X_val, split.y_val
    p = bonus.probabilities(params, carried, X, flips=True)
    want = ensemble.flip_averaged(params, data.X_val, bonus.inputs(carried, X[:, MIRROR]))
    np.testing.assert_allclose(p, want, rtol=1e-6)
    assert bonus.ensemble_accuracy([(carried, [params])], X, y, flips=True) == \
        float((want[0].argmax(axis=0) == y).mean())
    symmetric = (X + X[:, MIRROR]) / 2  # mirror images of themselves: flips change nothing
    np.testing.assert_allclose(bonus.probabilities(params, carried, symmetric, flips=True),
                               bonus.probabilities(params, carried, symmetric), rtol=1e-5)
