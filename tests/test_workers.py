import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from helpers.training import loop, progress, workers
from helpers.training.seams import Seams
from tests.test_loop import DEVICE, SMALL, synthetic_split


def test_chunks_cut_every_network_once_the_first_stacks_longest():
    assert workers.chunks(5) == [slice(0, 3), slice(3, 5)]
    assert workers.chunks(4) == [slice(0, 2), slice(2, 4)]
    assert workers.chunks(1) == [slice(0, 1)]
    for n in range(1, 12):
        covered = [i for s in workers.chunks(n, 3) for i in range(n)[s]]
        assert covered == list(range(n))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_stack_cut_in_two_gives_one_stacks_numbers_and_table(dtype):
    """Every parameter, every row of the curves table (order, network numbers included)."""
    split = synthetic_split()
    settings = replace(SMALL, dtype=dtype)
    lambdas, seeds = [0.0, 1e-3, 1e-1, 1e-2, 0.5], [0, 1, 2, 3, 4]
    dropout = [0.0, 0.5, 0.0, 0.2, 0.0]
    seams = Seams(dropout=dropout)
    whole, history = loop.train(split, settings, lambdas, seeds, progress=False, seams=seams)
    cut, cut_history = workers.train(split, settings, lambdas, seeds, progress=False,
                                     seams=seams)
    for name, value in whole.items():
        np.testing.assert_allclose(cut[name], value, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   atol=1e-6 if dtype == "float32" else 1e-12)
    assert cut_history["curves"]["network"] == history["curves"]["network"]
    assert cut_history["curves"]["seed"] == history["curves"]["seed"]
    assert cut_history["curves"]["step"] == history["curves"]["step"]
    np.testing.assert_allclose(cut_history["curves"]["val_cost"], history["curves"]["val_cost"],
                               rtol=1e-5)
    assert cut_history["eta"] == history["eta"]


def test_a_wrong_join_is_caught():
    """The table's rows step by step: concatenating the parts' tables instead is caught."""
    split = synthetic_split()
    lambdas, seeds = [0.0, 1e-3, 1e-1], [0, 1, 2]
    _, history = loop.train(split, SMALL, lambdas, seeds, progress=False)
    parts = workers.chunks(3)
    runs = [loop.train(split, SMALL, lambdas[p], seeds[p], progress=False) for p in parts]
    _, joined = workers.join([r[0] for r in runs], [r[1] for r in runs], parts)
    assert joined["curves"]["network"] == history["curves"]["network"]
    wrong = [n for r, p in zip(runs, parts, strict=True)
             for n in (v + p.start for v in r[1]["curves"]["network"])]
    assert wrong != history["curves"]["network"]


def test_seams_that_draw_per_stack_train_as_one_stack():
    split = synthetic_split()
    calls = []

    def hook(X, y, t):
        calls.append(threading.current_thread().name)
        return X, y

    workers.train(split, SMALL, [0.0, 1e-3], [0, 1], progress=False, seams=Seams(on_batch=hook))
    assert len(calls) == SMALL.total_steps  # one stack: one call a step, not two


def test_jobs_run_on_one_blas_thread_and_keep_their_order():
    def job(k):
        time.sleep(0.01 * (3 - k))
        return k, [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    out = workers.run([lambda k=k: job(k) for k in range(3)])
    assert [k for k, _ in out] == [0, 1, 2]
    assert all(set(threads) == {1} for _, threads in out)


def test_a_failing_job_stops_the_others_and_its_error_is_raised():
    split = synthetic_split(n_train=400)
    long = replace(SMALL, n_s=10**6)  # minutes of steps

    def fails():
        time.sleep(0.2)
        raise ValueError("this job failed")

    started = time.monotonic()
    with pytest.raises(ValueError, match="this job failed"):
        workers.run([lambda: loop.train(split, long, [0.0], progress=False), fails])
    assert time.monotonic() - started < 10  # stopped, not the 2,000,000 steps of the long job
    assert not progress.stop.is_set()  # the next jobs run
    assert workers.run([lambda: 1, lambda: 2]) == [1, 2]


def test_a_stack_cut_in_two_on_the_torch_engine_gives_one_stacks_numbers():
    split = synthetic_split()
    lambdas, seeds = [0.0, 1e-3, 1e-1], [0, 1, 2]
    whole, history = loop.train(split, SMALL, lambdas, seeds, progress=False, device=DEVICE)
    cut, cut_history = workers.train(split, SMALL, lambdas, seeds, progress=False,
                                     device=DEVICE)
    for name, value in whole.items():
        np.testing.assert_allclose(cut[name], value, rtol=1e-5, atol=1e-6)
    assert cut_history["curves"]["network"] == history["curves"]["network"]


def test_a_split_stack_prints_one_line_of_progress_under_the_callers_name(tmp_path, monkeypatch):
    lines = tmp_path / "progress"
    monkeypatch.setenv(progress.VARIABLE, str(lines))
    monkeypatch.setattr(progress, "EVERY", 0.0)
    split = synthetic_split()
    progress.doing("the search, 4 networks side by side")
    workers.train(split, SMALL, [0.0, 1e-3, 1e-2, 1e-1], [0, 1, 2, 3], progress=False)
    said = lines.read_text().splitlines()
    assert said and all(line.startswith("the search, 4 networks side by side: step ")
                        for line in said)
    steps = [int(line.split("step ")[1].split(" of")[0].replace(",", "")) for line in said]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # one stack's count
    assert workers.run([progress.current, progress.current]) == [progress.current()] * 2
