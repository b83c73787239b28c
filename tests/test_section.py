"""The notebooks' helper layer: which notebook runs, where it writes, what it refuses."""

import json
import subprocess
import sys
import time

import pytest

from helpers import workbook
from helpers.workbook import profiles
from helpers.workbook import section as session

NAME = "02-clr-one-cycle"


def defaults(name=NAME) -> dict:
    """The parameters cell's own values, as a hand run has them."""
    namespace = {}
    cells = profiles.declared(profiles.NOTEBOOKS / f"{name}.ipynb")
    source = next(c for c in json.loads(
        (profiles.NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
        if "parameters" in c["metadata"].get("tags", []))
    exec("".join(source["source"]), namespace)  # the cell is typed literals only
    return {k: namespace[k] for k in cells}


@pytest.fixture
def hand(monkeypatch):
    monkeypatch.delenv(workbook.MAKE, raising=False)
    monkeypatch.delenv(workbook.NAME, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def test_a_hand_run_writes_beside_not_into_the_reports_results(hand, tmp_path):
    run = workbook.start({**defaults(), "build_dir": str(tmp_path), "figures_dir": str(tmp_path),
                          "__session__": str(profiles.NOTEBOOKS / f"{NAME}.ipynb")})
    assert not run.official and run.progress
    assert run.results_dir == tmp_path / "hand" / "assignment" / "results"
    assert run.figures == tmp_path / "hand" / "assignment" / NAME  # each notebook its folder
    assert run.cache_dir == tmp_path / "cache"  # keyed by every input: one for all profiles


def test_a_leaked_make_variable_does_not_make_a_jupyter_run_official(monkeypatch, tmp_path):
    monkeypatch.setenv(workbook.NAME, "06-best-lambda")
    monkeypatch.setenv(workbook.MAKE, "1")
    copy = tmp_path / f"{NAME}-Copy1.ipynb"
    copy.write_bytes((profiles.NOTEBOOKS / f"{NAME}.ipynb").read_bytes())
    run = workbook.start({**defaults(), "build_dir": str(tmp_path), "__session__": str(copy)})
    assert run.name == f"{NAME}-Copy1" and not run.official
    assert run.entry["notebook"] == NAME


def copy_of(name, tmp_path, new_name, section=True):
    """A copy of notebooks/<name>.ipynb as tmp_path/<new_name>.ipynb, its section parameter
    kept (as JupyterLab's Duplicate or cp keeps it) or deleted."""
    nb = json.loads((profiles.NOTEBOOKS / f"{name}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = [line for line in cell["source"]
                      if section or not line.startswith("section:")]
    path = tmp_path / f"{new_name}.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.parametrize("new_name", ["06-best-lambda-Copy1", "06-best-lambda-Copy2",
                                      "06-best-lambda copy", "06-best-lambda-Copy1-Copy1",
                                      "my experiment"])
def test_a_copy_reads_what_its_original_reads_and_saves_under_its_own_name(
        hand, tmp_path, new_name):
    results = tmp_path / "assignment" / "results"
    results.mkdir(parents=True)
    (results / "05-lambda-fine-search.json").write_text(json.dumps({"best": [{"lambda": 0.003}]}))
    path = copy_of("06-best-lambda", tmp_path, new_name, section=new_name == "my experiment")
    values = {**defaults("06-best-lambda"), "build_dir": str(tmp_path),
              "figures_dir": str(tmp_path)}
    if new_name != "my experiment":
        del values["section"]  # found by its name without the copy suffix
    run = workbook.start({**values, "__session__": str(path)})
    assert run.lam(-1) == 0.003 and run.name == new_name
    assert run.figures == tmp_path / "hand" / "assignment" / new_name
    assert run.save() == tmp_path / "hand" / "assignment" / "results" / f"{new_name}.json"


def test_a_notebook_that_matches_no_section_says_how_it_was_looked_up(hand, tmp_path):
    path = copy_of("06-best-lambda", tmp_path, "my experiment", section=False)
    values = {k: v for k, v in defaults("06-best-lambda").items() if k != "section"}
    run = workbook.start({**values, "build_dir": str(tmp_path), "__session__": str(path)})
    assert run.entry is None and run.lam(0.01) == 0.01  # a lambda given: nothing to read
    with pytest.raises(ValueError, match=r"'my experiment' matches no section.*its name "
                                         r"\('my experiment'\).*section: str ="):
        run.lam(-1)
    with pytest.raises(ValueError, match="matches no section"):
        run.read()
    with pytest.raises(FileNotFoundError, match="05-lambda-fine-search.json is missing"):
        run.read("05-lambda-fine-search")  # by name, it needs no registry


def test_a_notebook_trained_twice_keeps_each_run_under_its_own_key(monkeypatch, tmp_path):
    monkeypatch.setenv(workbook.NAME, NAME)
    run = workbook.start({**defaults(), "build_dir": str(tmp_path), "n_s": 0,
                          "batch_size": 100})
    small, large = (type("S", (), {"y_train": range(n)})() for n in (1000, 45000))
    first, second = run.part("range_test"), run.part("retrained")
    first.settings(small, cycles=1)
    second.settings(large, cycles=3)
    run.record(chosen={"eta_max": 0.1})
    saved = json.loads(run.save().read_text())
    assert saved["range_test"]["settings"]["n_s"] == 20 and saved["range_test"]["steps"] == 40
    assert saved["retrained"]["settings"]["n_s"] == 900 and saved["retrained"]["steps"] == 5400
    assert "settings" not in saved and saved["chosen"] == {"eta_max": 0.1}
    assert run.settings_for(small).n_s == 20 and "settings" not in run.all_numbers  # not recorded


def test_make_runs_write_where_the_report_reads(monkeypatch, tmp_path):
    monkeypatch.setenv(workbook.NAME, NAME)
    monkeypatch.setenv(workbook.MAKE, "1")
    run = workbook.start({**defaults(), "build_dir": str(tmp_path), "profile": "quick"})
    assert run.official and not run.progress
    assert run.results_dir == tmp_path / "quick" / "results"


@pytest.mark.parametrize(("change", "message"), [({"n_s": -5}, "n_s must be >= 0"),
                                                 ({"lam": "abc"}, "lam must be a float")])
def test_bad_parameters_stop_the_notebook_with_their_name(monkeypatch, change, message):
    monkeypatch.setenv(workbook.NAME, NAME)
    with pytest.raises(ValueError, match=message):
        workbook.start({**defaults(), **change})


def test_n_s_zero_means_two_epochs_of_batches(monkeypatch):
    monkeypatch.setenv(workbook.NAME, NAME)
    run = workbook.start({**defaults(), "n_s": 0, "batch_size": 100})
    split = type("S", (), {"y_train": range(45000)})()
    assert run.settings(split).n_s == 900
    run = workbook.start({**defaults(), "n_s": 7})
    assert run.settings(split).n_s == 7


# Which notebook runs: Jupyter's session, then make's variable, then the command that started
# the kernel, then the notebook's own section parameter; copies run as their original


@pytest.fixture
def clean(monkeypatch):
    for variable in (session.NAME, session.MAKE, "JPY_SESSION_NAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(session, "launcher_notebook", lambda: None)


def test_jupyter_names_the_notebook_of_a_hand_run(clean, tmp_path):
    path = profiles.NOTEBOOKS / f"{NAME}.ipynb"
    assert session.which_notebook({"__session__": str(path)}) == (NAME, path,
                                                                  "Jupyter's session")
    copy = tmp_path / "my-copy.ipynb"
    assert session.which_notebook({"__session__": str(copy)})[0] == "my-copy"
    with pytest.raises(ValueError, match="cannot tell which notebook"):
        session.which_notebook({})


def test_jupyters_session_wins_over_a_leaked_variable(clean, monkeypatch):
    monkeypatch.setenv(session.NAME, "06-best-lambda")  # exported in the shell of `make lab`
    path = profiles.NOTEBOOKS / f"{NAME}.ipynb"
    assert session.which_notebook({"__session__": str(path)})[0] == NAME
    assert session.which_notebook({})[:1] == ("06-best-lambda",)  # make's own runs


def test_then_the_command_that_started_the_kernel_then_the_section_parameter(
        clean, monkeypatch, tmp_path):
    assert session.which_notebook({"section": NAME}) == (
        NAME, profiles.NOTEBOOKS / f"{NAME}.ipynb", "its section parameter")
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
