"""The source of every helpers module as this interpreter imported it (standard library only).

A kernel keeps running the code it imported, whatever the file says later. The training cache
keys a result by the code that computed it, so it needs the source the code was compiled
from, not the file on disk: `install()` (run by helpers/__init__.py, before any other helpers
module loads) puts a finder first on sys.meta_path whose loader reads each helpers module's
source, records its sha256 in SOURCES and compiles exactly those bytes (no .pyc: a cached
bytecode file would be code compiled from a source this process never read).
`importlib.reload` goes through the same loader: SOURCES keeps the source first imported, and a
reload that compiled other bytes puts the module in RELOADED (other modules may still hold what
they imported from it before: the process runs a mix the cache cannot key).
"""

import hashlib
import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

SOURCES: dict = {}  # dotted module name -> sha256 (hex) of the source it was first compiled from
RELOADED: set = set()  # modules reloaded from another source than the first


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Loader(importlib.machinery.SourceFileLoader):
    """Compiles the bytes it hashes, so the recorded digest is the code that runs."""

    def get_code(self, fullname):
        source = self.get_data(self.path)
        if SOURCES.setdefault(fullname, digest(source)) != digest(source):
            RELOADED.add(fullname)
        return self.source_to_code(source, self.path)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds helpers.* as the standard path finder does, then loads it with _Loader."""

    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith("helpers."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _Loader(fullname, spec.origin)
        return spec


def install() -> None:
    """Record every helpers module imported from now on; the package itself and this module,
    already imported, are recorded from their files now (the moment they were read)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    for name in ("helpers", __name__):
        module = sys.modules.get(name)
        if module is not None and name not in SOURCES and getattr(module, "__file__", None):
            SOURCES[name] = digest(Path(module.__file__).read_bytes())
