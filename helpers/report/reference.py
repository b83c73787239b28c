"""The workbook's reference numbers, notebooks/reference.json, and the check of a build
against them.

    python -m helpers.report.reference write [--profile P ...]   # make reference
    python -m helpers.report.reference check [PROFILE]           # make check-reference
    python -m helpers.report.reference compare PROFILE FIRST SECOND  # two builds (CI: engines)

`write` reads build/<profile>/results/*.json of each profile the README shows (PROFILES) and
writes, per profile: the results the README's blocks are built from (the results files less
their curves and plumbing), the numbers a build is checked on ("accuracies": each with its
mean, standard deviation, n and values over seeds where there are several; "choices": every
verdict and chosen setting; "picks": the lambda and dropout each ablation row's own search
picked), the notebooks' seconds, the git commit, and the machine that made
them (CPU, cores, OS kernel, BLAS library, version, kernel and threads, package versions). A
profile whose build is absent keeps the entry it had. Nothing in the file is typed by hand.

`check` compares build/<profile>/results with the profile's entry: choices must be identical
(floats to 1e-9 relative), and each accuracy within its tolerance (`tolerance`); a row's pick
that differs is said, not failed (the row's accuracy, gain and verdict are checked, and its
search's candidates can be a near tie: under OpenBLAS's Haswell kernels the narrow row picked
lambda 7.7e-4 where the reference has 5e-4, its rows' numbers within tolerance):

    |this build - reference| <= 3 * sqrt(2 / n) * max(std, floor)

n is the number of seeds the number is a mean over (1 for a single run), std its standard
deviation over those seeds in the reference (for a single run of a set measured over seeds, the
spread of that set; for a paired gain, the standard deviation of the paired differences), and
floor the median standard deviation over seeds of the profile's accuracies measured over
several seeds. A rebuild on another machine acts like a fresh draw of the seeds (rounding
differences grow through training like another initialisation), so the difference of two
means over n seeds has standard deviation sqrt(2 / n) std; three of them make a false alarm
rare (0.3 % for a normal difference). The floor keeps a spread that came out tiny with few
seeds, or a number measured once with no spread of its own (an ensemble's accuracy, a search's
best), from asking for more agreement than the seeds of comparable numbers show.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

from helpers import paths, registry

FORMAT = 1
REFERENCE = paths.NOTEBOOKS / "reference.json"
PROFILES = ("seed", "assignment")  # the profiles the README shows, in its order
SIGMAS = 3.0  # standard deviations of the difference allowed (see the module's docstring)
DROP = {"history", "curves", "runs"}  # arrays neither the README nor the check reads
PLUMBING = {"section", "profile", "build_dir", "figures_dir", "data_dir", "use_cache"}
PACKAGES = ("numpy", "scipy", "torch", "threadpoolctl")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_CORETYPE")
ABOUT = ("Written by `make reference` (python -m helpers.report.reference write) from "
         "build/<profile>/results of the build named in each profile's machine and git_commit; "
         "never edited by hand. `make check-reference` (and `make check-report`) compares a "
         "build with it; `make readme` writes the README's numbers from it. Accuracies are "
         "fractions; the tolerance rule is in `tolerance`.")
TOLERANCE = ("|this build - reference| <= 3 * sqrt(2 / n) * max(std, floor): n the seeds the "
             "number is a mean over (1 for a single run), std its standard deviation over seeds "
             "in the reference (a single run of a set measured over seeds: that set's; a paired "
             "gain: its paired differences'), floor the median std over seeds of the profile's "
             "accuracies measured over several seeds. Choices (verdicts, chosen settings) must "
             "be identical.")


class ReferenceError(Exception):
    """The reference or a build cannot be read; the message says what to run."""


def notebooks() -> dict:
    """{registry key: notebook name} of every section."""
    return {s["key"]: s["notebook"] for s in registry.load()["sections"]}


# What the reference keeps of a build


def trim(value):
    """A results file without its curves (DROP) and its parameters' plumbing."""
    if isinstance(value, dict):
        return {k: (trim({p: v for p, v in x.items() if p not in PLUMBING}) if k == "parameters"
                    and isinstance(x, dict) else trim(x))
                for k, x in value.items() if k not in DROP}
    if isinstance(value, list):
        return [trim(x) for x in value]
    return value


def spread(over: dict) -> dict:
    """{"mean", "std", "n", "values"} of an over_seeds() record."""
    return {"mean": over["mean"], "std": over["std"], "n": len(over["values"]),
            "values": over["values"]}


