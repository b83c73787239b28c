"""Mini-batch gradient descent for N networks side by side, with seams for the schedule,
the recording cadence and each mini-batch."""

import time

import numpy as np
from tqdm import tqdm

from helpers.engine import DivergenceError, Run, fold, minibatches, to_engine, to_numpy
from helpers.network import init_params, xp
from helpers.schedule import learning_rates
from helpers.settings import Settings, check_lambdas

__all__ = ["DivergenceError", "train"]  # the step is helpers.engine.sgd_step


def train(split, settings: Settings, lambdas, seeds=None, curves=True, progress=True,
          device=None, eta=None, record=None, on_batch=None, dropout=None,
          parts=("train", "val"), stop_on_divergence=False, on_record=None):
    """Train N networks, one per lambda (and seed), on the same mini-batches.

    Inputs: split with X_train (n, d), y_train, X_val, y_val (helpers.data.Split);
    settings; lambdas (N,); seeds (N,) initialisation seeds, default settings.seed for all;
    device: None for numpy, or a torch device such as "cpu" or "cuda".
    The seams, each optional:
      eta: the learning rate: None for the triangular cycle of `settings`, a function of
        the step t, or an array with one value per step (its length is the step count);
      record: the steps at which whole-set metrics are recorded (the last step is always
        recorded); None: records_per_cycle times per cycle plus step 0, or with
        curves=False the end only;
      on_batch: a function (X, y, t) -> (X, y) applied to each gathered mini-batch before
        its step (augmentation); X is a fresh copy it may change in place;
      dropout: the probability of dropping each hidden unit in training (inverted dropout,
        none at evaluation): a float, or one per network; None or 0: no dropout (numpy only);
      parts: the sets the curves are measured on ("train", "val" or both);
      stop_on_divergence: a step that would turn a value NaN or infinite ends training
        there (recorded; history["stopped_at"]) instead of raising (a range test);
      on_record: a function (t, params) called after each recording, with the networks'
        current parameters (to keep end-of-cycle snapshots: copy what you keep).
    Output: (params as numpy arrays keyed W1 (N, m, d), b1, W2, b2, history) where history
    is {"curves": columns step, network, lambda, seed, train_/val_ cost, loss, accuracy;
    "eta": columns step, eta (every update step); "seconds": {"total", "evaluation"} (the
    whole-set evaluations)}. JSON-serialisable.
    """
    lambdas, seeds = _check_arguments(split, settings, lambdas, seeds)
    etas = learning_rates(settings, eta)
    total = len(etas)
    record_at = _record_steps(settings, curves, total) if record is None else \
        {int(t) for t in record if 0 <= t < total} | {total}
    dtype = np.dtype(settings.dtype)
    start = init_params(split.X_train.shape[1], settings.m, seeds, dtype)
    params, data, lam = to_engine(split, start, np.asarray(lambdas, dtype), dtype, device)
    run = Run(params, data, lam, lambdas, seeds, parts)
    run.dropout(dropout, settings.seed, device)
    batches = minibatches(split.X_train.shape[0], settings.batch_size, settings.seed, total)
    seconds = {"total": -time.perf_counter(), "evaluation": 0.0}
    fold_early = 2 * float(etas.max(initial=0)) * max(lambdas) < 0.5
    w1_scale = xp(params["W1"]).ones_like(lam) if fold_early else None
    for t in tqdm(range(total + 1), disable=not progress, mininterval=1,
                  desc=f"training {len(lambdas)} network(s)", unit="step"):
        if t in record_at or (w1_scale is not None and w1_scale.min() < 1e-3):
            fold(params, w1_scale)
        if t in record_at:
            seconds["evaluation"] += run.record(t)
            if on_record is not None:
                on_record(t, params)
        if t == total:
            break
        try:
            run.step(t, next(batches), float(etas[t]), w1_scale, on_batch)
        except DivergenceError:
            if not stop_on_divergence:
                raise
            fold(params, w1_scale)
            seconds["evaluation"] += run.record(t) if t not in record_at else 0
            total = run.stopped_at = t
            break
    seconds["total"] += time.perf_counter()
    history = {"curves": run.rows, "eta": {"step": list(range(total)),
                                           "eta": etas[:total].tolist()}, "seconds": seconds}
    if run.stopped_at is not None:
        history["stopped_at"] = run.stopped_at
    return {k: to_numpy(v) for k, v in params.items()}, history


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


def _record_steps(settings: Settings, curves: bool, total: int) -> set:
    """Steps at which whole-set metrics are recorded: ~records_per_cycle per cycle, 0, end."""
    if not curves:
        return {total}
    every = max(1, (2 * settings.n_s) // settings.records_per_cycle)
    return set(range(0, total, every)) | {total}
