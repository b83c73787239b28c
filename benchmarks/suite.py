"""The suite: each goal's workloads, timed by the harness, as rows judged against the goals.

`rows` runs them all in the table's order. The numpy engine is timed in this process, every
reference and the torch engines each in a fresh process of their own (`own`, a
harness.OwnProcesses); goal 6 (the report's jobs, one BLAS thread each) times both its sides
in this process, interleaved, since neither leaves a BLAS thread spinning. A per-step time is
a median over shape["steps"] steps divided by them.
"""

import statistics
from dataclasses import replace
from pathlib import Path

from threadpoolctl import threadpool_limits

from benchmarks import goals, harness, jobs, wide, workloads
from benchmarks.goals import BONUS, ENGINE, JOBS, MEMORY, REPORT, SEARCH, STEP
from benchmarks.harness import OwnProcesses, interleaved, one_blas_thread
from benchmarks.rows import Row
from benchmarks.workloads import ENGINES, flops_per_step, our_steps
from helpers.workbook import timing

ONE = "numpy engine, one BLAS thread"  # the candidate timed beside the engine, as make -j2 runs it
STEP_STEPS = 4  # goal 1 times 4 times the shape's steps: one step is short
USER_STEPS = 5  # beside the search, the PyTorch user's step is timed over 5 times the steps
CYCLE = 2 * workloads.search_n_s(workloads.FULL["n"])  # steps of the coarse search: 1800
COARSE, SEEDS = "coarse search", "seed repeats"  # the two side-by-side runs of goal 2
WIDE_NETWORKS = (1, 2)  # the bonus's wide step alone and its 2 seeds side by side
SETTLE_S = 0.25  # goal 6's gain: a pause before each side, so that OpenBLAS's threads, left
# spinning (about 0.1 s) by the two-thread side, are asleep when the one-thread jobs start
GIB, MIB = 2**30, 2**20


def rows(shape: dict, own: OwnProcesses, whole_search: bool, data_path, build: Path,
         profile: str) -> list:
    """Every row, in the table's order. The whole search (when asked) runs first, before
    the random data exists: its memory is its own; the bonus last, after the memory row."""
    whole = whole_search_rows(data_path) if whole_search else []
    X, y = workloads.data(shape)
    found = step_rows(shape, X, y, own)
    found += side_by_side_rows(shape, X, y, shape["lambdas"], COARSE, own)
    found += against_extrapolation(whole, found)
    found += side_by_side_rows(shape, X, y, shape["seeds"], SEEDS, own)
    found += evaluation_rows(shape, X, y, shape["lambdas"], own)
    found += report_rows(build, profile)
    found += memory_rows(X)
    found += wide_rows(shape, X, y, own)  # after the memory row: its peak is the search's
    found += recipe_rows(shape, own, build, profile)
    raw = (X, y) if X.shape[1] == wide.D else workloads.data({**shape, "d": wide.D})
    return found + job_rows(shape, X, y, raw) + gain_rows(shape, X, y, raw)


def gflops(flops: float, seconds: float) -> str:
    return f"{flops / seconds / 1e9:.0f} GFLOP/s"


def step_rows(shape: dict, X, y, own: OwnProcesses) -> list:
    """Goal 1: one step of one network (batch 100, m = 50) against PyTorch and BLAS; then
    the torch engines and one BLAS thread against the numpy engine."""
    shape = {**shape, "steps": STEP_STEPS * shape["steps"]}
    lam = [workloads.LAM]
    runs = interleaved({"ours": our_steps(shape, X, y, lam),
                        ONE: one_blas_thread(our_steps(shape, X, y, lam))}, shape["reps"])
    for group in ("torch_user", "products", "torch_engines"):
        runs |= own(group, shape, 1)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    ours = {"goal": STEP, "what": "one step, 1 network (numpy engine)", "median_s": t["ours"]}
    found = [
        Row(**ours, reference="PyTorch user's step (nn.Sequential, autograd, SGD)",
            reference_median_s=t["torch_user"], ratio=t["ours"] / t["torch_user"],
            **goals.STEP_VS_PYTORCH.judge(t["ours"] / t["torch_user"])),
        Row(**ours, reference="its matrix products alone (numpy)",
            reference_median_s=t["products"], ratio=t["ours"] / t["products"],
            **goals.STEP_VS_PRODUCTS.judge(t["ours"] / t["products"]))]
    return found + [Row(goal=ENGINE, what=f"one step, 1 network, {name}", median_s=t[name],
                        reference="numpy engine", reference_median_s=t["ours"],
                        ratio=t[name] / t["ours"]) for name in (*ENGINES, ONE)]


