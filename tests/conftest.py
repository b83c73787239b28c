"""Fixtures shared by the tests: synthetic CIFAR-10 batches and the real data folder."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from helpers.cifar.data import META_FILE, TEST_FILE, TRAIN_FILES, DataError, find_cifar10

NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
         b"ship", b"truck"]


def write_batch(path: Path, X: np.ndarray, y, label: bytes = b"synthetic batch") -> None:
    """Write X uint8 (n, 3072) and labels y (n,) to `path` as an official-format batch."""
    batch = {b"batch_label": label, b"labels": [int(v) for v in y], b"data": X,
             b"filenames": [b"synthetic_%05d.png" % i for i in range(len(X))]}
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_meta(folder: Path) -> None:
    """Write `folder`/batches.meta with the official keys."""
    meta = {b"num_cases_per_batch": 20, b"label_names": NAMES, b"num_vis": 3072}
    with open(folder / META_FILE, "wb") as f:
        pickle.dump(meta, f, protocol=2)


@pytest.fixture
def synthetic_batches() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{file name: (X uint8 (20, 3072), y int64 (20,))} for the six batch files, fixed seed."""
    rng = np.random.default_rng(2424)
    return {name: (rng.integers(0, 256, (20, 3072), dtype=np.uint8),
                   rng.integers(0, 10, 20).astype(np.int64))
            for name in (*TRAIN_FILES, TEST_FILE)}


@pytest.fixture
def synthetic_cifar(tmp_path: Path, synthetic_batches) -> Path:
    """A cifar-10-batches-py folder in tmp_path holding `synthetic_batches` and batches.meta."""
    folder = tmp_path / "synthetic" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, (X, y) in synthetic_batches.items():
        write_batch(folder / name, X, y)
    write_meta(folder)
    return folder


def _in_ci() -> bool:
    """True when the CI environment variable is set to something other than false/0/no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def cifar_dir() -> Path:
    """The real CIFAR-10 folder (find_cifar10()); skips when absent, fails instead under CI."""
    try:
        return find_cifar10()
    except DataError as err:
        if _in_ci():
            pytest.fail(f"CI is set but the real CIFAR-10 data is missing: {err}")
        pytest.skip(f"real CIFAR-10 data not available: {err}")
