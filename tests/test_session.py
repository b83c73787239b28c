"""Which notebook runs: Jupyter's session, then make's variable, then the command that started
the kernel, then the notebook's own section parameter; copies run as their original."""

import subprocess
import sys
import time

import pytest

from helpers.workbook import profiles as params
from helpers.workbook import section as session

NAME = "02-clr-one-cycle"


@pytest.fixture
def clean(monkeypatch):
    for variable in (session.NAME, session.MAKE, "JPY_SESSION_NAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(session, "launcher_notebook", lambda: None)


def test_jupyter_names_the_notebook_of_a_hand_run(clean, tmp_path):
    path = params.NOTEBOOKS / f"{NAME}.ipynb"
    assert session.which_notebook({"__session__": str(path)}) == (NAME, path,
                                                                  "Jupyter's session")
    copy = tmp_path / "my-copy.ipynb"
    assert session.which_notebook({"__session__": str(copy)})[0] == "my-copy"
    with pytest.raises(ValueError, match="cannot tell which notebook"):
        session.which_notebook({})


def test_jupyters_session_wins_over_a_leaked_variable(clean, monkeypatch):
    monkeypatch.setenv(session.NAME, "06-best-lambda")  # exported in the shell of `make lab`
    path = params.NOTEBOOKS / f"{NAME}.ipynb"
    assert session.which_notebook({"__session__": str(path)})[0] == NAME
    assert session.which_notebook({})[:1] == ("06-best-lambda",)  # make's own runs


def test_then_the_command_that_started_the_kernel_then_the_section_parameter(
        clean, monkeypatch, tmp_path):
    assert session.which_notebook({"section": NAME}) == (
        NAME, params.NOTEBOOKS / f"{NAME}.ipynb", "its section parameter")
    copy = tmp_path / f"{NAME} copy.ipynb"
    copy.write_text("{}")
    monkeypatch.setattr(session, "launcher_notebook", lambda: str(copy))
    assert session.which_notebook({"section": NAME}) == (
        f"{NAME} copy", copy, "the command that started the kernel")


def sleeping(tmp_path, *args, program=None):
    """A process whose command line is `python [program] args...`, run in tmp_path."""
    code = ["-c", "import time; time.sleep(30)"] if program is None else [str(program)]
    return subprocess.Popen([sys.executable, *code, *args], cwd=tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_notebook_named_on_nbconverts_or_papermills_command_line(tmp_path):
    for name in ("a.ipynb", "in.ipynb", "out.ipynb"):
        (tmp_path / name).write_text("{}")
    papermill = tmp_path / "papermill"
    papermill.write_text("import time\ntime.sleep(30)\n")
    cases = [(sleeping(tmp_path, "--to", "notebook", "--execute", "a.ipynb"), "a.ipynb"),
             (sleeping(tmp_path, "--execute", "a.ipynb", "--output", "out.ipynb"), "a.ipynb"),
             (sleeping(tmp_path, "in.ipynb", "out.ipynb", program=papermill), "in.ipynb"),
             (sleeping(tmp_path, "in.ipynb", "out.ipynb"), None),  # two, and not papermill
             (sleeping(tmp_path, "missing.ipynb"), None), (sleeping(tmp_path), None)]
    try:
        time.sleep(0.5)
        for process, expected in cases:
            found = session.launcher_notebook(process.pid)
            assert found == (None if expected is None else str(tmp_path / expected))
    finally:
        for process, _ in cases:
            process.kill()
    assert session.launcher_notebook(2**22 + 12345) is None  # no such process


@pytest.mark.parametrize(("name", "original"), [
    ("06-best-lambda-Copy1", "06-best-lambda"), ("06-best-lambda-Copy12", "06-best-lambda"),
    ("06-best-lambda copy", "06-best-lambda"), ("06-best-lambda copy 2", "06-best-lambda"),
    ("06-best-lambda - Copy (3)", "06-best-lambda"), ("06-best-lambda (1)", "06-best-lambda"),
    ("06-best-lambda-Copy1-Copy1", "06-best-lambda"), ("06-best-lambda", "06-best-lambda"),
    ("06-best-lambda-copyedit", "06-best-lambda-copyedit")])
def test_copy_suffixes(name, original):
    assert session.strip_copy(name) == original


def test_the_section_of_a_copy_a_renamed_copy_and_a_stranger():
    assert session.section_of("06-best-lambda-Copy1")[0]["notebook"] == "06-best-lambda"
    entry, how = session.section_of("my experiment", carried="07-lr-range-test")
    assert entry["notebook"] == "07-lr-range-test" and "section parameter" in how
    entry, how = session.section_of("my experiment")
    assert entry is None and "'my experiment'" in how