def cycle_what(label: str) -> str:
    """The `what` of the one-cycle extrapolation row of a side-by-side run."""
    return f"{label}: one cycle ({CYCLE} steps), numpy, extrapolated"


def side_by_side_rows(shape: dict, X, y, networks: int, label: str,
                      own: OwnProcesses) -> list:
    """Goal 2: `networks` networks side by side against the products on the same shapes
    (same library) and against `networks` sequential runs of the PyTorch user's step;
    then the torch engines against the numpy engine and against their own products."""
    lambdas = workloads.lambdas(networks)
    user_shape = {**shape, "steps": USER_STEPS * shape["steps"]}
    runs = interleaved({"ours": our_steps(shape, X, y, lambdas),
                        ONE: one_blas_thread(our_steps(shape, X, y, lambdas))}, shape["reps"])
    runs |= own("products", shape, networks)
    runs |= own("torch_engines", shape, networks)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    t["torch_user"] = own("torch_user", user_shape, 1)["torch_user"] / user_shape["steps"]
    flops = flops_per_step(shape, networks)
    rate = {k: gflops(flops, v) for k, v in t.items()}
    sequential = networks * t["torch_user"]
    step = f"{label}: step, {networks} networks (numpy)"
    found = [
        Row(goal=SEARCH, what=f"{step}, {rate['ours']}", median_s=t["ours"],
            reference=f"numpy products alone, same shapes, {rate['products']}",
            reference_median_s=t["products"], ratio=t["products"] / t["ours"],
            **goals.GEMM_RATE.judge(t["products"] / t["ours"])),
        Row(goal=SEARCH, what=step, median_s=t["ours"],
            reference=f"{networks} sequential PyTorch-user steps (1 timed, x {networks})",
            reference_median_s=sequential, ratio=sequential / t["ours"],
            **goals.TIMES_FASTER.judge(sequential / t["ours"])),
        Row(goal=SEARCH, what=cycle_what(label), median_s=CYCLE * t["ours"],
            reference=f"{networks} sequential PyTorch-user runs, extrapolated",
            reference_median_s=CYCLE * sequential, ratio=sequential / t["ours"],
            note=f"{shape['steps'] * shape['reps']} timed steps, "
                 f"times {CYCLE} / {shape['steps']}")]
    for name in ENGINES:
        found += [Row(goal=ENGINE, what=f"{label}: step, {name}, {rate[name]}", median_s=t[name],
                      reference=f"numpy engine, {rate['ours']}", reference_median_s=t["ours"],
                      ratio=t[name] / t["ours"]),
                  Row(goal=ENGINE, what=f"{label}: step, {name}", median_s=t[name],
                      reference=f"its products alone, {rate[name + ' products']}",
                      reference_median_s=t[name + " products"],
                      ratio=t[name + " products"] / t[name])]
    return found + [Row(goal=ENGINE, what=f"{label}: step, {ONE}, {rate[ONE]}", median_s=t[ONE],
                        reference=f"numpy engine, {rate['ours']}", reference_median_s=t["ours"],
                        ratio=t[ONE] / t["ours"])]


def whole_search_rows(path=None) -> list:
    """The coarse search itself, once, on CIFAR-10 (`workloads.whole_search`). Not a
    median; its reference, the one-cycle extrapolation, is set by `against_extrapolation`."""
    from helpers.cifar.data import DataError

    what = "whole coarse search on CIFAR-10"
    try:
        seconds, top = workloads.whole_search(path)
    except DataError as err:
        return [Row(goal=SEARCH, what=what, median_s=None, note=f"not measured: {err}")]
    return [Row(goal=SEARCH, what=f"{what}, measured once; best val {top['val_accuracy']:.1%} "
                f"(lambda {top['lambda']:.2g})", median_s=seconds,
                reference="one cycle extrapolated from the timed steps",
                note="includes the final whole-set evaluation")]


