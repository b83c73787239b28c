"""The report's trainings as it runs them: jobs, two at a time, each on ONE BLAS thread
(helpers.training.workers). One workload per kind of job the report trains, timed as a job
runs it, and the two sides of the workers' gain.

`kinds(shape)`: the assignment's runs, 5 seeds side by side (02, 03, 06 and 07's
retraining), the coarse (04) and fine (05) searches, each a stack cut by workers.chunks into
two jobs (the first, larger one is timed); the bonus's jobs, one per (row, seed) (bonus.Study):
the full recipe's grid (its lambdas x dropout 0 and the recipe's rate, flips and shifts,
projected every step) with the narrow row beside it on the same rows (m = shape["m"], three
lambdas x the same two rates; bonus.train_recipes), the row without flips and shifts (rows
projected once), and the chosen recipe / the final split's members (no dropout, no
augmentation: the full recipe's row minus what the last report dropped). `steps` and
`products` build each one's two sides (benchmarks.workloads and benchmarks.wide's callables,
same shapes).

`gains(shape, ...)`: why the report runs jobs: two one-thread jobs side by side
(workers.run) against the same work on TWO BLAS threads, the coarse search's 100
networks as one stack and two seeds' jobs of the bonus's grid one after another.
"""

import os

from benchmarks import wide, workloads
from benchmarks.harness import blas_threads
from helpers.experiments.bonus import grid_pairs
from helpers.training import workers

ASSIGNMENT_SEEDS = 5  # n_seeds of 02, 03, 06 and 07 (notebooks' defaults)
BONUS_LAMBDAS = 2  # params/assignment.yaml 08-bonus: lambdas [5e-4, 1.5e-3]
GRID = "grid"  # the full recipe's grid: the bonus's costliest job, the workers' gain's too
NARROW_LAMBDAS = 3  # the narrow row: the fine search's best and the two above (08-bonus)


def kinds(shape: dict) -> list:
    """The report's kinds of job: {"label", "row" (its short name), "networks", "recipe"
    (None: the assignment's network, d = shape["d"]; else bonus.Recipe's fields, d = wide.D),
    "dropouts" (one per network, recipes only)}. shape["lambdas"] and shape["seeds"] are the
    coarse and fine searches' sizes (100 and 10), shape["recipe"] the bonus's full recipe."""
    def stack(label, count):
        return {"label": f"{label}: {_first(count)} of {count} networks", "row": label,
                "networks": _first(count), "recipe": None, "dropouts": None, "beside": None}

    full = shape["recipe"]
    rates = [0.0, full["dropout"]]  # the full recipe's grid and the narrow row offer both
    still = {**full, "max_shift": 0, "p_flip": 0.0}

    def recipe(label, recipe, dropouts, beside=None):
        nets = f"{len(dropouts)} network{'s' * (len(dropouts) > 1)}, m={recipe['m']}"
        if beside is not None:
            nets += f", and the narrow row's {len(beside['dropouts'])}, m={beside['m']}"
        return {"label": f"bonus {label}: {nets}, k={recipe['k']}", "row": label,
                "networks": len(dropouts), "recipe": recipe, "dropouts": dropouts,
                "beside": beside}

    narrow = {"m": shape["m"], "dropouts": _rates(grid_pairs(range(NARROW_LAMBDAS), rates))}
    return [stack("runs of 02, 03, 06, 07", ASSIGNMENT_SEEDS),
            stack("coarse search (04)", shape["lambdas"]),
            stack("fine search (05)", shape["seeds"]),
            recipe(GRID, full, _rates(grid_pairs(range(BONUS_LAMBDAS), rates)), narrow),
            recipe("no flips/shifts", still, [full["dropout"]]),
            recipe("chosen/final", {**still, "dropout": 0.0}, [0.0])]


