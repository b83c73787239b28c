"""The engine: its arrays (numpy, or torch tensors on a device), one SGD step of N networks,
the mini-batches, and the state of a training run (its steps and its recorded curves)."""

import time

import numpy as np

from helpers import dropout
from helpers.blas import add_product
from helpers.dropout import mask
from helpers.network import deltas, evaluate, forward, xp

METRICS = ("cost", "loss", "accuracy")


class DivergenceError(FloatingPointError):
    """A value turned NaN or infinite during training."""


def sgd_step(params: dict, X, y, lam, eta: float, buffer=None, w1_scale=None, U=None) -> None:
    """One update of every network on the batch X (n, d), y (n,), in place.

    W <- W - eta (dJ/dW) = (1 - 2 eta lambda) W - eta dL/dW; biases are not regularised.
    lam: (N, 1, 1) per-network lambdas; buffer: optional (N, m, d) scratch for dL/dW1.
    w1_scale: optional (N, 1, 1), updated in place, with W1 = w1_scale * params["W1"]: the
    decay then multiplies one number per network instead of every entry of W1.
    U: optional (N, m, n) scaled dropout mask of the hidden layer (helpers.dropout.mask).
    Raises DivergenceError when a probability turns NaN or infinite.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below
        P, H = forward(params, X, w1_scale) if U is None else \
            dropout.forward(params, X, U, w1_scale)
    G, G1 = deltas(params, y, P, H, scale=-eta)
    if U is not None:
        G1 *= U  # (W2^T G) 1[H~ > 0] U = (W2^T G) U 1[S1 > 0]: the dropped-out chain rule
    db2 = G.sum(axis=-1, keepdims=True)
    bad = ~xp(P).isfinite(db2).all(axis=(1, 2))
    if bad.any():
        raise DivergenceError(np.flatnonzero(np.asarray(bad.tolist())).tolist())
    params["b1"] += G1.sum(axis=-1, keepdims=True)
    params["b2"] += db2
    decay = 1 - 2 * eta * lam
    params["W2"] *= decay
    params["W2"] += G @ H.mT
    if w1_scale is None:
        params["W1"] *= decay
    else:
        w1_scale *= decay
        G1 = G1 / w1_scale  # the step of W1 is w1_scale times the step of params["W1"]
    N, m, d = params["W1"].shape
    flat = None if buffer is None else buffer.reshape(N * m, d)
    add_product(params["W1"].reshape(N * m, d), G1.reshape(N * m, -1), X, flat)


def minibatches(n: int, batch_size: int, seed: int, total: int):
    """Index arrays of the mini-batches of `total` steps: a seeded reshuffle every epoch."""
    order = np.random.default_rng([1, seed])
    per_epoch = n // batch_size
    for t in range(total):
        if t % per_epoch == 0:
            perm = order.permutation(n)
        yield perm[(t % per_epoch) * batch_size :][:batch_size]


def fold(params: dict, w1_scale) -> None:
    """Multiply the per-network scale into W1 (one pass over W1) and reset it to 1."""
    if w1_scale is not None:
        params["W1"] *= w1_scale
        w1_scale[...] = 1


def to_engine(split, params, lambdas, dtype, device):
    """Arrays for the chosen engine: numpy, or torch tensors on `device`."""
    data = {f"{a}_{p}": getattr(split, f"{a}_{p}") for a in "Xy" for p in ("train", "val")}
    data = {k: (v.astype(dtype, copy=False) if k[0] == "X" else v) for k, v in data.items()}
    lam = lambdas.reshape(-1, 1, 1)
    if device is None:
        return params, data, lam
    import torch

    move = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    return ({k: move(v) for k, v in params.items()}, {k: move(v) for k, v in data.items()},
            move(lam))


def index_like(perm: np.ndarray, like):
    return perm if isinstance(like, np.ndarray) else xp(like).from_numpy(perm).to(like.device)


def to_numpy(a):
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()


class Run:
    """The state of one training run: engine arrays, the curves table, the step."""

    def __init__(self, params, data, lam, lambdas, seeds, parts=("train", "val")):
        self.params, self.data, self.lam, self.parts = params, data, lam, parts
        self.lambdas, self.seeds = lambdas, seeds
        self.rows = {"step": [], "network": [], "lambda": [], "seed": []}
        mod = xp(params["W1"])
        self.buffer = mod.empty_like(params["W1"]) if mod is np else None  # torch: in place
        self.keep = self.stopped_at = None

    def dropout(self, rate, seed: int, device) -> None:
        """Drop each hidden unit with probability rate (one per network) at every step."""
        rate = np.zeros(len(self.lambdas)) if rate is None else \
            np.broadcast_to(np.asarray(rate, dtype=float), (len(self.lambdas),))
        if not ((rate >= 0) & (rate < 1)).all():
            raise ValueError(f"dropout must be in [0, 1), got {rate.tolist()}")
        if rate.any() and device is not None:
            raise ValueError("dropout runs on the numpy engine only: leave device at None")
        if rate.any():
            self.keep, self.masks = (1 - rate).reshape(-1, 1, 1), np.random.default_rng([2, seed])

    def step(self, t: int, batch, eta: float, w1_scale, on_batch) -> None:
        X, y = self.data["X_train"], self.data["y_train"]
        index = index_like(batch, X)
        X, y = X[index], y[index]
        if on_batch is not None:
            X, y = on_batch(X, y, t)
        N, m, _ = self.params["W1"].shape
        U = None if self.keep is None else \
            mask(self.masks, (N, m, X.shape[0]), self.keep, self.params["W1"].dtype)
        try:
            sgd_step(self.params, X, y, self.lam, eta, self.buffer, w1_scale, U)
        except DivergenceError as err:
            raise diverged(err, t, eta, self.lambdas) from None

    def record(self, t: int) -> float:
        """Whole-set metrics of every network at step t into the rows; the seconds it took."""
        started = time.perf_counter()
        for part in self.parts:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged run records NaN
                metrics = evaluate(self.params, self.data[f"X_{part}"], self.data[f"y_{part}"],
                                   self.lam.reshape(-1))
            for name in METRICS:
                self.rows.setdefault(f"{part}_{name}", []).extend(
                    to_numpy(metrics[name]).tolist())
        self.rows["step"].extend([t] * len(self.lambdas))
        self.rows["network"].extend(range(len(self.lambdas)))
        self.rows["lambda"].extend(self.lambdas)
        self.rows["seed"].extend(self.seeds)
        return time.perf_counter() - started


def diverged(err: DivergenceError, t: int, eta: float, lambdas: list) -> DivergenceError:
    bad = [lambdas[k] for k in err.args[0]]
    return DivergenceError(
        f"training diverged at step {t} (eta = {eta:.3g}): a value turned NaN or "
        f"infinite in the network(s) with lambda {bad}; lower eta_max or lambda"
    )