def against_extrapolation(whole: list, found: list) -> list:
    """The whole search's rows with the coarse search's one-cycle extrapolation as reference."""
    cycle = next(r for r in found if r.what == cycle_what(COARSE))
    return [replace(r, reference_median_s=cycle.median_s, ratio=r.median_s / cycle.median_s)
            if r.median_s else r for r in whole]


def evaluation_rows(shape: dict, X, y, networks: int, own: OwnProcesses) -> list:
    """Whole-set evaluation of `networks` networks against its two products alone."""
    runs = interleaved({"ours": workloads.our_evaluation(shape, X, y, networks)},
                       shape["reps"])
    runs |= own("evaluation_products", shape, networks)
    flops = workloads.evaluation_flops(shape, networks)
    return [Row(goal=REPORT, what=f"whole-set evaluation, {networks} networks x "
                f"{workloads.evaluated(shape)} images, {gflops(flops, runs['ours'])}",
                median_s=runs["ours"],
                reference=f"its products alone, {gflops(flops, runs['products'])}",
                reference_median_s=runs["products"], ratio=runs["products"] / runs["ours"])]


def report_rows(build: Path, profile: str) -> list:
    """Goal 3 from the report build's own records (`workloads.report_seconds`), wall and job
    seconds apart: a notebook's seconds are its wall seconds; its training seconds (the first
    computation's, kept with a cached result) are job-seconds, summed over jobs that ran side
    by side, so they may exceed the wall on a clean build. It read the cache when the jobs its
    build recorded (`timing.job_runs`) add up to less than its training: its clean-build time
    is then estimated (the missing job-seconds over its workers) and the total not judged.
    Without job records (a build before they were kept) the walls are judged as measured."""
    seconds, training, missing = workloads.report_seconds(build, profile)
    budget = {"reference": f"{goals.REPORT_BUDGET_S / 60:.0f} minutes",
              "reference_median_s": goals.REPORT_BUDGET_S}
    if not seconds:
        return [Row(goal=REPORT, what=f"make report ({profile})", median_s=None, **budget,
                    target=goals.WITHIN_BUDGET.text,
                    note=f"not measured: no {build / profile}/results")]
    folder, clean, notes = build / profile / "notebooks", {}, {}
    for k, wall in seconds.items():
        runs = timing.job_runs(folder, k)
        ran = sum(sum(r["jobs"]) for r in runs)
        short = training.get(k, 0.0) - ran
        if runs and short > max(1.0, 0.1 * training.get(k, 0.0)):  # read the cache
            at_once = max(r["workers"] for r in runs)
            clean[k] = wall + short / at_once
            notes[k] = (f"cached: ran in {wall:.1f} s; + {short:.0f} job-s over {at_once} "
                        f"workers (estimate)")
        else:
            clean[k] = wall
            notes[k] = f"{ran:.0f} job-s in {len(runs)} run(s)" if runs else ""
    total, estimated = sum(clean.values()), any(n.startswith("cached") for n in notes.values())
    found = [Row(goal=REPORT, what=f"notebook {k}, wall; training {training.get(k, 0.0):.1f} "
                 f"job-s", median_s=clean[k], reference="total", reference_median_s=total,
                 ratio=clean[k] / total, note=notes[k]) for k in seconds]
    judged = goals.WITHIN_BUDGET.judge(total / goals.REPORT_BUDGET_S)
    recorded = any(timing.job_runs(folder, k) for k in seconds)
    note = (f"incomplete, no record of {missing}" if missing else
            "an estimate: some notebooks read the cache; not judged" if estimated else
            "wall seconds of the last make report; notebooks only, export not included"
            + ("" if recorded else "; no job records (a build before they were kept): cache "
               "reads not detected"))
    return found + [Row(goal=REPORT, what=f"notebooks of {profile}, one after another",
                        median_s=total, **budget, ratio=total / goals.REPORT_BUDGET_S,
                        target=judged["target"],
                        met=None if missing or estimated else judged["met"], note=note)]


