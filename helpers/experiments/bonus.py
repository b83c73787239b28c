"""The assignment's bonus, measured like a paper.

A recipe (width, lambda, dropout, flips and shifts, principal components, cycles, eta range)
is trained one seed per run: seed s sets the initialisation, the mini-batch order, the dropout
masks and the augmentation, so two seeds share nothing, and two networks in the same run
(a stack of lambdas and dropout rates) share everything but those two numbers: they are paired.
Every choice is made on the search split (45,000 / 5,000) with n seeds, by the keep rule of
helpers.experiments.protocol, each row trained as long as the full recipe; the chosen recipe
is then trained on the final split (49,000 / 1,000) by independent members, and the test set
is read once, for it and its ensembles.
"""

import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

import numpy as np

from helpers.cifar import projection
from helpers.cifar.augment import MIRROR, draws, flip_shift_torch, gather_flip_shift
from helpers.clock import timed
from helpers.digest import array_digest
from helpers.experiments import protocol
from helpers.model import ensemble
from helpers.model.accuracy import over_seeds
from helpers.model.dropout import torch_generator
from helpers.model.network import to_device
from helpers.training import workers
from helpers.training.loop import check_batch, side_by_side, snapshot, training
from helpers.training.seams import Seams
from helpers.training.settings import stream


