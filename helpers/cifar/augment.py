"""Mini-batch augmentation of CIFAR-10 rows: random horizontal flips and translations."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIDE, CHANNELS = 32, 3  # a row is 3 channel planes of 32 x 32 pixels, row-major


def flip_shift(X: np.ndarray, rng: np.random.Generator, max_shift: int = 3,
               p_flip: float = 0.5, out: np.ndarray | None = None) -> np.ndarray:
    """A randomly mirrored and translated copy of the mini-batch X (n, 3072); X is unchanged.

    Each image is mirrored left-right with probability p_flip, then translated by dx columns
    and dy rows, each uniform on {-max_shift, ..., max_shift}: output pixel (c, i, j) is
    pixel (c, i - dy, j - dx) of the (mirrored) image. The uncovered border is filled with 0,
    which in the per-dimension normalised space is the training mean of that pixel: no
    wrap-around and no edge replication, so no pixel appears twice.
    rng draws, in order: the flips (n,), dx (n,), dy (n,). The cost is a few copies of the
    batch, never of the data set. Output: `out` if given, else a new array; (n, 3072),
    X's dtype.
    """
    n = X.shape[0]
    flip = rng.random(n) < p_flip
    dx = rng.integers(-max_shift, max_shift + 1, n)
    dy = rng.integers(-max_shift, max_shift + 1, n)
    shifted = mirror_translate(X, flip, dx, dy, max_shift)
    if out is None:
        return shifted
    out[...] = shifted
    return out


def mirror_translate(X: np.ndarray, flip, dx, dy, max_shift: int) -> np.ndarray:
    """X (n, 3072) with image k mirrored where flip[k], then moved by (dx[k], dy[k]).

    flip (n,) bool; dx, dy (n,) ints with |dx|, |dy| <= max_shift. Output pixel (c, i, j)
    is pixel (c, i - dy, j - dx) of the mirrored image, or 0 outside it. New (n, 3072) array.
    """
    n, s = X.shape[0], max_shift
    images = X.reshape(n, CHANNELS, SIDE, SIDE)
    padded = np.zeros((n, CHANNELS, SIDE + 2 * s, SIDE + 2 * s), X.dtype)
    inner = padded[:, :, s : s + SIDE, s : s + SIDE]
    inner[...] = images
    inner[flip] = images[flip][..., ::-1]
    windows = sliding_window_view(padded, (SIDE, SIDE), axis=(2, 3))  # (n, 3, 2s+1, 2s+1, 32, 32)
    return windows[np.arange(n), :, s - np.asarray(dy), s - np.asarray(dx)].reshape(n, -1)
