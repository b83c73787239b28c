"""The training cache: results keyed by their inputs and the engine code, stored as npz."""

import ast
import hashlib
import io
import json
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from helpers.results import ROOT, atomic_write, plain, resolve

FORMAT = b"npz+json v3"  # part of every key: change it when the stored format changes
HELPERS = ROOT / "helpers"


def imports(module: str) -> set:
    """The helpers modules `module` (e.g. "training") imports, itself included, transitively."""
    found, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = HELPERS / f"{name}.py"
        if name in found or not path.is_file():
            continue
        found.add(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "helpers":
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers."):
                todo.append(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                todo += [a.name.split(".")[1] for a in node.names if a.name.startswith("helpers.")]
    return found


def engine_modules(fn, args=(), kwargs=None) -> list:
    """Every helpers module whose code can change fn(*args, **kwargs): fn's own module, the
    modules of the functions and objects passed in, and everything they import."""
    modules = set()
    for thing in (fn, *args, *(kwargs or {}).values()):
        owner = thing if callable(thing) else type(thing)
        name = getattr(owner, "__module__", "") or ""
        if name.startswith("helpers."):
            modules |= imports(name.split(".")[1])
    return sorted(modules)


def key(inputs: dict, fn, args=(), kwargs=None) -> str:
    """sha256 of the inputs, fn's name and the source of every module engine_modules names."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=plain).encode())
    digest.update(f"{fn.__module__}.{fn.__qualname__}".encode() + FORMAT)
    for module in engine_modules(fn, args, kwargs):
        digest.update(module.encode() + (HELPERS / f"{module}.py").read_bytes())
    return digest.hexdigest()


def cached(cache_dir, inputs: dict, fn, *args, **kwargs) -> tuple:
    """(fn(*args, **kwargs), seconds it took), computed once per key(inputs, fn, ...).

    inputs: every value that changes fn's result and is not an engine object (settings,
    lambdas, seeds, which data). A hit returns the stored value and its original compute
    time; an unreadable entry is recomputed with a warning. cache_dir None: no cache.
    Values may be dicts, lists and tuples of JSON types and numpy arrays.
    """
    path = None if cache_dir is None else \
        resolve(cache_dir) / f"{fn.__name__}-{key(inputs, fn, args, kwargs)[:20]}.npz"
    if path is not None and path.is_file():
        try:
            return read(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            warnings.warn(f"cache entry {path} is unreadable ({err}); computing it again",
                          stacklevel=2)
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    seconds = round(time.perf_counter() - started, 2)
    if path is not None:
        write(path, value, seconds)
    return value, seconds


def write(path: Path, value, seconds: float) -> Path:
    """Store value and seconds in one .npz (arrays) holding a JSON tree; atomically."""
    arrays = {}
    tree = json.dumps({"value": _encode(value, arrays), "seconds": seconds}, default=plain)
    arrays["__tree__"] = np.frombuffer(tree.encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return atomic_write(path, lambda f: f.write(buffer.getvalue()))


def read(path: Path) -> tuple:
    """(value, seconds) from a file written by `write`; never unpickles anything."""
    with np.load(path, allow_pickle=False) as stored:
        tree = json.loads(stored["__tree__"].tobytes().decode())
        arrays = {k: stored[k] for k in stored.files if k != "__tree__"}
    return _decode(tree["value"], arrays), tree["seconds"]


def _encode(value, arrays: dict):
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, arrays) for k, v in value.items()}
    return value


def _decode(value, arrays: dict):
    if isinstance(value, dict) and "__array__" in value:
        return arrays[value["__array__"]]
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v, arrays) for k, v in value.items()}
    return value
