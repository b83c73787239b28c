"""Ensembles of networks: class probabilities averaged over members, and their accuracy."""

import numpy as np

from helpers.model.network import scores, softmax, to_numpy


def probabilities(params: dict, X, chunk: int = 5000) -> np.ndarray:
    """p = softmax(s) of every network on X (n, d): (N, K, n) float64, in chunks of images.
    params and X numpy arrays or torch tensors (a run's parameters, a snapshot), read on the
    host."""
    params, X = {k: to_numpy(v) for k, v in params.items()}, to_numpy(X)
    parts = [softmax(scores(params, X[i : i + chunk])[0].astype(np.float64))
             for i in range(0, X.shape[0], chunk)]
    return np.concatenate(parts, axis=-1)


def flip_averaged(params: dict, X, X_mirrored, chunk: int = 5000) -> np.ndarray:
    """Test-time flips: p = softmax((s(x) + s(mirror x)) / 2) of every network, (N, K, n)
    float64, from the rows X (n, d) and their mirror images X_mirrored (n, d), as the network
    reads them (projected by the run's own projection). The scores are averaged, not the
    probabilities: the network with flips is one classifier whose score is the mean of its two
    views' scores (a linear average before the softmax); an ensemble of such networks then
    averages their probabilities like any other (average)."""
    params, X, X_mirrored = ({k: to_numpy(v) for k, v in params.items()}, to_numpy(X),
                             to_numpy(X_mirrored))
    if X.shape != X_mirrored.shape:
        raise ValueError(f"an image and its mirror image pair up: got {X.shape} and "
                         f"{X_mirrored.shape}")
    parts = [softmax((scores(params, X[i : i + chunk])[0].astype(np.float64)
                      + scores(params, X_mirrored[i : i + chunk])[0].astype(np.float64)) / 2)
             for i in range(0, X.shape[0], chunk)]
    return np.concatenate(parts, axis=-1)


def average(members: list, X) -> np.ndarray:
    """The ensemble's probabilities (K, n): the mean of p over every network of every member.

    members: parameter dicts (each N networks stacked, e.g. end-of-cycle snapshots or seeds).
    Averaging probabilities, not scores: each member votes with its confidence in [0, 1].
    """
    total = sum(probabilities(p, X).sum(axis=0) for p in members)
    count = sum(p["W1"].shape[0] for p in members)
    return total / count


def accuracy(members: list, X, y) -> float:
    """Fraction of images whose class of highest mean probability is the label y (n,)."""
    return float((average(members, X).argmax(axis=0) == np.asarray(y)).mean())


def take(params: dict, networks) -> dict:
    """The networks `networks` (indices) of a stack, as a stack of their own (numpy)."""
    index = np.asarray(networks).reshape(-1)
    return {k: to_numpy(v)[index] for k, v in params.items()}
