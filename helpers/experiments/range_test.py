"""Smith's learning-rate range test (2017, section 3.3): its schedule, its rule (pure), and the
test as a training run (its steps, its curve, the range it chose)."""

import numpy as np

from helpers.experiments import protocol
from helpers.training.loop import check_batch

FRACTION = 0.25  # eta_min = eta_max / 4: Smith suggests a factor 3 to 4 between the bounds


def range_test_schedule(total_steps: int, eta_start: float, eta_end: float,
                        kind: str = "linear") -> np.ndarray:
    """eta_t for t = 0 .. total_steps - 1, rising from eta_start (t = 0) to eta_end (last step).

    kind "linear": eta_t = eta_start + t / (T - 1) (eta_end - eta_start), Smith's choice;
    "log": eta_t = eta_start (eta_end / eta_start)^(t / (T - 1)), evenly spaced in log eta.
    Needs total_steps >= 2 and 0 < eta_start < eta_end. Output: float64 (total_steps,).
    """
    if total_steps < 2 or not 0 < eta_start < eta_end:
        raise ValueError("need total_steps >= 2 and 0 < eta_start < eta_end")
    fraction = np.arange(total_steps) / (total_steps - 1)
    if kind == "linear":
        return eta_start + fraction * (eta_end - eta_start)
    if kind == "log":
        return eta_start * (eta_end / eta_start) ** fraction
    raise ValueError(f"kind must be 'linear' or 'log', got {kind!r}")


def smooth(values, window: int = 5) -> np.ndarray:
    """Centred moving average of odd width `window`; near the ends, the mean of what there is.

    Output float64, values' shape (1-D), also when there are fewer values than `window` (then
    every value is a mean over part of the window). A spike of height h moves it by h / window.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd int, got {window!r}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"smooth needs a 1-D array of at least one value, got shape "
                         f"{values.shape}")
    ones, centre = np.ones(window), slice(window // 2, window // 2 + len(values))
    sums = np.convolve(values, ones, mode="full")[centre]  # "same" would give max(n, window)
    counts = np.convolve(np.ones_like(values), ones, mode="full")[centre]
    return sums / counts


def eta_range(etas, scores, window: int = 5, fraction: float = FRACTION,
              higher_is_better: bool = True) -> tuple[float, float]:
    """(eta_min, eta_max) from one range-test run: scores recorded at increasing etas.

    eta_max is the eta at the maximum of the smoothed score (smooth(scores, window)): the
    point where validation accuracy stops rising. With losses pass higher_is_better=False:
    then eta_max is where the smoothed loss is lowest, just before it turns up.
    eta_min = fraction * eta_max. Ties go to the smallest eta.
    """
    etas, scores = np.asarray(etas, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if etas.shape != scores.shape or etas.ndim != 1 or len(etas) < 2:
        raise ValueError("etas and scores must be 1-D, of the same length >= 2")
    if np.any(np.diff(etas) <= 0):
        raise ValueError("etas must be strictly increasing")
    smoothed = smooth(scores if higher_is_better else -scores, window)
    eta_max = float(etas[np.argmax(smoothed)])
    return fraction * eta_max, eta_max


# The test as a training run


def etas(n_train: int, batch_size: int, epochs: int, eta_start: float, eta_end: float):
    """eta_t rising linearly from eta_start to eta_end over `epochs` epochs of mini-batches;
    ValueError when n_train images cannot fill a mini-batch."""
    check_batch(n_train, batch_size)
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
    """The range the rule (eta_range, above) reads off the seeds' mean validation accuracy."""
    at, accuracy = curve(history)
    stopped = float(at[-1]) if "stopped_at" in history else None
    if len(at) < 2:
        raise ValueError(f"the range test has {len(at)} measurement(s) at distinct etas"
                         + (f" (training diverged at eta = {stopped:.3g})" if stopped else "")
                         + ": too few to read a range from; lower eta_end, or measure more often")
    eta_min, eta_max = eta_range(at, accuracy.mean(axis=0), window, fraction)
    return {"eta_min": eta_min, "eta_max": eta_max, "window": window, "fraction": fraction,
            "stopped_at_eta": stopped, "measurements": len(at)}


def verdict(range_test: dict, assignment: dict) -> dict:
    """The range test's range against the assignment's on the best-lambda run, by the rule of
    helpers.experiments.protocol (a paired one-sided t test at the 5 % level against a margin,
    07's `margin` parameter) on validation, seed k of 07's retraining paired with seed k of 06's
    run. Arguments: the results of 07 (range_test: "retrained", "lambda", "parameters") and of
    06 (assignment). ValueError when the two are not paired (check_paired)."""
    check_paired(range_test, assignment)
    return protocol.paired_gain(range_test["retrained"]["accuracy_over_seeds"]["val"]["values"],
                                assignment["accuracy_over_seeds"]["val"]["values"],
                                range_test["parameters"]["margin"])


PAIRED = ("seeds", "split", "sizes", "lambda")  # what 07's retraining must share with 06's run


def check_paired(range_test: dict, assignment: dict) -> None:
    """ValueError unless 07's retraining and 06's run differ only by their eta range: the same
    seeds in the same order, split (its validation images), lambda and settings otherwise."""
    retrained = {**range_test["retrained"], "lambda": range_test.get("lambda")}
    differ = [f"{k}: 06 has {assignment.get(k, 'none')!r}, 07 {retrained.get(k, 'none')!r}"
              for k in PAIRED if k not in assignment or k not in retrained
              or assignment[k] != retrained[k]]
    mine, theirs = (dict(r.get("settings", {})) for r in (retrained, assignment))
    for k in sorted(set(mine) | set(theirs) - {"eta_min", "eta_max"}):
        if k not in ("eta_min", "eta_max") and mine.get(k) != theirs.get(k):
            differ.append(f"settings {k}: 06 has {theirs.get(k)!r}, 07 {mine.get(k)!r}")
    if differ:
        raise ValueError("07's retraining is not paired with 06's run, so no paired verdict: "
                         + "; ".join(differ) + ". Run both with the same seed, n_seeds, "
                         "split_seed, lambda and training settings (one profile, make report)")


def settings_of(settings, rise) -> dict:
    """What the range test ran, to record: the training settings it used (batch size, width,
    seed), without the cycle's (n_s, cycles, eta range, records a cycle, which the rising
    schedule replaces), and the schedule's first and last eta and its steps."""
    cycle = ("n_s", "cycles", "eta_min", "eta_max", "records_per_cycle")
    kept = {k: v for k, v in settings.to_dict().items() if k not in cycle}
    return {**kept, "eta_start": float(rise[0]), "eta_end": float(rise[-1]),
            "steps": len(rise)}
