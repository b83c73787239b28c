"""Parameter profiles (params/<profile>.yaml) for the notebooks, with unknown keys rejected."""

import argparse
import ast
import json
import sys
from pathlib import Path

import yaml

from helpers.paths import NOTEBOOKS, PROFILES

SHARED = "shared"  # the profile's section passed to every notebook that has the parameter


def notebook_parameters(notebook) -> dict:
    """{name: default} of a notebook's `parameters` cell (papermill.inspect_notebook)."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    return {name: info["default"] for name, info in found.items()}


TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
RULES = {  # parameters whose 0 or sign means something: the values allowed, and what they mean
    "n_s": (lambda v: v >= 0, ">= 0 (0: 2 floor(n / batch_size))"),
    "limit": (lambda v: v >= 0, ">= 0 (0: every image)"),
    "lam": (lambda v: v >= 0 or v == -1, ">= 0, or -1 (the best lambda of the search it reads)"),
    "n_seeds": (lambda v: v >= 1, ">= 1"),
    "count": (lambda v: v >= 1, ">= 1"),
    "cycles": (lambda v: v >= 1, ">= 1"),
    "records_per_cycle": (lambda v: v >= 1, ">= 1"),
    "half_width": (lambda v: v > 0, "> 0"),
    "h": (lambda v: v > 0, "> 0"),
}


def declared(notebook) -> dict:
    """{name: type name} of the typed literals in a notebook's `parameters` cell."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    cell = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise ValueError(f"{notebook} has no cell tagged 'parameters'")
    tree = ast.parse("".join(cell["source"]))
    return {node.target.id: ast.unparse(node.annotation) for node in tree.body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}


def check_values(values: dict, types: dict, where: str) -> None:
    """ValueError naming the parameter whose value has the wrong type or breaks its rule."""
    for name, value in values.items():
        kinds = TYPES.get(types.get(name), (object,))
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise ValueError(f"{where}: parameter {name} must be a {types[name]}, got "
                             f"{value!r} ({type(value).__name__})")
        rule = RULES.get(name)
        if rule and not isinstance(value, str) and not rule[0](value):
            raise ValueError(f"{where}: parameter {name} must be {rule[1]}, got {value!r}")


def check(parameters: dict, notebook) -> None:
    """ValueError naming the keys of `parameters` that `notebook` does not have.

    papermill only warns about unknown parameters; a typo would silently run the defaults.
    """
    known = declared(notebook)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ValueError(f"{Path(notebook).name} has no parameter(s) {unknown}; "
                         f"its parameters are {sorted(known)}")


def load_profile(profile: str) -> dict:
    """The mapping in params/<profile>.yaml: {"shared": {...}, "<notebook>": {...}, ...}."""
    path = PROFILES / f"{profile}.yaml"
    if not path.is_file():
        names = sorted(p.stem for p in PROFILES.glob("*.yaml"))
        raise ValueError(f"no profile {profile!r} ({path} missing); profiles: {names}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected a mapping of sections, each a mapping of parameters")
    unknown = sorted(set(data) - {SHARED} - {p.stem for p in NOTEBOOKS.glob("*.ipynb")})
    if unknown:
        raise ValueError(f"{path}: section(s) {unknown} name no notebook in {NOTEBOOKS}")
    return data


def parameters_for(profile: str, notebook: str, device: str = "") -> dict:
    """The parameters of one notebook under a profile, checked against the notebook.

    Order of precedence: device (make's DEVICE: "cpu", "cuda"; "" leaves the profile's) for a
    notebook that has the parameter, the notebook's own section, then the shared section (only
    the keys the notebook has), then profile=<profile>. ValueError for unknown
    notebook-section keys.
    """
    data = load_profile(profile)
    path = NOTEBOOKS / f"{notebook}.ipynb"
    known = declared(path)
    shared = {k: v for k, v in data.get(SHARED, {}).items() if k in known}
    own = data.get(notebook, {})
    check(own, path)
    values = {"profile": profile, **shared, **own} if "profile" in known else {**shared, **own}
    if device and "device" in known:
        values["device"] = device
    check_values(values, known, f"params/{profile}.yaml, {notebook}")
    return values


def check_profile(profile: str) -> None:
    """Every section of a profile is valid; each shared key belongs to some notebook."""
    data = load_profile(profile)
    everything = set()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        everything |= set(declared(path))
        check(data.get(path.stem, {}), path)
    stray = sorted(set(data.get(SHARED, {})) - everything)
    if stray:
        raise ValueError(f"params/{profile}.yaml: shared key(s) {stray} belong to no notebook")


def main(argv=None) -> int:
    """`python -m helpers.workbook.profiles PROFILE NOTEBOOK [-o FILE]`: one notebook's YAML."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("profile")
    parser.add_argument("notebook", help="notebook name without .ipynb, e.g. 02-clr-one-cycle")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        check_profile(args.profile)
        text = yaml.safe_dump(parameters_for(args.profile, args.notebook), sort_keys=False)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
