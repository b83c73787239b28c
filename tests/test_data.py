"""Tests for helpers.cifar.data: safe loading, finding, downloading and splitting CIFAR-10."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import pickle
import tarfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from helpers.cifar import data, download
from helpers.cifar.data import (
    SPLITS,
    TEST_FILE,
    TRAIN_FILES,
    DataError,
    download_cifar10,
    find_cifar10,
    load_batch,
    load_label_names,
    load_split,
)


def _dump(path: Path, obj) -> Path:
    """Pickle `obj` to `path` with protocol 2 (as the official files are); returns path."""
    path.write_bytes(pickle.dumps(obj, protocol=2))
    return path


def _batch(n: int = 4, **changes) -> dict:
    """A valid official-format batch dict of n images, with `changes` (str keys) applied."""
    batch = {b"batch_label": b"test", b"labels": [i % 10 for i in range(n)],
             b"data": np.arange(n * 3072, dtype=np.int64).reshape(n, 3072).astype(np.uint8),
             b"filenames": [b"f%d.png" % i for i in range(n)]}
    for key, value in changes.items():
        if value is None:
            del batch[key.encode()]
        else:
            batch[key.encode()] = value
    return batch


# ----------------------------------------------------------------------------- loading


def test_load_batch_reads_synthetic_files(synthetic_cifar, synthetic_batches):
    for name, (X, y) in synthetic_batches.items():
        X_got, y_got = load_batch(synthetic_cifar / name)
        assert X_got.dtype == np.uint8 and X_got.shape == (20, 3072)
        assert X_got.flags.c_contiguous
        assert y_got.dtype == np.int64 and y_got.shape == (20,)
        np.testing.assert_array_equal(X_got, X)
        np.testing.assert_array_equal(y_got, y)


def test_load_batch_accepts_label_array_and_str_path(tmp_path):
    path = _dump(tmp_path / "b", _batch(labels=np.array([3, 1, 4, 1], dtype=np.int32)))
    X, y = load_batch(str(path))
    assert y.dtype == np.int64 and y.tolist() == [3, 1, 4, 1] and X.shape == (4, 3072)


def test_load_label_names(synthetic_cifar):
    names = load_label_names(synthetic_cifar)
    assert names[0] == "airplane" and names[-1] == "truck" and len(names) == 10
    assert all(isinstance(n, str) for n in names)


def test_load_label_names_rejects_bad_meta(tmp_path):
    _dump(tmp_path / "batches.meta", {b"label_names": [b"cat"] * 9})
    with pytest.raises(DataError, match="label_names") as err:
        load_label_names(tmp_path)
    assert str(tmp_path / "batches.meta") in str(err.value)


def _truncated(path: Path) -> None:
    blob = pickle.dumps(_batch(), protocol=2)
    path.write_bytes(blob[: len(blob) // 2])


def _corrupt(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())


BAD_BATCHES = {
    "missing file": (lambda p: None, "not found"),
    "truncated file": (_truncated, "truncated"),
    "corrupt bytes": (_corrupt, "corrupt"),
    "text file": (lambda p: p.write_text("hello, not a pickle\n"), "corrupt"),
    "not a dict": (lambda p: _dump(p, [1, 2, 3]), "dict"),
    "missing labels key": (lambda p: _dump(p, _batch(labels=None)), "b'labels'"),
    "missing data key": (lambda p: _dump(p, _batch(data=None)), "b'data'"),
    "float data": (lambda p: _dump(p, _batch(data=np.zeros((4, 3072), np.float32))), "uint8"),
    "3071 columns": (lambda p: _dump(p, _batch(data=np.zeros((4, 3071), np.uint8))), "3072"),
    "1-D data": (lambda p: _dump(p, _batch(data=np.zeros(4 * 3072, np.uint8))), "3072"),
    "data is bytes": (lambda p: _dump(p, _batch(data=b"\0" * 3072)), "uint8"),
    "label 10": (lambda p: _dump(p, _batch(labels=[0, 1, 2, 10])), "0..9"),
    "label -1": (lambda p: _dump(p, _batch(labels=[0, -1, 2, 3])), "0..9"),
    "too few labels": (lambda p: _dump(p, _batch(labels=[0, 1, 2])), "3 labels for 4 images"),
    "too many labels": (lambda p: _dump(p, _batch(labels=[0] * 5)), "5 labels for 4 images"),
    "string labels": (lambda p: _dump(p, _batch(labels=["a", "b", "c", "d"])), "list of ints"),
    "float labels": (lambda p: _dump(p, _batch(labels=[0.0, 1.0, 2.0, 3.0])), "list of ints"),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_load_batch_rejects_bad_input(tmp_path, case):
    make, message = BAD_BATCHES[case]
    path = tmp_path / "data_batch_1"
    make(path)
    with pytest.raises(DataError, match=message) as err:
        load_batch(path)
    assert str(path) in str(err.value)


class _RunsCode:
    """Pickles as a call to os.system(cmd): what a malicious 'batch' would contain."""

    def __init__(self, cmd: str):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def test_load_batch_refuses_code_execution(tmp_path):
    control, marker = tmp_path / "control", tmp_path / "marker"
    pickle.loads(pickle.dumps(_RunsCode(f"touch {control}"), protocol=2))
    assert control.exists(), "the crafted payload must really run code under plain pickle"
    path = _dump(tmp_path / "data_batch_1", {b"data": _RunsCode(f"touch {marker}"),
                                             b"labels": [0]})
    with pytest.raises(DataError, match="refusing to load .*system.*not a CIFAR-10 batch") as err:
        load_batch(path)
    assert str(path) in str(err.value)
    assert not marker.exists()


class _Calls:
    """Pickles as func(*args)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("payload, name", [
    (_Calls(np.load, "x.npy"), "numpy.load"),
    (_Calls(eval, "1+1"), ".eval"),  # __builtin__.eval in protocol 2
    (_Calls(codecs.encode, "abc", "rot13"), "_codecs.encode"),
])
def test_load_batch_refuses_other_globals(tmp_path, payload, name):
    path = _dump(tmp_path / "test_batch", {b"data": payload, b"labels": []})
    with pytest.raises(DataError, match="refusing to load") as err:
        load_batch(path)
    assert name in str(err.value) and str(path) in str(err.value)


