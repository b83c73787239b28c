"""The training cache: results keyed by the value of everything that decides them, stored as npz.

The key of fn(*args, **kwargs) is a sha256 of:
- the call itself, serialised by cloudpickle (the library Dask, Ray and joblib's loky ship user
  code with): a function, closure or class defined in a notebook goes in by value (its code,
  defaults, closure, the globals it reads, a class's attributes and bases), everything else by
  its pickled state. `Keyer` changes only what a pickle would copy or name: a numpy array or
  torch tensor enters as a hash of its bytes (helpers.digest: xxhash, once per read-only array
  object; helpers.cifar.data loads them read-only), an object of helpers by its name and the
  source of every helpers module it imports, a function or class of an installed package by its
  name and the package's version. What cloudpickle cannot serialise is not cached (Uncacheable);
  a pickle that differs between processes (a redefined class's tracking id, a notebook cell's
  file name) only costs a miss;
- the helpers code as this process first imported it (helpers.loaded): once any helpers file
  differs from that (edited, reloaded or not), no run of this process is cached (Stale), since
  a module may still hold the old code (`from ... import f`) whatever the new key says;
- the numeric stack (helpers.workbook.environment) with the BLAS threads the job runs on:
  every computation runs under JOB_BLAS_THREADS (one) BLAS thread, here, whatever the process
  was started with.
"""

import hashlib
import io
import json
import sys
import types
import warnings
import zipfile
from pathlib import Path

import cloudpickle
import numpy as np
from threadpoolctl import threadpool_limits

from helpers import loaded, paths
from helpers.clock import timed
from helpers.digest import array_digest
from helpers.paths import resolve
from helpers.workbook import environment
from helpers.workbook.results import atomic_write, plain

FORMAT = b"npz+json v6, cloudpickle key"  # part of every key: change it with the stored format
HELPERS = paths.HELPERS
JOB_BLAS_THREADS = 1  # every cached computation runs on this many BLAS threads (its digits)


class Uncacheable(ValueError):
    """A call the key cannot hold by value: it is computed, not cached."""


class Stale(Uncacheable):
    """A helpers file that differs from the source this process first imported."""


# The helpers code: what a function imports, and the source it runs

def source_file(module: str) -> Path | None:
    """The file of a helpers module or package ("helpers.training.loop": helpers/training/loop.py,
    "helpers.model": helpers/model/__init__.py) under HELPERS, or None where there is none."""
    parts = module.split(".")
    if parts[0] != "helpers":
        return None
    base = HELPERS.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imports(module: str) -> set:
    """The helpers modules (dotted) that `module` imports, itself and the packages above them
    included, transitively, as their files say (check_fresh holds the files to what runs)."""
    found, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in found or source_file(name) is None:
            continue
        found.add(name)
        todo += [name.rpartition(".")[0], *_direct_imports(name)]  # and the package it is in
    return found


_PARSED: dict = {}  # sha256 of a source -> the helpers names it imports


def _direct_imports(name: str) -> list:
    """The helpers names `name`'s file imports ("helpers.x" and, for `from helpers.x import y`,
    "helpers.x.y": y may be a module); parsed once per source."""
    import ast

    path = source_file(name)
    data = path.read_bytes()
    digest = loaded.digest(data)
    if digest not in _PARSED:
        try:
            tree = ast.parse(data)
        except SyntaxError as err:  # a file being edited (or merged) while a kernel runs
            raise Stale(f"{path.name} of {name} does not parse ({err.msg}, line {err.lineno}): "
                        "it is being edited; the run is not cached") from None
        names = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    (node.module or "").split(".")[0] == "helpers":
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names += [a.name for a in node.names if a.name.split(".")[0] == "helpers"]
        _PARSED[digest] = names
    return _PARSED[digest]


