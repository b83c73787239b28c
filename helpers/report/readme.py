"""The README's generated blocks, rebuilt from the reference (notebooks/reference.json, which
`make reference` writes from a build's results): python -m helpers.report.readme [--check].

Blocks, each between its markers: `took` (how long the reference's `make report` took, for the
first screen), `intro` (the bonus's protocol and final numbers), `results` (the table of the
assignment's runs: the original, then each profile of PROFILES that the reference holds),
`beyond` (the range test and the bonus), `times` (how long the reference's build took, where,
and how it keeps the cores busy). Only the results table is required; a README without the other
markers keeps its text. `--check` (run by the tests, hence by CI) fails when the README differs
from what the reference gives."""

import argparse
import difflib
import json
import sys
from pathlib import Path

from helpers import paths, registry
from helpers.experiments.protocol import rule
from helpers.report import listings, reference, tables
from helpers.report.formatting import pc as percent
from helpers.report.formatting import plural, pm, sci
from helpers.workbook.results import atomic_write

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
BEYOND = "<!-- beyond:begin -->", "<!-- beyond:end -->"
INTRO = "<!-- intro:begin -->", "<!-- intro:end -->"
TIMES = "<!-- times:begin -->", "<!-- times:end -->"
TOOK = "<!-- took:begin -->", "<!-- took:end -->"
BEYOND_PROFILE = "assignment"  # the profile whose range test and bonus the README shows
PROFILES = reference.PROFILES  # the columns after the original report's, in this order


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


def load(path: Path) -> dict:
    """{profile: {notebook: its results}} of each profile the reference file at `path` holds
    (ResultsMissing when it is missing or holds no profile of PROFILES)."""
    try:
        profiles = reference.load(path)["profiles"]
    except reference.ReferenceError as err:
        raise ResultsMissing(str(err)) from None
    runs = {p: profiles[p]["results"] for p in PROFILES if p in profiles}
    if not runs:
        raise ResultsMissing(f"{path} holds none of the profiles {', '.join(PROFILES)}: make "
                             "report, then make reference")
    return runs


def header(profile: str, results: dict) -> str:
    m = results[NOTEBOOK["one"]].get("parameters", {}).get("m")  # the run's hidden units
    return f"`{profile}` profile" + (f" (m = {m})" if m is not None else "")


def table(runs: dict, original: dict, original_header: str) -> str:
    """The Markdown table: a row per ROWS, columns the original then each of PROFILES that
    `runs` ({profile: {notebook: results}}) holds; a line under it names a profile it lacks."""
    shown = [p for p in PROFILES if p in runs]
    columns = ["run", original_header, *(header(p, runs[p]) for p in shown)]
    rows = [[label, *(cell(r[notebook]) for r in (original, *map(runs.get, shown)))]
            for label, notebook, cell, _ in ROWS]
    lines = ["| " + " | ".join(cells) + " |" for cells in (columns, *rows)]
    absent = [p for p in PROFILES if p not in runs]
    note = ([""] + [f"The `{p}` profile is not in notebooks/reference.json yet: `make report "
                    f"PROFILE={p}`, then `make reference`, adds its column."
                    for p in absent]) if absent else []
    return "\n".join([lines[0], "|---" * len(columns) + "|", *lines[1:], *note])


def block(text: str) -> tuple:
    """(before, between, after) the markers; ValueError when they are missing."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} ... {END} around the results table")
    return text[: start + len(BEGIN)], text[start + len(BEGIN) : end], text[end:]


def between(text: str, markers: tuple, make) -> str:
    """`text` with what stands between `markers` replaced by make(); unchanged without them."""
    start, end = text.find(markers[0]), text.find(markers[1])
    if start < 0 or end < start:
        return text
    return f"{text[: start + len(markers[0])]}\n{make()}\n{text[end:]}"


def regenerate(text: str, path: Path, original: Path) -> str:
    """`text` with every block rebuilt from the reference file at `path` (the original's
    header as typed)."""
    before, between_, after = block(text)
    typed = between_.strip().split("\n", 1)[0].strip("| ").split(" | ")
    first = typed[1] if len(typed) > 1 else "original report"
    runs = load(path)
    text = f"{before}\n{table(runs, original_results(original), first)}\n{after}"
    entry = reference.load(path)["profiles"].get(BEYOND_PROFILE)
    text = between(text, INTRO, lambda: intro(runs))
    text = between(text, TIMES, lambda: times(entry))
    text = between(text, TOOK, lambda: took(entry))
    return regenerate_beyond(text, runs)


def beyond_runs(runs: dict) -> tuple:
    """(range test, best lambda, bonus) results of BEYOND_PROFILE; ResultsMissing otherwise."""
    if BEYOND_PROFILE not in runs:
        raise ResultsMissing(f"the reference has no `{BEYOND_PROFILE}` profile: make report, "
                             "then make reference")
    mine = runs[BEYOND_PROFILE]
    names = [NOTEBOOK[key] for key in ("range", "final", "bonus")]
    missing = [f"{name}.json" for name in names if name not in mine]
    if missing:
        raise ResultsMissing(f"the reference's `{BEYOND_PROFILE}` lacks {', '.join(missing)}: "
                             "run make report, then make reference")
    return tuple(mine[name] for name in names)


def intro(runs: dict) -> str:
    """The intro's sentence on the bonus: its protocol and what the test set said, once."""
    from helpers.report.prose import bonus_ensemble

    _, _, run = beyond_runs(runs)
    sizes, r = run["search"]["sizes"], run["chosen"]["recipe"]
    one = run["final_split"]["single"]["test"]
    which, group = bonus_ensemble(run)
    return (f"In the `{BEYOND_PROFILE}` profile every choice is made on a "
            f"{sizes['train']:,} / {sizes['val']:,} split with "
            f"{plural(len(run['protocol']['seeds']), 'paired seed')}, an ablation removes one "
            f"component at a time (each row trained as long as the full recipe on that split), "
            f"a component's verdict is {rule(run['protocol']['margin'])}, and the chosen recipe "
            f"({r['m']:,} hidden units, "
            + (f"the first {r['k']} principal components, " if r.get("k") else "raw pixels, ")
            + f"{4 * r['cycles']} epochs) is trained by "
            f"{plural(len(run['final_split']['seeds']), 'independent member')}, the test set "
            f"read once: {percent(one['mean'])} for one network (mean over the members), "
            f"{percent(group['test'])} for {which}.")