# ----------------------------------------------------------------------------- finding


def _links(tmp_path: Path, target: Path, *names: str) -> list[Path]:
    """Directory symlinks tmp_path/name -> target, one per name."""
    links = [tmp_path / name for name in names]
    for link in links:
        link.symlink_to(target, target_is_directory=True)
    return links


def test_find_order_path_then_env_then_default(tmp_path, synthetic_cifar, monkeypatch):
    explicit, env, default = _links(tmp_path, synthetic_cifar, "a", "b", "c")
    monkeypatch.setattr(data, "DEFAULT_DIR", default)
    monkeypatch.setenv("CIFAR10_DIR", str(env))
    assert find_cifar10(explicit) == explicit
    assert find_cifar10(str(explicit)) == explicit
    assert find_cifar10() == env
    monkeypatch.delenv("CIFAR10_DIR")
    assert find_cifar10() == default


def test_find_wrong_explicit_path_is_an_error(tmp_path, synthetic_cifar, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(synthetic_cifar))
    with pytest.raises(DataError, match="not a CIFAR-10 folder") as err:
        find_cifar10(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(err.value)
    (synthetic_cifar / TEST_FILE).unlink()
    with pytest.raises(DataError, match="test_batch"):
        find_cifar10(synthetic_cifar)


def test_find_wrong_env_is_an_error(tmp_path, synthetic_cifar, monkeypatch):
    monkeypatch.setattr(data, "DEFAULT_DIR", synthetic_cifar)
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(DataError, match="CIFAR10_DIR=.*elsewhere"):
        find_cifar10()


def test_find_nothing_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(data, "DEFAULT_DIR", tmp_path / "data" / "cifar-10-batches-py")
    with pytest.raises(DataError) as err:
        find_cifar10()
    for fix in ("make data", "CIFAR10_DIR", "symlink", str(tmp_path / "data")):
        assert fix in str(err.value)


def test_find_downloads_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    default = tmp_path / "data" / "cifar-10-batches-py"
    monkeypatch.setattr(data, "DEFAULT_DIR", default)
    calls = []
    monkeypatch.setattr(data, "download_cifar10", lambda target: calls.append(target) or target)
    assert find_cifar10(download=True) == default and calls == [default]


# ----------------------------------------------------------------------------- downloading


def _archive(path: Path, folder: Path, extra=(), arcname="cifar-10-batches-py") -> tuple[str, str]:
    """Write a tar.gz of `folder` as `arcname` plus (TarInfo, bytes) `extra` members: url, md5."""
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
        for info, payload in extra:
            info.size = len(payload or b"")
            tar.addfile(info, None if payload is None else io.BytesIO(payload))
    return path.as_uri(), hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def dest(tmp_path) -> Path:
    """An existing parent folder with one file in it; the target is dest/cifar-10-batches-py."""
    parent = tmp_path / "dest"
    parent.mkdir()
    (parent / "keep.txt").write_text("already here")
    return parent


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_extracts_and_loads(tmp_path, synthetic_cifar, synthetic_batches, dest):
    url, md5 = _archive(tmp_path / "c.tar.gz", synthetic_cifar)
    target = dest / "cifar-10-batches-py"
    assert download_cifar10(target, url=url, md5=md5, progress=False) == target
    X, y = load_batch(target / "data_batch_3")
    np.testing.assert_array_equal(X, synthetic_batches["data_batch_3"][0])
    assert _listing(dest) == ["cifar-10-batches-py", "keep.txt"]
    assert find_cifar10(target) == target
    # complete already: returned without touching the (unreachable) URL
    assert download_cifar10(target, url="http://127.0.0.1:9/x.tar.gz", progress=False) == target


def test_download_into_missing_parent(tmp_path, synthetic_cifar):
    url, md5 = _archive(tmp_path / "c.tar.gz", synthetic_cifar)
    target = tmp_path / "new" / "deeper" / "cifar"
    download_cifar10(target, url=url, md5=md5, progress=False)
    assert _listing(target.parent) == ["cifar"] and (target / "batches.meta").is_file()


def test_download_md5_mismatch(tmp_path, synthetic_cifar, dest):
    url, md5 = _archive(tmp_path / "c.tar.gz", synthetic_cifar)
    with pytest.raises(DataError, match=f"MD5 mismatch: expected {'0' * 32}, got {md5}"):
        download_cifar10(dest / "cifar-10-batches-py", url=url, md5="0" * 32, progress=False)
    assert _listing(dest) == ["keep.txt"]


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


EVIL_MEMBERS = {
    "dot-dot": [(_member("../evil.txt"), b"x")],
    "deep dot-dot": [(_member("../../../evil.txt"), b"x")],
    "inner dot-dot": [(_member("cifar-10-batches-py/../../../evil.txt"), b"x")],
    "absolute": [(_member("ABS/evil.txt"), b"x")],
    "symlink out": [(_member("cifar-10-batches-py/out", tarfile.SYMTYPE, "../../../.."), None),
                    (_member("cifar-10-batches-py/out/evil.txt"), b"x")],
    "absolute symlink": [(_member("cifar-10-batches-py/abs", tarfile.SYMTYPE, "/"), None)],
    "hard link out": [(_member("cifar-10-batches-py/h", tarfile.LNKTYPE, "/etc/passwd"), None)],
    "device": [(_member("cifar-10-batches-py/dev", tarfile.CHRTYPE), None)],
    "fifo": [(_member("cifar-10-batches-py/fifo", tarfile.FIFOTYPE), None)],
}


@pytest.mark.parametrize("case", list(EVIL_MEMBERS))
def test_download_rejects_unsafe_archives(tmp_path, synthetic_cifar, dest, case):
    members = [(_member(str(tmp_path / "evil.txt")) if info.name.startswith("ABS") else info, p)
               for info, p in EVIL_MEMBERS[case]]
    url, md5 = _archive(tmp_path / "c.tar.gz", synthetic_cifar, members)
    with tarfile.open(tmp_path / "c.tar.gz") as tar:  # the archive really holds the member
        assert members[0][0].name in tar.getnames()
    with pytest.raises(DataError, match="refusing to extract|cannot extract"):
        download_cifar10(dest / "cifar-10-batches-py", url=url, md5=md5, progress=False)
    assert _listing(dest) == ["keep.txt"]
    assert not list(tmp_path.rglob("evil.txt"))


def test_download_rejects_corrupt_archive(tmp_path, dest):
    path = tmp_path / "c.tar.gz"
    path.write_bytes(b"this is not a gzip file" * 100)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    with pytest.raises(DataError, match="cannot extract"):
        download_cifar10(dest / "cifar-10-batches-py", url=path.as_uri(), md5=md5, progress=False)
    assert _listing(dest) == ["keep.txt"]


def test_download_rejects_archive_without_cifar_folder(tmp_path, dest):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "readme.txt").write_text("not CIFAR-10")
    url, md5 = _archive(tmp_path / "c.tar.gz", folder, arcname="other")
    with pytest.raises(DataError, match="no complete folder 'cifar-10-batches-py'"):
        download_cifar10(dest / "cifar-10-batches-py", url=url, md5=md5, progress=False)
    assert _listing(dest) == ["keep.txt"]


