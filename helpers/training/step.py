"""One SGD step of N networks side by side, fused and in place (the engine's arithmetic), and
the error it raises when training diverges."""

import numpy as np

from helpers.model import dropout
from helpers.model.blas import add_product
from helpers.model.network import deltas, forward, xp


class DivergenceError(FloatingPointError):
    """A value turned NaN or infinite during training."""


def sgd_step(params: dict, X, y, lam, eta: float, buffer=None, w1_scale=None, U=None) -> None:
    """One update of every network on the batch X (n, d), y (n,), in place.

    W <- W - eta (dJ/dW) = (1 - 2 eta lambda) W - eta dL/dW; biases are not regularised.
    lam: (N, 1, 1) per-network lambdas; buffer: optional (N, m, d) scratch for dL/dW1.
    w1_scale: optional (N, 1, 1), updated in place, with W1 = w1_scale * params["W1"]: the
    decay then multiplies one number per network instead of every entry of W1.
    U: optional (N, m, n) scaled dropout mask of the hidden layer (helpers.model.dropout.mask).
    Raises DivergenceError when a probability turns NaN or infinite.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below
        P, H = forward(params, X, w1_scale) if U is None else \
            dropout.forward(params, X, U, w1_scale)
    # with dropout, (W2^T G) 1[H~ > 0] U = (W2^T G) U 1[S1 > 0]: the dropped-out chain rule
    G, G1 = deltas(params, y, P, H, scale=-eta, U=U)
    db2 = G.sum(axis=-1, keepdims=True)
    bad = ~xp(P).isfinite(db2).all(axis=(1, 2))
    if bad.any():
        raise DivergenceError(np.flatnonzero(np.asarray(bad.tolist())).tolist())
    params["b1"] += G1.sum(axis=-1, keepdims=True)
    params["b2"] += db2
    decay = 1 - 2 * eta * lam
    params["W2"] *= decay
    params["W2"] += (H @ G.mT).mT  # G H^T, as (H G^T)^T: twice as fast for K = 10 rows
    if w1_scale is None:
        params["W1"] *= decay
    else:
        w1_scale *= decay
        G1 /= w1_scale  # the step of W1 is w1_scale times the step of params["W1"]
    N, m, d = params["W1"].shape
    flat = None if buffer is None else buffer.reshape(N * m, d)
    add_product(params["W1"].reshape(N * m, d), G1.reshape(N * m, -1), X, flat)




def fold(params: dict, w1_scale) -> None:
    """Multiply the per-network scale into W1 (one pass over W1) and reset it to 1."""
    if w1_scale is not None:
        params["W1"] *= w1_scale
        w1_scale[...] = 1










def diverged(err: DivergenceError, t: int, eta: float, lambdas: list) -> DivergenceError:
    bad = [lambdas[k] for k in err.args[0]]
    return DivergenceError(
        f"training diverged at step {t} (eta = {eta:.3g}): a value turned NaN or "
        f"infinite in the network(s) with lambda {bad}; lower eta_max or lambda"
    )
