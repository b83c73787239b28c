"""The notebooks' helper layer: which notebook runs, where it writes, what it refuses."""

import json
import subprocess
import sys
import time

import numpy as np
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
    run.save()
    assert run.saved == tmp_path / "hand" / "assignment" / "results" / f"{new_name}.json"


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
    run.save()
    saved = json.loads(run.saved.read_text())
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


# Names that cannot mislabel a run: make's own, a session path that is gone, leaked variables


def test_make_started_inside_a_notebook_names_its_runs_itself(clean, monkeypatch):
    from helpers.workbook import build

    calling = str(profiles.NOTEBOOKS / f"{NAME}.ipynb")  # `!make report` typed in 02
    monkeypatch.setenv("JPY_SESSION_NAME", calling)
    monkeypatch.setenv(session.NAME, "06-best-lambda")
    monkeypatch.setenv(session.MAKE, "1")
    monkeypatch.setattr(session, "launcher_notebook",
                        lambda: str(profiles.NOTEBOOKS / "06-best-lambda.ipynb"))  # papermill's
    assert session.which_notebook({"__session__": calling, "section": "06-best-lambda"})[:1] \
        == ("06-best-lambda",)
    env = build.environment("06-best-lambda")  # and the kernel make starts has no session
    assert "JPY_SESSION_NAME" not in env and env[session.NAME] == "06-best-lambda"


def test_leaked_make_variables_are_an_error_not_an_official_run(clean, monkeypatch):
    monkeypatch.setenv(session.NAME, "06-best-lambda")
    monkeypatch.setenv(session.MAKE, "1")
    three = "03-clr-three-cycles"
    monkeypatch.setattr(session, "launcher_notebook",
                        lambda: str(profiles.NOTEBOOKS / f"{three}.ipynb"))  # papermill 03 by hand
    with pytest.raises(ValueError, match=r"unset WORKBOOK_NOTEBOOK WORKBOOK_MAKE"):
        session.which_notebook({"section": three})
    monkeypatch.setattr(session, "launcher_notebook", lambda: None)
    with pytest.raises(ValueError, match="section parameter is '03-clr-three-cycles'"):
        session.which_notebook({"section": three})
    monkeypatch.setattr(session, "launcher_notebook",
                        lambda: str(profiles.NOTEBOOKS / "06-best-lambda-Copy1.ipynb"))
    with pytest.raises(ValueError, match="runs 06-best-lambda-Copy1.ipynb"):
        session.which_notebook({"section": "06-best-lambda"})


def test_a_session_path_that_is_gone_reads_its_sections_parameters(hand, tmp_path, capsys):
    gone = tmp_path / "renamed-while-running.ipynb"
    values = {**defaults("06-best-lambda"), "build_dir": str(tmp_path), "n_seeds": 4,
              "__session__": str(gone)}
    run = workbook.start(values)
    assert run.parameters["n_seeds"] == 4 and run.parameters["cycles"] == values["cycles"]
    assert "not on disk" in capsys.readouterr().out
    del values["section"]
    with pytest.raises(ValueError, match="no `section` parameter"):
        workbook.start(values)


def test_a_hand_run_says_which_upstream_results_it_reads_and_from_when(hand, tmp_path, capsys):
    import os

    from helpers.workbook import results

    upstream = {"best": [{"lambda": 0.003}]}
    old = results.save(tmp_path / "hand" / "assignment" / "results", "05-lambda-fine-search",
                       upstream, {}, "assignment", time.time())
    os.utime(old, (time.time() - 20 * 86400,) * 2)
    results.save(tmp_path / "assignment" / "results", "05-lambda-fine-search", upstream, {},
                 "assignment", time.time())
    run = workbook.start({**defaults("06-best-lambda"), "build_dir": str(tmp_path),
                          "__session__": str(profiles.NOTEBOOKS / "06-best-lambda.ipynb")})
    run.read()
    said = capsys.readouterr().out
    assert "hand/assignment/results/05-lambda-fine-search.json" in said
    assert "20 days ago" in said and "make report's 05-lambda-fine-search.json is newer" in said


def test_a_second_build_of_the_same_notebook_stops_with_an_error(tmp_path, capsys):
    from helpers.workbook import build

    held = build.lock(tmp_path, "02-clr-one-cycle")
    try:
        assert build.run("quick", "02-clr-one-cycle", tmp_path) == 1
        assert "another build is running 02-clr-one-cycle" in capsys.readouterr().err
        assert not (tmp_path / "02-clr-one-cycle.running.ipynb").exists()
    finally:
        held.close()
    build.lock(tmp_path, "02-clr-one-cycle").close()  # released: free again


def test_a_section_refuses_results_held_out_with_another_split_seed(hand, tmp_path):
    """06's validation images are disjoint from those 05 chose lambda on only within one
    seed's partition (split_seed 0 against 1 shared 92 images): a mismatch is refused."""
    from helpers.cifar.data import held_out_slice
    from helpers.workbook import results

    perm = lambda seed: np.random.default_rng(seed).permutation(50000)  # noqa: E731
    search, final = held_out_slice("search"), held_out_slice("final")
    assert not set(perm(0)[search]) & set(perm(0)[final])  # one partition: disjoint
    assert set(perm(0)[search]) & set(perm(1)[final])  # two: they overlap
    for seed, refused in ((0, False), (1, True)):
        results.save(tmp_path / "assignment" / "results", "05-lambda-fine-search",
                     {"best": [{"lambda": 0.003}]}, {"split_seed": 0}, "assignment", time.time())
        run = workbook.start({**defaults("06-best-lambda"), "build_dir": str(tmp_path),
                              "split_seed": seed, "__session__": str(
                                  profiles.NOTEBOOKS / "06-best-lambda.ipynb")})
        if refused:
            with pytest.raises(ValueError, match="split_seed 1 but 05-lambda-fine-search.*"
                                                 "used split_seed 0"):
                run.lam(-1.0)
        else:
            assert run.lam(-1.0) == 0.003