def test_download_refuses_incomplete_existing_target(dest):
    (dest / "cifar-10-batches-py").mkdir()
    with pytest.raises(DataError, match="exists but is not a complete"):
        download_cifar10(dest / "cifar-10-batches-py", url="http://127.0.0.1:9/x", progress=False)


def test_download_offline(dest):
    with pytest.raises(DataError) as err:
        download_cifar10(dest / "cifar-10-batches-py", url="http://127.0.0.1:9/x.tar.gz",
                         progress=False)
    message = str(err.value)
    assert "offline" in message and "CIFAR10_DIR" in message and "127.0.0.1:9" in message
    assert _listing(dest) == ["keep.txt"]


class _InterruptingBar:
    """Stands in for tqdm: Ctrl-C arrives on the third chunk of the download."""

    def __init__(self, *args, **kwargs):
        self.chunks = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        self.chunks += 1
        if self.chunks == 3:
            raise KeyboardInterrupt


def test_interrupted_download_leaves_nothing(tmp_path, synthetic_cifar, dest, monkeypatch):
    url, md5 = _archive(tmp_path / "c.tar.gz", synthetic_cifar)
    monkeypatch.setattr(download, "tqdm", _InterruptingBar)
    monkeypatch.setattr(download, "CHUNK", 4096)
    with pytest.raises(KeyboardInterrupt):
        download_cifar10(dest / "cifar-10-batches-py", url=url, md5=md5, progress=False)
    assert _listing(dest) == ["keep.txt"]


