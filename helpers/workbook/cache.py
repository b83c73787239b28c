"""The training cache: results keyed by their inputs and the engine code, stored as npz."""

import ast
import dataclasses
import functools
import hashlib
import inspect
import io
import json
import re
import sys
import time
import types
import warnings
import zipfile
from pathlib import Path

import numpy as np

from helpers import paths
from helpers.paths import resolve
from helpers.workbook.results import atomic_write, plain

FORMAT = b"npz+json v4"  # part of every key: change it when the stored format changes
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
        for node in ast.walk(ast.parse(path.read_text())):
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


DEFAULT_REPR = re.compile(r"^<.* at 0x[0-9a-fA-F]+>$")  # object.__repr__: says nothing of state
SIMPLE = (type(None), bool, int, float, str)


def describe(value, _seen: frozenset = frozenset()):
    """A JSON tree that changes whenever `value`'s behaviour can, for a cache key.

    - None, bools, numbers, strings: themselves; lists, tuples, dicts: item by item;
      dataclasses and namespaces: field by field;
    - numpy arrays: dtype, shape and a sha256 of their bytes; a numpy Generator: its state;
    - a function or class of helpers: its name and the source of every helpers module it
      imports;
    - any other Python function (a notebook's hook, a lambda): its compiled code (bytecode,
      constants, names), its defaults, its closure's values and every global it reads, each
      described in turn; functools.partial: its function and arguments; a bound method: its
      object and function; an instance of a class defined outside any installed package: its
      class's functions and its attributes;
    - modules, and functions of installed packages (numpy, torch, the standard library):
      their name and the package's version;
    - anything else: its repr, unless that is the default `<... at 0x...>`, which says nothing
      of its state: then Uncacheable, naming it.
    """
    if isinstance(value, SIMPLE):
        return value
    if isinstance(value, list | tuple):
        return [describe(v, _seen) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v, _seen) for k, v in value.items()}
    if isinstance(value, np.ndarray | np.generic):
        array = np.ascontiguousarray(value)
        return {"array": hashlib.sha256(array.tobytes()).hexdigest(), "dtype": str(array.dtype),
                "shape": list(array.shape)}
    if isinstance(value, np.random.Generator):
        return {"generator": value.bit_generator.state}
    if id(value) in _seen:  # a function that reads itself (recursion), or a cycle
        return {"seen": getattr(value, "__qualname__", type(value).__qualname__)}
    seen = _seen | {id(value)}
    if isinstance(value, types.ModuleType):
        return {"module": value.__name__, "version": _version(value.__name__)}
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
    source = hashlib.sha256()
    for name in sorted(imports(module)):
        source.update(name.encode() + source_file(name).read_bytes())
    return {"helpers": f"{module}.{getattr(value, '__qualname__', type(value).__qualname__)}",
            "source": source.hexdigest()}


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
    text = repr(value)
    if DEFAULT_REPR.match(text):
        raise Uncacheable(f"{text} ({type(value).__qualname__}): its repr does not show its "
                          "state")
    return {"repr": text, "type": f"{type(value).__module__}.{type(value).__qualname__}"}


def _version(module: str) -> str:
    top = sys.modules.get((module or "").split(".")[0])
    return str(getattr(top, "__version__", sys.version.split()[0]))


def key(inputs: dict, fn, args=(), kwargs=None) -> str:
    """sha256 of the inputs, fn's name and the source of every module engine_modules names."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=plain).encode())
    digest.update(f"{fn.__module__}.{fn.__qualname__}".encode() + FORMAT)
    for module in engine_modules(fn, args, kwargs):
        digest.update(module.encode() + source_file(module).read_bytes())
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
