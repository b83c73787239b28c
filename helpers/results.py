"""Results of the notebooks: atomic JSON files with their origin, listings, a training cache."""

import hashlib
import json
import os
import pickle
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]  # the repository
ENGINE = ("data", "download", "blas", "network", "schedule", "settings", "training", "search",
          "gradcheck")  # modules whose source text is part of every cache key
CACHE_FORMAT = b"value+seconds v2"  # part of every cache key: change it when the format changes


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


def _plain(value):
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


def save(name: str, numbers: dict, parameters: dict, build_dir, profile: str,
         started: float) -> Path:
    """Write <build_dir>/<profile>/results/<name>.json atomically; return its path.

    numbers: the notebook's results (JSON types or numpy); parameters: the notebook's
    parameters; started: time.time() when the notebook started (gives "seconds").
    """
    record = {"notebook": name, "profile": profile, "parameters": parameters,
              "git_commit": git_commit(), "seconds": round(time.time() - started, 2),
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **numbers}
    text = json.dumps(record, indent=1, default=_plain).encode()
    return atomic_write(resolve(build_dir) / profile / "results" / f"{name}.json",
                         lambda f: f.write(text))


def load(name: str, build_dir, profile: str) -> dict:
    """The results of notebook `name`; FileNotFoundError saying which notebook to run first."""
    path = resolve(build_dir) / profile / "results" / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run notebooks/{name}.ipynb first "
                                f"(make report PROFILE={profile} runs every notebook in order)")
    return json.loads(path.read_text())


def cache_key(inputs: dict, fn) -> str:
    """sha256 of the training inputs, fn's name and the engine modules' source text."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=_plain).encode())
    digest.update(f"{fn.__module__}.{fn.__qualname__}".encode() + CACHE_FORMAT)
    for module in ENGINE:
        source = ROOT / "helpers" / f"{module}.py"
        digest.update(source.read_bytes() if source.is_file() else b"")
    return digest.hexdigest()


def cached(cache_dir, inputs: dict, fn, *args, **kwargs) -> tuple:
    """(fn(*args, **kwargs), seconds it took), computed once per cache_key(inputs, fn).

    inputs: every value that changes fn's result (settings, lambdas, seeds, split, limit).
    A hit loads the stored value and its original compute time from cache_dir; a miss
    computes it and writes both atomically (pickle). cache_dir None: no cache.
    """
    path = None if cache_dir is None else \
        resolve(cache_dir) / f"{fn.__name__}-{cache_key(inputs, fn)[:20]}.pkl"
    if path is not None and path.is_file():
        with open(path, "rb") as f:
            stored = pickle.load(f)
        return stored["value"], stored["seconds"]
    started = time.perf_counter()
    stored = {"value": fn(*args, **kwargs), "seconds": round(time.perf_counter() - started, 2)}
    if path is not None:
        atomic_write(path, lambda f: pickle.dump(stored, f, protocol=pickle.HIGHEST_PROTOCOL))
    return stored["value"], stored["seconds"]


def accuracies(params: dict, split, lambdas, evaluate) -> dict:
    """{"train", "val", "test"}: (N,) accuracy fractions of the N networks on each whole set.

    evaluate: helpers.network.evaluate (passed in, so this module imports no engine code).
    """
    return {part: np.asarray(evaluate(params, getattr(split, f"X_{part}"),
                                      getattr(split, f"y_{part}"), lambdas)["accuracy"])
            for part in ("train", "val", "test")}


def spread(values) -> dict:
    """{"mean", "std", "values"} of a list of numbers (std with ddof 1; 0 for one value)."""
    values = [float(v) for v in np.ravel(values)]
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "std": std, "values": values}


def accuracy_listing(accuracy: dict, steps: int) -> str:
    """The report's accuracy listing: "Accuracy for training : 64.56% with steps 1000"."""
    names = {"train": "training", "val": "validation", "test": "testing"}
    return "\n".join(f"Accuracy for {names[k]} : {100 * accuracy[k]:.2f}% with steps {steps}"
                     for k in names)


def search_listing(rows: list) -> str:
    """The report's search listing, one line per row: lambda, training and validation accuracy."""
    return "\n".join(f"lambda={r['lambda']}, training accuracy={100 * r['train_accuracy']:.2f}%, "
                     f"validation accuracy={100 * r['val_accuracy']:.2f}%" for r in rows)


def gradient_listing(errors: dict) -> str:
    """The report's gradient listing for one oracle: errors {W1, b1, W2, b2: max rel. error}."""
    lines = []
    for kind in ("W", "b"):
        lines += [f"Relative errors in {kind}:"] + [
            f"Layer {k}: max relative error = {errors[f'{kind}{k + 1}']:.2e}" for k in (0, 1)]
        lines.append("")
    return "\n".join(lines[:-1])


def times(folder) -> dict:
    """{notebook name: seconds} from the papermill metadata of the executed notebooks in folder."""
    found = {}
    for path in sorted(resolve(folder).glob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None and path.stem.count(".") == 0:
            found[path.stem] = float(meta["duration"])
    return found


PARTS = {"load_split(": "data", "results.cached(": "training", "import ": "start-up"}  # first match


def breakdown(path) -> dict:
    """Seconds of one executed notebook by part, from papermill's per-cell durations.

    The cell that trains (calls results.cached: its updates and whole-set evaluations),
    the one that loads data, the imports, the rest (listings, figures, saving), and the
    kernel start-up (papermill's duration less its cells'). Output: {part: seconds}.
    """
    nb = json.loads(Path(path).read_text())
    parts = dict.fromkeys(("start-up", "data", "training", "rest"), 0.0)
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        part = next((p for key, p in PARTS.items() if key in text), "rest")
        parts[part] += cell["metadata"].get("papermill", {}).get("duration") or 0.0
    parts["start-up"] += nb["metadata"]["papermill"]["duration"] - sum(parts.values())
    return parts


def evaluation_seconds(results_file) -> float | None:
    """Seconds the whole-set evaluations took inside the training run behind a results file
    (its history's "seconds"; None when the file keeps no history, as the searches')."""
    path = Path(results_file)
    record = json.loads(path.read_text()) if path.is_file() else {}
    return record.get("history", {}).get("seconds", {}).get("evaluation")


def print_times(folder) -> None:
    """The table of `make report-times`: each executed notebook's seconds, by part."""
    folder = resolve(folder)
    columns = ("start-up", "data", "training", "rest")
    total = dict.fromkeys(columns, 0.0)
    print(f"{'notebook':<26} {'seconds':>7}  " + "".join(f"{k:>10}" for k in columns)
          + "  of which evaluation")
    for name, value in times(folder).items():
        parts = breakdown(folder / f"{name}.ipynb")
        total = {k: total[k] + v for k, v in parts.items()}
        evaluation = evaluation_seconds(folder.parent / "results" / f"{name}.json")
        print(f"{name:<26} {value:7.1f}  " + "".join(f"{v:10.1f}" for v in parts.values())
              + ("" if evaluation is None else f"  {evaluation:10.1f}"))
    print(f"{'total (one after another)':<26} {sum(total.values()):7.1f}  "
          + "".join(f"{v:10.1f}" for v in total.values()))


if __name__ == "__main__":  # python -m helpers.results build/<profile>/notebooks
    import sys

    print_times(sys.argv[1] if len(sys.argv) > 1 else "build/assignment/notebooks")