def single(value: float, std: float | None = None) -> dict:
    """A number measured once; std the spread over seeds of the set it is one draw of."""
    return {"mean": value, "std": std, "n": 1}


def paired(g: dict) -> dict:
    """A paired gain (protocol.paired_gain) as a number over n seeds: its std is that of the
    paired differences, se * sqrt(n); one measured once (se None) is a single number."""
    if g.get("se") is None:
        return single(g["gain"])
    return {"mean": g["gain"], "std": g["se"] * math.sqrt(g["n"]), "n": g["n"]}


def facts(runs: dict) -> dict:
    """{"accuracies": {key: number}, "choices": {key: value}, "picks": {key: value}} of one
    profile's results ({notebook: results}): what a build is checked on. Parts a build lacks
    are left out (the check then names them)."""
    from helpers.experiments.range_test import verdict as range_verdict
    from helpers.report.prose import BOUNDS, bonus_ensemble

    nb, acc, choice, pick = notebooks(), {}, {}, {}
    grad = runs.get(nb["grad"])
    if grad and "max_relative_error" in grad:
        worst = {k: max(v.values()) for k, v in grad["max_relative_error"].items()}
        choice[f"{nb['grad']}: gradients correct"] = all(
            worst.get(k, math.inf) < bound for k, bound in BOUNDS.items())
    for key in ("one", "three", "final"):
        run = runs.get(nb[key]) or {}
        for part, over in run.get("accuracy_over_seeds", {}).items():
            acc[f"{nb[key]}: {part} accuracy over seeds"] = spread(over)
            if part in run.get("accuracy", {}):
                acc[f"{nb[key]}: {part} accuracy, first seed"] = single(
                    run["accuracy"][part], over["std"])
    for key in ("coarse", "fine"):
        best = (runs.get(nb[key]) or {}).get("best")
        if best:
            choice[f"{nb[key]}: best lambda"] = best[0]["lambda"]
            acc[f"{nb[key]}: best validation accuracy"] = single(best[0]["val_accuracy"])
    final, rng = runs.get(nb["final"]) or {}, runs.get(nb["range"]) or {}
    if "lambda" in final:
        choice[f"{nb['final']}: lambda"] = final["lambda"]
    if "chosen" in rng:
        for k in ("eta_min", "eta_max"):
            choice[f"{nb['range']}: {k}"] = rng["chosen"][k]
    if "retrained" in rng:
        new = rng["retrained"]["accuracy_over_seeds"]
        for part, over in new.items():
            acc[f"{nb['range']}: retrained, {part} accuracy over seeds"] = spread(over)
        if "accuracy_over_seeds" in final:
            g = range_verdict(rng, final)
            choice[f"{nb['range']}: verdict on validation"] = g["verdict"]
            acc[f"{nb['range']}: gain on validation"] = paired(g)
    bonus = runs.get(nb["bonus"]) or {}
    for row in bonus.get("rows", []):
        name = f"{nb['bonus']}: {row['component'] or row['row']}"
        recipe = dict(row.get("recipe") or {})
        if row["component"]:  # a row: what it removes is a choice, its own search's pick not
            pick[f"{name}: its search's pick"] = {k: recipe.pop(k, None) for k in SEARCHED}
        choice[f"{name}: recipe"] = recipe
        acc[f"{name}: validation accuracy"] = spread(row["val"])
        ensemble = row.get("ensemble_val")
        if isinstance(ensemble, dict):
            acc[f"{name}: ensemble's validation accuracy"] = spread(ensemble)
        elif ensemble is not None:
            acc[f"{name}: ensemble's validation accuracy"] = single(ensemble)
        if "gain" in row:
            acc[f"{name}: gain"] = paired(row["gain"])
            choice[f"{name}: verdict"] = row["gain"]["verdict"]
            choice[f"{name}: kept"] = row.get("kept")
    if "chosen" in bonus:
        choice[f"{nb['bonus']}: chosen recipe"] = bonus["chosen"]["recipe"]
    f = bonus.get("final_split")
    if f:
        for part, over in f["single"].items():
            acc[f"{nb['bonus']}: final split, one network, {part} accuracy"] = spread(over)
        for group in ("ensemble", "snapshot_ensemble"):
            for part in ("val", "test"):
                acc[f"{nb['bonus']}: final split, {group}, {part} accuracy"] = single(
                    f[group][part])
        acc[f"{nb['bonus']}: final split, members' agreement"] = single(f["agreement"])
        if "rows" in bonus:
            choice[f"{nb['bonus']}: reported ensemble"] = bonus_ensemble(bonus)[0]
    return {"accuracies": acc, "choices": choice, "picks": pick}


