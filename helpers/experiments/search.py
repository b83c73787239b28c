"""The search for the regularisation strength lambda: every candidate trained at once."""

import numpy as np

from helpers.training.settings import Settings
from helpers.training.workers import train

KINDS = ("grid", "random")


def lambda_values(l_min: float, l_max: float, count: int, kind: str = "grid", seed: int = 0):
    """Candidate lambdas 10^l for l in [l_min, l_max], sorted ascending: (count,) float64.

    kind "grid": l evenly spaced (both ends included); "random": l uniform at random from a
    generator seeded with `seed` (log-uniform lambdas).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if not l_min <= l_max:
        raise ValueError(f"l_min ({l_min}) must not be above l_max ({l_max})")
    if kind == "grid":
        exponents = np.linspace(l_min, l_max, count)
    else:
        exponents = np.sort(np.random.default_rng(seed).uniform(l_min, l_max, count))
    return 10.0**exponents


def centred_range(best_lambda: float, half_width: float) -> tuple:
    """(l_min, l_max) = log10(best_lambda) -/+ half_width: a fine range around an optimum."""
    if not best_lambda > 0:
        raise ValueError(f"best_lambda must be > 0 to centre a log range on it, got {best_lambda}")
    centre = float(np.log10(best_lambda))
    return centre - half_width, centre + half_width


def search(split, settings: Settings, lambdas, progress: bool = True, device=None) -> list:
    """Train one network per lambda side by side (shared initialisation and batches).

    Output: a tidy table, one row per lambda in the given order, each
    {"lambda", "train_accuracy", "val_accuracy", "train_cost", "val_cost", "train_loss",
    "val_loss"}, the metrics measured on the whole sets at the end of training.
    """
    _, history = train(split, settings, lambdas, record_curves=False, progress=progress,
                       device=device)
    curves = history["curves"]
    names = ("accuracy", "cost", "loss")
    columns = [f"{part}_{name}" for name in names for part in ("train", "val")]
    return [
        {"lambda": curves["lambda"][i], **{c: curves[c][i] for c in columns}}
        for i in range(len(curves["lambda"]))
    ]


def best(rows: list, k: int = 3) -> list:
    """The k rows with the highest validation accuracy, best first (ties: smaller lambda)."""
    return sorted(rows, key=lambda r: (-r["val_accuracy"], r["lambda"]))[:k]
