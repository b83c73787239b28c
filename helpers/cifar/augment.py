"""Mini-batch augmentation of CIFAR-10 rows: random horizontal flips and translations."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIDE, CHANNELS = 32, 3  # a row is 3 channel planes of 32 x 32 pixels, row-major


def mirror_permutation() -> np.ndarray:
    """The columns of a row mirrored left-right: X[:, MIRROR] holds at pixel (c, i, j) the pixel
    (c, i, 31 - j) of X, what flip_shift gives with a flip and no translation. A fixed
    permutation of the 3072 values (its own inverse): the flipped images' projections can be
    computed once (helpers.experiments.bonus.mirrored_features)."""
    pixels = np.arange(CHANNELS * SIDE * SIDE).reshape(CHANNELS, SIDE, SIDE)
    return np.ascontiguousarray(pixels[:, :, ::-1].reshape(-1))


MIRROR = mirror_permutation()
MIRROR.flags.writeable = False


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
    flip, dx, dy = draws(rng, X.shape[0], max_shift, p_flip)
    shifted = mirror_translate(X, flip, dx, dy, max_shift)
    if out is None:
        return shifted
    out[...] = shifted
    return out


def draws(rng: np.random.Generator, n: int, max_shift: int, p_flip: float) -> tuple:
    """The flips (n,) bool, then dx and dy (n,) on {-max_shift, ..., max_shift}, drawn from rng
    in that order: what flip_shift and gather_flip_shift move n images by."""
    flip = rng.random(n) < p_flip
    dx = rng.integers(-max_shift, max_shift + 1, n)
    dy = rng.integers(-max_shift, max_shift + 1, n)
    return flip, dx, dy


def gather_flip_shift(X: np.ndarray, index, rng: np.random.Generator, max_shift: int = 3,
                      p_flip: float = 0.5, mean=None) -> np.ndarray:
    """flip_shift(X[index], rng, max_shift, p_flip) - mean (mean (d,), or None: nothing
    subtracted): the same draws from rng and the same values, from the rows of X (N, 3072)
    themselves in one pass (helpers.model.fused) for a C-contiguous float X, else by
    flip_shift. The bonus's augmented rows, centred for the projection. A new (n, 3072) array."""
    from helpers.model import fused

    flip, dx, dy = draws(rng, len(index), max_shift, p_flip)
    if fused.usable(X, mean) and X.shape[1] == CHANNELS * SIDE * SIDE:
        return fused.gather_flip_shift(X, index, flip, dx, dy, mean)
    shifted = mirror_translate(X[index], flip, dx, dy, max_shift)
    return shifted if mean is None else shifted - mean


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


def flip_shift_torch(X, generator, max_shift: int = 3, p_flip: float = 0.5):
    """flip_shift for a torch mini-batch X (n, 3072) on its device, drawn from the torch
    Generator `generator` (on that device): the same distribution (flips with probability
    p_flip, dx and dy uniform on {-max_shift, ..., max_shift}, zero fill), other draws.
    generator draws, in order: the flips (n,), dx (n,), dy (n,). A new tensor; X unchanged."""
    import torch

    n, device = X.shape[0], X.device
    flip = torch.rand(n, generator=generator, device=device) < p_flip
    dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=generator, device=device)
    dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=generator, device=device)
    return mirror_translate_torch(X, flip, dx, dy, max_shift)


def mirror_translate_torch(X, flip, dx, dy, max_shift: int):
    """mirror_translate for torch tensors on one device (flip (n,) bool, dx and dy (n,)
    integers): two gathers from the zero-padded images, no loop over images. The mirror is
    folded into the columns read: output column j reads column j - dx of the image, or
    31 - (j - dx) where it is mirrored (outside 0..31 both land in the zero border)."""
    import torch

    n, s = X.shape[0], max_shift
    padded = torch.nn.functional.pad(X.reshape(n, CHANNELS, SIDE, SIDE), (s, s, s, s))
    pixels = torch.arange(SIDE, device=X.device)
    source = pixels - dx.reshape(n, 1)  # the column of the (mirrored) image each j reads
    cols = s + torch.where(flip.reshape(n, 1), SIDE - 1 - source, source)
    rows = s + pixels - dy.reshape(n, 1)
    rows = rows.reshape(n, 1, SIDE, 1).expand(n, CHANNELS, SIDE, SIDE + 2 * s)
    moved = torch.gather(padded, 2, rows)  # (n, 3, 32, 32 + 2s): the rows read
    cols = cols.reshape(n, 1, 1, SIDE).expand(n, CHANNELS, SIDE, SIDE)
    return torch.gather(moved, 3, cols).reshape(n, -1)