def floor(accuracies: dict) -> float:
    """The median std over seeds of the accuracies measured over several seeds (gains aside)."""
    stds = [a["std"] for k, a in accuracies.items()
            if a["n"] > 1 and a["std"] is not None and not k.endswith("gain")]
    return statistics.median(stds) if stds else 0.0


def tolerance(number: dict, floor_std: float) -> float:
    """SIGMAS * sqrt(2 / n) * max(std, floor): see the module's docstring."""
    return SIGMAS * math.sqrt(2 / number["n"]) * max(number["std"] or 0.0, floor_std)


# The machine


def machine() -> dict:
    """CPU model, cores, OS kernel, the numeric stack (BLAS library, version, kernel, threads)
    and package versions of this process, and the thread variables it runs under."""
    import numpy  # noqa: F401  (loads the BLAS that numeric_stack reports)

    from helpers.workbook.environment import numeric_stack

    cpu = platform.processor() or platform.machine()
    try:
        models = [line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable,
            "os": f"{platform.system()} {platform.release()}",
            "numeric_stack": numeric_stack(threads=True), "packages": versions,
            "variables": {v: os.environ.get(v) for v in THREAD_VARIABLES}}


def describe_machine(m: dict) -> str:
    """One line: "Intel Xeon ..., 2 cores; OpenBLAS 0.3.29 Haswell, 2 threads; numpy 2.1"."""
    blas = "; ".join(f"{b.get('library')} {b.get('version')} {b.get('kernel')}, "
                     f"{b.get('threads')} thread(s)" for b in m["numeric_stack"]["blas"])
    return (f"{m['cpu']}, {m['cores']} cores; {blas or 'no BLAS found'}; numpy "
            f"{m['packages'].get('numpy')}, torch {m['packages'].get('torch')}")


# Reading and writing


def load_build(build: Path, profile: str, sections=None) -> dict:
    """{notebook: results} of the sections built in build/<profile>/results (a profile built
    in part, as the README's `seed` column needs 01-06 only, holds those: its check covers
    them), or of those of `sections` (notebook names) only; ReferenceError when none is."""
    folder = build / profile / "results"
    files = {name: folder / f"{name}.json" for name in notebooks().values()
             if sections is None or name in sections}
    if not any(f.is_file() for f in files.values()):
        raise ReferenceError(f"{folder} holds no section's results: run make report "
                             f"PROFILE={profile}")
    return {name: json.loads(f.read_text()) for name, f in files.items() if f.is_file()}


def load(path: Path = REFERENCE) -> dict:
    """The reference file; ReferenceError when it is missing or of another format."""
    path = Path(path)
    if not path.is_file():
        raise ReferenceError(f"{path} is missing: make report, then make reference, writes it")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise ReferenceError(f"{path} has format {data.get('format')}, this code reads "
                             f"{FORMAT}: make reference rewrites it")
    return data


def entry(runs: dict, build: Path, profile: str) -> dict:
    """The reference's entry for one profile from its results ({notebook: results})."""
    stamp = build / profile / "environment.json"
    commits = sorted({r.get("git_commit") for r in runs.values() if r.get("git_commit")})
    found = facts(runs)  # first: it imports what the notebooks import (torch and its BLAS)
    return {"git_commit": commits[0] if len(commits) == 1 else commits,
            "finished": max((r.get("finished", "") for r in runs.values()), default=""),
            "machine": machine(),
            "build_stamp": json.loads(stamp.read_text()) if stamp.is_file() else None,
            "seconds": {name: r.get("seconds") for name, r in runs.items()},
            **found,
            "results": {name: trim(r) for name, r in runs.items()}}


def write(path: Path, build: Path, profiles=PROFILES) -> list:
    """Rewrite `path` with an entry for each of `profiles` built under `build`; a profile not
    built keeps the entry it had. Returns one line per profile saying what was done."""
    from helpers.workbook.results import atomic_write

    old = load(path)["profiles"] if Path(path).is_file() else {}
    new, said = dict(old), []
    for profile in profiles:
        try:
            runs = load_build(build, profile)
        except ReferenceError as err:
            said.append(f"{profile}: kept the reference's entry ({err})" if profile in old
                        else f"{profile}: not in the reference ({err})")
            continue
        new[profile] = entry(runs, build, profile)
        n = new[profile]
        lacking = [name for name in notebooks().values() if name not in runs]
        said.append(f"{profile}: {len(n['accuracies'])} accuracies and {len(n['choices'])} "
                    f"choices from {build / profile / 'results'}"
                    + (f" (not built: {', '.join(lacking)})" if lacking else ""))
    order = [p for p in PROFILES if p in new] + sorted(set(new) - set(PROFILES))
    data = {"format": FORMAT, "about": ABOUT, "tolerance": TOLERANCE,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "profiles": {p: new[p] for p in order}}
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    atomic_write(Path(path), lambda f: f.write(text.encode()))
    return said


