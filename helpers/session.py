"""Which notebook is running (make, Jupyter, nbconvert or papermill by hand), which section of
the registry it runs, and how it shows figures."""

import os
import re
from pathlib import Path

from helpers import params, sections

NAME, MAKE = "WORKBOOK_NOTEBOOK", "WORKBOOK_MAKE"  # environment set by make (and tests)
# What file managers and JupyterLab append to a copy: -Copy1 (JupyterLab), " copy",
# " copy 2" (macOS), " - Copy", " - Copy (2)" (Windows), " (1)" (browsers' downloads).
COPY_SUFFIX = re.compile(r"(-Copy\d*| copy( \d+)?| - Copy( \(\d+\))?| \(\d+\))$", re.IGNORECASE)


def which_notebook(namespace: dict) -> tuple:
    """(name, path, source) of the running notebook, from the first of these that says:

    1. Jupyter's own session (JupyterLab and VS Code tell the kernel its notebook's path);
    2. the environment variable WORKBOOK_NOTEBOOK (make sets it);
    3. the command that started the kernel (`jupyter nbconvert --execute NAME.ipynb`,
       `papermill IN.ipynb OUT.ipynb`: the notebook it names);
    4. the notebook's own `section` parameter (its registry name; a copy carries its
       original's).
    ValueError when none does. `source` says which one answered.
    """
    found = [("Jupyter's session", namespace.get("__session__")
              or os.environ.get("JPY_SESSION_NAME") or namespace.get("__vsc_ipynb_file__")),
             (f"${NAME}", os.environ.get(NAME)),
             ("the command that started the kernel", launcher_notebook()),
             ("its section parameter", namespace.get("section"))]
    source, session = next(((s, v) for s, v in found if v), (None, None))
    if not session:
        raise ValueError(f"cannot tell which notebook this is: run it in Jupyter, with make, "
                         f"with jupyter nbconvert --execute or papermill, or give it a "
                         f"`section` parameter (or set {NAME}=<notebook name>)")
    path = Path(session)
    if path.suffix != ".ipynb":
        path = params.NOTEBOOKS / f"{session}.ipynb"
    elif not path.is_absolute() and not path.is_file():
        path = params.NOTEBOOKS / path.name
    return path.stem, path, source


def launcher_notebook(pid: int | None = None) -> str | None:
    """The notebook named on the command line of the process that started this kernel
    (jupyter nbconvert --execute NAME.ipynb; papermill IN.ipynb OUT.ipynb: IN), as an
    absolute path; None where there is none, several, or no /proc (not Linux)."""
    proc = Path(f"/proc/{os.getppid() if pid is None else pid}")
    try:
        args = [a.decode() for a in (proc / "cmdline").read_bytes().split(b"\0") if a]
        cwd = (proc / "cwd").resolve()
    except (OSError, UnicodeDecodeError):
        return None
    values = {k + 1 for k, a in enumerate(args) if a in ("--output", "--output-dir")}
    named = [cwd / a for k, a in enumerate(args) if k and k not in values
             and a.endswith(".ipynb") and not a.startswith("-")]  # nbconvert's --output x.ipynb
    papermill = any(Path(a).name.startswith("papermill") for a in args[:2])
    if not named or (len(named) > 1 and not papermill):
        return None
    return str(named[0]) if named[0].is_file() else None


def section_of(name: str, carried: str | None = None) -> tuple:
    """(registry entry or None, how it was found) of a notebook called `name` whose
    `section` parameter is `carried`: by that parameter, by its name, or by its name
    without a copy suffix (06-best-lambda-Copy1 runs as 06-best-lambda)."""
    registry = sections.load()
    for how, key in (("its section parameter", carried), ("its name", name),
                     ("its name without the copy suffix", strip_copy(name))):
        entry = sections.by_name(key, registry) if key else None
        if entry is not None:
            return entry, f"{how} ({key!r})"
    return None, (f"its section parameter ({carried!r}), " if carried else "") + \
        f"its name ({name!r}) and its name without a copy suffix ({strip_copy(name)!r})"


def strip_copy(name: str) -> str:
    """`name` without the copy suffixes at its end: 06-best-lambda-Copy1-Copy2 -> 06-best-lambda."""
    while (shorter := COPY_SUFFIX.sub("", name)) != name:
        name = shorter
    return name


def inline_figures() -> None:
    """Figures shown inline as PNG (HTML) and PDF (vector, for the PDF report)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['png', 'pdf']")
