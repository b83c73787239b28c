"""Results files: saved atomically with their origin, loaded with a clear error."""

import json
import time

import numpy as np
import pytest

from helpers.workbook import results


def test_save_and_load_round_trip(tmp_path):
    numbers = {"accuracy": {"train": np.float32(0.5), "val": 0.4, "test": 0.45}, "steps": 10,
               "values": np.arange(3)}
    path = results.save(tmp_path, "02-clr-one-cycle", numbers, {"lam": 0.01}, "quick",
                        time.time() - 2)
    assert path == tmp_path / "02-clr-one-cycle.json"
    loaded = results.load("02-clr-one-cycle", tmp_path)
    assert loaded["accuracy"]["train"] == 0.5 and loaded["values"] == [0, 1, 2]
    assert loaded["parameters"] == {"lam": 0.01} and loaded["seconds"] >= 2
    assert isinstance(loaded["git_commit"], str) and loaded["git_commit"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_load_missing_names_the_notebook_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="05-lambda-fine-search.ipynb first"):
        results.load("05-lambda-fine-search", tmp_path)


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    folder = tmp_path / "p" / "results"
    results.save(folder, "x", {"steps": 1}, {}, "p", time.time())
    with pytest.raises(TypeError):
        results.save(folder, "x", {"steps": object()}, {}, "p", time.time())
    assert [p.name for p in folder.iterdir()] == ["x.json"]
    assert json.loads((folder / "x.json").read_text())["steps"] == 1


def test_interrupted_write_leaves_nothing(tmp_path):
    def half(f):
        f.write(b'{"half": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        results.atomic_write(tmp_path / "r.json", half)
    assert list(tmp_path.iterdir()) == []


def test_git_commit_outside_git_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "ROOT", tmp_path)
    assert results.git_commit() == "unknown"
