"""The harness: medians of candidates timed in turn, here or in a fresh process of their own.

A candidate is a callable running its workload once. `interleaved` warms each up once, then
runs them in turn `reps` times and keeps each one's median. `OwnProcesses` times a reference
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
    times = {name: [] for name in candidates}
    for run in candidates.values():  # warm-up: first-call allocations, thread start
        run()
    for _ in range(reps):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def one_blas_thread(run):
    """`run` with numpy's BLAS on one thread (what make -j2 gives each notebook)."""
    controller = ThreadpoolController()

    def limited():
        with controller.limit(limits=1, user_api="blas"):
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