def memory_rows(X) -> list:
    """Goal 4: peak resident memory of this process (the 100-network search and its data)."""
    peak = workloads.peak_rss() / GIB
    return [Row(goal=MEMORY, what="peak RSS (GiB, not s), this benchmark process", median_s=peak,
                reference=f"{goals.MEMORY_GIB:.0f} GiB", reference_median_s=goals.MEMORY_GIB,
                ratio=peak / goals.MEMORY_GIB, **goals.WITHIN_MEMORY.judge(peak / goals.MEMORY_GIB),
                note=f"GiB; data float32 ({X.dtype}, {X.nbytes / MIB:.0f} MiB), "
                     "no float64 copy")]


def wide_rows(shape: dict, X, y, own: OwnProcesses) -> list:
    """Goal 5: the bonus's wide step (benchmarks/wide.py) at each width of shape["wide"],
    of 1 network and of 2 side by side (the bonus's seeds), against its matrix products
    alone and against the PyTorch user's step (1 timed, x N)."""
    if X.shape[1] != wide.D:  # the quick shapes' rows are not 32 x 32 images
        X, y = workloads.data({**shape, "d": wide.D})
    found = []
    for m in shape["wide"]:
        at = {**shape, "d": wide.D, "m": m}
        user = own("torch_user_wide", at, 1)["torch_user_wide"] / at["steps"]
        for networks in WIDE_NETWORKS:
            found += _wide_rows(at, X, y, networks, user, own)
    return found


def _wide_rows(shape: dict, X, y, networks: int, user: float, own: OwnProcesses) -> list:
    ours = wide.our_wide_steps(shape, X, y, networks, workloads.batches(shape))
    runs = interleaved({"ours": ours}, shape["reps"])
    runs |= own("products", shape, networks)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    rate = {k: gflops(flops_per_step(shape, networks), v) for k, v in t.items()}
    what = f"bonus m={shape['m']}, {networks} network{'s' * (networks > 1)} (dropout, flips/shifts)"
    sequential = networks * user
    return [Row(goal=BONUS, what=f"{what}, {rate['ours']}", median_s=t["ours"],
                reference=f"numpy products alone, same shapes, {rate['products']}",
                reference_median_s=t["products"], ratio=t["products"] / t["ours"],
                **goals.GEMM_RATE.judge(t["products"] / t["ours"])),
            Row(goal=BONUS, what=f"{what}, numpy", median_s=t["ours"],
                reference=f"{networks} x PyTorch-user step (Dropout, torch flips/shifts)",
                reference_median_s=sequential, ratio=sequential / t["ours"],
                note="ratio: times faster than PyTorch; "
                     f"its step timed once, times {networks}")]


def chosen_recipe(shape: dict, build: Path, profile: str) -> tuple:
    """(the recipe to time, where it comes from): with shape["read_chosen"], the one the last
    make report of `profile` chose (build/PROFILE/results/08-bonus.json), else (or without
    those results) shape["recipe"], the full recipe."""
    import json

    path = Path(build) / profile / "results" / "08-bonus.json"
    fields = tuple(shape["recipe"])
    if shape.get("read_chosen"):
        try:
            chosen = json.loads(path.read_text())["final_split"]["recipe"]
            if chosen.get("k"):  # a raw-pixel recipe is goal 5's wide step, timed above
                return {f: chosen[f] for f in fields}, f"chosen by {path}"
        except (OSError, KeyError, ValueError):
            pass
    return dict(shape["recipe"]), "the full recipe (no make report results)"


def recipe_rows(shape: dict, own: OwnProcesses, build: Path, profile: str) -> list:
    """Goal 5: the bonus recipe's step (the input projected on k components), one network,
    against its matrix products alone (the GEMM rate) and against the PyTorch user's
    version of it, each reference in a process of its own."""
    recipe, source = chosen_recipe(shape, build, profile)
    at = {**shape, "d": wide.D, "recipe": recipe}
    X, y = workloads.data(at)
    runs = interleaved({"ours": wide.our_recipe_steps(at, X, y, workloads.batches(at))},
                       shape["reps"])
    runs |= own("recipe_products", at, 1) | own("torch_user_recipe", at, 1)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    rate = {k: gflops(wide.recipe_flops(at), v) for k, v in t.items()}
    parts = [f"m={recipe['m']}, k={recipe['k']}"] + \
        ([f"dropout {recipe['dropout']:g}"] if recipe["dropout"] else []) + \
        (["flips/shifts, projected each step"] if wide.augments(recipe) else
         ["rows projected once"])
    what = f"bonus recipe ({', '.join(parts)}), 1 network"
    return [Row(goal=BONUS, what=f"{what}, {rate['ours']}", median_s=t["ours"],
                reference=f"numpy products alone (with the projection when it augments), "
                          f"{rate['recipe_products']}",
                reference_median_s=t["recipe_products"], ratio=t["recipe_products"] / t["ours"],
                note=source, **goals.GEMM_RATE.judge(t["recipe_products"] / t["ours"])),
            Row(goal=BONUS, what=f"{what}, numpy", median_s=t["ours"],
                reference="PyTorch user's version (torch projection, nn.Sequential, SGD)",
                reference_median_s=t["torch_user_recipe"], ratio=t["torch_user_recipe"] / t["ours"],
                note="ratio: times faster than PyTorch")]


