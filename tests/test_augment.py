import numpy as np
import pytest

from helpers.cifar.augment import flip_shift, mirror_translate


def images(n=4, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, 3072)).astype(dtype)


def reference(X, flip, dx, dy):
    """Independent loop: np.flip on each (3, 32, 32) image, then a shift by slicing, 0 fill."""
    out = np.zeros_like(X).reshape(-1, 3, 32, 32)
    for k, img in enumerate(X.reshape(-1, 3, 32, 32)):
        img = np.flip(img, axis=2) if flip[k] else img
        a, b = dy[k], dx[k]
        out[k, :, max(a, 0) : 32 + min(a, 0), max(b, 0) : 32 + min(b, 0)] = \
            img[:, max(-a, 0) : 32 + min(-a, 0), max(-b, 0) : 32 + min(-b, 0)]
    return out.reshape(len(X), -1)


def roll_version(X, flip, dx, dy, max_shift):
    """Wrong: shifts with wrap-around."""
    out = X.reshape(-1, 3, 32, 32).copy()
    for k in range(len(X)):
        img = out[k][..., ::-1] if flip[k] else out[k]
        out[k] = np.roll(img, (dy[k], dx[k]), axis=(1, 2))
    return out.reshape(len(X), -1)


def channel_flip_version(X, flip, dx, dy, max_shift):
    """Wrong: mirrors the channel axis instead of the columns."""
    out = X.reshape(-1, 3, 32, 32).copy()
    out[flip] = out[flip][:, ::-1]
    return mirror_translate(out.reshape(len(X), -1), np.zeros(len(X), bool), dx, dy, max_shift)


def matches_reference(fn, max_shift=3):
    X = images(40, seed=1)
    rng = np.random.default_rng(2)
    flip = rng.random(40) < 0.5
    dx, dy = (rng.integers(-max_shift, max_shift + 1, 40) for _ in range(2))
    s = max_shift  # both axes, both directions, at the largest shift:
    dx[:4], dy[:4], flip[:4] = [s, -s, 0, 0], [0, 0, s, -s], True
    return np.array_equal(fn(X, flip, dx, dy, max_shift), reference(X, flip, dx, dy))


def test_matches_an_independent_flip_and_shift():
    assert matches_reference(mirror_translate)
    assert matches_reference(mirror_translate, max_shift=1)


@pytest.mark.parametrize("wrong", [roll_version, channel_flip_version])
def test_wrong_versions_fail_the_reference_check(wrong):
    assert not matches_reference(wrong)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_preserved_input_unchanged(dtype):
    X = images(5, dtype=dtype)
    before = X.copy()
    out = flip_shift(X, np.random.default_rng(0))
    assert out.shape == X.shape and out.dtype == dtype
    np.testing.assert_array_equal(X, before)
    buffer = np.empty_like(X)
    assert flip_shift(X, np.random.default_rng(0), out=buffer) is buffer
    np.testing.assert_array_equal(buffer, out)


def test_flip_twice_is_identity_and_mirrors_each_channel_row():
    X = images(3)
    flip, zero = np.ones(3, bool), np.zeros(3, int)
    once = mirror_translate(X, flip, zero, zero, 3)
    np.testing.assert_array_equal(once.reshape(-1, 3, 32, 32), np.flip(X.reshape(-1, 3, 32, 32), 3))
    np.testing.assert_array_equal(mirror_translate(once, flip, zero, zero, 3), X)


@pytest.mark.parametrize("dx, dy", [(2, 0), (-2, 0), (0, 3), (0, -3), (1, -1)])
def test_shift_moves_a_pixel_by_dx_dy_and_fills_the_edge_with_zero(dx, dy):
    X = np.ones((1, 3072), np.float32)
    X.reshape(3, 32, 32)[1, 10, 20] = 5.0  # one marked pixel in the green plane
    out = mirror_translate(X, [False], [dx], [dy], 3).reshape(3, 32, 32)
    assert out[1, 10 + dy, 20 + dx] == 5.0 and (out == 5.0).sum() == 1
    rows = slice(0, dy) if dy > 0 else slice(32 + dy, 32)
    cols = slice(0, dx) if dx > 0 else slice(32 + dx, 32)
    assert (out[:, rows, :] == 0).all() and (out[:, :, cols] == 0).all()
    assert (out == 0).sum() == 3 * (32 * 32 - (32 - abs(dy)) * (32 - abs(dx)))


def test_no_shift_no_flip_is_identity():
    X = images()
    np.testing.assert_array_equal(flip_shift(X, np.random.default_rng(0), 0, 0.0), X)


def test_seeded_rng_reproducible_and_draws_vary():
    X = images(50)
    a = flip_shift(X, np.random.default_rng(7))
    np.testing.assert_array_equal(a, flip_shift(X, np.random.default_rng(7)))
    assert not np.array_equal(a, flip_shift(X, np.random.default_rng(8)))
    assert not np.array_equal(a, X)
