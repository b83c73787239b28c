"""The README's results table, rebuilt from the report runs: python -m helpers.readme [--check]."""

import argparse
import difflib
import json
import sys
from pathlib import Path

from helpers.results import ROOT, atomic_write

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PROFILES = ("seed", "assignment")  # the columns after the original report's, in this order


def sci(x: float) -> str:
    """2.9e-14 (one decimal, no padded exponent)."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def percent(x: float) -> str:
    return f"{100 * x:.2f} %"


def gradient_cell(r: dict) -> str:
    err = r["max_relative_error"]
    return (f"{sci(max(err['autograd'].values()))} "
            f"({sci(max(err['finite_difference'].values()))} vs finite differences)")


def accuracy_cell(r: dict) -> str:
    """Test accuracy of the run, then (mean ± std over its seeds) when it has several."""
    spread = r.get("accuracy_over_seeds", {}).get("test")
    seeds = f" ({100 * spread['mean']:.2f} ± {100 * spread['std']:.2f})" if spread else ""
    return percent(r["accuracy"]["test"]) + seeds


def search_cell(r: dict) -> str:
    top = r["best"][0]
    return f"{percent(top['val_accuracy'])} (lambda {sci(top['lambda'])})"


ROWS = (  # label, the notebook whose results fill the row, how
    ("gradient check, max rel. error vs autograd", "01-gradient-check", gradient_cell),
    ("Exercise 3", "02-clr-one-cycle", accuracy_cell),
    ("Exercise 4", "03-clr-three-cycles", accuracy_cell),
    ("coarse search, best validation", "04-lambda-coarse-search", search_cell),
    ("fine search, best validation", "05-lambda-fine-search", search_cell),
    ("best lambda, 3 cycles on 49,000 images", "06-best-lambda", accuracy_cell),
)


class ResultsMissing(FileNotFoundError):
    """A profile's results are not there; the message says which make report to run."""


def load(build: Path, profile: str) -> dict:
    """{notebook: its results} of `profile` under `build`; ResultsMissing naming the fix."""
    paths = {nb: build / profile / "results" / f"{nb}.json" for _, nb, _ in ROWS}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise ResultsMissing(f"{build / profile / 'results'} lacks {', '.join(missing)}: "
                             f"run make report PROFILE={profile}")
    return {nb: json.loads(p.read_text()) for nb, p in paths.items()}


def header(profile: str, results: dict) -> str:
    m = results["02-clr-one-cycle"].get("parameters", {}).get("m")
    return f"`{profile}` profile" + (f" (m = {m})" if m is not None else "")


def table(build: Path, original: dict) -> str:
    """The Markdown table: a row per ROWS; the original report's column from `original`
    ({row label, or "run" for the header: cell}), "-" where it has no cell."""
    runs, missing = {}, []
    for profile in PROFILES:
        try:
            runs[profile] = load(build, profile)
        except ResultsMissing as err:
            missing.append(str(err))
    if missing:
        raise ResultsMissing("; ".join(missing))
    columns = [original.get("run", "original report"), *(header(p, runs[p]) for p in PROFILES)]
    lines = ["| " + " | ".join(["run", *columns])
             + " |", "|---" * (2 + len(PROFILES)) + "|"]
    for label, notebook, cell in ROWS:
        cells = [label, original.get(label, "-"), *(cell(runs[p][notebook]) for p in PROFILES)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def block(text: str) -> tuple:
    """(before, between, after) the markers; ValueError when they are missing."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} ... {END} around the results table")
    return text[: start + len(BEGIN)], text[start + len(BEGIN) : end], text[end:]


def original_column(text: str) -> dict:
    """{row label: the original report's cell} of the table between the markers (kept as
    typed: the original's numbers come from its PDF), the header's under "run"."""
    rows = [line.strip().strip("|").split("|") for line in block(text)[1].splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    return {r[0].strip(): r[1].strip() for r in rows if len(r) > 1}


def regenerate(text: str, build: Path) -> str:
    """The README text with the table between the markers rebuilt from `build`."""
    before, _, after = block(text)
    return f"{before}\n{table(build, original_column(text))}\n{after}"


def main(argv=None) -> int:
    args = _arguments(argv)
    readme, build = Path(args.readme), Path(args.build)
    text = readme.read_text()
    try:
        new = regenerate(text, build)
    except (ResultsMissing, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if new == text:
        print(f"{readme}: the results table is up to date")
        return 0
    if args.check:
        diff = difflib.unified_diff(block(text)[1].splitlines(), block(new)[1].splitlines(),
                                    "README.md", "from the results", lineterm="")
        print(f"{readme} is out of date (make readme rewrites it):", *diff, sep="\n")
        return 1
    atomic_write(readme, lambda f: f.write(new.encode()))
    print(f"{readme}: results table rewritten from {build}/{{{','.join(PROFILES)}}}/results")
    return 0


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and show the difference when out of date")
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="the file to rewrite")
    parser.add_argument("--build", default=str(ROOT / "build"),
                        help="where make report wrote build/<profile>/results")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