def describe(job: dict) -> str:
    """How a job's steps run: its dropout rates, flips and shifts, projection."""
    if job["recipe"] is None:
        return "row gather, sgd_step (the assignment's network, no dropout)"
    r, rates = job["recipe"], job["dropouts"]
    dropped = sum(p > 0 for p in rates)
    return ", ".join([f"dropout {max(rates):g} on {dropped} of {len(rates)}" if dropped else
                      "no dropout",
                      f"flips/shifts (shift {r['max_shift']}, flip {r['p_flip']:g}) of raw "
                      "rows, then projected every step" if wide.augments(r) else
                      "rows projected once"] +
                     (["the narrow stack stepped on the same rows"] if job["beside"] else []))


def _first(count: int) -> int:
    """Networks of the first (the larger) of the jobs workers.train cuts `count` into."""
    parts = workers.chunks(count)
    return parts[0].stop - parts[0].start


def _rates(pairs: list) -> list:
    return [p for _, p in pairs]


def shape_of(shape: dict, job: dict) -> dict:
    """The shape a job's callables are built with: d = wide.D and its recipe for the bonus's."""
    return shape if job["recipe"] is None else {**shape, "d": wide.D, "recipe": job["recipe"]}


def steps(shape: dict, job: dict, X, y, batches: list):
    """A callable running shape["steps"] of the job's steps (X of shape_of's d)."""
    if job["recipe"] is None:
        return workloads.our_steps(shape, X, y, workloads.lambdas(job["networks"]))
    return wide.our_recipe_steps(shape_of(shape, job), X, y, batches, job["dropouts"],
                                 job["beside"])


def products(shape: dict, job: dict):
    """A callable running only the matrix products of the same steps."""
    if job["recipe"] is None:
        return workloads.products(shape, job["networks"])
    return wide.recipe_products(shape_of(shape, job), job["networks"], *_beside(job))


def flops(shape: dict, job: dict) -> float:
    """Floating-point operations of one of the job's steps' products."""
    if job["recipe"] is None:
        return workloads.flops_per_step(shape, job["networks"])
    return wide.recipe_flops(shape_of(shape, job), job["networks"], *_beside(job))


def _beside(job: dict) -> tuple:
    """(networks, m) of the stack trained beside the job's on its rows, (0, 0) for none."""
    beside = job["beside"]
    return (0, 0) if beside is None else (len(beside["dropouts"]), beside["m"])


def gains(shape: dict, X, y, raw) -> list:
    """(label, reference, {"jobs": the one-thread jobs by workers.run on TWO workers,
    "one": the same jobs on one worker, "threads": the same work on TWO BLAS threads}) of the
    coarse search (shape["lambdas"] networks: cut by workers.chunks, or one stack) and of two
    seeds' jobs of the bonus's grid (side by side, or one after another). raw: (X, y) of
    wide.D pixels."""
    count, threads = shape["lambdas"], TWO
    search = [workloads.our_steps(shape, X, y, workloads.lambdas(count)[part])
              for part in workers.chunks(count)]
    whole = workloads.our_steps(shape, X, y, workloads.lambdas(count))
    grid = next(job for job in kinds(shape) if job["row"] == GRID)
    at = shape_of(shape, grid)

    def seeds():
        return [steps(shape, grid, *raw, workloads.batches(at)) for _ in range(threads)]

    def side_by_side(runs, n=TWO):
        return lambda: on_workers(n, workers.run, runs)

    later, grids = seeds(), seeds()
    return [(f"coarse search, {count} networks as {len(search)} jobs",
             f"one stack of {count} on {threads} BLAS threads",
             {"jobs": side_by_side(search), "one": side_by_side(search, 1),
              "threads": blas_threads(whole, threads)}),
            (f"bonus grid, {threads} seeds' jobs",
             f"the jobs one after another on {threads} BLAS threads",
             {"jobs": side_by_side(grids), "one": side_by_side(grids, 1),
              "threads": blas_threads(lambda: [run() for run in later], threads)})]


TWO = 2  # goal 6 compares two workers with one, and with one stack on two BLAS threads


def on_workers(n: int, fn, *args):
    """fn(*args) with workers.count() == n (WORKBOOK_WORKERS set for the call)."""
    before = os.environ.get(workers.WORKERS)
    os.environ[workers.WORKERS] = str(n)
    try:
        return fn(*args)
    finally:
        if before is None:
            os.environ.pop(workers.WORKERS)
        else:
            os.environ[workers.WORKERS] = before
