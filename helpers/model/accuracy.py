"""Accuracy of N networks on a split's whole sets, and its mean ± std over seeds."""

import numpy as np

from helpers.model.network import evaluate


def accuracies(params: dict, split, lambdas) -> dict:
    """{"train", "val", "test"}: (N,) accuracy fractions of the N networks on each whole set.

    """
    return {part: np.asarray(evaluate(params, getattr(split, f"X_{part}"),
                                      getattr(split, f"y_{part}"), lambdas)["accuracy"])
            for part in ("train", "val", "test")}


def over_seeds(values) -> dict:
    """{"mean", "std", "values"} of a list of numbers (std with ddof 1; 0 for one value)."""
    values = [float(v) for v in np.ravel(values)]
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "std": std, "values": values}