# The check


def same(a, b) -> bool:
    """Equal, floats to 1e-9 relative (a value read back from JSON on another machine)."""
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, int | float) and isinstance(b, int | float)
                and not isinstance(a, bool) and not isinstance(b, bool)
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def shown(value) -> str:
    if isinstance(value, dict) and "m" in value and "cycles" in value:
        from helpers.experiments.bonus import Recipe

        said = Recipe(**value).describe().split(", ")  # a row's recipe lacks its own pick:
        return ", ".join(p for p in said if all(k in value for k in SEARCHED)  # not said
                         or not p.startswith(("lambda =", "dropout", "no dropout")))
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


SEARCHED = ("lam", "dropout")  # what a bonus row's own search picks (helpers.experiments.bonus)


def points(number: dict) -> str:
    """ "57.16 ± 0.06 (3 seeds)" or "59.97" in percentage points."""
    spread_ = (f" ± {100 * number['std']:.2f} ({number['n']} seeds)"
               if number["n"] > 1 and number["std"] is not None else "")
    return f"{100 * number['mean']:.2f}{spread_}"


def compare(ref: dict, mine: dict) -> dict:
    """{"choices": [(key, reference, this build)], "accuracies": [(key, reference, this
    build, tolerance)], "missing": [key], "extra": [key], "worst": (key, |diff| / tolerance),
    "counted": (choices, accuracies)} of one profile's facts against the reference's."""
    differs = {"choices": [], "accuracies": [], "missing": [], "extra": [], "worst": None,
               "not_numbers": []}
    for k, want in ref["choices"].items():
        if k not in mine["choices"]:
            differs["missing"].append(k)
        elif not same(want, mine["choices"][k]):
            differs["choices"].append((k, want, mine["choices"][k]))
    for k, want in ref["accuracies"].items():
        for field in ("mean", "std"):
            if want.get(field) is not None and not _finite(want[field]):
                raise ReferenceError(f"the reference's `{k}` has a {field} that is not a number "
                                     f"({want[field]!r}), so no tolerance can be drawn from it: "
                                     "the reference is damaged; rewrite it from a good build "
                                     "(make reference)")
    lowest, worst = floor(ref["accuracies"]), (None, 0.0)
    for k, want in ref["accuracies"].items():
        if k not in mine["accuracies"]:
            differs["missing"].append(k)
            continue
        got, tol = mine["accuracies"][k], tolerance(want, lowest)
        if not _finite(got.get("mean")):
            differs["not_numbers"].append((k, got.get("mean")))
            continue
        off = abs(got["mean"] - want["mean"])
        ratio = off / tol if tol > 0 else (0.0 if off == 0 else math.inf)
        if ratio > 1:
            differs["accuracies"].append((k, want, got, tol))
        if ratio >= worst[1]:
            worst = (k, ratio)
    differs["picks"] = [(k, want, mine.get("picks", {}).get(k))
                        for k, want in ref.get("picks", {}).items()
                        if not same(want, mine.get("picks", {}).get(k))]
    differs["extra"] = sorted((set(mine["choices"]) - set(ref["choices"]))
                              | (set(mine["accuracies"]) - set(ref["accuracies"])))
    differs["worst"] = worst
    differs["counted"] = (len(ref["choices"]), len(ref["accuracies"]))
    return differs


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def picked(picks: list) -> list:
    """Lines for the rows whose own search picked another lambda or dropout: said, not a
    disagreement (the row's accuracy, gain and verdict are checked; a near tie between two
    candidates may fall either way on another machine)."""
    return [f"  note: {k} is {shown(got)} here, {shown(want)} in the reference (a row's own "
            "search, near a tie: not a chosen setting; its accuracy and verdict are checked)"
            for k, want, got in picks]


