"""The hidden layer's elementwise passes of a numpy step, fused into one pass each by numba,
bit for bit the numpy expressions they replace (helpers.model.network and dropout keep those
as the definition and the fallback).

A step of N stacked networks (N, m, n) made about nine passes over its hidden layer: the W1
scale, the bias, the ReLU (a new array), the dropout mask, then backward the ReLU's mask (a
boolean array, then a product) and the dropout mask again. Each pass is cheap but the layer
is large (4 x 1000 x 100 in the bonus's grid) and the products are small (256 inputs), so the
passes took about as long as the products. Here they are two:

  hidden: S1 <- relu(S1 * scale + b1) * U, in place (the forward pass after S1 = W1 X)
  relu_grad: G1 <- G1 * 1[H > 0] * U, in place (the backward pass after G1 = W2^T G)

and the bonus's augmented rows, gathered from the training set, mirrored, shifted and centred
for the projection in one pass instead of five (gather_flip_shift; helpers.cifar.augment
draws the flips and shifts, and holds the numpy definition). The step's dropout masks are
made from the generator's raw 64-bit outputs, the same numbers numpy's float32 uniforms give
without making the floats (masks; helpers.model.dropout.masks holds the numpy definition):
numpy's drawing took most of a mask's time, and a stack's networks, which share the run's
seed, draw once for all of them.

Each element goes through the same float operations in the same order as numpy's (a product,
a sum, numpy's clip, a product by 1 or 0, a product by the mask), each rounded once as numpy
rounds it (no fused multiply-add: numba compiles without fastmath), so the digits are the same
(tests/test_fused.py checks them against the numpy expressions, NaN and infinities included).
The kernels release the GIL: the workers' two jobs run them side by side.

Used for C-contiguous float32 or float64 numpy arrays only; anything else (torch tensors, other
layouts) takes the numpy expressions. Without numba installed, everything takes them too.
"""

import sys

import numpy as np

try:
    import numba

    # numba's first compilation imports scipy's BLAS bindings, which load scipy's OpenBLAS:
    # loaded here, at import, the BLAS libraries a cache key lists do not change mid-process
    # (helpers.workbook.environment.numeric_stack)
    import scipy.linalg.cython_blas  # noqa: F401
    import scipy.linalg.cython_lapack  # noqa: F401
except ImportError:  # numba is in requirements.txt; without it the numpy expressions run
    numba = None

FLOATS = (np.float32, np.float64)


def usable(*arrays) -> bool:
    """Whether the fused kernels take these arrays (None entries are ignored)."""
    return numba is not None and all(
        a is None or (isinstance(a, np.ndarray) and a.dtype.type in FLOATS and a.flags.c_contiguous
                      and a.dtype == arrays[0].dtype) for a in arrays)


def hidden(S1: np.ndarray, scale, b1: np.ndarray, U=None) -> np.ndarray:
    """S1 (N, m, n) <- max(S1 * scale + b1, 0) * U in place, returned: numpy's
    `S1 *= scale; S1 += b1; H = S1.clip(min=0); H *= U` (scale (N, 1, 1) or None, b1 (N, m, 1),
    U (N, m, n) or None), with clip's result for NaN (NaN) and for zeros (+0)."""
    c = np.array([0, 1], S1.dtype)  # 0 and 1 of the arrays' own type (a literal would be 64-bit)
    _hidden(S1, c.reshape(1, 1, 2) if scale is None else scale, scale is not None, b1,
            S1 if U is None else U, U is not None, c)
    return S1


def relu_grad(G1: np.ndarray, H: np.ndarray, U=None) -> np.ndarray:
    """G1 (N, m, n) <- G1 * 1[H > 0] * U in place, returned: numpy's `G1 *= H > 0; G1 *= U`
    (U (N, m, n) or None), products by 1.0 or 0.0 (so inf * 0 is NaN, as numpy's)."""
    _relu_grad(G1, H, G1 if U is None else U, U is not None, np.array([0, 1], G1.dtype))
    return G1


# The loops, compiled by numba below. Every value stays in the arrays' type: c holds its 0 and
# 1, since a Python literal in the arithmetic would make numba compute in 64 bits and round
# twice on the way back to float32.
def _hidden_py(S1, scale, scaled, b1, U, dropped, c):
    N, m, n = S1.shape
    for a in range(N):
        s = scale[a if scaled else 0, 0, 0]
        for i in range(m):  # a row at a time, through views: the inner loop vectorises
            b, row, u = b1[a, i, 0], S1[a, i], U[a, i]
            for j in range(n):
                v = row[j]
                if scaled:
                    v = v * s
                v = v + b
                v = v if (v > c[0] or v != v) else c[0]  # numpy's clip(min=0): NaN stays, +0
                if dropped:
                    v = v * u[j]
                row[j] = v


