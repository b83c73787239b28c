"""Smoke test of the benchmarks on tiny shapes: they run and write well-formed JSON.

No timing is asserted here: the speed goals live in `make bench`.
"""

import json

from benchmarks.bench import main, write_json

KEYS = {"goal", "what", "median_s", "reference", "reference_median_s", "ratio", "target",
        "met", "note"}


def test_quick_benchmark_prints_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "bench" / "bench.json"
    assert main(["--quick", "--out", str(out), "--build", str(tmp_path / "build")]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 1
    label, run = next(iter(runs.items()))
    assert label in ("as-is", "openblas-unset") and run["label"] == label
    assert {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "threadpool_info"} <= run["environment"].keys()
    assert all(row.keys() == KEYS and row["met"] in (True, False, None) for row in run["rows"])
    assert {row["goal"] for row in run["rows"]} >= {"1 step", "2 search", "3 report", "4 memory"}
    report = [row for row in run["rows"] if row["goal"] == "3 report"]
    assert any(row["note"].startswith("not measured") for row in report)
    assert all(row["median_s"] > 0 for row in run["rows"] if row["goal"] in ("1 step", "2 search"))
    assert "OPENBLAS_CORETYPE=" in capsys.readouterr().out
    assert main(["--markdown", "--out", str(out)]) == 0
    assert f"### {label}" in capsys.readouterr().out


def test_runs_under_other_settings_are_kept(tmp_path):
    path = tmp_path / "bench.json"
    write_json(path, "as-is", {"rows": [1]})
    write_json(path, "openblas-unset", {"rows": [2]})
    write_json(path, "as-is", {"rows": [3]})
    assert json.loads(path.read_text()) == {"runs": {"as-is": {"rows": [3]},
                                                     "openblas-unset": {"rows": [2]}}}
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # no temporary file left
