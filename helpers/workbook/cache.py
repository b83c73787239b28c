"""The training cache: results keyed by their inputs, the engine code as it runs, the data and
the numeric stack, stored as npz.

What decides a result, and how the key holds it:
- the inputs (settings, lambdas, seeds, the split's name and sizes): given by the caller;
- the data: the split's fingerprint, a sha256 of the CIFAR-10 files it was read from;
- the code: every helpers module the function can reach, by the source this process imported
  (helpers.loaded). A module whose file changed on disk since then is not cached at all: the
  result would be the old code's under the new code's key;
- the numeric stack: Python, numpy, the BLAS library (name, version, kernel, threads) and
  torch where it is loaded (helpers.workbook.environment);
- a notebook's own code and values, described by `describe`; what it cannot describe
  faithfully (an object known by its address, a repr that rounds or truncates) is not cached.
"""

import ast
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import hashlib
import inspect
import io
import json
import random
import re
import sys
import types
import warnings
import zipfile
from pathlib import Path

import numpy as np

from helpers import loaded, paths
from helpers.clock import timed
from helpers.paths import resolve
from helpers.workbook import environment
from helpers.workbook.results import atomic_write, plain

FORMAT = b"npz+json v5"  # part of every key: change it when the stored format changes
HELPERS = paths.HELPERS


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
    """The helpers modules (dotted: "helpers.training.loop") that `module` imports, itself and
    the packages above them included (their __init__ runs on import), transitively."""
    found, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = source_file(name)
        if name in found or path is None:
            continue
        found.add(name)
        todo.append(name.rpartition(".")[0])  # the package it is in
        try:
            tree = ast.parse(path.read_text())
        except SyntaxError as err:  # a file being edited (or merged) while a kernel runs
            raise Stale(f"{path.name} of {name} does not parse ({err.msg}, line {err.lineno}): "
                        "it is being edited; the run is not cached") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    (node.module or "").split(".")[0] == "helpers":
                todo.append(node.module)  # from helpers.x import y: y a module, or a name in x
                todo += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.split(".")[0] == "helpers"]
    return found


def engine_modules(fn, args=(), kwargs=None) -> list:
    """Every helpers module whose code can change fn(*args, **kwargs): fn's own module, the
    modules of the functions and objects passed in, and everything they import."""
    modules = set()
    for thing in (fn, *args, *(kwargs or {}).values()):
        owner = thing if callable(thing) else type(thing)
        name = getattr(owner, "__module__", "") or ""
        if name.startswith("helpers."):
            modules |= imports(name)
    return sorted(modules)


class Uncacheable(ValueError):
    """A value whose behaviour the cache key cannot capture: a run that takes it is not cached."""


class Stale(Uncacheable):
    """A helpers module whose file differs from the source this process imported."""


def source_digest(module: str) -> str:
    """sha256 of the source helpers module `module` runs: as imported (helpers.loaded) where
    it is loaded, its file where it is not. Stale when the file changed since the import."""
    path = source_file(module)
    on_disk = loaded.digest(path.read_bytes())
    ran = loaded.SOURCES.get(module)
    if ran is not None and ran != on_disk:
        shown = path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path
        raise Stale(f"{shown} changed on disk after this kernel imported it, so a run would "
                    "use the old code under the new code's key; restart the kernel (Kernel > "
                    "Restart Kernel) to run the new code")
    return on_disk


ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}")  # a memory address: says nothing of state
SIMPLE = (type(None), bool, int, float, str)
# Types whose repr holds every bit of their value (no rounding, no "..."): safe in a key.
FAITHFUL_REPR = (bytes, complex, range, slice, Path, np.dtype, datetime.date, datetime.time,
                 datetime.timedelta, decimal.Decimal, fractions.Fraction, enum.Enum,
                 type(Ellipsis))


