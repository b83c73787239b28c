"""Results files, listings, the training cache and the parameter profiles."""

import json
import time

import numpy as np
import pytest

from helpers import params, results


def test_save_and_load_round_trip(tmp_path):
    numbers = {"accuracy": {"train": np.float32(0.5), "val": 0.4, "test": 0.45}, "steps": 10,
               "values": np.arange(3)}
    path = results.save("02-clr-one-cycle", numbers, {"lam": 0.01}, tmp_path, "quick",
                        time.time() - 2)
    assert path == tmp_path / "quick" / "results" / "02-clr-one-cycle.json"
    loaded = results.load("02-clr-one-cycle", tmp_path, "quick")
    assert loaded["accuracy"]["train"] == 0.5 and loaded["values"] == [0, 1, 2]
    assert loaded["parameters"] == {"lam": 0.01} and loaded["seconds"] >= 2
    assert isinstance(loaded["git_commit"], str) and loaded["git_commit"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_load_missing_names_the_notebook_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="05-lambda-fine-search.ipynb first"):
        results.load("05-lambda-fine-search", tmp_path, "assignment")


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    results.save("x", {"steps": 1}, {}, tmp_path, "p", time.time())
    with pytest.raises(TypeError):
        results.save("x", {"steps": object()}, {}, tmp_path, "p", time.time())
    folder = tmp_path / "p" / "results"
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


def test_cache_hit_skips_training(tmp_path):
    calls = []

    def train(x, scale=1):
        calls.append(x)
        return {"value": np.arange(x) * scale}

    first, seconds = results.cached(tmp_path, {"x": 3}, train, 3, scale=2)
    again, seconds_again = results.cached(tmp_path, {"x": 3}, train, 3, scale=2)
    assert calls == [3] and seconds_again == seconds >= 0
    np.testing.assert_array_equal(again["value"], first["value"])
    results.cached(tmp_path, {"x": 4}, train, 4)
    results.cached(None, {"x": 4}, train, 4)  # no cache folder: always computed
    assert calls == [3, 4, 4]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cache_key_follows_the_engine_source(tmp_path, monkeypatch):
    (tmp_path / "helpers").mkdir()
    monkeypatch.setattr(results, "ROOT", tmp_path)
    engine = tmp_path / "helpers" / "training.py"
    engine.write_text("a = 1\n")
    key = results.cache_key({"lam": 0.01}, len)
    assert results.cache_key({"lam": 0.01}, len) == key
    assert results.cache_key({"lam": 0.02}, len) != key
    engine.write_text("a = 2\n")
    assert results.cache_key({"lam": 0.01}, len) != key


def test_listings_in_the_reports_format():
    text = results.accuracy_listing({"train": 0.6456, "val": 0.4652, "test": 0.4754}, 1000)
    assert text.splitlines() == ["Accuracy for training : 64.56% with steps 1000",
                                 "Accuracy for validation : 46.52% with steps 1000",
                                 "Accuracy for testing : 47.54% with steps 1000"]
    row = {"lambda": 0.0006246592215568911, "train_accuracy": 0.5873, "val_accuracy": 0.529}
    assert results.search_listing([row]) == ("lambda=0.0006246592215568911, training "
                                              "accuracy=58.73%, validation accuracy=52.90%")
    lines = results.gradient_listing({"W1": 1.63e-14, "W2": 2.12e-16, "b1": 1.6e-15,
                                      "b2": 3.08e-16}).splitlines()
    assert lines[:3] == ["Relative errors in W:", "Layer 0: max relative error = 1.63e-14",
                         "Layer 1: max relative error = 2.12e-16"]
    assert lines[4:] == ["Relative errors in b:", "Layer 0: max relative error = 1.60e-15",
                         "Layer 1: max relative error = 3.08e-16"]


def test_spread():
    assert results.spread([0.5]) == {"mean": 0.5, "std": 0.0, "values": [0.5]}
    assert results.spread(np.array([0.4, 0.6]))["std"] == pytest.approx(0.1414, abs=1e-4)


@pytest.mark.parametrize("profile", ["assignment", "seed", "quick"])
def test_every_profile_names_only_known_parameters(profile):
    params.check_profile(profile)
    one = params.parameters_for(profile, "02-clr-one-cycle")
    assert one["profile"] == profile


def test_unknown_parameter_is_rejected_with_the_known_ones():
    notebook = params.NOTEBOOKS / "02-clr-one-cycle.ipynb"
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['lamda'\].*'lam'"):
        params.check({"lam": 0.1, "lamda": 0.1}, notebook)


def test_unknown_profile_and_section_are_rejected(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no profile 'nope'"):
        params.load_profile("nope")
    monkeypatch.setattr(params, "PROFILES", tmp_path)
    (tmp_path / "bad.yaml").write_text("02-clr-one-cyle:\n  lam: 0.1\n")
    with pytest.raises(ValueError, match="02-clr-one-cyle"):
        params.load_profile("bad")
    (tmp_path / "stray.yaml").write_text("shared:\n  lamda: 0.1\n")
    with pytest.raises(ValueError, match="lamda"):
        params.check_profile("stray")


def test_params_command_writes_one_notebooks_yaml(tmp_path):
    import yaml

    out = tmp_path / "p.yaml"
    assert params.main(["seed", "03-clr-three-cycles", "-o", str(out)]) == 0
    got = yaml.safe_load(out.read_text())
    assert got["profile"] == "seed" and got["m"] == 100 and got["batch_size"] == 62
    assert params.main(["nope", "03-clr-three-cycles"]) == 1


def test_times_are_broken_down_by_part(tmp_path, capsys):
    cell = lambda source, seconds: {"cell_type": "code", "source": source,  # noqa: E731
                                    "metadata": {"papermill": {"duration": seconds}}}
    notebook = {"metadata": {"papermill": {"duration": 10.0}}, "cells": [
        cell("import time\nsplit = load_split('exercise')", 1.5),
        cell("net, s = results.cached(cache, inputs, train)", 6.0),
        cell("fig = plots.curves(history)", 0.5)]}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "02-x.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "results").mkdir()
    record = {"history": {"seconds": {"total": 5.5, "evaluation": 1.25}}}
    (tmp_path / "results" / "02-x.json").write_text(json.dumps(record))
    parts = results.breakdown(tmp_path / "notebooks" / "02-x.ipynb")
    assert parts == {"start-up": 2.0, "data": 1.5, "training": 6.0, "rest": 0.5}
    assert results.evaluation_seconds(tmp_path / "results" / "02-x.json") == 1.25
    assert results.evaluation_seconds(tmp_path / "results" / "missing.json") is None
    results.print_times(tmp_path / "notebooks")
    assert "1.2" in capsys.readouterr().out.splitlines()[1]