def _relu_grad_py(G1, H, U, dropped, c):
    N, m, n = G1.shape
    zero, one = c[0], c[1]
    for a in range(N):
        for i in range(m):
            g, h, u = G1[a, i], H[a, i], U[a, i]
            if dropped:  # two loops: a test inside the inner loop kept it from vectorising
                for j in range(n):
                    g[j] = (g[j] * (one if h[j] > zero else zero)) * u[j]
            else:
                for j in range(n):
                    g[j] = g[j] * (one if h[j] > zero else zero)


def gather_flip_shift(X: np.ndarray, index, flip, dx, dy, mean=None) -> np.ndarray:
    """Rows X[index] (n, 3072) with image k mirrored where flip[k], then moved by (dx[k],
    dy[k]), zero outside, minus mean (d,) when given: helpers.cifar.augment.mirror_translate
    of X[index], then `- mean`, in one pass. A new (n, 3072) array of X's type."""
    out = np.empty((len(index), X.shape[1]), X.dtype)
    c = np.array([0, 1], X.dtype)
    _gather_flip_shift(X, np.asarray(index, np.int64), np.asarray(flip, np.bool_),
                       np.asarray(dx, np.int64), np.asarray(dy, np.int64),
                       c if mean is None else mean, mean is not None, out, c)
    return out


def _gather_flip_shift_py(X, index, flip, dx, dy, mean, centred, out, c):
    side = 32
    plane = side * side
    for k in range(index.shape[0]):
        row = index[k]
        for ch in range(out.shape[1] // plane):
            for i in range(side):
                si = i - dy[k]
                for j in range(side):
                    sj = j - dx[k]  # the column of the mirrored image; of the image itself:
                    if flip[k]:
                        sj = side - 1 - sj
                    p = ch * plane + i * side + j
                    v = c[0]
                    if 0 <= si < side and 0 <= sj < side:
                        v = X[row, ch * plane + si * side + sj]
                    if centred:
                        v = v - mean[p]
                    out[k, p] = v


def masks(rng: np.random.Generator, keeps, out: np.ndarray) -> bool:
    """out (N, m, n) float32 <- the scaled masks numpy's `draws = rng.random((m, n),
    dtype=np.float32)` then `np.divide(draws < keep, keep, dtype=np.float32)` give for each
    network's keep (keeps (N,) float32), from ONE draw: True, rng advanced as numpy's call
    advances it. False, nothing drawn, where this cannot be done exactly (not PCG64, a half
    word buffered, an odd count, a big-endian machine, not float32): draw with numpy then.

    Why it is exact: numpy's float32 uniform is u = (b >> 8) 2^-24 for the next 32-bit word b
    of PCG64, which gives the low half of each 64-bit output, then the high half. u is exact in
    float32, so u < keep exactly when the integer b >> 8 < keep 2^24, that is b >> 8 <
    ceil(keep 2^24) (keep 2^24 is exact in float64). The 64-bit outputs come from
    random_raw, half as many calls of the generator, and no float is made for the draws. The
    generator's whole state is then numpy's, its spent buffer word included, so that a key
    that holds the generator cannot tell the two draws apart."""
    if not usable(out) or out.dtype != np.float32 or sys.byteorder != "little" or \
            type(rng.bit_generator).__name__ != "PCG64" or out[0].size % 2 or \
            rng.bit_generator.state["has_uint32"]:
        return False
    keeps = np.asarray(keeps, np.float32).reshape(-1)
    words = rng.bit_generator.random_raw(out[0].size // 2).view(np.uint32)  # low, high, ...
    threshold = np.ceil(keeps.astype(np.float64) * 2.0**24).astype(np.uint32)  # <= 2^24
    kept = np.divide(np.float32(1), keeps, dtype=np.float32)  # True / keep, as numpy divides
    N = out.shape[0]
    _masks(words, threshold, kept, out.reshape(N, -1), np.zeros(1, np.float32))
    if words.size:  # numpy's last 32-bit draw leaves the high half of its word buffered (used)
        state = rng.bit_generator.state
        rng.bit_generator.state = {**state, "uinteger": int(words[-1])}
    return True


def _masks_py(words, threshold, kept, out, zero):
    eight = np.uint32(8)  # uint32 throughout: the loop vectorises (a literal 8 would widen it)
    for a in range(out.shape[0]):
        t, v, z, row = threshold[a], kept[a], zero[0], out[a]
        for i in range(words.shape[0]):
            row[i] = v if (words[i] >> eight) < t else z


if numba is not None:
    _masks = numba.njit(nogil=True, cache=True)(_masks_py)
    _hidden = numba.njit(nogil=True, cache=True)(_hidden_py)
    _relu_grad = numba.njit(nogil=True, cache=True)(_relu_grad_py)
    _gather_flip_shift = numba.njit(nogil=True, cache=True)(_gather_flip_shift_py)
