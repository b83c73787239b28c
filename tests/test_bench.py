"""Smoke test of the benchmarks on tiny shapes: they run and write well-formed JSON, and
every reference is timed in a process of its own.

No timing is asserted here: the speed goals live in `make bench`.
"""

import json
import os

import numpy as np
import pytest

from benchmarks import goals, harness, jobs, suite, wide
from benchmarks.bench import main
from benchmarks.output import OWN_PROCESS, write_json
from benchmarks.references import GROUPS
from benchmarks.rows import Row
from benchmarks.workloads import FULL, QUICK, batches, data
from helpers import registry
from helpers.cifar.augment import mirror_translate

KEYS = ["goal", "what", "median_s", "reference", "reference_median_s", "ratio", "ratio_spread",
        "target", "met", "note"]  # a row's JSON keys, in order


@pytest.mark.slow  # eighteen reference processes, most of them importing torch
def test_quick_benchmark_prints_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "bench" / "bench.json"
    assert main(["--quick", "--out", str(out), "--build", str(tmp_path / "build")]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 1
    label, run = next(iter(runs.items()))
    assert label in ("as-is", "openblas-unset") and run["label"] == label
    assert {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "threadpool_info"} <= run["environment"].keys()
    assert all(list(row) == KEYS and row["met"] in (True, False, None) for row in run["rows"])
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
    assert {p["group"] for p in processes["references"]} == set(GROUPS)  # recipe's included
    assert sum(p["group"] == "torch_user_wide" for p in processes["references"]) == \
        len(QUICK["wide"])  # once per width, in a process of its own
    assert_bonus_rows([row for row in run["rows"] if row["goal"] == "5 bonus"])
    assert_job_rows([row for row in run["rows"] if row["goal"] == "6 jobs"])
    assert main(["--markdown", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"### {label}" in printed and OWN_PROCESS in printed


def assert_bonus_rows(bonus: list) -> None:
    """Per width and per 1 or 2 networks: the GEMM-rate row, then the PyTorch user's; then
    the recipe's step (projected input) against its products and the PyTorch user's."""
    bonus, recipe = bonus[:-2], bonus[-2:]
    assert recipe[0]["what"].startswith("bonus recipe (m=16, k=8, dropout 0.2, flips/shifts, "
                                        "projected each step)")
    assert "with the projection" in recipe[0]["reference"] and recipe[0]["met"] in (True, False)
    assert recipe[1]["reference"].startswith("PyTorch user's version (torch projection")
    assert all(row["median_s"] > 0 and row["reference_median_s"] > 0 for row in recipe)
    assert len(bonus) == 4 * len(QUICK["wide"])
    assert all(row["median_s"] > 0 and row["reference_median_s"] > 0 for row in bonus)
    for (gemm, user), (m, n) in zip(zip(bonus[::2], bonus[1::2], strict=True),
                                    [(m, n) for m in QUICK["wide"] for n in (1, 2)], strict=True):
        assert gemm["what"].startswith(f"bonus m={m}, {n} network")
        assert "products alone" in gemm["reference"] and "GFLOP/s" in gemm["what"]
        assert gemm["target"] == ">= 0.70 of the GEMM rate" and gemm["met"] in (True, False)
        assert user["reference"].startswith(f"{n} x PyTorch-user step (Dropout")
        assert user["ratio"] == pytest.approx(user["reference_median_s"] / user["median_s"])


def assert_job_rows(rows: list) -> None:
    """Goal 6: one row per kind of job the report trains, its step against its products on
    one BLAS thread, judged by the median of the per-repetition ratios; then the workers' gain
    (two one-thread jobs against two BLAS threads), with its spread and no target."""
    kinds = jobs.kinds(QUICK)
    steps, gains = rows[: len(kinds)], rows[len(kinds) :: 2]
    efficiency = rows[len(kinds) + 1 :: 2]
    assert len(gains) == 2 and len(efficiency) == 2
    for row in efficiency:
        assert row["what"].endswith("two-core efficiency, 2 workers against 1")
        assert row["target"] == goals.TWO_CORES.text and row["met"] in (True, False)
        assert row["reference"] == "the same jobs on one worker"
    for row, kind in zip(steps, kinds, strict=True):
        assert row["what"].startswith(kind["label"]) and "GFLOP/s" in row["what"]
        assert row["reference"].startswith("its products alone, one BLAS thread")
        assert row["target"] == goals.GEMM_RATE.text and row["met"] in (True, False)
    for row in gains:
        assert row["what"].endswith("jobs, one BLAS thread each") and row["target"] == ""
        assert row["met"] is None and row["reference"].endswith("on 2 BLAS threads")
    for row in rows:
        assert row["median_s"] > 0 and row["reference_median_s"] > 0
        spread = row["ratio_spread"]
        assert spread["n"] == QUICK["job_reps"] and row["ratio"] == spread["median"]
        assert spread["min"] <= spread["q1"] <= spread["median"] <= spread["q3"] <= spread["max"]


def test_the_jobs_timed_are_the_reports():
    """Goal 6 times a job of each training the report runs, with the report's shapes: the
    assignment's stacks as workers.chunks cuts them, one job per (row, seed) of the bonus."""
    kinds = {kind["row"]: kind for kind in jobs.kinds(FULL)}
    assert [kinds[row]["networks"] for row in ("runs of 02, 03, 06, 07", "coarse search (04)",
                                               "fine search (05)")] == [3, 13, 2]
    assert all(kinds[row]["recipe"] is None for row in list(kinds)[:3])
    full = FULL["recipe"]
    assert kinds["grid"]["recipe"] == full and kinds["grid"]["dropouts"] == [0, 0, 0.2, 0.2]
    # the narrow row trains beside the grid, on its rows (bonus.train_recipes)
    assert kinds["grid"]["beside"] == {"m": 50, "dropouts": [0.0] * 3 + [0.2] * 3}
    assert "narrow row" not in kinds
    still = {**full, "max_shift": 0, "p_flip": 0.0}
    assert kinds["no flips/shifts"]["recipe"] == still
    assert kinds["no flips/shifts"]["dropouts"] == [0.2]
    assert kinds["chosen/final"]["recipe"] == {**still, "dropout": 0.0}
    assert jobs.flops(FULL, kinds["grid"]) == 2 * 100 * 3072 * 256 + \
        2 * 4 * 1000 * 100 * (2 * 256 + 3 * 10) + 2 * 6 * 50 * 100 * (2 * 256 + 3 * 10)
    # the projection once, the five products at d = k of the grid's 4 and the narrow row's 6
    assert jobs.flops(FULL, kinds["no flips/shifts"]) == 2 * 1000 * 100 * (2 * 256 + 3 * 10)
    assert "then projected every step" in jobs.describe(kinds["grid"])
    assert "rows projected once" in jobs.describe(kinds["chosen/final"])


def test_ratios_are_taken_per_repetition_and_spread():
    times = {"products": [1.0, 2.0, 3.0], "step": [2.0, 2.0, 4.0]}
    assert harness.ratios(times, "products", "step") == [0.5, 1.0, 0.75]
    assert harness.spread([0.5, 1.0, 0.75]) == {"median": 0.75, "min": 0.5, "q1": 0.625,
                                                 "q3": 0.875, "max": 1.0, "n": 3}
    runs = []
    timed = harness.interleaved_times({"a": lambda: runs.append("a"),
                                       "b": lambda: runs.append("b")}, 2)
    assert runs == ["a", "b"] * 3 and [len(v) for v in timed.values()] == [2, 2]  # warm-up


def test_the_recipe_step_drops_out_per_network_and_leaves_the_data_unchanged():
    shape = {**QUICK, "d": wide.D, "recipe": QUICK["recipe"]}
    X, y = data(shape)
    before = X.copy()
    run = wide.our_recipe_steps(shape, X, y, batches(shape), [0.0, 0.2, 0.5])
    run()
    run()
    np.testing.assert_array_equal(X, before)


def test_the_torch_users_flips_and_shifts_are_the_engines():
    """torch_flip_shift (flip a random subset, zero padding, one crop per image) moves every
    image exactly as helpers.augment.mirror_translate does with the same flips and shifts."""
    import torch

    X = np.random.default_rng(0).standard_normal((16, wide.D), dtype=np.float32)
    images = torch.from_numpy(X.copy()).view(-1, 3, 32, 32)
    out = wide.torch_flip_shift(images, torch.Generator().manual_seed(5))
    gen, s = torch.Generator().manual_seed(5), wide.MAX_SHIFT
    flip = (torch.rand(16, generator=gen) < wide.P_FLIP).numpy()
    corner = torch.randint(0, 2 * s + 1, (16, 2), generator=gen).numpy()  # crop at (i, j)
    expected = mirror_translate(X, flip, s - corner[:, 1], s - corner[:, 0], s)
    np.testing.assert_array_equal(out.reshape(16, -1).numpy(), expected)
    assert flip.any() and not flip.all()


def test_the_wide_step_runs_again_and_leaves_the_data_unchanged():
    shape = {**QUICK, "d": wide.D, "m": 8}
    X, y = data(shape)
    run = wide.our_wide_steps(shape, X, y, 2, batches(shape))
    before = X.copy()
    run()
    run()  # a second call goes on from the first (the decay scale was folded back into W1)
    np.testing.assert_array_equal(X, before)  # augmentation works on a copy of the batch


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


def test_a_row_takes_keywords_only_and_keeps_its_json_keys_in_order():
    with pytest.raises(TypeError):
        Row("1 step", "one step", 1.0)  # the positional call the dataclass refuses
    row = Row(goal="1 step", what="one step", median_s=1.0)
    assert list(row.as_json()) == KEYS
    assert row.as_json() == {**dict.fromkeys(KEYS), "goal": "1 step", "what": "one step",
                             "median_s": 1.0, "reference": "", "target": "", "note": ""}


def test_targets_judge_the_ratio():
    assert goals.STEP_VS_PYTORCH.judge(1.2) == {"target": "<= 1.2", "met": True}
    assert goals.GEMM_RATE.judge(0.69)["met"] is False
    assert goals.TIMES_FASTER.judge(2.0)["met"] is True
    assert goals.WITHIN_BUDGET.judge(1.0) == {"target": "< 1200 s", "met": False}
    assert goals.WITHIN_MEMORY.judge(0.5) == {"target": "< 3 GiB", "met": True}


def _executed(folder, name: str, record: dict, duration: float) -> None:
    (folder / "results").mkdir(parents=True, exist_ok=True)
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    (folder / "results" / f"{name}.json").write_text(json.dumps(record))
    notebook = {"cells": [], "metadata": {"papermill": {"duration": duration}}}
    (folder / "notebooks" / f"{name}.ipynb").write_text(json.dumps(notebook))


def test_report_rows_read_the_last_builds_records(tmp_path):
    """A notebook's seconds are its wall; its training seconds are job-seconds and may exceed
    the wall on a clean build (jobs side by side): only a build whose recorded jobs fall short
    of its training read the cache, and then its estimate is not judged; a run in progress (a
    dotted name) is not counted; the total is judged only once every notebook of the report
    (the registry's sections, then the report) has a record."""
    folder = tmp_path / "assignment"
    assert suite.report_rows(tmp_path, "assignment")[0].note.startswith("not measured")
    _executed(folder, "02-clr-one-cycle", {"seconds": 5.0, "train_seconds": 40.0}, 6.0)
    running = {"cells": [], "metadata": {"papermill": {"duration": 99.0}}}
    (folder / "notebooks" / "02-clr-one-cycle.running.ipynb").write_text(json.dumps(running))
    jobs_file = folder / "notebooks" / ".02-clr-one-cycle.jobs"
    jobs_file.write_text(json.dumps({"jobs": [0.1, 0.1], "wall": 0.2, "workers": 2}) + "\n")
    first, total = suite.report_rows(tmp_path, "assignment")
    assert first.what == "notebook 02-clr-one-cycle, wall; training 40.0 job-s"
    assert first.median_s == pytest.approx(6.0 + 39.8 / 2)  # the cache: its jobs over 2 workers
    assert first.note.startswith("cached: ran in 6.0 s")
    assert total.met is None and total.note.startswith("incomplete, no record of ['01-")
    for name in [*registry.names(), "report"]:
        _executed(folder, name, {"seconds": 10.0}, 1.0)
    *notebooks, total = suite.report_rows(tmp_path, "assignment")
    assert len(notebooks) == len(registry.names()) + 1 and total.met is True
    assert total.median_s == 10.0 * len(notebooks) and total.target == "< 1200 s"
    assert total.ratio == pytest.approx(total.median_s / goals.REPORT_BUDGET_S)
    # a clean build of two workers: 40 job-seconds in 20 s of wall are not a cache read
    _executed(folder, "02-clr-one-cycle", {"seconds": 20.0, "train_seconds": 40.0}, 20.0)
    jobs_file.write_text(json.dumps({"jobs": [20.0, 20.0], "wall": 20.0, "workers": 2}) + "\n")
    *notebooks, total = suite.report_rows(tmp_path, "assignment")
    assert notebooks[1].median_s == 20.0 and total.met is True  # not 20 + 40
    assert notebooks[1].note == "40 job-s in 1 run(s)"


def test_the_whole_search_is_set_against_the_one_cycle_extrapolation(tmp_path):
    missing = suite.whole_search_rows(tmp_path)  # no CIFAR-10 there
    assert missing[0].median_s is None and missing[0].note.startswith("not measured")
    what = suite.cycle_what(suite.COARSE)
    assert what == "coarse search: one cycle (1800 steps), numpy, extrapolated"
    cycle = Row(goal=goals.SEARCH, what=what, median_s=50.0)
    whole = Row(goal=goals.SEARCH, what="whole coarse search", median_s=60.0)
    assert suite.against_extrapolation([whole, *missing], [cycle]) == [
        Row(goal=goals.SEARCH, what="whole coarse search", median_s=60.0,
            reference_median_s=50.0, ratio=1.2), *missing]


def test_the_recipe_timed_is_the_one_make_report_chose(tmp_path):
    """With read_chosen, the last make report's recipe (a non-augmenting one is timed on rows
    projected once, as training runs it); without its results, the full recipe."""
    from benchmarks.harness import OwnProcesses

    shape = {**QUICK, "read_chosen": True}
    assert suite.chosen_recipe(shape, tmp_path, "assignment")[0] == QUICK["recipe"]
    folder = tmp_path / "assignment" / "results"
    folder.mkdir(parents=True)
    chosen = {"m": 12, "lam": 5e-4, "dropout": 0.0, "max_shift": 0, "p_flip": 0.0, "k": 6,
              "cycles": 6, "eta_min": 1e-5, "eta_max": 0.1}
    (folder / "08-bonus.json").write_text(json.dumps({"final_split": {"recipe": chosen}}))
    recipe, source = suite.chosen_recipe(shape, tmp_path, "assignment")
    assert recipe == {"m": 12, "k": 6, "dropout": 0.0, "max_shift": 0, "p_flip": 0.0}
    assert "08-bonus.json" in source
    rows = suite.recipe_rows(shape, OwnProcesses(), tmp_path, "assignment")
    assert rows[0].what.startswith("bonus recipe (m=12, k=6, rows projected once)")
