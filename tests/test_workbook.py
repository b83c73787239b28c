"""The notebooks' helper layer: which notebook runs, where it writes, what it refuses."""

import json

import pytest

from helpers import params, session, workbook

NAME = "02-clr-one-cycle"


def defaults(name=NAME) -> dict:
    """The parameters cell's own values, as a hand run has them."""
    namespace = {}
    cells = params.declared(params.NOTEBOOKS / f"{name}.ipynb")
    source = next(c for c in json.loads(
        (params.NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
        if "parameters" in c["metadata"].get("tags", []))
    exec("".join(source["source"]), namespace)  # the cell is typed literals only
    return {k: namespace[k] for k in cells}


@pytest.fixture
def hand(monkeypatch):
    monkeypatch.delenv(workbook.MAKE, raising=False)
    monkeypatch.delenv(workbook.NAME, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def test_jupyter_names_the_notebook_of_a_hand_run(hand, tmp_path):
    path = params.NOTEBOOKS / f"{NAME}.ipynb"
    assert session.which_notebook({"__session__": str(path)}) == (NAME, path)
    copy = tmp_path / "my-copy.ipynb"
    assert session.which_notebook({"__session__": str(copy)})[0] == "my-copy"
    with pytest.raises(ValueError, match="cannot tell which notebook"):
        session.which_notebook({})


def test_a_hand_run_writes_beside_not_into_the_reports_results(hand, tmp_path):
    run = workbook.start({**defaults(), "build_dir": str(tmp_path), "figures_dir": str(tmp_path),
                          "__session__": str(params.NOTEBOOKS / f"{NAME}.ipynb")})
    assert not run.official and run.progress
    assert run.results_dir == tmp_path / "hand" / "assignment" / "results"
    assert run.figures == tmp_path / "hand" / "assignment"
    assert run.cache_dir == tmp_path / "assignment" / "cache"  # keyed by inputs: safe to share


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
