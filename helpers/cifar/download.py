"""CIFAR-10 file layout, and its download: MD5-checked, safely extracted, moved in atomically."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from helpers.paths import DATA

FOLDER = "cifar-10-batches-py"
DEFAULT_DIR = DATA / FOLDER
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
REQUIRED = (*TRAIN_FILES, TEST_FILE, META_FILE)
USE_COPY = f"set CIFAR10_DIR=/path/to/{FOLDER}, or symlink an existing copy as {DEFAULT_DIR}"
FIX = f"run `make data` to download it, or {USE_COPY}"
CHUNK = 1 << 20  # bytes read per step of the download


class DataError(ValueError):
    """Raised for missing, corrupt or foreign data; the message names the file and the fix."""


def missing_files(folder: Path) -> list[str]:
    """Names (list of str) of the CIFAR-10 files in REQUIRED that `folder` (Path) lacks."""
    return [name for name in REQUIRED if not (Path(folder) / name).is_file()]


def download_cifar10(target: str | os.PathLike = DEFAULT_DIR, url: str = URL,
                     md5: str | None = MD5, progress: bool = True) -> Path:
    """Download, verify (MD5) and extract CIFAR-10 so that `target` becomes its folder.

    Inputs: target (folder to create; its parent is created), url (http(s):// or file://),
    md5 (hex str; None skips the check), progress (bool: tqdm bar). Output: target (Path),
    returned at once when already complete. The archive and the extraction live in one hidden
    temporary folder next to target, removed on success, error and Ctrl-C alike; `target`
    appears only through one os.replace of the fully extracted folder.
    """
    target = Path(target)
    if target.is_dir() and not missing_files(target):
        return target
    if target.exists() or target.is_symlink():
        raise DataError(f"{target} exists but is not a complete CIFAR-10 folder; move it away "
                        "and run `make data` again")
    try:
        return _download(url, md5, target, progress)
    except DataError as err:
        raise DataError(f"{err}. To use an existing copy instead, {USE_COPY}") from err


def _download(url: str, md5: str | None, target: Path, progress: bool) -> Path:
    """Fetch `url` into a temporary folder next to `target`, extract, move FOLDER to `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent))
    try:
        archive = work / "archive.tar.gz.part"
        _fetch(url, archive, md5, progress)
        _extract(archive, work / "extracted", url)
        folder = work / "extracted" / FOLDER
        if missing_files(folder):
            raise DataError(f"{url}: the archive has no complete folder {FOLDER!r} "
                            f"(missing: {', '.join(missing_files(folder))}); it is not CIFAR-10")
        try:
            os.replace(folder, target)
        except OSError as err:
            raise DataError(f"{target}: cannot move the data into place ({err})") from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _fetch(url: str, dest: Path, md5: str | None, progress: bool) -> None:
    """Stream `url` (str) into `dest` (Path) with a tqdm bar; DataError if offline or bad MD5."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=Path(url).name, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise DataError(f"downloading {url} failed ({err}); this machine may be offline") from err
    if md5 is not None and digest.hexdigest() != md5.lower():
        raise DataError(f"{url}: MD5 mismatch: expected {md5.lower()}, got {digest.hexdigest()}; "
                        "the download is corrupt or not the expected file, try again")


def _extract(archive: Path, dest: Path, source: str) -> None:
    """Extract `archive` (Path, .tar.gz) into `dest` (Path) after checking every member."""
    dest.mkdir()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for info in tar.getmembers():
                _check_member(info, dest.resolve(), source)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:  # Python without extraction filters: the checks above are the guard
                tar.extractall(dest)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DataError(f"{source}: cannot extract the archive ({err}); it is corrupt") from err


def _check_member(info: tarfile.TarInfo, root: Path, source: str) -> None:
    """Raise DataError unless member `info` lands inside `root` (resolved Path) and is harmless."""
    name = PurePosixPath(info.name)
    why = None
    if name.is_absolute() or info.name[1:2] == ":" or ".." in name.parts:
        why = "absolute path or '..'"
    elif not _inside(root / name, root):
        why = "path outside the target"
    elif info.issym() and not _inside(root / name.parent / info.linkname, root):
        why = f"symbolic link to {info.linkname!r} outside the target"
    elif info.islnk() and not _inside(root / info.linkname, root):
        why = f"hard link to {info.linkname!r} outside the target"
    elif not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
        why = "device, fifo or other special file"
    if why:
        raise DataError(f"{source}: refusing to extract member {info.name!r}: {why}")


def _inside(path: Path, root: Path) -> bool:
    """True when `path` (Path) resolves to `root` (resolved Path) or below it."""
    resolved = Path(os.path.normpath(path)).resolve()
    return resolved == root or root in resolved.parents
