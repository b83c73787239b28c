"""make's stamp of the numeric stack and the data: rewritten only when they change, and every
notebook of a profile depends on it."""

import os
import re

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
