"""How long each executed notebook took, by part (`make report-times`)."""

import json
from pathlib import Path

from helpers.paths import resolve


def times(folder) -> dict:
    """{notebook name: seconds} from the papermill metadata of the executed notebooks in folder."""
    found = {}
    for path in sorted(resolve(folder).glob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None and path.stem.count(".") == 0:
            found[path.stem] = float(meta["duration"])
    return found


PARTS = {".train(": "training", ".search(": "training", "study.": "training",
         ".split(": "data", "load_split(": "data", "import ": "start-up"}  # first match


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


if __name__ == "__main__":  # python -m helpers.workbook.timing build/<profile>/notebooks
    import sys

    print_times(sys.argv[1] if len(sys.argv) > 1 else "build/assignment/notebooks")
