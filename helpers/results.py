"""Results files of the notebooks: atomic JSON with their parameters, commit and seconds."""

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]  # the repository


def resolve(path) -> Path:
    """A path (str or Path) relative to the repository root unless it is absolute."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


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
