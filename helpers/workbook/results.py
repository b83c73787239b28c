"""A run's outputs on disk: results files (JSON with their parameters, commit and seconds) and
figures, each written atomically; reading them back, by section."""

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from helpers import registry
from helpers.paths import ORIGINAL, ROOT, resolve


def git_commit() -> str:
    """`git rev-parse HEAD` of the repository, "-dirty" appended when tracked files changed."""
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True,  # noqa: E731
                                        text=True, check=True, timeout=30).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("-dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def plain(value):
    """numpy scalars and arrays as JSON types (json.dump's `default`)."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def atomic_write(path: Path, write) -> Path:
    """Call write(file) on a temporary file beside `path`, then os.replace it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save(folder, name: str, numbers: dict, parameters: dict, profile: str,
         started: float) -> Path:
    """Write <folder>/<name>.json atomically; return its path.

    numbers: the notebook's results (JSON types or numpy); parameters: the notebook's
    parameters; started: time.time() when the notebook started (gives "seconds").
    """
    record = {"notebook": name, "profile": profile, "parameters": parameters,
              "git_commit": git_commit(), "seconds": round(time.time() - started, 2),
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **numbers}
    text = json.dumps(record, indent=1, default=plain).encode()
    return atomic_write(resolve(folder) / f"{name}.json", lambda f: f.write(text))


def load(name: str, folder) -> dict:
    """The results of notebook `name` in folder; FileNotFoundError saying what to run first."""
    path = resolve(folder) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run notebooks/{name}.ipynb first "
                                f"(make report runs every notebook in order)")
    return json.loads(path.read_text())


def load_sections(build_dir, profile: str) -> dict:
    """{section key: its results} for every section of the registry (make report's results)."""
    folder = resolve(build_dir) / profile / "results"
    return {s["key"]: load(s["notebook"], folder) for s in registry.load()["sections"]}


def load_original(path=ORIGINAL) -> dict:
    """The original report's published numbers, {group: {name: value}} (sources dropped)."""
    data = json.loads(resolve(path).read_text())
    return {group: {k: v["value"] for k, v in entries.items()}
            for group, entries in data.items() if isinstance(entries, dict)}


def save_figure(fig, stem, formats=("png", "pdf"), dpi: int = 200) -> list:
    """Write a matplotlib figure to stem.png and stem.pdf, each atomically.

    stem: path without suffix (str or Path); its folder is created. Output: the paths written.
    """
    stem = Path(stem)
    return [atomic_write(stem.with_name(f"{stem.name}.{fmt}"),
                         lambda f, fmt=fmt: fig.savefig(f, format=fmt, dpi=dpi))
            for fmt in formats]