def times(entry: dict | None) -> str:
    """How long the notebooks of the reference's BEYOND_PROFILE build took, and where."""
    m, total = _build(entry)
    bonus, wall = entry["seconds"].get(NOTEBOOK["bonus"]) or 0, span(entry)
    return (f"The reference's `{BEYOND_PROFILE}` build ran its notebooks in "
            + (f"{wall / 60:.1f} minutes from the first start to the last finish, two at a "
               f"time (their own times add up to {total / 60:.1f} minutes) "
               if wall and wall < 0.95 * total else
               f"{total / 60:.1f} minutes one after another " if wall else
               f"about {plural(round(total / 60), 'minute')} in all ")
            + f"on {m['cpu']} ({plural(m['cores'], 'core')}), "
            f"{bonus / 60:.1f} of them in the bonus (its training time, row by row, is under "
            f"the ablation above). Each notebook keeps every core busy (its trainings run as "
            f"jobs, one per core at a time, one BLAS thread each, so the digits depend on "
            f"neither the cores nor `make -j2`), and training found in the cache takes no time.")


def took(entry: dict | None) -> str:
    """One sentence: how long the reference's BEYOND_PROFILE `make report` ran, and on what."""
    m, total = _build(entry)
    seconds = span(entry) or total
    return (f"On the reference machine ({m['cpu']}, {plural(m['cores'], 'core')}) `make report` "
            f"ran its notebooks in {seconds / 60:.1f} minutes.")


def _build(entry: dict | None) -> tuple:
    """(machine, its notebooks' seconds added up) of the reference's BEYOND_PROFILE entry;
    ResultsMissing without one."""
    if entry is None:
        raise ResultsMissing(f"the reference has no `{BEYOND_PROFILE}` profile")
    return entry["machine"], sum(s or 0 for s in entry["seconds"].values())


def span(entry: dict) -> float | None:
    """Seconds from the first notebook's start to the last one's finish in a reference
    entry (each results file's finish time less its seconds), None without the times."""
    from datetime import datetime

    try:
        ends = {name: datetime.strptime(r["finished"], "%Y-%m-%dT%H:%M:%S%z")
                for name, r in entry["results"].items()}
        starts = [ends[name].timestamp() - float(entry["seconds"][name]) for name in ends]
    except (KeyError, TypeError, ValueError):
        return None
    return max(e.timestamp() for e in ends.values()) - min(starts) if ends else None


def beyond(runs: dict) -> str:
    """Markdown: the range test's range and comparison, then the bonus's ablation table, its
    chosen recipe and where its training time went."""
    rng, final, extra = beyond_runs(runs)
    c, comparison = rng["chosen"], listings.range_comparison_of(final, rng)
    return "\n".join([
        f"Range test (`{BEYOND_PROFILE}` profile, m = {rng['parameters']['m']}): eta_max = "
        f"{c['eta_max']:.3g}, eta_min = {c['eta_min']:.3g}; on the best-lambda run:", "",
        "```", comparison, "```", "", f"The bonus's ablation (`{BEYOND_PROFILE}` profile):", "",
        tables.ablation(extra["rows"], short=False), "", "```",
        listings.bonus_listing(extra["chosen"], extra["final_split"]), "```", "",
        "Where the bonus's training time goes:", "", "```", listings.bonus_times(extra), "```"])


def regenerate_beyond(readme: str, runs: dict) -> str:
    """`readme` with the text between the BEYOND markers rebuilt; unchanged without them."""
    return between(readme, BEYOND, lambda: beyond(runs))


def main(argv=None) -> int:
    args = _arguments(argv)
    readme, source = Path(args.readme), Path(args.reference)
    text = readme.read_text()
    try:
        new = regenerate(text, source, Path(args.original))
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if new == text:
        print(f"{readme}: its blocks agree with {source.name}")
        return 0
    if args.check:
        diff = difflib.unified_diff(text.splitlines(), new.splitlines(), "README.md",
                                    f"from {source.name}", lineterm="")
        print(f"{readme} differs from {source} (make readme rewrites it from the reference; "
              "make reference first writes the reference from a build):", *diff, sep="\n")
        return 1
    atomic_write(readme, lambda f: f.write(new.encode()))
    print(f"{readme}: its blocks rewritten from {source}")
    return 0


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date; no write")
    parser.add_argument("--readme", default=str(paths.README), help="the file to rewrite")
    parser.add_argument("--reference", default=str(reference.REFERENCE),
                        help="the reference file the blocks are written from")
    parser.add_argument("--original", default=str(paths.ORIGINAL),
                        help="the original report's numbers, with their sources")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
