"""The training loop: mini-batch gradient descent for N networks side by side, with seams for
the schedule, the recording cadence and each mini-batch; its mini-batches, its arrays (numpy,
or torch tensors on a device) and the state of a run (its recorded curves).

On a torch device the data, the parameters, the dropout masks and (through the rows seam)
the augmentation stay on the device: a step copies nothing to or from the host but the
epoch's mini-batch order (once an epoch) and the divergence check's N booleans."""

import time

import numpy as np
from tqdm import tqdm

from helpers.model.dropout import masks, torch_generator
from helpers.model.network import evaluate, init_params, to_device, to_numpy, xp
from helpers.training import progress as lines
from helpers.training.progress import Ticker
from helpers.training.schedule import learning_rates
from helpers.training.seams import Seams
from helpers.training.settings import Settings, check_lambdas, stream
from helpers.training.step import DivergenceError, diverged, fold, sgd_step

__all__ = ["DivergenceError", "Seams", "train"]  # the step is helpers.training.step.sgd_step
METRICS = ("cost", "loss", "accuracy")
# The decay 1 - 2 eta lambda of W1 is kept as one scale per network (helpers.training.step)
# only while no step shrinks W1 by more than half ...
MIN_DECAY = 0.5
# ... and is folded into W1 before the scale gets this small (float32 keeps its precision).
FOLD_BELOW = 1e-3
PLAIN = Seams()


def train(split, settings: Settings, lambdas, seeds=None, record_curves=True, progress=True,
          device=None, seams: Seams = PLAIN):
    """Train N networks, one per lambda (and seed), on the same mini-batches.

    Inputs: split with X_train (n, d), y_train, X_val, y_val (helpers.cifar.data.Split);
    settings; lambdas (N,); seeds (N,) initialisation seeds, default settings.seed for all;
    record_curves: False records the end only (unless seams.record says otherwise);
    progress: a progress bar; device: None for numpy, or a torch device such as "cpu" or
    "cuda"; seams: what else changes (helpers.training.seams.Seams: the schedule, the
    recording steps, a mini-batch hook, the rows' gathering, dropout, the parts measured,
    stopping on divergence, a hook after each recording).
    Output: (params as numpy arrays keyed W1 (N, m, d), b1, W2, b2, history) where history
    is {"curves": columns step, network, lambda, seed, train_/val_ cost, loss, accuracy;
    "eta": columns step, eta (every update step); "seconds": {"total", "evaluation"} (the
    whole-set evaluations)}. JSON-serialisable.

    It runs `training`, the loop itself, to its end (side_by_side runs several in turn).
    """
    return side_by_side([training(split, settings, lambdas, seeds, record_curves, progress,
                                  device, seams)])[0]


def side_by_side(trainings: list) -> list:
    """[(params, history)] of `training` generators run in turn, one step each, in this
    thread. Runs given one rows seam (helpers.experiments.bonus.SharedRows) then gather each
    step's rows once. The first training's progress lines (make's log) speak for them all."""
    what, results, live = lines.current(), [None] * len(trainings), dict(enumerate(trainings))
    try:
        while live:
            for i in list(live):
                try:
                    next(live[i])
                except StopIteration as end:
                    results[i] = end.value
                    del live[i]
                lines.doing(None)  # the first has named its lines; the others print none
    finally:
        lines.doing(what)
    return results


