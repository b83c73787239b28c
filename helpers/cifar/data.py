"""Find (or download) CIFAR-10 and split it, normalised, for the workbook."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.cifar import download as _dl
from helpers.cifar.batches import load_batch, load_label_names
from helpers.cifar.download import DataError, download_cifar10, missing_files

DEFAULT_DIR, URL, MD5 = _dl.DEFAULT_DIR, _dl.URL, _dl.MD5
TRAIN_FILES, TEST_FILE, META_FILE, FIX = _dl.TRAIN_FILES, _dl.TEST_FILE, _dl.META_FILE, _dl.FIX
__all__ = ["DataError", "Split", "find_cifar10", "load_batch", "load_label_names", "load_split"]
SPLITS: dict[str, int | None] = {"exercise": None, "search": 5000, "final": 1000}  # see load_split


def find_cifar10(path: str | os.PathLike | None = None, download: bool = False) -> Path:
    """Folder holding data_batch_1..5, test_batch and batches.meta (Path).

    Looks at `path`, then $CIFAR10_DIR, then DEFAULT_DIR; a given `path` or $CIFAR10_DIR that is
    wrong is an error. Nothing found: download into DEFAULT_DIR if `download`, else DataError.
    """
    for label, value in (("path", path), ("CIFAR10_DIR", os.environ.get("CIFAR10_DIR") or None)):
        if value is not None:
            folder = Path(value).expanduser()
            missing = missing_files(folder) if folder.is_dir() else ["the folder itself"]
            if missing:
                raise DataError(f"{label}={folder} is not a CIFAR-10 folder (missing: "
                                f"{', '.join(missing)}); {FIX}")
            return folder
    if not missing_files(DEFAULT_DIR):
        return DEFAULT_DIR
    if download:
        return download_cifar10(DEFAULT_DIR)
    raise DataError(f"CIFAR-10 not found: no path given, CIFAR10_DIR unset, {DEFAULT_DIR} "
                    f"missing or incomplete; {FIX}")


@dataclass(eq=False)
class Split:
    """One train/val/test split, normalised with the training part's statistics.

    X_* float32 (n, 3072), C-contiguous, (pixels/255 - mean) / std; y_* int64 (n,).
    mean, std float32 (3072,) of the training part (pixels/255; a std of 0 is stored as 1).
    val_indices int (n_val,): rows of the 50,000 concatenated training images (batch order)
    that became validation; None for "exercise". name (str) and seed (int) made it.
    fingerprint (str): sha256 over the sha256 of each file's bytes as they were read
    (fingerprint()): another copy of the data set, however named, gives another one. The
    arrays load_split makes are read-only: a split changed by hand is a new split (e.g.
    dataclasses.replace), and the training cache keys a split's arrays by their bytes.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    val_indices: np.ndarray | None
    name: str
    seed: int
    fingerprint: str = ""

    def describe(self) -> str:
        """One line (str): sizes and where validation comes from."""
        source = ("data_batch_2" if self.val_indices is None
                  else f"held out of data_batch_1..5, seed {self.seed}")
        return (f"{self.name}: train {len(self.y_train)}, val {len(self.y_val)} ({source}), "
                f"test {len(self.y_test)} (test_batch)")


