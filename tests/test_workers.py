import json
import os
import signal
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


# Every core, the same digits (issue 28)


def test_the_worker_count_comes_from_the_variable_or_the_cores(monkeypatch):
    monkeypatch.delenv(workers.WORKERS, raising=False)
    assert workers.count() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(workers.WORKERS, "3")
    assert workers.count() == 3
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv(workers.WORKERS, bad)
        with pytest.raises(ValueError, match="WORKBOOK_WORKERS.*positive number"):
            workers.count()


def test_chunks_never_depend_on_the_worker_count():
    assert workers.chunks(100) == [slice(13 * i, 13 * (i + 1)) for i in range(4)] + \
        [slice(52 + 12 * i, 64 + 12 * i) for i in range(4)]
    assert [s.stop - s.start for s in workers.chunks(10)] == [2] * 5
    assert [len(workers.chunks(n)) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 2, 2, 2, 3]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_to_four_workers_train_the_same_stacks_to_the_same_digits(monkeypatch, dtype):
    """The parts a stack is cut into (what each job trains) and every digit of the result are
    the same for 1, 2, 3 and 4 workers: a cut by the worker count is caught by the parts even
    where the BLAS kernel gives a network the same digits in any stack."""
    split = synthetic_split()
    settings = replace(SMALL, dtype=dtype)
    lambdas, seeds = list(np.logspace(-4, -1, 17)), list(range(17))
    seen, train = {}, loop.train

    def spy(split, settings, lambdas, seeds, **kwargs):
        seen.setdefault(n, []).append(tuple(seeds))
        return train(split, settings, lambdas, seeds, **kwargs)

    monkeypatch.setattr(loop, "train", spy)
    got = {}
    for n in (1, 2, 3, 4):
        monkeypatch.setenv(workers.WORKERS, str(n))
        got[n] = workers.train(split, settings, lambdas, seeds, progress=False)
    for n in (2, 3, 4):
        assert sorted(seen[n]) == sorted(seen[1])  # the same jobs
        for name, value in got[1][0].items():
            np.testing.assert_array_equal(got[n][0][name], value)
        assert got[n][1]["curves"] == got[1][1]["curves"]


def test_jobs_run_as_many_at_once_as_there_are_workers(monkeypatch):
    monkeypatch.setenv(workers.WORKERS, "3")
    running, most, lock = [0], [0], threading.Lock()

    def job():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    out = workers.run([job] * 7)
    assert most[0] == 3 and all(set(threads) == {1} for threads in out)


def test_ctrl_c_stops_every_job_at_its_next_step():
    """SIGINT while jobs train: KeyboardInterrupt within seconds, not when they end."""
    split = synthetic_split(n_train=400)
    long = replace(SMALL, n_s=10**6)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a
    try:  # command started in the background of a script has Ctrl-C ignored)
        started = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            workers.run([lambda: loop.train(split, long, [0.0], progress=False)] * 2)
        assert time.monotonic() - started < 10
        assert not progress.stop.is_set() and signal.getsignal(signal.SIGINT) is \
            signal.default_int_handler  # handler put back
    finally:
        signal.signal(signal.SIGINT, outer)


def test_each_run_records_its_jobs_seconds_not_the_runs_inside_a_job(tmp_path, monkeypatch):
    record = tmp_path / "jobs"
    monkeypatch.setenv(workers.JOBS, str(record))
    monkeypatch.setenv(workers.WORKERS, "2")

    def job(seconds):
        time.sleep(seconds)
        return workers.run([lambda: 1, lambda: 2])  # inside a job: the job's own seconds

    workers.run([lambda: job(0.3), lambda: job(0.1), lambda: job(0.1)])
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["workers"] == 2
    jobs = lines[0]["jobs"]
    assert len(jobs) == 3 and jobs[0] >= 0.3 and min(jobs[1:]) >= 0.1  # each job's own
    assert jobs[0] <= lines[0]["wall"] < sum(jobs)  # side by side: wall and job seconds apart
    from helpers.workbook import build

    assert build.JOBS == workers.JOBS  # the runner names the file the jobs write


