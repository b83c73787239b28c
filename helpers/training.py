"""Mini-batch gradient descent with the cyclical learning rate, for N networks side by side."""

import time

import numpy as np
from tqdm import tqdm

from helpers.blas import add_product
from helpers.network import deltas, evaluate, forward, init_params, xp
from helpers.schedule import schedule
from helpers.settings import Settings, check_lambdas

METRICS = ("cost", "loss", "accuracy")


class DivergenceError(FloatingPointError):
    """A value turned NaN or infinite during training."""


def sgd_step(params: dict, X, y, lam, eta: float, buffer=None, w1_scale=None) -> None:
    """One update of every network on the batch X (n, d), y (n,), in place.

    W <- W - eta (dJ/dW) = (1 - 2 eta lambda) W - eta dL/dW; biases are not regularised.
    lam: (N, 1, 1) per-network lambdas; buffer: optional (N, m, d) scratch for dL/dW1.
    w1_scale: optional (N, 1, 1), updated in place, with W1 = w1_scale * params["W1"]: the
    decay then multiplies one number per network instead of every entry of W1.
    Raises DivergenceError when a probability turns NaN or infinite.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below
        P, H = forward(params, X, w1_scale)
    G, G1 = deltas(params, y, P, H, scale=-eta)
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


def train(split, settings: Settings, lambdas, seeds=None, curves=True, progress=True,
          device=None):
    """Train N networks, one per lambda (and seed), on the same mini-batches.

    Inputs: split with X_train (n, d), y_train, X_val, y_val (helpers.data.Split);
    settings; lambdas (N,); seeds (N,) initialisation seeds, default settings.seed for all;
    curves: evaluate on the whole training and validation sets records_per_cycle times per
    cycle plus step 0 and the end (else only at the end); device: None for numpy, or a
    torch device such as "cpu" or "cuda" to run on torch tensors.
    Output: (params as numpy arrays keyed W1 (N, m, d), b1, W2, b2, history) where history
    is {"curves": columns step, network, lambda, seed, train_/val_ cost, loss, accuracy;
    "eta": columns step, eta (every update step); "seconds": {"total", "evaluation"} (the
    whole-set evaluations)}. JSON-serialisable.
    """
    lambdas, seeds = _check_arguments(split, settings, lambdas, seeds)
    n = split.X_train.shape[0]
    dtype = np.dtype(settings.dtype)
    arrays = _to_engine(split, init_params(split.X_train.shape[1], settings.m, seeds, dtype),
                        np.asarray(lambdas, dtype), dtype, device)
    params, data, lam = arrays
    etas = schedule(settings.total_steps, settings.eta_min, settings.eta_max, settings.n_s)
    record_at = _record_steps(settings, curves)
    rows = {"step": [], "network": [], "lambda": [], "seed": []}
    order = np.random.default_rng([1, settings.seed])
    per_epoch = n // settings.batch_size
    mod = xp(params["W1"])
    buffer = mod.empty_like(params["W1"]) if mod is np else None  # torch adds in place
    seconds = {"total": -time.perf_counter(), "evaluation": 0.0}
    w1_scale = mod.ones_like(lam) if 2 * settings.eta_max * max(lambdas) < 0.5 else None
    for t in tqdm(range(settings.total_steps + 1), disable=not progress, mininterval=1,
                  desc=f"training {len(lambdas)} network(s)", unit="step"):
        if t in record_at or (w1_scale is not None and w1_scale.min() < 1e-3):
            _fold(params, w1_scale)
        if t in record_at:
            evaluating = time.perf_counter()
            _record(rows, t, params, data, lam, lambdas, seeds)
            seconds["evaluation"] += time.perf_counter() - evaluating
        if t == settings.total_steps:
            break
        if t % per_epoch == 0:
            perm = _index(order.permutation(n), data["X_train"])
        batch = perm[(t % per_epoch) * settings.batch_size :][: settings.batch_size]
        try:
            sgd_step(params, data["X_train"][batch], data["y_train"][batch], lam,
                     float(etas[t]), buffer, w1_scale)
        except DivergenceError as err:
            raise _diverged(err, t, etas[t], lambdas) from None
    seconds["total"] += time.perf_counter()
    history = {"curves": rows, "eta": {"step": list(range(len(etas))), "eta": etas.tolist()},
               "seconds": seconds}
    return {k: _to_numpy(v) for k, v in params.items()}, history


def _check_arguments(split, settings: Settings, lambdas, seeds):
    """(lambdas as floats, one seed per lambda); ValueError for what cannot train."""
    lambdas = check_lambdas(lambdas)
    seeds = [settings.seed] * len(lambdas) if seeds is None else [int(s) for s in seeds]
    if len(seeds) != len(lambdas):
        raise ValueError(f"got {len(seeds)} seeds for {len(lambdas)} lambdas: give one per lambda")
    n = split.X_train.shape[0]
    if settings.batch_size > n:
        raise ValueError(f"batch_size {settings.batch_size} is larger than the {n} training images")
    return lambdas, seeds


def _fold(params: dict, w1_scale) -> None:
    """Multiply the per-network scale into W1 (one pass over W1) and reset it to 1."""
    if w1_scale is not None:
        params["W1"] *= w1_scale
        w1_scale[...] = 1


def _diverged(err: DivergenceError, t: int, eta: float, lambdas: list) -> DivergenceError:
    bad = [lambdas[k] for k in err.args[0]]
    return DivergenceError(
        f"training diverged at step {t} (eta = {eta:.3g}): a value turned NaN or "
        f"infinite in the network(s) with lambda {bad}; lower eta_max or lambda"
    )


def _record_steps(settings: Settings, curves: bool) -> set:
    """Steps at which whole-set metrics are recorded: ~records_per_cycle per cycle, 0, end."""
    if not curves:
        return {settings.total_steps}
    every = max(1, (2 * settings.n_s) // settings.records_per_cycle)
    return set(range(0, settings.total_steps, every)) | {settings.total_steps}


def _record(rows: dict, t: int, params, data, lam, lambdas, seeds) -> None:
    for part in ("train", "val"):
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged run records NaN
            metrics = evaluate(params, data[f"X_{part}"], data[f"y_{part}"], lam.reshape(-1))
        for name in METRICS:
            rows.setdefault(f"{part}_{name}", []).extend(_to_numpy(metrics[name]).tolist())
    rows["step"].extend([t] * len(lambdas))
    rows["network"].extend(range(len(lambdas)))
    rows["lambda"].extend(lambdas)
    rows["seed"].extend(seeds)


def _to_engine(split, params, lambdas, dtype, device):
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


def _index(perm: np.ndarray, like):
    return perm if isinstance(like, np.ndarray) else xp(like).from_numpy(perm).to(like.device)


def _to_numpy(a):
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()
