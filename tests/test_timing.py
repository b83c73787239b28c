"""`make report-times`: each executed notebook's seconds, by part."""

import json

from helpers.workbook import timing


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