def test_the_projection_puts_the_longest_job_first_on_the_free_worker():
    from helpers.workbook import timing

    assert timing.longest_first([10, 1, 1, 1], 4) == 10  # not the mean, 13 / 4
    assert timing.longest_first([3, 3, 2, 2, 2], 2) == 7  # 3+2+2 | 3+2: longest first
    assert timing.longest_first([1, 2, 3], 1) == 6
    runs = [{"jobs": [4.0, 4.0], "wall": 4.5}, {"jobs": [2.0], "wall": 2.0}]
    assert timing.projected(10.0, runs, 1) == pytest.approx(3.5 + 8 + 2)
    assert timing.projected(10.0, runs, 2) == pytest.approx(3.5 + 4 + 2)


def test_make_j_overlaps_independent_notebooks_and_waits_for_what_they_read():
    from helpers.workbook import timing

    phases = {"a": [[1.0], [4.0, 4.0]], "b": [[2.0]], "c": [[1.0], [3.0]]}
    reads = {"c": ["a"]}
    # one core: everything one after another
    assert timing.make_j(phases, reads, 1, 3) == pytest.approx(15.0)
    # two cores, any notebooks at once: b beside a (a's second job waits for b's core until
    # 2, so a ends at 6); c only after a: 6 + 1 + 3
    assert timing.make_j(phases, reads, 2, 3) == pytest.approx(10.0)
    assert timing.make_j(phases, {}, 2, 3) < timing.make_j(phases, reads, 2, 3)
    # one notebook at a time: a, then b, then c, each phase's jobs on both cores
    assert timing.make_j(phases, reads, 2, 1) == pytest.approx(1 + 4 + 2 + 1 + 3)
    assert [timing.at_once(n) for n in (1, 2, 4, 8, 16)] == [1, 1, 1, 2, 4]
    with pytest.raises(ValueError, match="wait on one another"):
        timing.make_j({"a": [[1.0]], "b": [[1.0]]}, {"a": ["b"], "b": ["a"]}, 2, 2)


def test_the_dask_cluster_gives_the_threads_digits_and_gets_the_data_once(monkeypatch):
    """A LocalCluster of two worker processes: the same stack, every digit as in threads,
    the data set scattered once (to every worker) for all its jobs."""
    distributed = pytest.importorskip("distributed")
    split = synthetic_split()
    lambdas, seeds = list(np.logspace(-4, -1, 9)), list(range(9))
    here = workers.train(split, SMALL, lambdas, seeds, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        monkeypatch.setenv(workers.SCHEDULER, cluster.scheduler_address)
        client = workers._client(cluster.scheduler_address)
        scattered = []
        scatter = client.scatter
        monkeypatch.setattr(client, "scatter",
                            lambda data, **kw: scattered.append(kw) or scatter(data, **kw))
        try:
            there = workers.train(split, SMALL, lambdas, seeds, progress=False)
            again = workers.train(split, SMALL, lambdas, seeds, progress=False)
            where = client.who_has()
        finally:
            workers._SCATTERED.clear()
            workers._CLIENTS.pop(cluster.scheduler_address).close()
    assert scattered == [{"broadcast": True, "hash": False}]  # once, for 2 x 4 jobs
    assert any(len(holders) == 2 for holders in where.values())  # on both workers
    for run in (there, again):
        for name, value in here[0].items():
            np.testing.assert_array_equal(run[0][name], value)
        assert run[1]["curves"] == here[1]["curves"]


def test_without_distributed_the_dask_setting_says_how_to_install_it(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    monkeypatch.setenv(workers.SCHEDULER, "tcp://127.0.0.1:1")
    with pytest.raises(ImportError, match="requirements-dask.txt"):
        workers.remote(len, [1])