def check_fresh() -> None:
    """Stale unless every helpers module this process imported runs the source its file holds
    and was compiled once (helpers.loaded: a reload, even of the same file back, leaves other
    modules holding what they imported before)."""
    for name, first in sorted(loaded.SOURCES.items()):
        path = source_file(name)
        if name in loaded.RELOADED or (path is not None and
                                       loaded.digest(path.read_bytes()) != first):
            shown = path.relative_to(paths.ROOT) if path and path.is_relative_to(paths.ROOT) \
                else path or name
            raise Stale(f"{shown} changed after this kernel imported it, so its runs could use "
                        "old code under a new key: restart the kernel (Kernel > Restart "
                        "Kernel) to cache them again")


def sources(module: str) -> str:
    """One sha256 of the source of `module` and of every helpers module it imports."""
    digest = hashlib.sha256()
    for name in sorted(imports(module)):
        digest.update(name.encode() + loaded.digest(source_file(name).read_bytes()).encode())
    return digest.hexdigest()


# Values: arrays by content, helpers by source, installed code by version

def _is_tensor(value) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach") \
        and hasattr(value, "device")


def _importable(obj) -> str | None:
    """"module.qualname" where importing it gives obj back (pickle's by-reference), else None."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or module not in sys.modules:
        return None
    found = sys.modules[module]
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module}.{qualname}" if found is obj else None


def _users(module: str) -> bool:
    """True for a module of the user's, outside the interpreter's folders and helpers."""
    where = getattr(sys.modules.get(module), "__file__", None)
    if where is None or module.split(".")[0] == "helpers":
        return False
    return not any(Path(where).resolve().is_relative_to(Path(prefix).resolve())
                   for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix})


def _version(module: str) -> str:
    top = sys.modules.get(module.split(".")[0])
    return str(getattr(top, "__version__", sys.version.split()[0]))


class Keyer(cloudpickle.Pickler):
    """cloudpickle, but arrays by digest, helpers by source, installed code by version."""

    def persistent_id(self, obj):
        if isinstance(obj, np.ndarray) and not obj.dtype.hasobject:
            return ("array", array_digest(obj))
        if _is_tensor(obj):
            data = obj.detach().cpu().contiguous()
            return ("tensor", str(data.dtype), str(obj.device), bool(obj.requires_grad),
                    tuple(data.shape), array_digest(data.view(-1).view(sys.modules["torch"]
                                                                       .uint8).numpy()))
        if isinstance(obj, types.ModuleType):
            name = obj.__name__
            if name.split(".")[0] == "helpers":
                return ("helpers", name, sources(name))
            if _users(name):
                cloudpickle.register_pickle_by_value(obj)
                return None
            return ("module", name, _version(name))
        if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__") and \
                not isinstance(obj, types.MethodType):  # functions, classes, numpy's dispatchers
            return self._code(obj)
        return None

    def _code(self, obj):
        module = getattr(obj, "__module__", None) or ""
        if module == "__main__" or _users(module):
            if _users(module):
                cloudpickle.register_pickle_by_value(sys.modules[module])
            return None  # by value
        name = _importable(obj)
        if name is None:
            return None  # a helper's closure or lambda: by value (its code and closure)
        if module.split(".")[0] == "helpers":
            return ("helpers", name, sources(module))
        return ("global", name, _version(module))


def serialised(value) -> bytes:
    """The bytes the key hashes for `value` (Keyer's pickle); Uncacheable when it has none."""
    buffer = io.BytesIO()
    try:
        Keyer(buffer, protocol=5).dump(value)
    except Stale:
        raise
    except Exception as err:  # noqa: BLE001  (what cloudpickle cannot pickle, however it says so)
        raise Uncacheable(f"{type(err).__name__}: {err}"[:300]) from None
    return buffer.getvalue()


def key(fn, args=(), kwargs=None) -> str:
    """sha256 of fn(*args, **kwargs) by value (Keyer), the format and the numeric stack of the
    job; Stale when a helpers file changed since this process imported it."""
    check_fresh()
    digest = hashlib.sha256(FORMAT)
    digest.update(serialised((fn, tuple(args), dict(sorted((kwargs or {}).items())))))
    digest.update(json.dumps(job_stack(), sort_keys=True).encode())
    return digest.hexdigest()


def job_stack() -> dict:
    """The numeric stack a cached computation runs on: this process's libraries, and the BLAS
    threads of the job (JOB_BLAS_THREADS), not the process's."""
    stack = environment.numeric_stack(threads=False)
    stack["job_blas_threads"] = JOB_BLAS_THREADS
    torch = sys.modules.get("torch")
    if torch is not None:
        stack["torch"]["threads"] = torch.get_num_threads()
    return stack


# Computing through the cache

def cached(cache_dir, fn, *args, **kwargs) -> tuple:
    """(fn(*args, **kwargs), seconds it took), computed once per key(fn, args, kwargs).

    Every argument decides the result (a caller keeps progress switches and the like out). A
    hit returns the stored value and its original compute time; an unreadable entry is
    recomputed with a warning. cache_dir None: no cache. A call the key cannot hold
    (Uncacheable) is computed and not stored, with a warning saying why; a store that fails,
    however, warns and returns the result. Values: dicts, lists and tuples of JSON types and
    numpy arrays."""
    return cached_together(cache_dir, [(fn, args, kwargs)], lambda missing: [
        timed(fn, *args, **kwargs)])[0]


def cached_together(cache_dir, calls: list, compute, say=None) -> list:
    """[(value, seconds)] of calls [(fn, args, kwargs)] as `cached` gives each, where the cache
    lacks some computed by ONE call compute(indices of the missing calls) -> [(value, seconds)]
    in that order, each stored under its own call's key: compute must give what fn(*args,
    **kwargs) gives (e.g. several trainings run side by side, sharing work). compute runs on
    JOB_BLAS_THREADS BLAS threads, as the key says. say(line): how to say that a call is not
    cached and why (a notebook prints it); default: a warning."""
    said = []  # one line for the calls that cannot be keyed, not one each
    tell = lambda line: said or said.append((say or _warn)(line))  # noqa: E731
    entries = [_entry(cache_dir, fn, args, kwargs, tell) for fn, args, kwargs in calls]
    done = [_load(path) for path in entries]
    missing = [i for i, hit in enumerate(done) if hit is None]
    if missing:
        with threadpool_limits(limits=JOB_BLAS_THREADS, user_api="blas"):
            computed = compute(missing)
        if len(computed) != len(missing):
            raise ValueError(f"compute gave {len(computed)} results for {len(missing)} calls")
        for i, (value, seconds) in zip(missing, computed, strict=True):
            done[i] = (value, seconds)
            _store(entries[i], value, seconds)
    return done


def _entry(cache_dir, fn, args, kwargs, say=None) -> Path | None:
    """The file of a call's result; None without a cache, or (said) when it cannot be keyed."""
    if cache_dir is None:
        return None
    try:
        found = key(fn, args, kwargs)
    except Uncacheable as err:
        line = f"not cached (computed afresh, not stored): {err}"
        (say or _warn)(line)
        return None
    return resolve(cache_dir) / f"{getattr(fn, '__name__', type(fn).__name__)}-{found[:20]}.npz"


def _warn(line: str) -> None:
    warnings.warn(line, stacklevel=5)


def _load(path: Path | None) -> tuple | None:
    """(value, seconds) stored in path; None when there is none, or (warned) it is unreadable."""
    if path is None or not path.is_file():
        return None
    try:
        return read(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        warnings.warn(f"cache entry {path} is unreadable ({err}); computing it again",
                      stacklevel=4)
        return None


def _store(path: Path | None, value, seconds: float) -> None:
    """Store a result; whatever goes wrong (a full disk, a value JSON cannot hold), the result
    is kept for this run with a warning, and nothing half-written is left."""
    if path is None:
        return
    try:
        write(path, value, seconds)
    except Exception as err:  # noqa: BLE001  (the run is worth more than its entry)
        warnings.warn(f"could not store the result in the cache ({type(err).__name__}: {err}); "
                      "it is kept for this run, and a rerun computes it again", stacklevel=4)


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

