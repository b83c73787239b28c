"""The harness: medians of candidates timed in turn, here or in a fresh process of their own.

A candidate is a callable running its workload once. `interleaved` warms each up once, then
runs them in turn `reps` times and keeps each one's median; `interleaved_times` keeps every
repetition's time, so that `ratios` can divide the two sides of one repetition and `spread`
say how far those per-repetition ratios range. `OwnProcesses` times a reference
group (benchmarks/references.py) in a fresh `python -m benchmarks.bench --reference GROUP`,
which answers with `answer` as JSON on stdout: its own BLAS and torch thread pools, and none
of this process's left spinning beside it.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from threadpoolctl import ThreadpoolController

from helpers.paths import ROOT

ENTRY = "benchmarks.bench"  # the module a reference process runs (`--reference GROUP`)
STDERR_TAIL = 3000  # characters of a failed reference process's stderr in the error


def interleaved(candidates: dict, reps: int) -> dict:
    """{name: median seconds} of each callable, run in turn `reps` times after a warm-up."""
    return {name: statistics.median(values)
            for name, values in interleaved_times(candidates, reps).items()}


def interleaved_times(candidates: dict, reps: int, pause: float = 0.0) -> dict:
    """{name: [seconds of each repetition]}: the callables run in turn `reps` times after one
    warm-up each; repetition i of every candidate ran next to the others' repetition i.
    pause: seconds slept before each timed run, not counted (a BLAS pool's threads left
    spinning by the candidate before then fall asleep first)."""
    times = {name: [] for name in candidates}
    for run in candidates.values():  # warm-up: first-call allocations, thread start
        run()
    for _ in range(reps):
        for name, run in candidates.items():
            time.sleep(pause)
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def ratios(times: dict, top: str, bottom: str) -> list:
    """times[top][i] / times[bottom][i] for every repetition i of `interleaved_times`: the
    ratio of the two sides as they ran next to each other."""
    return [a / b for a, b in zip(times[top], times[bottom], strict=True)]


def spread(values: list) -> dict:
    """The median of `values` and how far they range: min, quartiles, max, how many."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive") \
        if len(values) > 1 else [values[0]] * 3
    return {"median": median, "min": min(values), "q1": q1, "q3": q3, "max": max(values),
            "n": len(values)}


def one_blas_thread(run):
    """`run` with numpy's BLAS on one thread (what make -j2 gives each notebook)."""
    return blas_threads(run, 1)


def blas_threads(run, threads: int):
    """`run` with numpy's BLAS on `threads` threads."""
    controller = ThreadpoolController()

    def limited():
        with controller.limit(limits=threads, user_api="blas"):
            run()
    return limited


def answer(candidates: dict, reps: int) -> dict:
    """What a reference process prints (as JSON): its pid and the candidates' medians."""
    return {"pid": os.getpid(), "medians": interleaved(candidates, reps)}


class OwnProcesses:
    """Times reference groups each in a fresh Python process; `records` keeps the group,
    pid and networks of every one (the JSON's "reference_processes")."""

    def __init__(self):
        self.records = []

    def __call__(self, group: str, shape: dict, networks: int) -> dict:
        """{name: median seconds} of the group, timed by `python -m benchmarks.bench
        --reference GROUP --shape JSON --networks N` started from the repository root."""
        command = [sys.executable, "-m", ENTRY, "--reference", group,
                   "--shape", json.dumps(shape), "--networks", str(networks)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"the reference {group} failed in its own process "
                               f"({' '.join(command[1:5])} ...):\n{done.stderr[-STDERR_TAIL:]}")
        reply = json.loads(done.stdout)
        self.records.append({"group": group, "pid": reply["pid"], "networks": networks})
        return reply["medians"]
