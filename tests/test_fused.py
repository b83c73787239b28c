"""helpers.model.fused: the step's hidden-layer passes, the bonus's augmented rows and the
dropout masks drawn from raw bits, fused by numba, give numpy's digits exactly (NaN,
infinities and signed zeros included) and leave the generators where numpy leaves them; a
kernel that computed in 64 bits, a threshold rounded the wrong way, or a training that took
the fused path, would be caught."""

import numpy as np
import pytest

from helpers.cifar.augment import flip_shift, gather_flip_shift
from helpers.model import fused

pytestmark = pytest.mark.skipif(fused.numba is None, reason="numba is not installed")


def same(a, b) -> bool:
    """Bit for bit: equal values, NaN where NaN, and the same sign of zero."""
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def layer(dtype, seed=0, N=3, m=40, n=30):
    rng = np.random.default_rng(seed)
    S1 = (rng.standard_normal((N, m, n)) * 3).astype(dtype)
    S1.flat[::37], S1.flat[5::41], S1.flat[7::43], S1.flat[9::47] = np.nan, np.inf, -0.0, 0.0
    scale = rng.uniform(0.5, 1.5, (N, 1, 1)).astype(dtype)
    b1 = rng.standard_normal((N, m, 1)).astype(dtype)
    U = (rng.random((N, m, n)) < 0.8).astype(dtype) / dtype(0.8)
    G1 = rng.standard_normal((N, m, n)).astype(dtype)
    G1.flat[::31] = np.inf
    return S1, scale, b1, U, G1


def numpy_hidden(S1, scale, b1, U):
    S1 = S1.copy()
    if scale is not None:
        S1 *= scale
    S1 += b1
    H = S1.clip(min=0)
    if U is not None:
        H *= U
    return H


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scaled", [True, False])
@pytest.mark.parametrize("dropped", [True, False])
def test_the_fused_passes_are_numpys_bit_for_bit(dtype, scaled, dropped):
    S1, scale, b1, U, G1 = layer(dtype)
    scale, U = (scale if scaled else None), (U if dropped else None)
    with np.errstate(invalid="ignore"):
        H = numpy_hidden(S1, scale, b1, U)
        assert same(fused.hidden(S1.copy(), scale, b1, U), H)
        expected = G1.copy()
        expected *= H > 0
        if U is not None:
            expected *= U
    assert same(fused.relu_grad(G1.copy(), H, U), expected)


def test_a_kernel_computing_in_64_bits_would_be_caught():
    """The data above tell numpy's float32 from a float64 computation rounded once at the end
    (a Python literal in the kernel's arithmetic does that in numba): the test is not blind."""
    S1, scale, b1, U, _ = layer(np.float32, seed=1, m=200, n=100)
    with np.errstate(invalid="ignore"):
        wide = ((S1.astype(np.float64) * scale + b1).clip(min=0) * U).astype(np.float32)
        assert not same(wide, numpy_hidden(S1, scale, b1, U))


@pytest.mark.parametrize("centred", [True, False])
def test_the_gathered_rows_are_flip_shifts_rows_and_draw_the_same_numbers(centred):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 3072)).astype(np.float32)
    mean = rng.standard_normal(3072).astype(np.float32) if centred else None
    for seed in range(4):
        index = rng.choice(500, 60)
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = flip_shift(X[index], theirs, 3, 0.5)
        if centred:
            expected = expected - mean
        assert same(gather_flip_shift(X, index, ours, 3, 0.5, mean), expected)
        assert ours.random() == theirs.random()  # the same draws, in the same order


def numpy_masks(rng, shape, keeps):
    """The definition: network k draws from its own generator of the same seed (a copy of
    rng's state), numpy's float32 uniforms compared with its keep, divided by it."""
    out = []
    for keep in np.asarray(keeps, np.float32):
        mine = np.random.Generator(type(rng.bit_generator)())
        mine.bit_generator.state = rng.bit_generator.state
        out.append(np.divide(mine.random(shape, dtype=np.float32) < keep, keep,
                             dtype=np.float32))
    return np.stack(out), mine


@pytest.mark.parametrize("shape", [(1000, 100), (50, 100), (8, 9)])
def test_the_masks_from_raw_bits_are_numpys_and_leave_the_generator_where_numpy_does(shape):
    keeps = [1.0, 0.6, 0.5, 1e-7, np.nextafter(np.float32(1), np.float32(0))]
    rng = np.random.default_rng([2, 7])
    for _ in range(3):  # step after step: the stream continues where numpy's would
        expected, theirs = numpy_masks(rng, shape, keeps)
        out = np.empty((len(keeps), *shape), np.float32)
        assert fused.masks(rng, keeps, out)
        assert same(out, expected)
        ours, numpys = rng.bit_generator.state, theirs.bit_generator.state
        assert ours["state"] == numpys["state"] and ours["has_uint32"] == numpys["has_uint32"] == 0


