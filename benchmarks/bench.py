"""Benchmarks of the engine against PyTorch and against its own matrix products.

`python -m benchmarks.bench` (or `make bench`) prints a table and merges it into
build/bench/bench.json under a label naming the OpenBLAS settings it ran with.
Every timing is the median of `reps` runs after a warm-up. The numpy engine is timed in this
process; every reference (the PyTorch user's step, the matrix products alone) and the torch
engines are timed each in a fresh process of its own (`--reference GROUP`, JSON on stdout),
so no thread pool of another library is left spinning beside them.

The command line and its three modes; the rest is the package's (benchmarks/README.md).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from benchmarks import output, references, suite
from benchmarks.environment import environment, label
from benchmarks.harness import OwnProcesses, answer
from benchmarks.workloads import FULL, QUICK
from helpers.paths import resolve

OUT = "build/bench/bench.json"  # defaults, relative to the repository root
BUILD = "build"
PROFILE = "assignment"


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.reference:
        return reference(args.reference, json.loads(args.shape), args.networks)
    if args.markdown:
        return print_markdown(resolve(args.out))
    return measure(args)


def reference(group: str, shape: dict, networks: int) -> int:
    """A child of harness.OwnProcesses: the group's medians as JSON, nothing else."""
    print(json.dumps(answer(references.build(group, shape, networks), shape["reps"])))
    return 0


def print_markdown(path: Path) -> int:
    """Every run kept in `path` as a Markdown table; measures nothing."""
    for key, result in json.loads(path.read_text())["runs"].items():
        print(f"### {key}\n\n{output.markdown(result)}\n")
    return 0


def measure(args) -> int:
    """Every row, printed and merged into --out under this run's label."""
    shape = QUICK if args.quick else FULL
    env, own = environment(), OwnProcesses()
    rows = suite.rows(shape, own, args.whole_search, args.data, resolve(args.build),
                      args.profile)
    env["load_average_after"] = os.getloadavg()
    result = output.record(shape, env, rows, own.records)
    output.show(result)
    output.write_json(resolve(args.out), label(), result)
    print(f"written to {args.out} under \"{label()}\"")
    return 0


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes (smoke test)")
    parser.add_argument("--out", default=OUT, help="JSON to merge into")
    parser.add_argument("--build", default=BUILD, help="where make report writes")
    parser.add_argument("--profile", default=PROFILE, help="report profile to read")
    parser.add_argument("--whole-search", action="store_true",
                        help="also run the whole coarse search once on CIFAR-10 (about 1 min)")
    parser.add_argument("--data", default=None, help="CIFAR-10 folder (default: find it)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the runs in --out as Markdown tables, measure nothing")
    parser.add_argument("--reference", choices=references.GROUPS,
                        help="time one reference group in this process; print JSON (internal)")
    parser.add_argument("--shape", help="with --reference: the shape as JSON")
    parser.add_argument("--networks", type=int, default=1, help="with --reference")
    args = parser.parse_args(argv)
    if args.reference and not args.shape:
        parser.error("--reference needs --shape (the shape as JSON)")
    return args


if __name__ == "__main__":
    sys.exit(main())
