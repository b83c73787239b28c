"""The learning-rate range test as a training run: its schedule, its curve, its chosen range."""

import numpy as np

from helpers.lrrange import eta_range, range_test_schedule


def etas(n_train: int, batch_size: int, epochs: int, eta_start: float, eta_end: float):
    """eta_t rising linearly from eta_start to eta_end over `epochs` epochs of mini-batches."""
    return range_test_schedule(epochs * (n_train // batch_size), eta_start, eta_end)


def record_steps(total: int, records: int) -> list:
    """`records` evenly spaced steps 0 .. total - 1 at which validation is measured."""
    return sorted({int(t) for t in np.linspace(0, total - 1, records)})


def curve(history: dict, metric: str = "val_accuracy") -> tuple:
    """(eta at each recorded step (K,), metric per network (N, K)) from a range-test history.

    A record at the step where training stopped (or at the end) takes the last eta used.
    """
    table, schedule = history["curves"], history["eta"]["eta"]
    steps = sorted(set(table["step"]))
    values = np.full((max(table["network"]) + 1, len(steps)), np.nan)
    column = {t: k for k, t in enumerate(steps)}
    for t, k, v in zip(table["step"], table["network"], table[metric], strict=True):
        values[k, column[t]] = v
    at = np.array([schedule[min(t, len(schedule) - 1)] for t in steps])
    keep = np.concatenate([[True], np.diff(at) > 0])  # the stopping record repeats an eta
    return at[keep], values[:, keep]


def choose(history: dict, window: int, fraction: float) -> dict:
    """The range the rule reads off the seeds' mean validation accuracy (helpers.lrrange)."""
    at, accuracy = curve(history)
    stopped = float(at[-1]) if "stopped_at" in history else None
    if len(at) < 2:
        raise ValueError(f"the range test has {len(at)} measurement(s) at distinct etas"
                         + (f" (training diverged at eta = {stopped:.3g})" if stopped else "")
                         + ": too few to read a range from; lower eta_end, or measure more often")
    eta_min, eta_max = eta_range(at, accuracy.mean(axis=0), window, fraction)
    return {"eta_min": eta_min, "eta_max": eta_max, "window": window, "fraction": fraction,
            "stopped_at_eta": stopped, "measurements": len(at)}
