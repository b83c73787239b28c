"""The input projected on its first k principal components, fitted on the training images only.

For rows X (n, d) normalised as in helpers.cifar.data: mean mu and the top-k right singular
vectors V_k (d, k) of the training rows X_train - mu; a row x becomes (x - mu) V_k (k values).
Fitting on validation or test rows would let them shape the features: fit() takes the split's
training part and nothing else. The first layer then costs k / d of what it costs on raw rows.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """mean (d,) and components (d, k), float32; explained: the fraction of the training
    rows' variance the k components hold."""

    mean: np.ndarray
    components: np.ndarray
    explained: float

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """(X - mean) components: rows (n, d) -> (n, k), float32."""
        return ((X - self.mean) @ self.components).astype(np.float32)


def fit(X_train: np.ndarray, k: int) -> Projection:
    """The first k principal components of the training rows (k in 1 .. min(n, d))."""
    n, d = X_train.shape
    if not 1 <= k <= min(n, d):
        raise ValueError(f"k must be in 1 .. {min(n, d)} for {n} rows of {d} values, got {k}")
    X = np.asarray(X_train, dtype=np.float64)
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    variance = s**2
    return Projection(mean.astype(np.float32), vt[:k].T.astype(np.float32),
                      float(variance[:k].sum() / variance.sum()))


def project_split(split, k: int):
    """(a copy of split with every part projected, the Projection) fitted on split.X_train."""
    from dataclasses import replace

    projection = fit(split.X_train, k)
    return replace(split, X_train=projection(split.X_train), X_val=projection(split.X_val),
                   X_test=projection(split.X_test)), projection
