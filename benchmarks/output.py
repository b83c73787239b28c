"""The output: the table printed, the run's record merged into build/bench/bench.json
atomically, and the runs kept there as Markdown tables (for the README).
"""

import json
import os
import time
from pathlib import Path

from benchmarks.environment import label, numpy_blas
from benchmarks.goals import GOALS
from benchmarks.rows import Row
from helpers.workbook.results import atomic_write

OWN_PROCESS = ("references (PyTorch user, products alone) and the torch engines: each timed in "
               "a fresh process of its own; the numpy engine in this one; goal 6's products, "
               "one BLAS thread like its steps, interleaved with them in this one")
BUSY_LOAD = 1.5  # a load average above this on the 2 cores: the busy note is printed
BUSY = ("note: other processes used the cores; a two-thread BLAS call then waits for a "
        "scheduler tick (about 4 ms), which hits small products most")
FINISHED = "%Y-%m-%dT%H:%M:%S%z"  # the record's "finished" time
MET = {True: "yes", False: "NO", None: ""}  # `met` in the printed table
MET_MARKDOWN = {True: "yes", False: "**no**", None: ""}


def record(shape: dict, env: dict, rows: list, processes: list) -> dict:
    """The JSON record of one run, `rows` (Row) as dicts; `processes`: the reference
    processes' records (harness.OwnProcesses.records)."""
    return {"label": label(), "finished": time.strftime(FINISHED), "shape": shape,
            "environment": env, "rows": [r.as_json() for r in rows],
            "reference_processes": {"this": os.getpid(), "references": processes}}


def settings(env: dict) -> str:
    """The OpenBLAS settings, both BLAS libraries and the load average of a run."""
    return (f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}, OPENBLAS_L2_SIZE="
            f"{env['OPENBLAS_L2_SIZE']}; numpy BLAS {numpy_blas(env)}; torch BLAS "
            f"{env['torch_blas']}; load average {env['load_average'][0]:.1f} before, "
            f"{env['load_average_after'][0]:.1f} after")


def show(result: dict) -> None:
    """Print a run: its settings, the busy note when the cores were loaded, the table."""
    env = result["environment"]
    print(f"benchmarks ({result['label']}: {settings(env)})")
    if max(env["load_average"][0], env["load_average_after"][0]) > BUSY_LOAD:
        print(BUSY)
    print(OWN_PROCESS)
    print(table([Row(**r) for r in result["rows"]]))


def table(rows: list) -> str:
    """The rows (Row) as a fixed-width text table."""
    lines = [f"{'goal':<9}{'measured':<62}{'median':>11}  {'reference':<58}{'median':>11}"
             f"{'ratio':>8}  {'spread':<11}{'target':<26}met"]
    for r in rows:
        lines.append(f"{r.goal:<9}{r.what[:61]:<62}{_fmt(r.median_s):>11}  "
                     f"{r.reference[:57]:<58}{_fmt(r.reference_median_s):>11}"
                     f"{_fmt(r.ratio, 2):>8}  {_range(r.ratio_spread):<11}{r.target:<26}"
                     f"{MET[r.met]}")
    return "\n".join(lines)


def markdown(result: dict, goals=GOALS) -> str:
    """One run of the JSON as a Markdown table (for the README), rows of `goals` only."""
    lines = [settings(result["environment"]) + f"; {result['finished']}"
             + (f"; {OWN_PROCESS}" if "reference_processes" in result else ""), "",
             "| goal | measured | median (s) | reference | median (s) | ratio | spread (min-max) "
             "| target | met |",
             "|---|---|---:|---|---:|---:|---|---|---|"]
    for r in (Row(**r) for r in result["rows"]):
        if r.goal in goals:
            lines.append(f"| {r.goal} | {r.what} | {_fmt(r.median_s, 3)} | {r.reference} | "
                         f"{_fmt(r.reference_median_s, 3)} | {_fmt(r.ratio, 2)} | "
                         f"{_range(r.ratio_spread)} | {r.target} "
                         f"| {MET_MARKDOWN[r.met]} |")
    return "\n".join(lines)


def _fmt(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _range(spread: dict | None) -> str:
    """A ratio's spread (harness.spread) as "min-max", or "" where it has none."""
    return "" if spread is None else f"{spread['min']:.2f}-{spread['max']:.2f}"


def write_json(path: Path, key: str, result: dict) -> None:
    """Merge `result` into path's {"runs": {key: result}} atomically (temp file, replace)."""
    try:
        merged = json.loads(path.read_text())
    except (OSError, ValueError):
        merged = {"runs": {}}
    merged.setdefault("runs", {})[key] = result
    text = json.dumps(merged, indent=1).encode()
    atomic_write(path, lambda f: f.write(text))