def describe(value, _seen: frozenset = frozenset()):
    """A JSON tree that changes whenever `value`'s behaviour can, for a cache key.

    - None, bools, numbers, strings: themselves; lists, tuples, dicts: item by item;
      dataclasses and namespaces: field by field;
    - numpy arrays: dtype, shape and a sha256 of their bytes (arrays of objects: item by
      item); torch tensors the same, with their device; numpy's Generator and RandomState and
      Python's random.Random: their state; sets: their items, sorted;
    - a function, class or module of helpers: its name and the source (as imported) of every
      helpers module it imports;
    - any other Python function (a notebook's hook, a lambda): its compiled code (bytecode,
      constants, names), its defaults, its closure's values and every global it reads, each
      described in turn; functools.partial: its function and arguments; a bound method: its
      object and function; an instance of a class defined outside any installed package: its
      class's functions and its attributes; a module of the user's (outside any installed
      package): what it defines, described in turn;
    - modules, and functions of installed packages (numpy, torch, the standard library):
      their name and the package's version;
    - values whose repr holds all of them (FAITHFUL_REPR: paths, dtypes, dates, ...): it;
    - anything else (a DataFrame, whose repr rounds and truncates; an object known by its
      address): Uncacheable, naming it and why.
    """
    if isinstance(value, SIMPLE):
        return value
    if isinstance(value, list | tuple):
        return [describe(v, _seen) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v, _seen) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return {"set": sorted((describe(v, _seen) for v in value), key=json.dumps)}
    if isinstance(value, np.ndarray | np.generic):
        array = np.ascontiguousarray(value)
        if array.dtype.hasobject:  # its bytes are addresses: the items instead
            return {"objects": describe(array.tolist(), _seen), "shape": list(array.shape)}
        return {"array": hashlib.sha256(array.tobytes()).hexdigest(), "dtype": str(array.dtype),
                "shape": list(array.shape)}
    if _is_tensor(value):
        data = value.detach().cpu().contiguous()
        return {"tensor": describe(data.view(-1).view(_torch().uint8).numpy(), _seen),
                "dtype": str(data.dtype), "shape": list(data.shape),
                "device": str(value.device), "requires_grad": bool(value.requires_grad)}
    if isinstance(value, np.random.Generator):
        return {"generator": value.bit_generator.state}
    if isinstance(value, np.random.RandomState):
        return {"random_state": describe(list(value.get_state()), _seen)}
    if isinstance(value, random.Random):
        return {"random": describe(list(value.getstate()), _seen)}
    if id(value) in _seen:  # a function that reads itself (recursion), or a cycle
        return {"seen": getattr(value, "__qualname__", type(value).__qualname__)}
    seen = _seen | {id(value)}
    if isinstance(value, types.ModuleType):
        return _module(value, seen)
    if isinstance(value, functools.partial):
        return {"partial": describe(value.func, seen), "args": describe(value.args, seen),
                "keywords": describe(value.keywords, seen)}
    if isinstance(value, types.MethodType):
        return {"method": describe(value.__func__, seen), "of": describe(value.__self__, seen)}
    module = getattr(value, "__module__", None) if callable(value) else type(value).__module__
    if module and module.split(".")[0] == "helpers":
        return _helpers(value, module, seen)
    if not _users(module or ""):
        if callable(value) and hasattr(value, "__qualname__"):
            return {"function": f"{module}.{value.__qualname__}", "version": _version(module)}
        return _by_repr(value)
    if isinstance(value, types.FunctionType):
        return _function(value, seen)
    if isinstance(value, type):
        return {"class": value.__qualname__, "functions": {
            k: describe(v, seen) for k, v in vars(value).items() if inspect.isfunction(v)}}
    if dataclasses.is_dataclass(value) or isinstance(value, types.SimpleNamespace) or \
            hasattr(value, "__dict__"):
        return {"object": describe(type(value), seen), "state": describe(vars(value), seen)}
    return _by_repr(value)


def _helpers(value, module: str, seen) -> dict:
    """A helpers object: functions and classes by name (their modules' source goes in);
    instances (Settings, Split) by their fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"object": f"{module}.{type(value).__qualname__}", "state": {
            f.name: describe(getattr(value, f.name), seen) for f in dataclasses.fields(value)}}
    return {"helpers": f"{module}.{getattr(value, '__qualname__', type(value).__qualname__)}",
            "source": _sources(module)}


def _sources(module: str) -> str:
    """One sha256 of the source, as it runs, of `module` and every helpers module it imports."""
    source = hashlib.sha256()
    for name in sorted(imports(module)):
        source.update(name.encode() + source_digest(name).encode())
    return source.hexdigest()


def _module(module: types.ModuleType, seen) -> dict:
    """A module read as a global: helpers by its source as it runs; a user's module by what it
    defines (its functions, classes and values, each described); an installed one by its
    version."""
    name = module.__name__
    if name.split(".")[0] == "helpers":
        return {"module": name, "source": _sources(name)}
    if not _users(name) or name == "__main__":
        return {"module": name, "version": _version(name)}
    own = {k: v for k, v in vars(module).items() if not k.startswith("__")
           and not isinstance(v, types.ModuleType)  # what it imports is described where read
           and not (callable(v) and getattr(v, "__module__", name) != name)}
    return {"module": name, "defines": describe(own, seen)}


def _is_tensor(value) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach") \
        and hasattr(value, "device")


def _torch():
    return sys.modules["torch"]


def _function(fn, seen) -> dict:
    """A function defined in a notebook or a user's module: what it computes, what it reads."""
    code = fn.__code__
    names = _global_names(code)
    reads = {n: describe(fn.__globals__[n], seen) for n in sorted(names) if n in fn.__globals__}
    closure = [describe(cell.cell_contents, seen) for cell in fn.__closure__ or ()]
    return {"code": _code(code), "defaults": describe(fn.__defaults__ or (), seen),
            "kwdefaults": describe(fn.__kwdefaults__ or {}, seen), "closure": closure,
            "globals": reads}


