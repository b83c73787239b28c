"""Smoke test of the benchmarks on tiny shapes: they run and write well-formed JSON, and
every reference is timed in a process of its own.

No timing is asserted here: the speed goals live in `make bench`.
"""

import json
import os

import pytest

from benchmarks.bench import GROUPS, OWN_PROCESS, QUICK, main, write_json

KEYS = {"goal", "what", "median_s", "reference", "reference_median_s", "ratio", "target",
        "met", "note"}


@pytest.mark.slow  # ten reference processes, most of them importing torch
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
    printed = capsys.readouterr().out
    assert "OPENBLAS_CORETYPE=" in printed and OWN_PROCESS in printed
    processes = run["reference_processes"]
    pids = [p["pid"] for p in processes["references"]]
    assert processes["this"] == os.getpid() and os.getpid() not in pids
    assert len(set(pids)) == len(pids)  # a fresh process for every reference timed
    assert {p["group"] for p in processes["references"]} == set(GROUPS)
    assert main(["--markdown", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"### {label}" in printed and OWN_PROCESS in printed


def test_a_reference_process_prints_its_medians_as_json(capsys):
    shape = {**QUICK, "reps": 2}
    assert main(["--reference", "products", "--shape", json.dumps(shape), "--networks", "2"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["pid"] == os.getpid() and list(answer["medians"]) == ["products"]
    assert answer["medians"]["products"] > 0


def test_a_reference_needs_a_known_group_and_a_shape(capsys):
    with pytest.raises(SystemExit):
        main(["--reference", "numpy_user", "--shape", json.dumps(QUICK)])
    with pytest.raises(SystemExit):
        main(["--reference", "products"])
    assert "--shape" in capsys.readouterr().err


def test_runs_under_other_settings_are_kept(tmp_path):
    path = tmp_path / "bench.json"
    write_json(path, "as-is", {"rows": [1]})
    write_json(path, "openblas-unset", {"rows": [2]})
    write_json(path, "as-is", {"rows": [3]})
    assert json.loads(path.read_text()) == {"runs": {"as-is": {"rows": [3]},
                                                     "openblas-unset": {"rows": [2]}}}
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # no temporary file left