def check(reference: dict, build: Path, profile: str,
          name: str = "notebooks/reference.json", sections=None) -> tuple:
    """(exit status, lines to print): 0 when build/<profile>/results agrees with the
    reference's entry for `profile` (or the reference has no entry for that profile, one of
    params/), else 1; 2 when `profile` is no profile at all (a typo checks nothing)."""
    known = sorted(p.stem for p in paths.PROFILES.glob("*.yaml"))
    if profile not in reference["profiles"] and profile not in known:
        return 2, [f"check-reference: there is no profile `{profile}` (no params/{profile}.yaml)"
                   f"; the profiles are {', '.join(known)}: check the name (PROFILE=...)"]
    if profile not in reference["profiles"]:
        return 0, [f"check-reference: {name} has no `{profile}` profile "
                   f"(it has {', '.join(reference['profiles']) or 'none'}): nothing to check "
                   "against"]
    ref = reference["profiles"][profile]
    try:
        runs = load_build(build, profile, sections)
    except ReferenceError as err:
        return 1, [f"check-reference: {err}"]
    d = compare(ref, facts(runs))
    n_choices, n_acc = d["counted"]
    where = build / profile / "results"
    bad = d["choices"] + d["accuracies"] + d["missing"] + d["extra"] + d["not_numbers"]
    if not bad:
        key, ratio = d["worst"]
        largest = (f"the largest difference is {ratio:.2f} of its tolerance: {key}" if ratio
                   else "every number identical")
        return 0, [f"check-reference: {where} agrees with {name} (`{profile}`): {n_choices} "
                   f"verdicts and chosen settings identical, {n_acc} accuracies within "
                   f"tolerance ({largest})"] + picked(d["picks"])
    lines = [f"check-reference: {where} DISAGREES with {name} (`{profile}`):"
             f" {len(d['choices'])} of {n_choices} verdicts and chosen settings differ, "
             f"{len(d['accuracies']) + len(d['not_numbers'])} of {n_acc} accuracies are outside "
             "their tolerance or not numbers"]
    lines += [f"  differs: {k}: reference {shown(want)}, this build {shown(got)}"
              for k, want, got in d["choices"]]
    lines += [f"  outside: {k}: reference {points(want)}, this build {points(got)}; "
              f"|difference| {100 * abs(got['mean'] - want['mean']):.2f} > tolerance "
              f"{100 * tol:.2f} points" for k, want, got, tol in d["accuracies"]]
    lines += [f"  not a number: {k}: this build has {v!r} (a run diverged, or was not evaluated)"
              for k, v in d["not_numbers"]]
    lines += picked(d["picks"])
    lines += [f"  missing in this build: {k}" for k in d["missing"]]
    lines += [f"  not in the reference: {k}" for k in d["extra"]]
    lines += [f"  reference made on: {describe_machine(ref['machine'])}",
              f"  this check runs on: {describe_machine(machine())}",
              "  (tolerance: " + TOLERANCE.split(": n ")[0] + f", see {name})"]
    return 1, lines


def compare_builds(first: Path, second: Path, profile: str, sections=None) -> tuple:
    """(exit status, lines): does second/<profile>/results agree with first/<profile>/results
    as a build agrees with the reference (check), the first build standing for it, on every
    section or on `sections` (notebook names)? E.g. the torch engine's build of a profile
    against the numpy engine's (CI)."""
    runs = load_build(first, profile, sections)
    made = {"profiles": {profile: {**facts(runs), "machine": machine()}}}
    return check(made, second, profile, str(first / profile / "results"), sections)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="write the reference from build/<profile>/results")
    w.add_argument("--profile", action="append", choices=PROFILES,
                   help="only this profile (repeatable); default: every profile built")
    c = sub.add_parser("check", help="does build/PROFILE/results agree with the reference?")
    c.add_argument("profile", nargs="?", default="assignment")
    for p in (w, c):
        p.add_argument("--reference", default=str(REFERENCE), help="the reference file")
        p.add_argument("--build", default=str(paths.BUILD), help="holds <profile>/results")
    b = sub.add_parser("compare", help="does SECOND/PROFILE/results agree with FIRST's, as a "
                                       "build with the reference?")
    b.add_argument("profile")
    b.add_argument("first")
    b.add_argument("second")
    b.add_argument("--sections", help="only these notebooks, comma-separated")
    args = parser.parse_args(argv)
    if args.command == "compare":
        try:
            status, lines = compare_builds(
                paths.resolve(args.first), paths.resolve(args.second), args.profile,
                args.sections.split(",") if args.sections else None)
        except ReferenceError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(*lines, sep="\n")
        return status
    build, path = paths.resolve(args.build), paths.resolve(args.reference)
    try:
        if args.command == "write":
            for line in write(path, build, tuple(args.profile or PROFILES)):
                print(f"{path.name}: {line}")
            return 0
        shown_as = path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path
        status, lines = check(load(path), build, args.profile, str(shown_as))
    except ReferenceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(*lines, sep="\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