def load_split(name: str, path: str | os.PathLike | None = None, seed: int = 0,
               limit: int | None = None, download: bool = False) -> Split:
    """Load split `name` from find_cifar10(path, download); SPLITS[name] = images held out.

    "exercise": train data_batch_1 (10,000), val data_batch_2 (10,000); seed unused.
    "search": data_batch_1..5 concatenated in batch order (50,000); 5,000 held out, 45,000 train.
    "final": the same 50,000; 1,000 held out, 49,000 train. Test is always test_batch (10,000).
    Held out = np.sort(perm[start:start + n_val]) with perm = np.random.default_rng(seed)
    .permutation(50000) and start the images held out by the splits before it in SPLITS
    (held_out_slice: search perm[:5000], final perm[5000:6000]): the final split's
    validation is disjoint from the search split's, on which every choice is made. Training
    keeps the other images in their original order. limit (int or None) keeps the first `limit`
    images of each of train/val/test (and val_indices) after splitting; the statistics are then
    those of the kept training images. Output: Split. ValueError: unknown name, limit < 1.
    """
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; valid names: {', '.join(SPLITS)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    digests = {}
    parts, val_indices = _raw_parts(find_cifar10(path, download), held_out_slice(name), seed,
                                    digests)
    parts = {k: (X[:limit], y[:limit].copy()) for k, (X, y) in parts.items()}
    mean, std = _stats(parts["train"][0])
    arrays = {}
    for part, (X, y) in parts.items():
        arrays[f"X_{part}"], arrays[f"y_{part}"] = _normalise(X, mean, std), y
    val_indices = None if val_indices is None else val_indices[:limit].copy()
    for array in (*arrays.values(), mean, std, val_indices):  # an edit in place raises at once
        if array is not None:  # (the cache keys them by their bytes, hashed once)
            array.flags.writeable = False
    return Split(**arrays, mean=mean, std=std, val_indices=val_indices, name=name, seed=seed,
                 fingerprint=fingerprint(digests))


def held_out_slice(name: str) -> slice | None:
    """The positions in the seeded permutation of the 50,000 training images that split
    `name` holds out: after those of every split before it in SPLITS, so that no two splits
    share a validation image (None for "exercise")."""
    if SPLITS[name] is None:
        return None
    start = 0
    for other, size in SPLITS.items():
        if other == name:
            return slice(start, start + size)
        start += size or 0
    raise AssertionError(name)


def fingerprint(digests: dict) -> str:
    """One sha256 (hex) of {file name: sha256 of its bytes}, in name order."""
    lines = "".join(f"{name}:{digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(lines.encode()).hexdigest()


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """fingerprint() of the six batch files of a CIFAR-10 folder, read whole."""
    files = (*TRAIN_FILES, TEST_FILE)
    return fingerprint({f: hashlib.sha256((Path(folder) / f).read_bytes()).hexdigest()
                        for f in files})


def _raw_parts(folder: Path, held: slice | None, seed: int,
               digests: dict | None = None) -> tuple[dict, np.ndarray | None]:
    """{"train", "val", "test"} -> (X uint8 (n, 3072), y int64 (n,)), and val indices or None
    (held: the permutation's positions held out, held_out_slice); digests gets each file's
    sha256 (load_batch)."""
    test = load_batch(folder / TEST_FILE, digests)
    if held is None:
        return {"train": load_batch(folder / TRAIN_FILES[0], digests),
                "val": load_batch(folder / TRAIN_FILES[1], digests), "test": test}, None
    Xs, ys = zip(*(load_batch(folder / f, digests) for f in TRAIN_FILES), strict=True)
    X, y = np.concatenate(Xs), np.concatenate(ys)
    del Xs
    if not 0 <= held.start < held.stop < len(y):
        raise ValueError(f"cannot hold out images {held.start}..{held.stop - 1} of a "
                         f"permutation of {len(y)} training images")
    val = np.sort(np.random.default_rng(seed).permutation(len(y))[held])
    train = np.ones(len(y), dtype=bool)
    train[val] = False
    return {"train": (X[train], y[train]), "val": (X[val], y[val]), "test": test}, val


def _stats(X: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of X/255 for X uint8 (n, d): float32 (d,) each; std 0 -> 1.

    Exact integer sums over row chunks: no float copy of X is ever built.
    """
    total = np.zeros(X.shape[1], dtype=np.int64)
    squares = np.zeros(X.shape[1], dtype=np.int64)
    for start in range(0, len(X), chunk):
        block = X[start:start + chunk].astype(np.int64)
        total += block.sum(axis=0)
        squares += (block * block).sum(axis=0)
    mean = total / len(X)
    std = np.sqrt(np.maximum(squares / len(X) - mean * mean, 0.0)) / 255
    std[std == 0] = 1.0
    return (mean / 255).astype(np.float32), std.astype(np.float32)


def _normalise(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """X uint8 (n, d) -> float32 (n, d) C-contiguous (X/255 - mean) / std, computed in place."""
    out = X.astype(np.float32, order="C")
    out /= np.float32(255)
    out -= mean
    out /= std
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m helpers.cifar.data [FOLDER]`: find (or download) and check CIFAR-10."""
    args = sys.argv[1:] if argv is None else argv
    try:
        folder = find_cifar10(args[0] if args else None, download=True)
        counts = [len(load_batch(folder / name)[1]) for name in (*TRAIN_FILES, TEST_FILE)]
        names = load_label_names(folder)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"CIFAR-10 is at {folder}")
    print(f"{sum(counts[:-1])} training + {counts[-1]} test images, classes: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
