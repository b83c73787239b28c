"""The input projected on its first k principal components, fitted on the training images only.

For rows X (n, d) normalised as in helpers.cifar.data: mean mu and the top-k eigenvectors V_k
(d, k) of the training rows' covariance (X_train - mu)^T (X_train - mu) / n; a row x becomes
z = (x - mu) V_k (k values). Fitting on validation or test rows would let them shape the
features: fit() takes the split's training part and nothing else. The first layer then costs
k / d of what it costs on raw rows.

The bonus flips and shifts images in pixel space, then projects each mini-batch (one (n, d) x
(d, k) product a step, exact). Carrying the flips and translations into component space
instead (z -> z V^T A V, dropping what a translation moves into the components from outside
them) measured no faster per step (the batch's translations grouped) and 6 % off in norm.
"""

import hashlib
from dataclasses import dataclass, replace

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
        return self.centred(X - self.mean)

    def centred(self, Xc: np.ndarray) -> np.ndarray:
        """Xc components for rows Xc already centred (X - mean): the projection's product."""
        return (Xc @ self.components).astype(np.float32)


def on_device(projection: Projection, device):
    """The projection for torch rows on `device`: X (n, d) -> (X - mean) components (n, k),
    float32, its mean and components copied to the device once."""
    from helpers.model.network import to_device

    mean, components = to_device(projection.mean, device), to_device(projection.components, device)
    return lambda X: (X - mean) @ components


def fit(X_train: np.ndarray, k: int, chunk: int = 5000) -> Projection:
    """The first k principal components of the training rows (k in 1 .. min(n, d)): the top
    eigenvectors of their covariance, accumulated in float64 over chunks of rows."""
    n, d = X_train.shape
    if not 1 <= k <= min(n, d):
        raise ValueError(f"k must be in 1 .. {min(n, d)} for {n} rows of {d} values, got {k}")
    from helpers.training import workers  # the chunks' products side by side

    mean = X_train.mean(axis=0, dtype=np.float64)

    def part(i):
        rows = (X_train[i : i + chunk] - mean).astype(np.float32)
        return (rows.T @ rows).astype(np.float64)

    scatter, starts = np.zeros((d, d)), range(0, n, chunk)
    at_once = min(workers.count(), 4)  # a few d x d products held at a time
    for j in range(0, len(starts), at_once):
        for product in workers.run([lambda i=i: part(i) for i in starts[j : j + at_once]]):
            scatter += product  # in chunk order: the same sum however the jobs ran
    variance, vectors = np.linalg.eigh(scatter / n)  # ascending
    top = vectors[:, ::-1][:, :k]
    return Projection(mean.astype(np.float32), np.ascontiguousarray(top, np.float32),
                      float(variance[::-1][:k].sum() / variance.sum()))


def project_split(split, k: int):
    """(a copy of split with every part projected, the Projection) fitted on split.X_train."""
    projection = fit(split.X_train, k)
    arrays = {f"X_{part}": projection(getattr(split, f"X_{part}"))
              for part in ("train", "val", "test")}
    for array in arrays.values():  # read-only, as load_split's (keyed by content, once)
        array.flags.writeable = False
    if hasattr(split, "fingerprint"):  # the data it came from, and the projection
        arrays["fingerprint"] = projected_fingerprint(split, projection)
    return replace(split, **arrays), projection


def projected_fingerprint(split, projection: Projection) -> str:
    """The fingerprint of `split` projected by `projection` ("" where split has none)."""
    if not getattr(split, "fingerprint", ""):
        return ""
    digest = hashlib.sha256(split.fingerprint.encode())
    for array in (projection.mean, projection.components):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
