"""make's stamp of the numeric stack and the data: rewritten only when they change, and every
notebook of a profile depends on it."""

import os
import re
from pathlib import Path

from helpers.paths import ROOT
from helpers.workbook import environment


def test_the_stamp_is_rewritten_only_when_it_changes(tmp_path):
    stamp = tmp_path / "environment.json"
    content = {"numeric_stack": environment.numeric_stack(threads=False), "data": {"x": "1"}}
    assert environment.write_if_changed(stamp, content)
    os.utime(stamp, (1_000_000, 1_000_000))
    assert not environment.write_if_changed(stamp, content)
    assert stamp.stat().st_mtime == 1_000_000  # unchanged: make reruns nothing
    assert environment.write_if_changed(stamp, {**content, "data": {"x": "2"}})
    assert stamp.stat().st_mtime > 1_000_000


def test_the_stamp_holds_the_stack_without_threads_and_the_datas_fingerprint(
        synthetic_cifar, monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    content = environment.stamp(synthetic_cifar)
    blas = content["numeric_stack"]["blas"]
    assert blas and all("kernel" in b and "threads" not in b for b in blas)
    assert len(content["data"]["fingerprint"]) == 64
    batch = synthetic_cifar / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:-1] + b"\x00")
    assert environment.stamp(synthetic_cifar)["data"] != content["data"]


def test_every_notebook_depends_on_the_stamp():
    makefile = (ROOT / "Makefile").read_text()
    rule = re.search(r"^\$\(EXECUTED\)/%\.ipynb:(.*?)\|", makefile, re.M | re.S)
    assert rule and "$(OUT)/environment.json" in rule.group(1)
    assert re.search(r"^\$\(OUT\)/environment\.json: FORCE", makefile, re.M)


# Progress a person can read in make's log, and none of it in the notebooks


def test_the_training_writes_progress_lines_only_where_make_asks(tmp_path, monkeypatch):
    from helpers.training import progress

    lines = tmp_path / "progress"
    monkeypatch.setattr(progress, "EVERY", 0.0)
    monkeypatch.delenv(progress.VARIABLE, raising=False)
    progress.Ticker(10)(5)
    assert not lines.exists()  # a hand run, a test: nothing
    monkeypatch.setenv(progress.VARIABLE, str(lines))
    progress.doing("row 'full', seed 1 (2 of 3)")
    tick = progress.Ticker(400)
    tick(0)
    tick(100)
    (line,) = lines.read_text().splitlines()
    assert line.startswith("row 'full', seed 1 (2 of 3): step 100 of 400, ")
    assert line.endswith(" left") and "about" in line
    assert progress.clock(45) == "45 s" and progress.clock(185) == "3 min 05 s"


def test_the_runner_prints_each_line_with_its_notebook(tmp_path, capsys, monkeypatch):
    from helpers.workbook import build

    path = tmp_path / ".08-bonus.progress"
    path.write_text("")
    watcher = build.Watcher("08-bonus", path)
    with open(path, "a") as f:
        f.write("row 'full': step 10 of 20, 5 s in, about 5 s left\nhalf a li")
    watcher.poll()
    assert capsys.readouterr().out == \
        "[08-bonus] row 'full': step 10 of 20, 5 s in, about 5 s left\n"
    monkeypatch.setattr(build, "HEARTBEAT", 0.0)
    watcher.poll()
    assert capsys.readouterr().out.startswith("[08-bonus] still running")


def test_the_plan_names_what_make_will_run_and_the_last_builds_times(tmp_path):
    import json

    from helpers.workbook import build

    (tmp_path / "08-bonus.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {"papermill": {"duration": 565.0}}}))
    commands = ("x=1; .venv/bin/python -m helpers.workbook.build assignment 08-bonus build/x\n"
                "... | .venv/bin/python -m helpers.workbook.build --plan assignment build/x\n"
                ".venv/bin/python -m helpers.workbook.build assignment report build/x\n")
    text = build.plan("assignment", tmp_path, commands)
    assert "run 2 notebook(s)" in text and "08-bonus  took 9 min 25 s in the last build" in text
    assert "report    no earlier build" in text
    assert build.plan("assignment", tmp_path, "").endswith("up to date")


def test_a_first_build_plans_with_the_reference_builds_times(tmp_path, monkeypatch):
    from helpers.workbook import build

    monkeypatch.setattr(build, "reference_seconds",
                        lambda profile: {"08-bonus": 400.0} if profile == "assignment" else {})
    commands = ".venv/bin/python -m helpers.workbook.build assignment 08-bonus build/x\n" \
               ".venv/bin/python -m helpers.workbook.build assignment report build/x\n"
    text = build.plan("assignment", tmp_path, commands)
    assert "08-bonus  no earlier build here; about 6 min 40 s in the reference build" in text
    assert "report    no earlier build of it: no estimate" in text
    assert "about 6 min 40 s in all, for those with an estimate" in text
    assert "reference build" not in build.plan("quick", tmp_path, commands)
    monkeypatch.undo()
    assert set(build.reference_seconds("assignment")) >= {"08-bonus", "04-lambda-coarse-search"}


def test_every_notebook_runs_on_one_blas_thread_whatever_make_j(monkeypatch):
    from helpers import registry
    from helpers.workbook import build

    monkeypatch.setenv("MAKEFLAGS", " -j2")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    for name in [e["notebook"] for e in registry.load()["sections"]] + ["report"]:
        env = build.environment(name)
        assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1", name
    assert "OPENBLAS_NUM_THREADS" not in (ROOT / "Makefile").read_text()  # nor by make


def test_an_interrupted_run_is_kept_as_failed_never_as_finished(tmp_path, monkeypatch, capsys):
    from helpers.workbook import build

    def interrupted(command, env):
        Path(command[-1]).write_text("{}")  # papermill had started writing its output
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "_papermill", interrupted)
    assert build.run("quick", "02-clr-one-cycle", tmp_path) == 130
    assert (tmp_path / "02-clr-one-cycle.failed.ipynb").is_file()
    assert not (tmp_path / "02-clr-one-cycle.ipynb").exists()
    assert not (tmp_path / "02-clr-one-cycle.running.ipynb").exists()
    assert "was interrupted" in capsys.readouterr().err
