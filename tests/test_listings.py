"""The report's listings, spreads over seeds, and the notebooks' timings by part."""

import json

import numpy as np
import pytest

from helpers.model.accuracy import over_seeds
from helpers.report import listings
from helpers.workbook import timing


def test_listings_in_the_reports_format():
    text = listings.accuracy_listing({"train": 0.6456, "val": 0.4652, "test": 0.4754}, 1000)
    assert text.splitlines() == ["Accuracy for training : 64.56% with steps 1000",
                                 "Accuracy for validation : 46.52% with steps 1000",
                                 "Accuracy for testing : 47.54% with steps 1000"]
    row = {"lambda": 0.0006246592215568911, "train_accuracy": 0.5873, "val_accuracy": 0.529}
    assert listings.search_listing([row]) == ("lambda=0.0006246592215568911, training "
                                              "accuracy=58.73%, validation accuracy=52.90%")
    lines = listings.gradient_listing({"W1": 1.63e-14, "W2": 2.12e-16, "b1": 1.6e-15,
                                      "b2": 3.08e-16}).splitlines()
    assert lines[:3] == ["Relative errors in W:", "Layer 0: max relative error = 1.63e-14",
                         "Layer 1: max relative error = 2.12e-16"]
    assert lines[4:] == ["Relative errors in b:", "Layer 0: max relative error = 1.60e-15",
                         "Layer 1: max relative error = 3.08e-16"]


def test_spread():
    assert over_seeds([0.5]) == {"mean": 0.5, "std": 0.0, "values": [0.5]}
    assert over_seeds(np.array([0.4, 0.6]))["std"] == pytest.approx(0.1414, abs=1e-4)


def test_times_are_broken_down_by_part(tmp_path, capsys):
    cell = lambda source, seconds: {"cell_type": "code", "source": source,  # noqa: E731
                                    "metadata": {"papermill": {"duration": seconds}}}
    notebook = {"metadata": {"papermill": {"duration": 10.0}}, "cells": [
        cell("import time\nsplit = run.split('exercise')", 1.5),
        cell("net, history = run.train(split, settings, lam)", 6.0),
        cell("fig = plots.curves(history)", 0.5)]}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "02-x.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "results").mkdir()
    record = {"history": {"seconds": {"total": 5.5, "evaluation": 1.25}}}
    (tmp_path / "results" / "02-x.json").write_text(json.dumps(record))
    parts = timing.breakdown(tmp_path / "notebooks" / "02-x.ipynb")
    assert parts == {"start-up": 2.0, "data": 1.5, "training": 6.0, "rest": 0.5}
    assert timing.evaluation_seconds(tmp_path / "results" / "02-x.json") == 1.25
    assert timing.evaluation_seconds(tmp_path / "results" / "missing.json") is None
    timing.print_times(tmp_path / "notebooks")
    assert "1.2" in capsys.readouterr().out.splitlines()[1]