def training(split, settings: Settings, lambdas, seeds=None, record_curves=True,
             progress=True, device=None, seams: Seams = PLAIN):
    """train() as a generator: it yields after each update step, and its value (StopIteration's,
    side_by_side's) is train's output. history["seconds"]["total"] counts its own steps only."""
    lambdas, seeds = _check_arguments(split, settings, lambdas, seeds)
    etas = learning_rates(settings, seams.eta)
    total = len(etas)
    record_at = _record_steps(settings, record_curves, total) if seams.record is None else \
        {int(t) for t in seams.record if 0 <= t < total} | {total}
    dtype = np.dtype(settings.dtype)
    start = init_params(split.X_train.shape[1], settings.m, seeds, dtype)
    params, data, lam = to_engine(split, start, np.asarray(lambdas, dtype), dtype, device)
    state = State(params, data, lam, lambdas, seeds, seams.parts)
    state.dropout(seams.dropout, settings.seed)
    state.rows_of = seams.rows
    batches = minibatches(split.X_train.shape[0], settings.batch_size, settings.seed, total)
    seconds = {"total": -time.perf_counter(), "evaluation": 0.0}  # its own steps' time
    use_w1_scale = 1 - 2 * float(etas.max(initial=0)) * max(lambdas) > MIN_DECAY
    w1_scale = xp(params["W1"]).ones_like(lam) if use_w1_scale else None
    scale = Scale(w1_scale, lam)
    tick = Ticker(total)  # make's log, where make runs it (helpers.training.progress)
    for t in tqdm(range(total + 1), disable=not progress, mininterval=1,
                  desc=f"training {len(lambdas)} network(s)", unit="step"):
        tick(t)
        if t in record_at or scale.below(FOLD_BELOW):
            fold(params, w1_scale)
            scale.folded()
        if t in record_at:
            seconds["evaluation"] += state.record(t)
            if seams.on_record is not None:
                seams.on_record(t, params)
        if t == total:
            break
        try:
            state.step(t, next(batches), float(etas[t]), w1_scale, seams.on_batch)
            scale.step(float(etas[t]))
        except DivergenceError:
            if not seams.stop_on_divergence:
                raise
            fold(params, w1_scale)
            seconds["evaluation"] += state.record(t) if t not in record_at else 0
            total = state.stopped_at = t
            break
        seconds["total"] += time.perf_counter()
        yield t  # a step done: side_by_side may step another training now
        seconds["total"] -= time.perf_counter()
    seconds["total"] += time.perf_counter()
    history = {"curves": state.rows, "eta": {"step": list(range(total)),
                                           "eta": etas[:total].tolist()}, "seconds": seconds}
    if state.stopped_at is not None:
        history["stopped_at"] = state.stopped_at
    return {k: to_numpy(v) for k, v in params.items()}, history


class Scale:
    """When to fold the W1 scale, read on the host: the scale itself for numpy; for torch a
    numpy copy kept in step with it (the same float32 decays), so that no step waits for the
    device to say how small the scale is."""

    def __init__(self, w1_scale, lam):
        self.scale = w1_scale
        self.host = None if w1_scale is None or isinstance(w1_scale, np.ndarray) else \
            np.ones(tuple(lam.shape), str(lam.dtype).removeprefix("torch."))
        self.lam = None if self.host is None else to_numpy(lam).copy()

    def below(self, limit: float) -> bool:
        if self.scale is None:
            return False
        return bool((self.scale if self.host is None else self.host).min() < limit)

    def step(self, eta: float) -> None:
        if self.host is not None:
            self.host *= 1 - 2 * eta * self.lam

    def folded(self) -> None:
        if self.host is not None:
            self.host[...] = 1


def _check_arguments(split, settings: Settings, lambdas, seeds):
    """(lambdas as floats, one seed per lambda); ValueError for what cannot train."""
    lambdas = check_lambdas(lambdas)
    seeds = [settings.seed] * len(lambdas) if seeds is None else [int(s) for s in seeds]
    if len(seeds) != len(lambdas):
        raise ValueError(f"got {len(seeds)} seeds for {len(lambdas)} lambdas: give one per lambda")
    check_batch(split.X_train.shape[0], settings.batch_size)
    return lambdas, seeds


def check_batch(n: int, batch_size: int) -> None:
    """ValueError when n training images cannot fill one mini-batch of batch_size."""
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size {batch_size} is larger than the {n} training images"
                         if batch_size > n else f"batch_size must be >= 1, got {batch_size}")


