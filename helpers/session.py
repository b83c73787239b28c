"""Which notebook is running (make, Jupyter or papermill by hand), and how it shows figures."""

import os
from pathlib import Path

from helpers import params

NAME, MAKE = "WORKBOOK_NOTEBOOK", "WORKBOOK_MAKE"  # environment set by make (and tests)


def which_notebook(namespace: dict) -> tuple:
    """(name, path) of the running notebook: from make's environment, else from Jupyter's
    session (a notebook run by hand), else ValueError saying how to name it."""
    session = os.environ.get(NAME) or namespace.get("__session__") or \
        os.environ.get("JPY_SESSION_NAME") or namespace.get("__vsc_ipynb_file__")
    if not session:
        raise ValueError(f"cannot tell which notebook this is: run it with make, in Jupyter, or "
                         f"set {NAME}=<notebook name> in the environment (papermill by hand)")
    path = Path(session)
    if not path.suffix:
        path = params.NOTEBOOKS / f"{session}.ipynb"
    return path.stem, path


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