def test_the_masks_threshold_is_exact_at_the_boundary():
    """Words just below, at and above keep 2^24 for keeps where it is and is not an integer:
    the kernel keeps exactly the words numpy's float32 uniform keeps (a floor for the ceil, or
    a float compare rounded in 64 bits, would differ)."""
    for keep in np.float32([0.6, 0.5, 0.3, 2.0**-24, 0.99999994, 1.0]):
        t = int(np.ceil(np.float64(keep) * 2**24))
        tops = np.array([max(t - 2, 0), max(t - 1, 0), t, min(t + 1, 2**24 - 1)], np.uint64)
        words = (tops << np.uint64(8)) | np.uint64(0xFF)  # the low 8 bits are dropped
        words = words.astype(np.uint32)
        u = (words >> 8).astype(np.float32) * np.float32(2.0**-24)  # numpy's next_float
        expected = np.divide(u < keep, keep, dtype=np.float32)
        out = np.empty((1, len(words)), np.float32)
        fused._masks(words, np.array([t], np.uint32), np.divide(np.float32(1), [keep],
                                                               dtype=np.float32),
                     out, np.zeros(1, np.float32))
        assert same(out[0], expected), keep
        floor = int(np.floor(np.float64(keep) * 2**24))
        if floor != t:  # the wrong rounding drops a word numpy keeps
            assert ((words >> 8) < floor).sum() < (u < keep).sum()


def test_the_masks_fall_back_where_raw_bits_would_not_be_exact():
    out = np.empty((2, 7, 3), np.float32)  # an odd count: a half word would stay buffered
    assert not fused.masks(np.random.default_rng(0), [0.5, 0.5], out)
    rng = np.random.default_rng(0)
    rng.random(1, dtype=np.float32)  # a half word buffered now
    assert not fused.masks(rng, [0.5], np.empty((1, 4, 4), np.float32))
    assert not fused.masks(np.random.Generator(np.random.MT19937(0)), [0.5],
                           np.empty((1, 4, 4), np.float32))
    assert not fused.masks(np.random.default_rng(0), [0.5], np.empty((1, 4, 4)))  # float64


def test_a_stacks_masks_are_each_networks_own_draws():
    """helpers.model.dropout.masks: one draw for the stack gives network k the mask its own
    generator of the run's seed gives it alone, fast path or numpy's, keep 1 included."""
    from helpers.model.dropout import mask, masks

    for shape in [(50, 100), (7, 3)]:  # the raw bits' path, and numpy's
        keeps = [1.0, 0.6, 0.6, 0.8]
        alone = [np.random.default_rng([2, 1]) for _ in keeps]
        rng = np.random.default_rng([2, 1])
        for _ in range(3):
            expected = np.stack([mask(g, shape, keep)
                                 for g, keep in zip(alone, keeps, strict=True)])
            assert same(masks(rng, keeps, np.empty((4, *shape), np.float32)), expected)


def test_without_numba_the_numpy_expressions_run(monkeypatch):
    S1, scale, b1, U, _ = layer(np.float32)
    assert fused.usable(S1, scale, b1, U) and not fused.usable(S1, scale.astype(np.float64))
    assert not fused.usable(np.asfortranarray(S1[0]))
    monkeypatch.setattr(fused, "numba", None)
    assert not fused.usable(S1, scale, b1, U)


def test_a_training_gives_the_same_digits_with_and_without_the_kernels(monkeypatch):
    """train_recipe with dropout, flips, shifts and the projection: every parameter and record
    identical whether the step takes the fused kernels or numpy's expressions."""
    from helpers.experiments import bonus
    from helpers.training.settings import Settings
    from tests.test_bonus import image_split

    def run():
        settings = Settings(n_s=6, cycles=1, batch_size=8, m=12, seed=3, records_per_cycle=2)
        return bonus.train_recipe(image_split(), settings, [1e-3, 1e-2], [0.0, 0.3], k=8,
                                  max_shift=2, p_flip=0.5, progress=False)

    params, history, _, _ = run()
    monkeypatch.setattr(fused, "numba", None)
    plain, plain_history, _, _ = run()
    assert all(np.array_equal(params[k], plain[k]) for k in params)
    assert history["curves"] == plain_history["curves"]