def _code(code) -> dict:
    """Bytecode, constants (nested functions' code in turn) and names of a code object."""
    consts = [_code(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return {"bytecode": hashlib.sha256(code.co_code).hexdigest(), "consts": consts,
            "names": list(code.co_names)}


def _global_names(code) -> set:
    """The names a code object and the code nested in it may read as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _users(module: str) -> bool:
    """True for code a person may be editing: a notebook (__main__) or a module outside the
    interpreter's own folders (not the standard library, not an installed package)."""
    if module == "__main__":
        return True
    where = getattr(sys.modules.get(module), "__file__", None)
    if where is None:  # builtins, or a module that is not loaded
        return False
    return not any(Path(where).resolve().is_relative_to(Path(prefix).resolve())
                   for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix})


def _by_repr(value):
    """A value of FAITHFUL_REPR (or torch's device and dtype) by its repr; else Uncacheable."""
    text, kind = repr(value), f"{type(value).__module__}.{type(value).__qualname__}"
    if ADDRESS.search(text):
        raise Uncacheable(f"{text[:80]} ({kind}): its repr does not show its state")
    if not (isinstance(value, FAITHFUL_REPR) or kind in ("torch.device", "torch.dtype")):
        raise Uncacheable(f"a {kind}: its repr may round or truncate what it holds "
                          f"({text[:60]!r}...); pass its values as numpy arrays or numbers")
    return {"repr": text, "type": kind}


def _version(module: str) -> str:
    top = sys.modules.get((module or "").split(".")[0])
    return str(getattr(top, "__version__", sys.version.split()[0]))


def key(inputs: dict, fn, args=(), kwargs=None) -> str:
    """sha256 of the inputs, fn's name, the source (as it runs) of every module engine_modules
    names, and the numeric stack; Stale when one of those modules changed on disk."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=plain).encode())
    digest.update(f"{fn.__module__}.{fn.__qualname__}".encode() + FORMAT)
    for module in engine_modules(fn, args, kwargs):
        digest.update(module.encode() + source_digest(module).encode())
    digest.update(json.dumps(environment.numeric_stack(), sort_keys=True).encode())
    return digest.hexdigest()


def cached(cache_dir, inputs: dict, fn, *args, **kwargs) -> tuple:
    """(fn(*args, **kwargs), seconds it took), computed once per key(inputs, fn, ...).

    inputs: every value that changes fn's result and is not an engine object (settings,
    lambdas, seeds, which data). A hit returns the stored value and its original compute
    time; an unreadable entry is recomputed with a warning. cache_dir None: no cache. A key
    that cannot be made (Uncacheable: a helpers module edited since it was imported) computes
    without the cache, saying why; a store that fails (a full disk, a read-only folder) warns
    and returns the result. Values may be dicts, lists and tuples of JSON types and numpy
    arrays.
    """
    return cached_together(cache_dir, [(inputs, fn, args, kwargs)], lambda missing: [
        timed(fn, *args, **kwargs)])[0]


def cached_together(cache_dir, calls: list, compute) -> list:
    """[(value, seconds)] of calls [(inputs, fn, args, kwargs)] as `cached` gives each, where
    the cache lacks some computed by ONE call compute(indices of the missing calls) ->
    [(value, seconds)] in that order, each stored under its own call's key: compute must give
    what fn(*args, **kwargs) gives (e.g. several trainings run side by side, sharing work)."""
    paths = [_entry(cache_dir, inputs, fn, args, kwargs) for inputs, fn, args, kwargs in calls]
    done = [_load(path) for path in paths]
    missing = [i for i, hit in enumerate(done) if hit is None]
    if missing:
        computed = compute(missing)
        if len(computed) != len(missing):
            raise ValueError(f"compute gave {len(computed)} results for {len(missing)} calls")
        for i, (value, seconds) in zip(missing, computed, strict=True):
            done[i] = (value, seconds)
            _store(paths[i], value, seconds)
    return done


def _entry(cache_dir, inputs: dict, fn, args, kwargs) -> Path | None:
    """The file that holds fn's result for these inputs; None without a cache, or (warned)
    when the key cannot be made."""
    if cache_dir is None:
        return None
    try:
        return resolve(cache_dir) / f"{fn.__name__}-{key(inputs, fn, args, kwargs)[:20]}.npz"
    except Uncacheable as err:
        warnings.warn(f"not cached (computed afresh, not stored): {err}", stacklevel=4)
        return None


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
    if path is None:
        return
    try:
        write(path, value, seconds)
    except OSError as err:
        warnings.warn(f"could not store the result in the cache ({err}); it is kept for "
                      "this run, and a rerun computes it again", stacklevel=4)


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
