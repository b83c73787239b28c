"""The registry of the report's sections (notebooks/sections.toml); standard library only."""

import sys
import tomllib
from pathlib import Path

from helpers.paths import REGISTRY

FIELDS = {"notebook": str, "key": str, "title": str, "reads": list, "long": bool,
          "figures": list, "listings": int, "checks": list}
DEFAULTS = {"reads": [], "long": False, "figures": [], "listings": 0, "checks": []}


def load(path=REGISTRY) -> dict:
    """{"sections": [entry, ...] in report order, "report": {...}}, each entry checked."""
    data = tomllib.loads(Path(path).read_text())
    sections = [_checked(entry, path) for entry in data.get("section", [])]
    names = [s["notebook"] for s in sections]
    for s in sections:
        missing = [r for r in s["reads"] if r not in names[: names.index(s["notebook"])]]
        if missing:
            raise ValueError(f"{path}: {s['notebook']} reads {missing}, which are not "
                             "sections listed before it")
    for field in ("notebook", "key"):
        values = [s[field] for s in sections]
        if len(set(values)) != len(values):
            raise ValueError(f"{path}: two sections share a {field}: {values}")
    report = {"checks": [], **data.get("report", {})}
    return {"sections": sections, "report": report}


def _checked(entry: dict, path) -> dict:
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {unknown} in {entry.get('notebook')}; "
                         f"fields are {sorted(FIELDS)}")
    entry = {**DEFAULTS, **entry}
    for field, kind in FIELDS.items():
        if not isinstance(entry.get(field), kind):
            raise ValueError(f"{path}: {entry.get('notebook')}: {field} must be a "
                             f"{kind.__name__}, got {entry.get(field)!r}")
    return entry


def names(registry=None) -> list:
    """The section notebooks' names, in report order."""
    return [s["notebook"] for s in (registry or load())["sections"]]


def by_name(name: str, registry=None) -> dict | None:
    """The entry of notebook `name`, or None when it is no section."""
    return next((s for s in (registry or load())["sections"] if s["notebook"] == name), None)


def numbering(registry=None) -> dict:
    """Figures and listings numbered in registry order: {"figures": {stem: number},
    "listings": {key: [number of its first listing, ...]}}."""
    registry = registry or load()
    figures, listings = {}, {}
    for s in registry["sections"]:
        for stem in s["figures"]:
            figures[stem] = len(figures) + 1
        first = sum(len(n) for n in listings.values()) + 1
        listings[s["key"]] = list(range(first, first + s["listings"]))
    return {"figures": figures, "listings": listings}


def by_key(key: str, registry=None) -> dict:
    """The entry whose `key` is `key` (the report's short name); KeyError naming the keys."""
    sections = (registry or load())["sections"]
    found = next((s for s in sections if s["key"] == key), None)
    if found is None:
        raise KeyError(f"no section with key {key!r}; keys: {[s['key'] for s in sections]}")
    return found


def makefile(registry=None) -> str:
    """Make variables and rules: the section list, the long chain, each `reads` order."""
    registry = registry or load()
    sections = registry["sections"]
    long = [s["notebook"] for s in sections if s["long"]]
    first = long + [s["notebook"] for s in sections if not s["long"]]  # long chain first
    lines = [f"SECTIONS := {' '.join(names(registry))}", f"LONG := {' '.join(long)}",
             f"REPORT := {registry['report'].get('notebook', 'report')}",
             f"FIGURES := {' '.join(f for s in sections for f in s['figures'])}"]
    lines += [f"$(EXECUTED)/{s['notebook']}.ipynb: "
              + " ".join(f"$(EXECUTED)/{r}.ipynb" for r in s["reads"])
              for s in sections if s["reads"]]
    lines.append("$(EXECUTED)/$(REPORT).ipynb: "
                 + " ".join(f"$(EXECUTED)/{n}.ipynb" for n in first))
    return "\n".join(lines) + "\n"


def checks(registry=None) -> str:
    """What a report PDF must show, one tab-separated line each: pattern, count, what."""
    registry = registry or load()
    sections = registry["sections"]
    n_figures = sum(len(s["figures"]) for s in sections)
    n_listings = sum(s["listings"] for s in sections)
    rows = [(f"Figure {k}:", 1, f"the caption of Figure {k}") for k in range(1, n_figures + 1)]
    rows += [(f"Listing {k}:", 1, f"the caption of Listing {k}")
             for k in range(1, n_listings + 1)]
    summed = {}  # pattern: [count, what]; the sections' counts of one pattern add up
    for pattern, count, what in [c for s in sections for c in s["checks"]] + \
            registry["report"]["checks"]:
        total, said = summed.get(pattern, (0, []))
        summed[pattern] = (total + count, [*said, what])
    rows += [(p, n, "; ".join(what)) for p, (n, what) in summed.items()]
    return "".join(f"{p}\t{n}\t{what}\n" for p, n, what in rows)


if __name__ == "__main__":  # python3 -m helpers.registry makefile|checks|names
    command = sys.argv[1] if len(sys.argv) > 1 else "names"
    output = {"makefile": makefile, "checks": checks,
              "names": lambda: "\n".join(names()) + "\n"}.get(command)
    if output is None:
        sys.exit(f"usage: python3 -m helpers.registry makefile|checks|names (got {command!r})")
    sys.stdout.write(output())