def job_rows(shape: dict, X, y, raw) -> list:
    """Goal 6: each kind of job the report trains (benchmarks/jobs.py), its step on ONE BLAS
    thread as workers.run runs it, against its matrix products alone on one BLAS thread: both
    sides numpy in this process, interleaved shape["job_reps"] times; the ratio (products /
    step, the fraction of the GEMM rate reached) taken per repetition, its median judged.
    X, y: the assignment's data (shape["d"]); raw: wide.D pixels, for the bonus's jobs."""
    found = []
    for job in jobs.kinds(shape):
        at = jobs.shape_of(shape, job)
        data = (X, y) if job["recipe"] is None else raw
        sides = {"step": jobs.steps(shape, job, *data, workloads.batches(at)),
                 "products": jobs.products(shape, job)}
        with threadpool_limits(limits=1, user_api="blas"):  # as workers.run: both sides
            times = harness.interleaved_times(sides, shape["job_reps"])
        t = {k: statistics.median(v) / shape["steps"] for k, v in times.items()}
        rate = {k: gflops(jobs.flops(shape, job), v) for k, v in t.items()}
        ratio = harness.spread(harness.ratios(times, "products", "step"))
        found.append(Row(goal=JOBS, what=f"{job['label']}, {rate['step']}", median_s=t["step"],
                         reference=f"its products alone, one BLAS thread, {rate['products']}",
                         reference_median_s=t["products"], ratio=ratio["median"],
                         ratio_spread=ratio, **goals.GEMM_RATE.judge(ratio["median"]),
                         note=f"one BLAS thread, interleaved in this process; "
                              f"{jobs.describe(job)}; ratio per repetition, median of "
                              f"{ratio['n']} x {shape['steps']} steps"))
    return found


def gain_rows(shape: dict, X, y, raw) -> list:
    """Goal 6, why the report runs jobs: the one-thread jobs on two workers (workers.run)
    against the same work on two BLAS threads, and against the same jobs on one worker (the
    two-core efficiency, >= 1.8), interleaved shape["job_reps"] times with a pause before
    each (jobs.gains); ratios per repetition."""
    found = []
    for what, reference, sides in jobs.gains(shape, X, y, raw):
        times = harness.interleaved_times(sides, shape["job_reps"], pause=SETTLE_S)
        t = {k: statistics.median(v) / shape["steps"] for k, v in times.items()}
        ratio = harness.spread(harness.ratios(times, "threads", "jobs"))
        found.append(Row(goal=JOBS, what=f"{what}, one BLAS thread each", median_s=t["jobs"],
                         reference=reference, reference_median_s=t["threads"],
                         ratio=ratio["median"], ratio_spread=ratio,
                         note=f"ratio: the threads' time / the jobs' (above 1: the jobs are "
                              f"sooner), per repetition, median of {ratio['n']}; seconds per "
                              f"step of all the networks; {shape['steps']} steps a repetition"))
        two = harness.spread(harness.ratios(times, "one", "jobs"))
        found.append(Row(goal=JOBS, what=f"{what}: two-core efficiency, 2 workers against 1",
                         median_s=t["jobs"], reference="the same jobs on one worker",
                         reference_median_s=t["one"], ratio=two["median"], ratio_spread=two,
                         **goals.TWO_CORES.judge(two["median"]),
                         note=f"ratio: one worker's time / two workers' (2: both cores do "
                              f"the work), per repetition, median of {two['n']}"))
    return found
