"""The README's results table and its "beyond the assignment" block, rebuilt from the report
runs: python -m helpers.report.readme [--check]."""

import argparse
import difflib
import json
import sys
from pathlib import Path

from helpers import paths, registry
from helpers.report import listings, tables
from helpers.report.formatting import pc as percent
from helpers.report.formatting import pm, sci
from helpers.workbook.results import atomic_write

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
BEYOND = "<!-- beyond:begin -->", "<!-- beyond:end -->"
BEYOND_PROFILE = "assignment"  # the profile whose range test and bonus the README shows
PROFILES = ("seed", "assignment")  # the columns after the original report's, in this order


class ResultsMissing(FileNotFoundError):
    """Results are not there; the message says what to run."""






def gradient_cell(r: dict) -> str:
    err = r["max_relative_error"]
    fd = err.get("finite_difference")
    return sci(max(err["autograd"].values())) + (
        f" ({sci(max(fd.values()))} vs finite differences)" if fd else "")


def accuracy_cell(r: dict) -> str:
    """Test accuracy of the run, then (mean ± std over its seeds) when it has several."""
    spread = r.get("accuracy_over_seeds", {}).get("test")
    seeds = f" ({pm(spread, unit='')})" if spread else ""
    return percent(r["accuracy"]["test"]) + seeds


def search_cell(r: dict) -> str:
    top = r["best"][0]
    return f"{percent(top['val_accuracy'])} (lambda {sci(top['lambda'])})"


NOTEBOOK = {s["key"]: s["notebook"] for s in registry.load()["sections"]}
ROWS = (  # label, the notebook whose results fill the row (by registry key), how, its part of
    # original.json
    ("gradient check, max rel. error vs autograd", NOTEBOOK["grad"], gradient_cell,
     "gradient_check"),
    ("Exercise 3", NOTEBOOK["one"], accuracy_cell, "Exercise 3"),
    ("Exercise 4", NOTEBOOK["three"], accuracy_cell, "Exercise 4"),
    ("coarse search, best validation", NOTEBOOK["coarse"], search_cell, "coarse"),
    ("fine search, best validation", NOTEBOOK["fine"], search_cell, "fine"),
    ("best lambda, 3 cycles on 49,000 images", NOTEBOOK["final"], accuracy_cell, "Best lambda"),
)


def original_results(path: Path) -> dict:
    """notebooks/original.json ({part: {name: {"value", "source"}}}) as {notebook: results
    shaped like the notebooks'}, so that the same cells format the original's numbers."""
    if not path.is_file():
        raise ResultsMissing(f"{path} is missing: it holds the original report's numbers")
    parts, runs = json.loads(path.read_text()), {}
    for _, notebook, _, part in ROWS:
        v = {name: entry["value"] for name, entry in parts[part].items()}
        runs[notebook] = ({"max_relative_error": {"autograd": v}} if part == "gradient_check"
                          else {"best": [{**v, "val_accuracy": v["val"]}]} if "lambda" in v
                          else {"accuracy": v})
    return runs


def load(build: Path) -> dict:
    """{profile: {notebook: its results}} under `build`; ResultsMissing naming each fix."""
    wanted = {p: {nb: build / p / "results" / f"{nb}.json" for _, nb, _, _ in ROWS}
             for p in PROFILES}
    lacks = {p: [f.name for f in files.values() if not f.is_file()] for p, files in wanted.items()}
    if any(lacks.values()):
        raise ResultsMissing("; ".join(f"{build / p / 'results'} lacks {', '.join(names)}: run "
                                       f"make report PROFILE={p}" for p, names in lacks.items()
                                       if names))
    return {p: {nb: json.loads(f.read_text()) for nb, f in files.items()}
            for p, files in wanted.items()}


def header(profile: str, results: dict) -> str:
    m = results[NOTEBOOK["one"]].get("parameters", {}).get("m")  # the run's hidden units
    return f"`{profile}` profile" + (f" (m = {m})" if m is not None else "")


