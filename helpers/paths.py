"""Where things are: the repository and its folders, one definition each (standard library only)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
HELPERS = ROOT / "helpers"
NOTEBOOKS = ROOT / "notebooks"
REGISTRY = NOTEBOOKS / "sections.toml"  # the report's sections
ORIGINAL = NOTEBOOKS / "original.json"  # the original report's published numbers
PROFILES = ROOT / "params"  # parameter profiles, params/<profile>.yaml
DATA = ROOT / "data"  # CIFAR-10 is looked for (or downloaded) in data/cifar-10-batches-py
README = ROOT / "README.md"
BUILD = ROOT / "build"


def resolve(path) -> Path:
    """A path (str or Path) relative to the repository root unless it is absolute."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path
