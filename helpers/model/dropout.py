"""Inverted dropout on the hidden layer of N stacked two-layer networks.

Training, one network: s1 = W1 x + b1, h = max(0, s1), h~ = h * u with u = z / keep,
z_i ~ Bernoulli(keep) drawn afresh for every image, s = W2 h~ + b2, p = softmax(s).
E[u] = 1, so E[h~] = h and evaluation uses the network without dropout (no rescaling).
Backward, with G = (P - Y) / n:
  dW2 = G H~^T,  db2 = G 1,  G1 = (W2^T G) * U * 1[S1 > 0],  dW1 = G1 X^T,  db1 = G1 1.
Since U * 1[S1 > 0] = (1 / keep) 1[H~ > 0], helpers.model.network.deltas called with H~ gives
G1 up to the factor 1 / keep: backward multiplies it in.
"""

import numpy as np

from helpers.model import fused
from helpers.model.network import deltas, on_engine, scores, softmax


def mask(rng: np.random.Generator, shape, keep, dtype=np.float32, out=None) -> np.ndarray:
    """The scaled mask U of `shape` (e.g. (N, m, n)): 1 / keep with probability keep, else 0.

    keep: a float in (0, 1], or an array of them that broadcasts to shape, such as (N, 1, 1)
    for one rate per network; keep = 1 gives ones (no dropout). dtype of the result; out: an
    array of that shape and dtype to write it to (returned), else a new one.
    """
    keep = np.asarray(keep, dtype=dtype)
    if not np.all((keep > 0) & (keep <= 1)):
        raise ValueError(f"keep must be in (0, 1], got {keep!r}")
    out = np.empty(shape, dtype) if out is None else out
    if np.all(keep == 1):
        out[...] = 1
        return out
    draws = rng.random(shape, dtype=np.float32 if np.dtype(dtype) == np.float32 else np.float64)
    return np.divide(draws < keep, keep, out=out, dtype=out.dtype)  # 1 / keep or 0, one pass


def masks(rng: np.random.Generator, keeps, out: np.ndarray) -> np.ndarray:
    """out (N, m, n) <- the scaled masks of N networks that draw from one stream (a run's
    networks share its seed, so each one's generator would draw the same numbers): ONE draw
    of (m, n) uniforms, and network k's mask `mask` would make from it with keeps[k]; keep 1
    gives ones. Returned. The same digits as N generators of that seed, each drawing its own
    (helpers.model.fused.masks does it from the raw bits where it can, exactly)."""
    keeps = np.asarray(keeps, dtype=out.dtype).reshape(-1)
    if not np.all((keeps > 0) & (keeps <= 1)):
        raise ValueError(f"keep must be in (0, 1], got {keeps!r}")
    if np.all(keeps == 1):
        out[...] = 1
        return out
    if fused.masks(rng, keeps, out):
        return out
    draws = rng.random(out.shape[1:], dtype=np.float32 if out.dtype == np.float32 else np.float64)
    for k, keep in enumerate(keeps):
        np.divide(draws < keep, keep, out=out[k], dtype=out.dtype)
    return out


def torch_generator(rng: np.random.Generator, device):
    """A torch.Generator on `device` seeded deterministically from the numpy generator rng (one
    draw of it): the masks' stream of a run on a torch device (helpers.training.loop)."""
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(0, 2**63 - 1)))
    return generator


def forward(params: dict, X, U, w1_scale=None):
    """P (N, K, n) and the dropped-out hidden activations H~ = max(0, S1) * U, (N, m, n).

    w1_scale as in helpers.model.network.scores.
    """
    S, H_drop = scores(params, X, w1_scale, U)
    return softmax(S), H_drop


def backward(params: dict, X, y, P, H_drop, keep: float) -> dict:
    """Gradients of the mean cross-entropy of the dropped-out network (no regularisation).

    Inputs: X (n, d), y (n,), P and H~ from forward with a mask of keep probability keep
    (a float, or (N,) one per network).
    Output keyed like params: the formulas of the module docstring.
    """
    N, m, d = params["W1"].shape
    G, G1 = deltas(params, y, P, H_drop)
    G1 = G1 / on_engine(keep, G1).reshape(-1, 1, 1)  # U * 1[S1 > 0] = (1 / keep) 1[H~ > 0]
    return {
        "W1": (G1.reshape(N * m, -1) @ X).reshape(N, m, d),
        "b1": G1.sum(axis=-1, keepdims=True),
        "W2": G @ H_drop.mT,
        "b2": G.sum(axis=-1, keepdims=True),
    }