@dataclass(frozen=True)
class Recipe:
    """What one bonus network is: its training, fixed before any seed is drawn."""

    m: int = 1000  # hidden units
    lam: float = 1e-3  # L2 strength
    dropout: float = 0.0  # probability of dropping a hidden unit in training
    max_shift: int = 0  # translations of up to this many pixels ...
    p_flip: float = 0.0  # ... and horizontal flips with this probability, per image
    k: int = 0  # the input projected on its first k principal components (0: raw pixels)
    cycles: int = 6  # cycles of the triangular schedule
    eta_min: float = 1e-5
    eta_max: float = 1e-1

    def but(self, **change) -> "Recipe":
        return replace(self, **change)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line: "m = 1000, lambda = 0.001, dropout 0.3, ...", the parts in use."""
        parts = [f"m = {self.m}", f"lambda = {self.lam:.3g}"]
        parts += [f"dropout {self.dropout:g}"] if self.dropout else ["no dropout"]
        parts += [f"flips p = {self.p_flip:g} and shifts up to {self.max_shift} px"] \
            if self.max_shift or self.p_flip else ["no augmentation"]
        parts += [f"{self.k} principal components"] if self.k else ["raw pixels"]
        parts += [f"{self.cycles} cycles, eta {self.eta_min:.3g} .. {self.eta_max:.3g}"]
        return ", ".join(parts)


# Training


_PROJECTED = {}  # (split, k) -> (projected split, Projection): fitted once per process, two kept
_FITTING = threading.Lock()  # jobs side by side wait for the one that fits


def features(split, k: int):
    """(split with every part on its first k principal components, the Projection), fitted
    on split.X_train only; (split, None) for k = 0. Fitted once per split and k."""
    if k == 0:
        return split, None
    key = (array_digest(split.X_train), k)  # by content: a split changed by hand is another
    with _FITTING:
        if key not in _PROJECTED:
            if len(_PROJECTED) >= 2:  # the search and final splits' (k / 3072 of the data each)
                _PROJECTED.pop(next(iter(_PROJECTED)))
            _PROJECTED[key] = projection.project_split(split, k)
        return _PROJECTED[key]


_MIRRORED = {}  # (split, k) -> the training rows' mirror images, projected: two kept


def mirrored_features(split, k: int) -> np.ndarray:
    """The training images mirrored left-right (augment.MIRROR, a fixed permutation of the
    pixels), projected by features(split, k)'s projection: (n, k) float32, computed once per
    split and k, in chunks (no mirrored copy of the raw rows is held whole). Row i is what
    the pixel-space flip of image i, then the projection, gives, up to float rounding."""
    if k == 0:
        raise ValueError("mirrored_features is for projected rows (k > 0): raw rows are "
                         "mirrored as they are gathered")
    _, proj = features(split, k)
    key = (array_digest(split.X_train), k)
    with _FITTING:
        if key not in _MIRRORED:
            if len(_MIRRORED) >= 2:
                _MIRRORED.pop(next(iter(_MIRRORED)))
            X = split.X_train
            rows = np.concatenate([proj(X[i : i + 5000][:, MIRROR])
                                   for i in range(0, X.shape[0], 5000)])
            rows.flags.writeable = False
            _MIRRORED[key] = rows
        return _MIRRORED[key]


def rows_hook(split, proj, seed: int, max_shift: int, p_flip: float, device=None, k: int = 0):
    """train()'s rows seam: each mini-batch flipped and shifted in pixel space (its own stream,
    seed), then projected; None without augmentation. device: None for numpy; a torch device:
    the raw training rows held there once, the flips, shifts and projection done there, drawn
    from a torch generator seeded from the same stream (the same distribution, other draws).

    Flips without shifts on projected rows (max_shift 0, k > 0, proj features(split, k)'s):
    no arithmetic a step. The mirror images' projections are computed once
    (mirrored_features) and stacked under the rows' own, [Z; Z_mirrored] (2n, k); a step
    gathers row i + n flip_i, its flips drawn from the same stream as the pixel-space path's
    (augment.draws: the same flips, numpy), so it gives those rows up to float rounding."""
    if not (0 <= max_shift < 32 and 0 <= p_flip <= 1):
        raise ValueError(f"max_shift must be in 0..31 and p_flip in [0, 1], got {max_shift} "
                         f"and {p_flip}")
    if max_shift == 0 and p_flip == 0:
        return None
    rng = stream("augmentation", seed)
    if max_shift == 0 and proj is not None and k:
        data, _ = features(split, k)
        n = data.X_train.shape[0]
        stacked = np.concatenate([data.X_train, mirrored_features(split, k)])
        if device is not None:
            import torch

            rows = to_device(stacked, device)
            generator = torch_generator(rng, rows.device)
            return lambda index, t: rows[index + n * (torch.rand(
                len(index), generator=generator, device=rows.device) < p_flip).long()]
        return lambda index, t: stacked[index + n * draws(rng, len(index), 0, p_flip)[0]]
    if device is not None:
        X = to_device(split.X_train, device)
        project = (lambda Z: Z) if proj is None else projection.on_device(proj, device)  # noqa: E731
        generator = torch_generator(rng, X.device)
        return lambda index, t: project(flip_shift_torch(X[index], generator, max_shift, p_flip))
    if proj is None:
        return lambda index, t: gather_flip_shift(split.X_train, index, rng, max_shift, p_flip)
    return lambda index, t: proj.centred(  # centred as they are gathered: one pass
        gather_flip_shift(split.X_train, index, rng, max_shift, p_flip, proj.mean))


def train_recipe(split, settings, lambdas, dropouts, k: int = 0, max_shift: int = 0,
                 p_flip: float = 0.0, snapshots: int = 0, progress: bool = True,
                 device=None) -> tuple:
    """One run (seed settings.seed): one network per (lambda, dropout) pair, side by side on
    the same mini-batches, dropout masks' stream and augmentation; the input projected on k
    components fitted on split.X_train (k = 0: raw). Validation recorded
    settings.records_per_cycle times a cycle (Study: RECORDS_PER_CYCLE) and at step 0.
    device: None for the numpy engine, or a torch device ("cpu", "cuda").

    Output: (params, history, {str(step): params} at the last `snapshots` cycle ends, the
    projection trained on as {"mean", "components", "explained"} or None for k = 0), numpy
    arrays whatever the device. The projection travels with the networks: a cached run is
    evaluated on its own projection, never on one fitted again in another process (an
    eigenvector's sign is not fixed, and another LAPACK may flip it).
    """
    return train_recipes(split, [(settings, lambdas, dropouts, snapshots)], k, max_shift,
                         p_flip, progress, device)[0]


def train_recipes(split, stacks, k: int = 0, max_shift: int = 0, p_flip: float = 0.0,
                  progress: bool = True, device=None) -> list:
    """train_recipe of each stack (settings, lambdas, dropouts, snapshots) of ONE seed, the
    stacks stepped in turn in this thread and sharing their rows: each step's mini-batch is
    gathered, flipped, shifted and projected once for all of them (the seed gives every stack
    the same batches and the same flips and shifts). Their settings may differ in the width m
    only. [train_recipe's output for each stack], digit for digit what it gives alone; each
    history's seconds count its own steps (the shared rows fall to the first stack's)."""
    first = stacks[0][0]
    if any(replace(settings, m=first.m) != first for settings, *_ in stacks):
        raise ValueError("stacks trained side by side share their batches and rows: their "
                         "settings may differ in m only, got "
                         f"{[settings.to_dict() for settings, *_ in stacks]}")
    for settings, _, _, snapshots in stacks:
        if not 0 <= snapshots <= settings.cycles:
            raise ValueError(f"snapshots must be in 0 .. {settings.cycles} (the run's cycles), "
                             f"got {snapshots}")
    data, proj = features(split, k)
    rows = rows_hook(split, proj, first.seed, max_shift, p_flip, device, k)
    if rows is not None and len(stacks) > 1:
        rows = SharedRows(rows)
    runs, kept = [], []
    for i, (settings, lambdas, dropouts, snapshots) in enumerate(stacks):
        ends = list(range(2 * settings.n_s, settings.total_steps + 1, 2 * settings.n_s))
        keep_at = set(ends[len(ends) - snapshots:]) if snapshots else set()
        kept.append({})
        keep = lambda t, p, at=keep_at, into=kept[-1]: (  # noqa: E731
            into.update({str(t): snapshot(p)}) if t in at else None)
        runs.append(training(data, settings, lambdas, [settings.seed] * len(lambdas),
                             progress=progress and i == 0, device=device,
                             seams=Seams(dropout=dropouts, parts=("val",), on_record=keep,
                                         rows=rows)))
    carried = None if proj is None else {"mean": proj.mean, "components": proj.components,
                                         "explained": proj.explained}
    return [(params, history, snaps, carried)
            for (params, history), snaps in zip(side_by_side(runs), kept, strict=True)]


class SharedRows:
    """One rows seam for runs stepped in turn on the same mini-batches (train_recipes): the
    first run to ask for step t's rows makes them (rows_hook), the others get the same array
    (a step reads its rows, never writes them)."""

    def __init__(self, hook):
        self.hook, self.t, self.index, self.rows = hook, None, None, None

    def __call__(self, index, t: int):
        if t != self.t:
            self.t, self.index, self.rows = t, index, self.hook(index, t)
        elif isinstance(index, np.ndarray) and not np.array_equal(index, self.index):
            raise ValueError(f"runs sharing their rows asked for different mini-batches at "
                             f"step {t}: they need the same seed, batch size and data")
        return self.rows


def inputs(carried, X):
    """X (rows of a split's raw parts) as a run saw its inputs: projected by the projection it
    carried (train_recipe's fourth output), X itself for raw pixels."""
    if carried is None:
        return X
    return projection.Projection(carried["mean"], carried["components"],
                                 float(carried["explained"]))(X)


def probabilities(params, carried, X, flips: bool = False) -> np.ndarray:
    """Every network's class probabilities (N, K, n) on the raw rows X, read through the run's
    projection; flips: test-time flips, the scores of each image and of its mirror image
    averaged before the softmax (helpers.model.ensemble.flip_averaged)."""
    Z = inputs(carried, X)
    if not flips:
        return ensemble.probabilities(params, Z)
    return ensemble.flip_averaged(params, Z, inputs(carried, np.asarray(X)[:, MIRROR]))


def ensemble_accuracy(groups, X, y, flips: bool = False) -> float:
    """Accuracy of the ensemble of every network in groups [(carried projection, [params])]:
    each group's networks read X through their own run's projection; probabilities averaged
    over all networks (helpers.model.ensemble.average, one projection per group); flips:
    each network with test-time flips (probabilities)."""
    total, count = 0.0, 0
    for carried, members in groups:
        total = total + sum(probabilities(p, carried, X, flips).sum(axis=0) for p in members)
        count += sum(p["W1"].shape[0] for p in members)
    return float(((total / count).argmax(axis=0) == np.asarray(y)).mean())


def curves_of(history: dict) -> dict:
    """{network: (steps, validation accuracies)} of train_recipe's history."""
    c, out = history["curves"], {}
    for t, net, acc in zip(c["step"], c["network"], c["val_accuracy"], strict=True):
        steps, accs = out.setdefault(net, ([], []))
        steps.append(t)
        accs.append(acc)
    return out


def member_seeds(seed: int, count: int) -> list:
    """The seeds of `count` independent members: seed, seed + 1, ... each its own run."""
    return list(range(seed, seed + count))


# The study: rows of the ablation, their verdicts, the chosen recipe, the final split

RECORDS_PER_CYCLE = 2  # validation at each cycle end and half-way (Figure 9 draws the ends)

# A component that saves work stays unless measurably worse; every other one only when
# measurably better (helpers.experiments.protocol.keeps).
SAVES_WORK = {"projection"}


class Study:
    """The bonus's protocol on one run (a workbook Section): its rows and its choices.

    search, final: the two splits; base: the recipe the rows start from (its lam and dropout
    are searched by full_recipe); seeds: the paired seeds (each row trains one run per seed,
    so seed s of two rows shares initialisation, mini-batches, masks' stream and augmentation);
    margin: the rule's (helpers.experiments.protocol), in accuracy.
    """

    def __init__(self, run, search, final, base: Recipe, seeds, batch_size: int,
                 margin: float = protocol.MARGIN):
        for split in (search, final):
            check_batch(len(split.y_train), batch_size)
        self.run, self.search, self.final, self.seeds = run, search, final, list(seeds)
        if len(self.seeds) < protocol.MIN_PAIRS:
            raise ValueError(f"the study's verdicts need at least {protocol.MIN_PAIRS} paired "
                             f"seeds (n_seeds), got {len(self.seeds)}")
        self.base, self.batch_size, self.margin = base, batch_size, margin
        self.device = getattr(run, "device", None)  # the engine: None numpy, or torch's device
        self.rows, self.curves, self.searches = [], {}, {}
        self.full = self.recipe = None  # the full recipe's row and Recipe, from full_recipe
        self._runs, self._network = {}, {}  # row -> per-seed runs, and its network in them
        self._done, self._noted = {}, None  # Job.key -> (run, seconds); side_by_side's calls
        self._shared = {}  # Job.key -> what it shared its rows with (train_jobs)

    # training

    def train(self, split, recipe: Recipe, pairs, seeds, snapshots: int = 0,
              label: str = "") -> tuple:
        """One cached train_recipe per seed, the (lambda, dropout) pairs side by side:
        ([(params, history, snapshots, projection)], training seconds). The seeds train as jobs
        side by side (helpers.training.workers: one BLAS thread each); a run this Study already
        trained (side_by_side) is not trained again. label: what trains, for make's progress
        lines."""
        jobs = Job.per_seed(split, recipe, pairs, seeds, snapshots, label or "the bonus")
        return self._trained(jobs)[:2]

    def _trained(self, jobs: list) -> tuple:
        """train's output for these jobs (trained first where they are not yet), and what
        they shared their rows with: {"rows_also_for": [rows]} (they made the rows),
        {"rows_from": row} (they took them) or {} (made their own)."""
        self.train_jobs(jobs)
        done = [self._done[job.key] for job in jobs]
        shared = next((self._shared[job.key] for job in jobs if job.key in self._shared), {})
        return [run for run, _ in done], sum(seconds for _, seconds in done), shared

    def train_jobs(self, jobs: list) -> None:
        """Train the jobs not yet done, count() at a time, the costliest first (every core stays
        busy to the end); each one's (run, seconds) kept by its key. Jobs of one seed that
        flip and shift alike (the full recipe's and the narrow row's) train together, their
        rows made once (train_recipes), each cached as its own run."""
        todo = list({job.key: job for job in jobs if job.key not in self._done}.values())
        groups = {}
        for job in todo:
            groups.setdefault(job.rows_key, []).append(job)
        ordered = sorted(groups.values(), key=lambda group: -sum(job.cost() for job in group))
        for first, *others in (group for group in ordered if len(group) > 1):
            self._shared[first.key] = {"rows_also_for": [job.row for job in others]}
            self._shared.update({job.key: {"rows_from": first.row} for job in others})
        runs = workers.run([lambda group=group: self._train_together(group)
                            for group in ordered])
        self._done.update({job.key: run for group, done in zip(ordered, runs, strict=True)
                           for job, run in zip(group, done, strict=True)})

    def _train_together(self, jobs: list) -> list:
        """[(run, seconds)] of jobs sharing their rows (one job alone: train_recipe's)."""
        r, split = jobs[0].recipe, jobs[0].split
        calls = [(split, self._settings(job), ([lam for lam, _ in job.pairs],
                                               [p for _, p in job.pairs]),
                  {"k": r.k, "max_shift": r.max_shift, "p_flip": r.p_flip,
                   "snapshots": job.snapshots, "device": self.device}) for job in jobs]

        def compute(missing):
            if len(missing) == 1:
                split_, settings, args, kwargs = calls[missing[0]]
                return [workers.remote(timed, train_recipe, split_, settings, *args,
                                       progress=self.run.progress, **kwargs)]
            stacks = [(calls[i][1], *calls[i][2], jobs[i].snapshots) for i in missing]
            done = workers.remote(train_recipes, split, stacks, r.k, r.max_shift, r.p_flip,
                                  self.run.progress, self.device)
            return [(run, round(run[1]["seconds"]["total"], 2)) for run in done]

        return self.run.cached_together(train_recipe, calls, compute, Job.together(jobs))

    def _settings(self, job: "Job"):
        r = job.recipe
        return self.run.settings_for(
            job.split, m=r.m, cycles=r.cycles, eta_min=r.eta_min, eta_max=r.eta_max,
            batch_size=self.batch_size, seed=job.seed, records_per_cycle=RECORDS_PER_CYCLE)

    @contextmanager
    def side_by_side(self):
        """Inside: calls of full_recipe and without are noted, not run. At the end they run in
        the order made, as if each had been called alone, but before each, every seed of every
        noted row whose runs are known by then trains as one set of jobs, both cores busy to
        the end: first the full recipe's and those of each row that searches its own lambdas
        and dropouts (they do not depend on the full recipe's pick), then, the pick made, the
        other rows'. What trained is not trained again."""
        self._noted = []
        try:
            yield self
            noted, self._noted = self._noted, None
            for i, (method, args, change) in enumerate(noted):
                # every job known now (the later calls' too), then the call itself
                self.train_jobs([job for call in noted[i:] for job in self._jobs_of(*call)])
                method(*args, **change)
        finally:
            self._noted = None

    def grid(self, label: str, recipe: Recipe, lambdas, dropouts, snapshots: int = 0) -> dict:
        """Every (lambda, dropout) pair side by side, one run per seed, on the search split:
        the mean validation accuracy over seeds of each pair (self.searches[label])."""
        pairs = grid_pairs(lambdas, dropouts)
        runs, seconds, shared = self._trained(self._grid_jobs(label, recipe, pairs, snapshots))
        val = np.array([[c[j][1][-1] for j in range(len(pairs))]
                        for c in (curves_of(h) for _, h, _, _ in runs)])
        self._runs[label] = runs
        self.searches[label] = {"pairs": pairs, "val_mean": val.mean(axis=0).tolist(),
                                "val": val.T.tolist(), "seconds": seconds, **shared}
        return self.searches[label]

    def best(self, label: str, dropout_rates=None) -> int:
        """The index of the grid's pair with the best mean validation accuracy, among those
        whose dropout is in dropout_rates (default: all); ties to the first."""
        g = self.searches[label]
        allowed = [j for j, (_, p) in enumerate(g["pairs"])
                   if dropout_rates is None or p in dropout_rates]
        return max(allowed, key=lambda j: (g["val_mean"][j], -j))

    # rows

    def row(self, label: str, recipe: Recipe, grid: str, network: int, component=None,
            against=None) -> dict:
        """A row: network `network` of grid `grid`'s runs, validation per seed, its mean curve;
        with component, the component's paired gain (full recipe minus this row) and verdict;
        with against (per-seed validation of the same seeds without the component), a row that
        adds the component: its gain is this row minus against ("adds": True)."""
        runs = self._runs[grid]
        curves = [curves_of(h)[network] for _, h, _, _ in runs]
        val = [c[1][-1] for c in curves]
        row = {"row": label, "recipe": recipe.to_dict(), "val": over_seeds(val),
               "component": component, "seconds": self.searches[grid]["seconds"]}
        if component is not None and against is not None:
            row.update(verdict_of(val, against, False, self.margin), adds=True)
        elif component is not None:
            row.update(verdict_of(self.full["val"]["values"], val, component in SAVES_WORK,
                                  self.margin))
        self.rows.append(row)
        self._runs[label], self._network[label] = runs, network
        epochs = np.asarray(curves[0][0]) * self.batch_size / len(self.search.y_train)
        self.curves[label] = {"epochs": epochs.tolist(),
                              "val": np.mean([c[1] for c in curves], axis=0).tolist()}
        return row

    def full_recipe(self, lambdas, dropouts, snapshots: int = 0) -> tuple:
        """The full recipe (base, with lambda and a dropout rate > 0 searched side by side)
        and the row without dropout (its lambda searched in the same runs: paired)."""
        rates = [p for p in dropouts if p > 0]
        if not rates:
            raise ValueError("give at least one dropout rate above 0 for the full recipe")
        if self._noted is not None:
            self._noted.append((self.full_recipe, (lambdas, dropouts, snapshots), {}))
            return None
        self.grid("full", self.base, lambdas, [0.0, *rates], snapshots)
        pairs, j = self.searches["full"]["pairs"], self.best("full", rates)
        self.recipe = self.base.but(lam=pairs[j][0], dropout=pairs[j][1])
        self.full = self.row("full recipe", self.recipe, "full", j)
        self._network["full"] = j
        j0 = self.best("full", [0.0])
        without = self.row(f"without dropout (lambda {pairs[j0][0]:.3g})",
                           self.recipe.but(lam=pairs[j0][0], dropout=0.0), "full", j0,
                           component="dropout")
        return self.full, without

    def without(self, component: str, label: str, lambdas=None, dropouts=None, **change) -> dict:
        """The full recipe with `change` (one component removed), as long, one run per seed;
        with lambdas / dropouts, those searched side by side for it (best pair is the row).
        Inside side_by_side: noted (None), made at its end."""
        if self._noted is not None:
            self._noted.append((self.without, (component, label, lambdas, dropouts), change))
            return None
        recipe = self.recipe.but(**change)
        self.grid(label, recipe, lambdas or [recipe.lam],
                  [recipe.dropout] if dropouts is None else dropouts)
        j = self.best(label)
        lam, p = self.searches[label]["pairs"][j]
        return self.row(label, recipe.but(lam=lam, dropout=p), label, j, component=component)

    def _jobs_of(self, method, args, change) -> list:
        """The jobs a call noted by side_by_side trains, where they can be known before the
        calls noted before it have run: the full recipe's; a row's when it searches its own
        lambdas and dropouts (its runs do not depend on the full recipe's pick, so they train
        beside the full recipe's); none for a row that takes the pick."""
        if method == self.full_recipe:
            lambdas, dropouts, snapshots = args
            pairs = grid_pairs(lambdas, [0.0, *[p for p in dropouts if p > 0]])
            return self._grid_jobs("full", self.base, pairs, snapshots)
        component, label, lambdas, dropouts = args
        searched = lambdas is not None and dropouts is not None
        if self.recipe is None and not searched:
            return []  # trained when made, once the full recipe is known
        recipe = (self.recipe or self.base).but(**change)
        pairs = grid_pairs(lambdas or [recipe.lam],
                           [recipe.dropout] if dropouts is None else dropouts)
        return self._grid_jobs(label, recipe, pairs, 0)

    def _grid_jobs(self, label: str, recipe: Recipe, pairs, snapshots: int) -> list:
        return Job.per_seed(self.search, recipe, pairs, self.seeds, snapshots, f"row '{label}'")

    def shorter(self, cycles: int) -> dict:
        """The full recipe stopped after `cycles` cycles: its runs read at that cycle's end
        (the triangular schedule of fewer cycles is the first cycles of this one, same batches)."""
        if not 1 <= cycles < self.recipe.cycles:
            raise ValueError(f"short_cycles must be in 1 .. {self.recipe.cycles - 1} (fewer "
                             f"than the full recipe's {self.recipe.cycles} cycles), got {cycles}")
        end = 2 * cycles * self.run.settings_for(self.search).n_s
        j, runs = self._network["full"], self._runs["full"]
        val = [dict(zip(*curves_of(h)[j], strict=True))[end] for _, h, _, _ in runs]
        row = {"row": f"shorter training: {cycles} of {self.recipe.cycles} cycles",
               "recipe": self.recipe.but(cycles=cycles).to_dict(), "val": over_seeds(val),
               "component": "training length", "seconds": 0.0,
               **verdict_of(self.full["val"]["values"], val, False, self.margin)}
        self.rows.append(row)
        return row

    def ensembles(self, snapshot_cycles: int) -> list:
        """On the search split: (a) the seeds' full-recipe networks as one ensemble beside each
        alone, without a verdict; (b) each seed's networks at its last snapshot_cycles cycle
        ends against its final network alone, by the rule.

        (b) is paired: seed s gives one ensemble of its own snapshots and one final network.
        (a) is not: the n seeds make one ensemble, a single measurement, and the rule would
        set that one number, repeated, against each single network, so its standard error
        would be the singles' alone and leave out the ensemble's own variation. Ensembles of
        some seeds against single networks of the others overlap in their members and are
        not independent either. Replicated ensembles would need n times the runs: the row
        gives the ensemble's accuracy and its difference from the singles' mean, with
        verdict "not tested" and kept None (the final split reports its members' ensemble
        beside the single network whatever this row says)."""
        X, y = self.search.X_val, self.search.y_val  # each run projects them its own way
        j, runs = self._network["full"], self._runs["full"]
        if snapshot_cycles < 1:
            raise ValueError(f"snapshot_cycles must be at least 1, got {snapshot_cycles}")
        if any(len(snaps) < snapshot_cycles for _, _, snaps, _ in runs):
            raise ValueError(f"the full recipe's runs kept fewer than {snapshot_cycles} "
                             "snapshots: pass snapshots=snapshot_cycles to full_recipe")
        single = self.full["val"]["values"]
        together = ensemble_accuracy([(proj, [ensemble.take(p, j)]) for p, _, _, proj in runs],
                                     X, y)
        shots = [ensemble_accuracy([(proj, [ensemble.take(s, j) for s in snaps.values()])], X, y)
                 for _, _, snaps, proj in runs]
        rows = [{"row": f"one network, not an ensemble of the {len(runs)} seeds",
                 "recipe": self.recipe.to_dict(), "val": over_seeds(single),
                 "component": "ensemble", "seconds": 0.0, "ensemble_val": together,
                 "gain": {"gain": together - float(np.mean(single)), "se": None,
                          "n": len(single), "verdict": UNTESTED},
                 "kept": None, "saves_work": False},
                {"row": f"one network, not its last {snapshot_cycles} cycle ends",
                 "recipe": self.recipe.to_dict(), "val": over_seeds(single),
                 "component": "snapshots", "seconds": 0.0, "ensemble_val": over_seeds(shots),
                 **verdict_of(shots, single, False, self.margin)}]
        self.rows += rows
        return rows

    def at_length(self, cycles: int, dropouts, p_flip: float = 0.5) -> list:
        """The budget axis: the recipe the rows so far chose (chosen()), trained `cycles` cycles
        instead of its own, one run per seed, on the search split. Rows, each judged by the rule
        at this length, paired by seed (same initialisation and mini-batches):

        - longer training: the recipe at `cycles` cycles against the same runs read at the end
          of its own cycles (the triangular schedule of fewer cycles is the first cycles of
          this one, as shorter());
        - dropout at length (when the recipe has none): the best rate of `dropouts` above 0, in
          the same runs (the networks side by side, so paired), against the longer row;
        - flips at length (when the recipe has no augmentation): horizontal flips with
          probability p_flip and no shifts (the mirror images projected once: no arithmetic a
          step), against the longer row.

        Each row also carries over_chosen: its paired gain over the recipe the rows chose, at
        that recipe's length (the longer runs read at its last cycle end: the same seeds'
        networks). chosen() takes a row at length whose component is better and that is better
        than the chosen recipe itself; of several, the one of highest validation."""
        base = self.chosen()
        if cycles <= base.cycles:
            raise ValueError(f"long_cycles must be more than the chosen recipe's {base.cycles} "
                             f"cycles, got {cycles}")
        longer = base.but(cycles=cycles)
        rates = [p for p in dropouts if p > 0] if base.dropout == 0 else []
        flipped = base.but(cycles=cycles, p_flip=p_flip, max_shift=0) \
            if p_flip > 0 and not (base.max_shift or base.p_flip) else None
        labels = (f"{cycles} cycles", f"{cycles} cycles with flips")
        jobs = self._grid_jobs(labels[0], longer,
                               grid_pairs([base.lam], [base.dropout, *rates]), 0)
        if flipped is not None:
            jobs += self._grid_jobs(labels[1], flipped, [(base.lam, base.dropout)], 0)
        self.train_jobs(jobs)  # both grids' seeds as one set of jobs
        self.grid(labels[0], longer, [base.lam], [base.dropout, *rates])
        end = 2 * base.cycles * self.run.settings_for(self.search).n_s
        short = [dict(zip(*curves_of(h)[0], strict=True))[end]
                 for _, h, _, _ in self._runs[labels[0]]]
        rows = [self.row(f"longer training: {cycles} cycles, not {base.cycles}", longer,
                         labels[0], 0, "longer training", against=short)]
        plain = rows[0]["val"]["values"]
        if rates:
            j = self.best(labels[0], rates)
            lam, p = self.searches[labels[0]]["pairs"][j]
            rows.append(self.row(f"{cycles} cycles with dropout {p:g}", longer.but(dropout=p),
                                 labels[0], j, "dropout at length", against=plain))
        if flipped is not None:
            self.grid(labels[1], flipped, [base.lam], [base.dropout])
            rows.append(self.row(f"{cycles} cycles with flips (p = {p_flip:g}, no shifts)",
                                 flipped, labels[1], 0, "flips at length", against=plain))
        for row in rows:  # each against the recipe chosen so far, at its own length
            row["over_chosen"] = protocol.paired_gain(row["val"]["values"], short, self.margin)
        return rows

    def test_time_flips(self, recipe: Recipe) -> dict:
        """Test-time flips for `recipe`'s networks on the search split (the row that trained
        them: chosen_row first): per seed, the validation accuracy with each network's scores
        of an image and its mirror image averaged (probabilities) against the same network
        without, both evaluated here alike; paired, judged by the rule; it adds work (two
        evaluations an image), so it stays only when better."""
        row = self._row_of(recipe)
        if row is None:
            raise ValueError(f"no row trained {recipe.describe()}: chosen_row(recipe) first")
        runs, j = self._runs[row["row"]], self._network[row["row"]]
        X, y = self.search.X_val, self.search.y_val
        nets = [(proj, [ensemble.take(p, j)]) for p, _, _, proj in runs]
        plain = [ensemble_accuracy([net], X, y) for net in nets]
        flipped = [ensemble_accuracy([net], X, y, flips=True) for net in nets]
        new = {"row": "with test-time flips (each image's and its mirror image's scores "
                      "averaged)",
               "recipe": recipe.to_dict(), "val": over_seeds(flipped),
               "component": "test-time flips", "seconds": 0.0, "adds": True,
               **verdict_of(flipped, plain, False, self.margin)}
        self.rows.append(new)
        return new

    # the choice, and the final split

    def chosen(self) -> Recipe:
        """The full recipe without each component the rule did not keep, in row order; a
        dropout rate the rule dropped stays dropped when a later row (the narrow network's,
        whose search offers dropout again) would bring it back. Then the budget axis
        (at_length): of its rows whose component the rule kept and that the rule finds better
        than the recipe chosen so far (over_chosen), the one of highest mean validation (ties
        to the first); none such: the recipe stays as the rows chose it."""
        recipe, dropped = self.recipe, set()
        for row in self.rows:
            if row.get("component") in REMOVES and row["kept"] is False:
                recipe = recipe.but(**REMOVES[row["component"]](row["recipe"]))
                dropped.add(row["component"])
        recipe = recipe.but(dropout=0.0) if "dropout" in dropped else recipe
        winners = [row for row in self.rows if row.get("component") in ADDS and row["kept"]
                   and row.get("over_chosen", {}).get("verdict") == protocol.VERDICTS[0]]
        if winners:
            best = max(winners, key=lambda row: row["val"]["mean"])  # max keeps the first tie
            recipe = recipe.but(**{key: best["recipe"][key] for key in ADDS_FIELDS})
        return recipe

    def chosen_and_final(self, recipe: Recipe, members: int, seed: int,
                         snapshot_cycles: int, test_flips: bool = False) -> tuple:
        """(chosen_row(recipe), train_final(recipe, ...)): their runs (the chosen recipe's
        seeds on the search split where no row trained it, its members on the final split)
        trained as one set of jobs first, both cores busy to the end. test_flips: test-time
        flips judged on the chosen recipe's search runs first (test_time_flips), and used on
        the final split when the rule keeps them."""
        check_final(members, snapshot_cycles)
        jobs = [] if self._row_of(recipe) else \
            self._grid_jobs("chosen recipe", recipe, [(recipe.lam, recipe.dropout)], 0)
        cycles = min(snapshot_cycles, recipe.cycles)
        jobs += Job.per_seed(self.final, recipe, [(recipe.lam, recipe.dropout)],
                             member_seeds(seed, members), cycles, "the final split's members")
        self.train_jobs(jobs)
        chosen = self.chosen_row(recipe)
        flips = bool(test_flips and self.test_time_flips(recipe)["kept"])
        return chosen, self.train_final(recipe, members, seed, snapshot_cycles, flips)

    def _row_of(self, recipe: Recipe) -> dict | None:
        """The row that trained `recipe`, if one did."""
        return next((row for row in self.rows if row["recipe"] == recipe.to_dict()
                     and row["row"] in self._runs), None)

    def chosen_row(self, recipe: Recipe) -> dict:
        """The chosen recipe's validation on the search split: the row that trained it, or
        (when it drops two components or more) n seeds trained here."""
        row = self._row_of(recipe)
        if row is not None:
            return {**row, "row": "chosen recipe", "component": None}
        label = "chosen recipe"
        self.grid(label, recipe, [recipe.lam], [recipe.dropout])
        return self.row(label, recipe, label, 0)

    def train_final(self, recipe: Recipe, members: int, seed: int, snapshot_cycles: int,
                    flips: bool = False) -> dict:
        """The chosen recipe on the final split, `members` independent runs (member_seeds);
        the test set read once: each network, their ensemble, their snapshots' ensemble;
        flips: every network with test-time flips (chosen on the search split)."""
        check_final(members, snapshot_cycles)
        data, snapshot_cycles = self.final, min(snapshot_cycles, recipe.cycles)
        runs, seconds = self.train(self.final, recipe, [(recipe.lam, recipe.dropout)],
                                   member_seeds(seed, members), snapshot_cycles,
                                   label="the final split's members")
        nets = [(proj, [p]) for p, _, _, proj in runs]  # each on its own run's projection
        shots = [(proj, list(snaps.values())) for _, _, snaps, proj in runs]
        acc = lambda part, groups: ensemble_accuracy(  # noqa: E731
            groups, getattr(data, f"X_{part}"), getattr(data, f"y_{part}"), flips)
        return {"recipe": recipe.to_dict(), "seeds": member_seeds(seed, members),
                "single": {part: over_seeds([acc(part, [n]) for n in nets])
                           for part in ("val", "test")},
                "ensemble": {"members": len(nets), "val": acc("val", nets),
                             "test": acc("test", nets)},
                "snapshot_ensemble": {"members": sum(len(g) for _, g in shots),
                                      "cycles": snapshot_cycles,
                                      "val": acc("val", shots), "test": acc("test", shots)},
                "agreement": agreement([(proj, p) for p, _, _, proj in runs], data.X_test,
                                       flips),
                "test_time_flips": flips, "seconds": seconds}


def check_final(members: int, snapshot_cycles: int) -> None:
    if members < 1 or snapshot_cycles < 1:
        raise ValueError(f"members and snapshot_cycles must be at least 1, got {members} "
                         f"and {snapshot_cycles}")


def grid_pairs(lambdas, dropouts) -> list:
    """Every (lambda, dropout) pair of a grid, the lambdas of each dropout rate together."""
    return [(float(lam), float(p)) for p in dict.fromkeys(dropouts) for lam in lambdas]


@dataclass(frozen=True)
class Job:
    """One train_recipe run: a recipe's (lambda, dropout) pairs on a split, for one seed."""

    split: object
    recipe: Recipe
    pairs: tuple
    seed: int
    snapshots: int
    label: str

    @classmethod
    def per_seed(cls, split, recipe: Recipe, pairs, seeds, snapshots: int, what: str) -> list:
        """One job per seed, labelled for make's progress lines ("WHAT: 4 network(s), seed 1
        (2 of 3)")."""
        return [cls(split, recipe, tuple(pairs), s, snapshots,
                    f"{what}: {len(pairs)} network(s), seed {s} ({k + 1} of {len(seeds)})")
                for k, s in enumerate(seeds)]

    @property
    def key(self) -> tuple:
        """What train_recipe is given (a recipe's lambda and dropout are the pairs' business)."""
        return (self.split.name, self.recipe.but(lam=0.0, dropout=0.0), self.pairs, self.seed,
                self.snapshots)

    @property
    def row(self) -> str:
        """The row it trains, from its label ("row 'full': ..." -> "full")."""
        what = self.label.split(": ")[0]
        return what[5:-1] if what.startswith("row '") and what.endswith("'") else what

    @staticmethod
    def together(jobs: list) -> str:
        """The label of jobs trained together ("row 'full' (4 networks) and row 'narrow' (6
        networks) on the same rows, seed 1 (2 of 3)"); a job's own label when alone."""
        if len(jobs) == 1:
            return jobs[0].label
        names = [f"{job.label.split(': ')[0]} ({len(job.pairs)} networks)" for job in jobs]
        return " and ".join(names) + " on the same rows" + \
            jobs[0].label[jobs[0].label.rindex(", seed"):]

    @property
    def rows_key(self) -> tuple:
        """Jobs with the same rows_key can share each step's rows (train_recipes): the same
        split, seed and recipe but for the width, lambda and dropout, and rows made at every
        step (flips and shifts); a job whose rows are projected once shares nothing."""
        r = self.recipe
        if not (r.max_shift or r.p_flip):
            return ("alone", self.key)
        return (self.split.name, self.seed, r.but(m=0, lam=0.0, dropout=0.0))

    def cost(self) -> float:
        """Floating-point operations a step, about: the networks' products, plus the projection
        of each augmented mini-batch (rows projected once otherwise)."""
        r, n, d = self.recipe, 100, self.recipe.k or 3072
        # shifts: each batch projected; flips alone are gathered from rows projected once
        return 2 * n * (len(self.pairs) * r.m * (2 * d + 30) + (3072 * r.k if r.max_shift else 0))


UNTESTED = "not tested (one ensemble of the seeds: nothing to pair it with)"

# What removing a component changes (a row's "component" -> its recipe's fields), for chosen()
REMOVES = {
    "width": lambda r: {"m": r["m"], "lam": r["lam"], "dropout": r["dropout"]},
    "dropout": lambda r: {"dropout": 0.0, "lam": r["lam"]},
    "augmentation": lambda r: {"max_shift": 0, "p_flip": 0.0},
    "projection": lambda r: {"k": 0},
    "training length": lambda r: {"cycles": r["cycles"]},
}


# The budget axis's rows (Study.at_length), and the fields a row chosen from them sets
ADDS = ("longer training", "dropout at length", "flips at length")
ADDS_FIELDS = ("cycles", "dropout", "lam", "p_flip", "max_shift")


def verdict_of(with_component, without_component, saves_work: bool,
               margin: float = protocol.MARGIN) -> dict:
    """The paired gain of a component (with it minus without it, per seed), the rule's
    verdict (against margin), and whether the component is kept."""
    gain = protocol.paired_gain(with_component, without_component, margin)
    return {"gain": gain, "kept": protocol.stays(gain["verdict"], saves_work),
            "saves_work": saves_work}


def agreement(members: list, X, flips: bool = False) -> float:
    """Mean over pairs of members [(carried projection, params)] of the fraction of images X
    (raw rows, each member reading them through its own projection) given the same class;
    flips: each with test-time flips."""
    classes = [probabilities(p, proj, X, flips)[0].argmax(axis=0) for proj, p in members]
    pairs = [(a, b) for i, a in enumerate(classes) for b in classes[i + 1 :]]
    return float(np.mean([(a == b).mean() for a, b in pairs])) if pairs else 1.0