def table(runs: dict, original: dict, original_header: str) -> str:
    """The Markdown table: a row per ROWS, columns the original then PROFILES, from
    {notebook: results} (original) and {profile: {notebook: results}} (runs)."""
    columns = ["run", original_header, *(header(p, runs[p]) for p in PROFILES)]
    rows = [[label, *(cell(r[notebook]) for r in (original, *map(runs.get, PROFILES)))]
            for label, notebook, cell, _ in ROWS]
    lines = ["| " + " | ".join(cells) + " |" for cells in (columns, *rows)]
    return "\n".join([lines[0], "|---" * len(columns) + "|", *lines[1:]])


def block(text: str) -> tuple:
    """(before, between, after) the markers; ValueError when they are missing."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} ... {END} around the results table")
    return text[: start + len(BEGIN)], text[start + len(BEGIN) : end], text[end:]


def regenerate(text: str, build: Path, original: Path) -> str:
    """`text` with the table between the markers rebuilt (the original's header as typed)."""
    before, between, after = block(text)
    typed = between.strip().split("\n", 1)[0].strip("| ").split(" | ")
    first = typed[1] if len(typed) > 1 else "original report"
    text = f"{before}\n{table(load(build), original_results(original), first)}\n{after}"
    return regenerate_beyond(text, build)


def beyond(build: Path) -> str:
    """Markdown: the range test's range and comparison, then the bonus's ablation table, its
    chosen recipe and where its training time went."""
    folder = build / BEYOND_PROFILE / "results"
    files = [folder / f"{NOTEBOOK[key]}.json" for key in ("range", "final", "bonus")]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: run make report")
    rng, final, extra = (json.loads(f.read_text()) for f in files)
    c, comparison = rng["chosen"], listings.range_comparison_of(final, rng)
    return "\n".join([
        f"Range test (`{BEYOND_PROFILE}` profile, m = {rng['parameters']['m']}): eta_max = "
        f"{c['eta_max']:.3g}, eta_min = {c['eta_min']:.3g}; on the best-lambda run:", "",
        "```", comparison, "```", "", f"The bonus's ablation (`{BEYOND_PROFILE}` profile):", "",
        tables.ablation(extra["rows"], short=False), "", "```",
        listings.bonus_listing(extra["chosen"], extra["final_split"]), "```", "",
        "Where the bonus's training time goes:", "", "```", listings.bonus_times(extra), "```"])


def regenerate_beyond(readme: str, build: Path) -> str:
    """`readme` with the text between the BEYOND markers rebuilt; unchanged without them."""
    start, end = readme.find(BEYOND[0]), readme.find(BEYOND[1])
    if start < 0 or end < start:
        return readme
    return f"{readme[: start + len(BEYOND[0])]}\n{beyond(build)}\n{readme[end:]}"


def main(argv=None) -> int:
    args = _arguments(argv)
    readme, build = Path(args.readme), Path(args.build)
    text = readme.read_text()
    try:
        new = regenerate(text, build, Path(args.original))
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if new == text:
        print(f"{readme}: the results table is up to date")
        return 0
    if args.check:
        diff = difflib.unified_diff(text.splitlines(), new.splitlines(), "README.md",
                                    "from the results", lineterm="")
        print(f"{readme} is out of date (make readme rewrites it):", *diff, sep="\n")
        return 1
    atomic_write(readme, lambda f: f.write(new.encode()))
    print(f"{readme}: results table rewritten from {build}/{{{','.join(PROFILES)}}}/results")
    return 0


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date; no write")
    parser.add_argument("--readme", default=str(paths.README), help="the file to rewrite")
    parser.add_argument("--build", default=str(paths.BUILD), help="holds <profile>/results")
    parser.add_argument("--original", default=str(paths.ORIGINAL),
                        help="the original report's numbers, with their sources")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
