"""How long each executed notebook took, by part (`make report-times`)."""

import json
from pathlib import Path

from helpers.paths import resolve


def times(folder) -> dict:
    """{notebook name: seconds} from the papermill metadata of the executed notebooks in folder."""
    found = {}
    for path in sorted(resolve(folder).glob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None and path.stem.count(".") == 0:
            found[path.stem] = float(meta["duration"])
    return found


PARTS = {".train(": "training", ".search(": "training", "study.": "training",
         ".split(": "data", "load_split(": "data", "import ": "start-up"}  # first match


def breakdown(path) -> dict:
    """Seconds of one executed notebook by part, from papermill's per-cell durations.

    The cell that trains (calls results.cached: its updates and whole-set evaluations),
    the one that loads data, the imports, the rest (listings, figures, saving), and the
    kernel start-up (papermill's duration less its cells'). Output: {part: seconds}.
    """
    nb = json.loads(Path(path).read_text())
    parts = dict.fromkeys(("start-up", "data", "training", "rest"), 0.0)
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        part = next((p for key, p in PARTS.items() if key in text), "rest")
        parts[part] += cell["metadata"].get("papermill", {}).get("duration") or 0.0
    parts["start-up"] += nb["metadata"]["papermill"]["duration"] - sum(parts.values())
    return parts


def evaluation_seconds(results_file) -> float | None:
    """Seconds the whole-set evaluations took inside the training run behind a results file
    (its history's "seconds"; None when the file keeps no history, as the searches')."""
    path = Path(results_file)
    record = json.loads(path.read_text()) if path.is_file() else {}
    return record.get("history", {}).get("seconds", {}).get("evaluation")


def print_times(folder) -> None:
    """The table of `make report-times`: each executed notebook's seconds, by part."""
    folder = resolve(folder)
    columns = ("start-up", "data", "training", "rest")
    total = dict.fromkeys(columns, 0.0)
    print(f"{'notebook':<26} {'seconds':>7}  " + "".join(f"{k:>10}" for k in columns)
          + "  of which evaluation")
    for name, value in times(folder).items():
        parts = breakdown(folder / f"{name}.ipynb")
        total = {k: total[k] + v for k, v in parts.items()}
        evaluation = evaluation_seconds(folder.parent / "results" / f"{name}.json")
        print(f"{name:<26} {value:7.1f}  " + "".join(f"{v:10.1f}" for v in parts.values())
              + ("" if evaluation is None else f"  {evaluation:10.1f}"))
    print(f"{'total (one after another)':<26} {sum(total.values()):7.1f}  "
          + "".join(f"{v:10.1f}" for v in total.values()))


def job_runs(folder, name: str) -> list:
    """The runs of jobs a notebook's last build recorded (helpers.training.workers: one
    {"jobs": [seconds], "wall": seconds, "workers": n} a run, FOLDER/.NAME.jobs); [] if none."""
    path = resolve(folder) / f".{name}.jobs"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def longest_first(jobs: list, workers: int) -> float:
    """Seconds the jobs take on `workers` workers, each job given, longest first, to the
    worker free soonest."""
    loads = [0.0] * max(1, workers)
    for seconds in sorted(jobs, reverse=True):
        loads[loads.index(min(loads))] += seconds
    return max(loads)


def projected(wall: float, runs: list, workers: int) -> float:
    """A notebook's seconds on `workers` cores: what ran outside its jobs (its wall less the
    runs' walls) plus each run's jobs longest first on that many workers."""
    outside = max(wall - sum(r["wall"] for r in runs), 0.0)
    return outside + sum(longest_first(r["jobs"], workers) for r in runs)


CORES = (1, 2, 4, 8, 16)


def at_once(cores: int) -> int:
    """Notebooks make runs at once on `cores` cores by default (the Makefile's JOBS): one per
    four cores, at least one (each notebook's jobs fill the cores; independent notebooks then
    overlap their serial parts and their last, lonely jobs)."""
    return max(1, cores // 4)


def make_j(phases: dict, reads: dict, cores: int, notebooks: int) -> float:
    """Seconds `make -jNOTEBOOKS` takes on `cores` cores (list scheduling, simulated): a
    notebook starts when those it reads have finished and fewer than `notebooks` run; it is
    phases one after another (phases[name]: [[seconds of each job], ...], its serial part a
    phase of one job); every job of every running notebook's current phase shares the cores,
    the longest first, each to the core free soonest."""
    import heapq

    t, free, running, done, started, queue = 0.0, cores, [], set(), [], []
    step, left = {}, {}

    def begin(name):
        phase = phases[name][step[name]]
        left[name] = len(phase)
        queue.extend((seconds, name) for seconds in phase)
        if not phase:
            advance(name)

    def advance(name):
        step[name] += 1
        if step[name] < len(phases[name]):
            begin(name)
        else:
            done.add(name)

    while len(done) < len(phases):
        for name in phases:  # in make's (the registry's) order
            if name not in step and len(started) - len(done & set(started)) < notebooks \
                    and all(r in done for r in reads.get(name, ())):
                step[name] = 0
                started.append(name)
                begin(name)
        queue.sort(reverse=True)
        while free and queue:
            seconds, name = queue.pop(0)
            heapq.heappush(running, (t + seconds, name))
            free -= 1
        if not running:
            raise ValueError(f"the notebooks cannot all run: {sorted(set(phases) - done)} "
                             "wait on one another")
        t, name = heapq.heappop(running)
        free += 1
        left[name] -= 1
        if left[name] == 0:
            advance(name)
    return t


def projection(folder, cores=CORES, registry=None) -> dict | None:
    """{"cores": {n: seconds of the notebooks one after another}, "make_j": {n: seconds under
    make's default -j on n cores (at_once), the notebooks in the registry's order of reads},
    "job_seconds": their jobs' sum, "longest": (notebook, its longest job's seconds)} from the
    last build in folder; None when a notebook has no papermill time."""
    from helpers import registry as sections

    found = times(folder)
    if not found:
        return None
    runs = {name: job_runs(folder, name) for name in found}
    jobs = [(s, name) for name, rs in runs.items() for r in rs for s in r["jobs"]]
    entries = (registry or sections.load())["sections"]
    reads = {e["notebook"]: e["reads"] for e in entries}
    reads["report"] = [e["notebook"] for e in entries]
    phases = {name: [[max(found[name] - sum(r["wall"] for r in runs[name]), 0.0)]]
              + [r["jobs"] for r in runs[name]] for name in found}
    reads = {name: [r for r in reads.get(name, []) if r in found] for name in found}
    return {"cores": {n: sum(projected(found[k], runs[k], n) for k in found) for n in cores},
            "make_j": {n: make_j(phases, reads, n, at_once(n)) for n in cores},
            "job_seconds": sum(s for s, _ in jobs),
            "longest": max(jobs, default=(0.0, None))[::-1], "measured": sum(found.values())}


def print_projection(folder) -> None:
    """make report-times' and make plan's lines: the last build on 1 to 16 cores."""
    p = projection(folder)
    if p is None:
        return
    name, longest = p["longest"]
    print(f"the last build's notebooks ({p['measured']:.0f} s measured) projected from its "
          f"job records, longest job first:")
    print("  notebooks one after another: "
          + ", ".join(f"{n} core(s) {s:.0f} s" for n, s in p["cores"].items()))
    print("  make's default -j (one notebook per 4 cores, each after those it reads): "
          + ", ".join(f"{n} core(s) {s:.0f} s" for n, s in p["make_j"].items()))
    print(f"  bound by {p['job_seconds']:.0f} job-seconds and the longest job ({longest:.0f} s"
          f"{f', {name}' if name else ''}); export and a core's share of other work not "
          "included")


if __name__ == "__main__":  # python -m helpers.workbook.timing build/<profile>/notebooks
    import sys

    print_times(sys.argv[1] if len(sys.argv) > 1 else "build/assignment/notebooks")
    print_projection(sys.argv[1] if len(sys.argv) > 1 else "build/assignment/notebooks")