def test_interrupted_extraction_leaves_nothing(tmp_path, synthetic_cifar, dest, monkeypatch):
    url, md5 = _archive(tmp_path / "c.tar.gz", synthetic_cifar)
    extractall = tarfile.TarFile.extractall

    def extract_then_interrupt(self, *args, **kwargs):
        extractall(self, *args, **kwargs)  # the extracted folder is complete, but not yet moved
        raise KeyboardInterrupt

    monkeypatch.setattr(tarfile.TarFile, "extractall", extract_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        download_cifar10(dest / "cifar-10-batches-py", url=url, md5=md5, progress=False)
    assert _listing(dest) == ["keep.txt"]


# ----------------------------------------------------------------------------- splits


@pytest.fixture
def small_splits(monkeypatch):
    """SPLITS with held-out counts that fit 5 synthetic batches of 20 images (100 in all)."""
    monkeypatch.setitem(SPLITS, "search", 10)
    monkeypatch.setitem(SPLITS, "final", 5)


def _all_train(batches) -> tuple[np.ndarray, np.ndarray]:
    X, y = zip(*(batches[name] for name in TRAIN_FILES), strict=True)
    return np.concatenate(X), np.concatenate(y)


def _reference(X_raw: np.ndarray, train_raw: np.ndarray) -> np.ndarray:
    """Float64 reference: X_raw normalised with train_raw's per-dimension mean and std."""
    train = train_raw / 255.0
    return (X_raw / 255.0 - train.mean(axis=0)) / train.std(axis=0)


def test_exercise_split(synthetic_cifar, synthetic_batches):
    s = load_split("exercise", synthetic_cifar)
    (X1, y1), (X2, y2), (Xt, yt) = (synthetic_batches[n] for n in
                                    ("data_batch_1", "data_batch_2", TEST_FILE))
    for y_got, y in ((s.y_train, y1), (s.y_val, y2), (s.y_test, yt)):
        np.testing.assert_array_equal(y_got, y)
    np.testing.assert_allclose(s.mean, (X1 / 255.0).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(s.std, (X1 / 255.0).std(axis=0), rtol=1e-6)
    for X_got, X in ((s.X_train, X1), (s.X_val, X2), (s.X_test, Xt)):
        np.testing.assert_allclose(X_got, _reference(X, X1), atol=1e-5)
    assert s.val_indices is None and s.name == "exercise"
    assert s.describe() == "exercise: train 20, val 20 (data_batch_2), test 20 (test_batch)"


@pytest.mark.parametrize("name, start, n_val", [("search", 0, 10), ("final", 10, 5)])
def test_held_out_split_layout(synthetic_cifar, synthetic_batches, small_splits, name, start,
                               n_val):
    s = load_split(name, synthetic_cifar, seed=3)
    X_all, y_all = _all_train(synthetic_batches)
    val = np.sort(np.random.default_rng(3).permutation(100)[start:start + n_val])
    rest = np.setdiff1d(np.arange(100), val)  # sorted: original order
    np.testing.assert_array_equal(s.val_indices, val)
    np.testing.assert_array_equal(s.y_val, y_all[val])
    np.testing.assert_array_equal(s.y_train, y_all[rest])
    np.testing.assert_array_equal(s.y_test, synthetic_batches[TEST_FILE][1])
    np.testing.assert_allclose(s.X_train, _reference(X_all[rest], X_all[rest]), atol=1e-5)
    np.testing.assert_allclose(s.X_val, _reference(X_all[val], X_all[rest]), atol=1e-5)
    np.testing.assert_allclose(s.X_test, _reference(synthetic_batches[TEST_FILE][0],
                                                    X_all[rest]), atol=1e-5)
    assert s.describe() == (f"{name}: train {100 - n_val}, val {n_val} (held out of "
                            "data_batch_1..5, seed 3), test 20 (test_batch)")


def test_held_out_split_is_disjoint_and_complete(synthetic_cifar, small_splits):
    s = load_split("search", synthetic_cifar, seed=0)
    train, val = {r.tobytes() for r in s.X_train}, {r.tobytes() for r in s.X_val}
    assert len(train) == 90 and len(val) == 10 and not train & val


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_final_splits_validation_is_held_out_of_every_choice(synthetic_cifar, small_splits,
                                                                 seed):
    """Nested validation sets are caught: the final split's validation images share none with
    the search split's, on which lambda, the range and the bonus's components are chosen."""
    search = load_split("search", synthetic_cifar, seed=seed)
    final = load_split("final", synthetic_cifar, seed=seed)
    assert not set(search.val_indices) & set(final.val_indices)


def test_split_is_deterministic_per_seed(synthetic_cifar, small_splits):
    a, b = load_split("search", synthetic_cifar, seed=7), load_split("search", synthetic_cifar, 7)
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "mean", "std", "val_indices"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = load_split("search", synthetic_cifar, seed=8)
    assert not np.array_equal(a.val_indices, c.val_indices)
    assert c.seed == 8


def test_split_normalisation(synthetic_cifar, small_splits):
    s = load_split("final", synthetic_cifar)
    for X in (s.X_train, s.X_val, s.X_test):
        assert X.dtype == np.float32 and X.flags.c_contiguous and X.shape[1] == 3072
    for y in (s.y_train, s.y_val, s.y_test):
        assert y.dtype == np.int64
    assert s.mean.dtype == s.std.dtype == np.float32 and s.mean.shape == s.std.shape == (3072,)
    assert np.abs(s.X_train.mean(axis=0)).max() < 1e-5
    assert np.abs(s.X_train.std(axis=0) - 1).max() < 1e-4
    assert np.abs(s.X_val.mean(axis=0)).max() > 0.01  # val uses train statistics, not its own


def test_split_guards_constant_columns(tmp_path, synthetic_batches):
    folder = tmp_path / "const"
    folder.mkdir()
    for name, (X, y) in synthetic_batches.items():
        X = X.copy()
        X[:, 5] = 7
        _dump(folder / name, {b"data": X, b"labels": y.tolist()})
    _dump(folder / "batches.meta", {b"label_names": [b"x"] * 10})
    s = load_split("exercise", folder)
    assert s.std[5] == 1 and np.isclose(s.mean[5], 7 / 255)
    assert np.all(s.X_train[:, 5] == 0) and np.all(np.isfinite(s.X_train))


def test_split_limit(synthetic_cifar, small_splits):
    full = load_split("search", synthetic_cifar, seed=1)
    s = load_split("search", synthetic_cifar, seed=1, limit=3)
    assert len(s.X_train) == len(s.X_val) == len(s.X_test) == 3
    np.testing.assert_array_equal(s.y_train, full.y_train[:3])
    np.testing.assert_array_equal(s.y_test, full.y_test[:3])
    np.testing.assert_array_equal(s.val_indices, full.val_indices[:3])
    assert np.abs(s.X_train.mean(axis=0)).max() < 1e-5  # statistics of the kept images
    assert len(load_split("exercise", synthetic_cifar, limit=1000).X_train) == 20


def test_split_rejects_bad_arguments(synthetic_cifar):
    with pytest.raises(ValueError, match="exercise, search, final"):
        load_split("train", synthetic_cifar)
    with pytest.raises(ValueError, match="limit"):
        load_split("exercise", synthetic_cifar, limit=0)


def test_normalisation_never_copies_to_float64():
    X = np.random.default_rng(0).integers(0, 256, (16384, 3072), dtype=np.uint8)
    float64_copy = X.size * 8
    tracemalloc.start()
    try:
        mean, std = data._stats(X)
        out = data._normalise(X, mean, std)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    assert peak < 0.6 * float64_copy, f"peak {peak / 2**20:.0f} MiB: a float64 copy was made"


def test_main_reports_errors_without_traceback(tmp_path, synthetic_cifar, capsys):
    assert data.main([str(synthetic_cifar)]) == 0
    out = capsys.readouterr().out
    assert str(synthetic_cifar) in out and "100 training + 20 test images" in out
    assert data.main([str(tmp_path / "nowhere")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err


# ----------------------------------------------------------------------------- real data


@pytest.mark.data
def test_real_batch_1(cifar_dir):
    X, y = load_batch(cifar_dir / "data_batch_1")
    assert X.shape == (10000, 3072) and X.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030,
                                                     1001, 1025, 981]
    assert y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert X[0, :5].tolist() == [59, 43, 50, 68, 98]  # official first pixels (red plane)
    assert load_label_names(cifar_dir)[:3] == ["airplane", "automobile", "bird"]


@pytest.mark.data
def test_real_class_balance(cifar_dir):
    train = np.concatenate([load_batch(cifar_dir / name)[1] for name in TRAIN_FILES])
    test = load_batch(cifar_dir / TEST_FILE)[1]
    assert np.bincount(train, minlength=10).tolist() == [5000] * 10
    assert np.bincount(test, minlength=10).tolist() == [1000] * 10
    assert test[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]


@pytest.mark.data
def test_real_search_split(cifar_dir):
    s = load_split("search", cifar_dir)
    assert (len(s.X_train), len(s.X_val), len(s.X_test)) == (45000, 5000, 10000)
    assert s.X_train.dtype == s.X_val.dtype == s.X_test.dtype == np.float32
    assert s.X_train.shape[1] == 3072 and len(s.val_indices) == 5000
    channel_means = s.mean.reshape(3, 1024).mean(axis=1)
    np.testing.assert_allclose(channel_means, [0.4914, 0.4822, 0.4465], atol=2e-3)
