"""Reading CIFAR-10 batch files safely: a restricted unpickler and structural checks."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path

import numpy as np

from helpers.cifar.download import FIX, META_FILE, DataError


class _Refused(Exception):
    """A pickle asked for a global that a CIFAR-10 batch never needs."""


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """How Python 3 protocol-2 pickles rebuild bytes: str -> latin-1 bytes, and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


_ALLOWED = {("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
            ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
            ("_codecs", "encode"): _latin1_bytes}


class _CifarUnpickler(pickle.Unpickler):
    """Unpickler that admits only the numpy globals a CIFAR-10 batch holds."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None


def _unpickle(path: Path, digests: dict | None = None) -> object:
    """Load the pickle at `path` (Path) with the restricted unpickler; DataError on any problem.
    digests: a dict that gets {path.name: sha256 of the bytes read} (None: not hashed)."""
    try:
        data = path.read_bytes()
        if digests is not None:
            digests[path.name] = hashlib.sha256(data).hexdigest()
        return _CifarUnpickler(io.BytesIO(data), encoding="bytes").load()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; {FIX}") from None
    except _Refused as err:
        raise DataError(f"refusing to load {path}: it asks for global {err}: "
                        "not a CIFAR-10 batch") from None
    except Exception as err:
        raise DataError(f"{path}: cannot unpickle ({type(err).__name__}: {err}); the file is "
                        f"truncated or corrupt: replace it ({FIX})") from err


def load_batch(path: str | os.PathLike, digests: dict | None = None) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Load one CIFAR-10 batch file safely; digests (a dict, optional) gets the sha256 of the
    file's bytes as they were read, under the file's name.

    Input: path to data_batch_k or test_batch. Output: X uint8 (n, 3072), one image per row,
    1024 red then 1024 green then 1024 blue values (each 32x32 row-major); y int64 (n,) in 0..9.
    Raises DataError naming the file when it is missing, corrupt or not a CIFAR-10 batch.
    """
    path = Path(path)
    raw = _unpickle(path, digests)
    if not isinstance(raw, dict) or b"data" not in raw or b"labels" not in raw:
        found = sorted(map(repr, raw)) if isinstance(raw, dict) else type(raw).__name__
        raise DataError(f"{path}: not a CIFAR-10 batch: expected a dict with keys b'data' and "
                        f"b'labels', found {found}")
    X = raw[b"data"]
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != 3072:
        got = f"{X.dtype} {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
        raise DataError(f"{path}: not a CIFAR-10 batch: b'data' must be uint8 (n, 3072), got {got}")
    return np.ascontiguousarray(X), _check_labels(raw[b"labels"], len(X), path)


def _check_labels(labels: object, n: int, path: Path) -> np.ndarray:
    """Labels (list or array of n ints in 0..9) -> int64 (n,); DataError naming `path` otherwise."""
    y = np.asarray(labels) if isinstance(labels, (list, np.ndarray)) else None
    if y is not None and y.size == 0:
        y = y.astype(np.int64)
    if y is None or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{path}: not a CIFAR-10 batch: b'labels' must be a list of ints")
    if len(y) != n:
        raise DataError(f"{path}: not a CIFAR-10 batch: {len(y)} labels for {n} images")
    if n and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{path}: labels must lie in 0..9, found {y.min()}..{y.max()}")
    return y.astype(np.int64)


def load_label_names(folder: str | os.PathLike) -> list[str]:
    """Class names from `folder`/batches.meta: list of 10 str ("airplane", ..., "truck")."""
    path = Path(folder) / META_FILE
    raw = _unpickle(path)
    names = raw.get(b"label_names") if isinstance(raw, dict) else None
    if not isinstance(names, list) or len(names) != 10 or \
            not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"{path}: not CIFAR-10 metadata: expected b'label_names' with 10 names")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