def _record_steps(settings: Settings, record_curves: bool, total: int) -> set:
    """Steps at which whole-set metrics are recorded: ~records_per_cycle per cycle, 0, end."""
    if not record_curves:
        return {total}
    every = max(1, (2 * settings.n_s) // settings.records_per_cycle)
    return set(range(0, total, every)) | {total}


def minibatches(n: int, batch_size: int, seed: int, total: int):
    """Index arrays of the mini-batches of `total` steps: a seeded reshuffle every epoch.
    ValueError at once (not at the first batch) when n images cannot fill a batch."""
    check_batch(n, batch_size)
    return _minibatches(n, batch_size, stream("minibatches", seed), total)


def _minibatches(n: int, batch_size: int, order, total: int):
    per_epoch = n // batch_size
    for t in range(total):
        if t % per_epoch == 0:
            perm = order.permutation(n)
        yield perm[(t % per_epoch) * batch_size :][:batch_size]


def to_engine(split, params, lambdas, dtype, device):
    """Arrays for the chosen engine: numpy, or torch tensors on `device`."""
    data = {f"{a}_{p}": getattr(split, f"{a}_{p}") for a in "Xy" for p in ("train", "val")}
    data = {k: (v.astype(dtype, copy=False) if k[0] == "X" else v) for k, v in data.items()}
    lam = lambdas.reshape(-1, 1, 1)
    if device is None:
        return params, data, lam
    return ({k: to_device(v, device) for k, v in params.items()},
            {k: to_device(v, device) for k, v in data.items()}, to_device(lam, device))


def snapshot(params: dict) -> dict:
    """A numpy copy of engine parameters (an on_record hook keeps what it is given this way:
    the parameters themselves change in place at the next step)."""
    return {k: np.array(to_numpy(v), copy=True) for k, v in params.items()}


class State:
    """The state of one training run: engine arrays, the curves table, the step."""

    def __init__(self, params, data, lam, lambdas, seeds, parts=("train", "val")):
        self.params, self.data, self.lam, self.parts = params, data, lam, parts
        self.lambdas, self.seeds = lambdas, seeds
        self.rows = {"step": [], "network": [], "lambda": [], "seed": []}
        mod = xp(params["W1"])
        self.buffer = mod.empty_like(params["W1"]) if mod is np else None  # torch: in place
        self.keep = self.stopped_at = self.rows_of = self.order = None

    def dropout(self, rate, seed: int) -> None:
        """Drop each hidden unit with probability rate (one per network) at every step."""
        rate = np.zeros(len(self.lambdas)) if rate is None else \
            np.broadcast_to(np.asarray(rate, dtype=float), (len(self.lambdas),))
        if not ((rate >= 0) & (rate < 1)).all():
            raise ValueError(f"dropout must be in [0, 1), got {rate.tolist()}")
        if rate.any():  # the run's stream: network k of a stack draws the masks it would
            # draw alone (a stack equals separate runs), and the networks, which share the
            # run's seed, share the draws: one draw a step for them all
            self.keep = 1 - rate
            W1 = self.params["W1"]
            self.masks = stream("dropout", seed)
            if not isinstance(W1, np.ndarray):
                self.masks = torch_generator(self.masks, W1.device)
                self.keep = xp(W1).tensor(self.keep, dtype=W1.dtype,
                                          device=W1.device).reshape(-1, 1, 1)

    def step(self, t: int, batch, eta: float, w1_scale, on_batch) -> None:
        X, y = self.data["X_train"], self.data["y_train"]
        index = self.index(batch)
        X, y = (X[index] if self.rows_of is None else self.rows_of(index, t)), y[index]
        if X.dtype != self.params["W1"].dtype and not isinstance(X, np.ndarray):
            X = X.to(self.params["W1"].dtype)  # the rows seam's float32 rows, float64 training
        if on_batch is not None:
            X, y = on_batch(X, y, t)
        U = None if self.keep is None else self.mask(X.shape[0])
        try:
            sgd_step(self.params, X, y, self.lam, eta, self.buffer, w1_scale, U)
        except DivergenceError as err:
            raise diverged(err, t, eta, self.lambdas) from None

    def index(self, batch: np.ndarray):
        """The mini-batch's indices on the engine: batch itself for numpy; on a device, a
        slice of the epoch's order, copied to the device once an epoch (batch is a view of
        it: helpers.training.loop.minibatches)."""
        W1 = self.params["W1"]
        if isinstance(W1, np.ndarray):
            return batch
        order = batch if batch.base is None else batch.base
        if order.ndim != 1 or order.strides != batch.strides:  # not a slice of an order
            return to_device(batch, W1.device)
        if self.order is None or self.order[0] is not order:
            self.order = (order, to_device(order, W1.device))
        offset = (batch.__array_interface__["data"][0] - order.__array_interface__["data"][0])
        start = offset // order.itemsize
        return self.order[1][start : start + len(batch)]

    def mask(self, n: int):
        """The scaled dropout masks (N, m, n) of one step: one draw of the run's stream (every
        network of a run has the run's seed, so each would draw these same numbers alone),
        each network's mask from it with its own rate; numpy's generator, or on a device the
        run's torch generator."""
        N, m, _ = self.params["W1"].shape
        W1 = self.params["W1"]
        if not isinstance(W1, np.ndarray):
            draws = xp(W1).rand((m, n), generator=self.masks, device=W1.device, dtype=W1.dtype)
            return (draws < self.keep).to(W1.dtype) / self.keep
        return masks(self.masks, self.keep, np.empty((N, m, n), W1.dtype))

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
