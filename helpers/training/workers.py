"""Independent trainings side by side on every core of the machine (or of a Dask cluster),
with the same digits however many there are.

A job (one training, one cache entry) runs on ONE BLAS thread, always: its arithmetic then
never depends on how many jobs run beside it, on make's -j, or on the machine's core count,
only on its inputs. `count()` jobs run at once (every core present, or WORKBOOK_WORKERS=N:
make's WORKERS=N), in threads of this process through joblib's `Parallel` (numpy and the fused
kernels release the GIL, so N threads keep N cores busy; the data set is shared, not copied).
How a stack is cut into jobs (`chunks`) does not depend on the worker count either: on
OpenBLAS's AVX2 (Haswell) kernel a network's last digits follow the size of the stack it is
trained in, and the number of BLAS threads (measured: 2e-7 in float32), on its AVX-512 kernel
they do not; so the cut is fixed and every job has one thread.

With WORKBOOK_DASK=ADDRESS (make's DASK=tcp://host:8786) a job's training (`remote`) runs on
the workers of the Dask cluster (`distributed`, an optional dependency: requirements-dask.txt)
whose scheduler listens there, each on one BLAS thread: the same digits on the same kind of
CPU. The data set is scattered to every worker once (broadcast), not sent with each job; the
jobs themselves, the cache and the results stay in this process.

`run` runs a list of jobs; `split_networks` cuts one stack of N networks into `chunks(N)`
stacks trained as separate jobs and joins their results as if they had been one stack.
Ctrl-C (or a kill, which make's runner turns into Ctrl-C) while jobs run stops them at their
next step: every job's training loop checks `helpers.training.progress.stopped`. An error in
one job stops the others the same way, and is the one raised. Each top-level run's job
seconds go to the file WORKBOOK_JOBS names (make's runner: build/PROFILE/notebooks/NAME.jobs),
one JSON line a run, from which `make plan` projects the report's time on more cores.
"""

import json
import os
import signal
import threading
import time
from dataclasses import replace

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from helpers.training import loop, progress
from helpers.training.seams import Seams

WORKERS, SCHEDULER, JOBS = "WORKBOOK_WORKERS", "WORKBOOK_DASK", "WORKBOOK_JOBS"
PARTS = 8  # a stack of N networks is cut into at most this many jobs (chunks): never the
# worker count, so that the cut, and with it every digit, is the same on every machine
_inside = threading.local()  # .depth: runs this thread is inside (a job's own runs are its)


def count() -> int:
    """Jobs at once: WORKBOOK_WORKERS (a positive integer) or else every core this process
    may use."""
    value = os.environ.get(WORKERS, "").strip()
    if not value:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{WORKERS} (make's WORKERS) must be a positive number of jobs at "
                         f"once, got {value!r}; leave it unset to use every core")
    return int(value)


def run(jobs: list) -> list:
    """The results of `jobs` (callables without arguments), in order; count() at a time, each
    on one BLAS thread. Longest first is the caller's business (jobs start in list order).
    An exception in a job, or Ctrl-C, stops the others at their next step and is raised."""
    if not jobs:
        return []
    depth = getattr(_inside, "depth", 0)
    _inside.depth = depth + 1
    failed, seconds, started = [], [None] * len(jobs), time.perf_counter()
    what = progress.current()

    def one(i, job):
        progress.doing(what)  # as the caller's thread named it (a job may name its own)
        _inside.depth = depth + 1
        begun = time.perf_counter()
        try:
            return job()
        except BaseException as err:
            if not isinstance(err, progress.Stopped):
                failed.append(err)
            progress.stop.set()  # the running jobs raise progress.Stopped at their next step
            raise
        finally:
            seconds[i] = time.perf_counter() - begun

    try:
        with threadpool_limits(limits=1, user_api="blas"), _stopped_by_interrupt():
            if len(jobs) == 1:
                return [one(0, jobs[0])]
            return Parallel(n_jobs=min(count(), len(jobs)), backend="threading",
                            batch_size=1, pre_dispatch="n_jobs")(
                delayed(one)(i, job) for i, job in enumerate(jobs))
    except BaseException as err:
        if failed and not any(err is f for f in failed):
            raise failed[0] from None  # the job that failed, not one it stopped
        raise
    finally:
        _inside.depth = depth
        if depth == 0:
            progress.stop.clear()
            _record(seconds, time.perf_counter() - started)


class _stopped_by_interrupt:
    """Inside (in the main thread): Ctrl-C sets progress.stop before raising
    KeyboardInterrupt, so the jobs stop at their next step and joblib's pool ends at once."""

    def __enter__(self):
        self.before = None
        before = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is threading.main_thread() and \
                before is not signal.SIG_IGN:  # a process that ignores Ctrl-C keeps doing so

            def interrupted(signum, frame):
                progress.stop.set()
                (before if callable(before) else signal.default_int_handler)(signum, frame)

            self.before = before
            signal.signal(signal.SIGINT, interrupted)
        return self

    def __exit__(self, *exc):
        if self.before is not None:
            signal.signal(signal.SIGINT, self.before)


def _record(seconds: list, wall: float) -> None:
    """One JSON line for a top-level run in the file WORKBOOK_JOBS names: its jobs' seconds
    (each from its start to its end) and its wall seconds. Nothing without the variable."""
    path = os.environ.get(JOBS)
    if not path:
        return
    line = {"jobs": [round(s or 0.0, 3) for s in seconds], "wall": round(wall, 3),
            "workers": count()}
    try:
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")
    except OSError:
        pass  # a courtesy for make plan: never a reason to stop training


def remote(fn, *args, **kwargs):
    """fn(*args, **kwargs): here, or, with WORKBOOK_DASK set, on a worker of that Dask cluster
    (fn and its arguments picklable; an argument with an X_train, a data set, scattered to
    every worker once). The worker runs it on one BLAS thread, naming what trains as this
    thread does; Ctrl-C or a failed job beside it cancels it (progress.Stopped)."""
    address = os.environ.get(SCHEDULER, "").strip()
    if not address:
        return fn(*args, **kwargs)
    client = _client(address)
    args = [_scattered(client, a) if hasattr(a, "X_train") else a for a in args]
    future = client.submit(_on_worker, progress.current(), fn, *args, pure=False, **kwargs)
    while True:
        try:
            return future.result(timeout=0.2)
        except TimeoutError:
            if progress.stop.is_set():
                future.cancel()
                raise progress.Stopped("stopped while its job ran on the Dask cluster") \
                    from None


_CLIENTS, _SCATTERED = {}, {}  # address -> Client; (address, id) -> (data, its future)
_LOCK = threading.Lock()


def _client(address: str):
    with _LOCK:
        if address not in _CLIENTS:
            try:
                from distributed import Client
            except ImportError:
                raise ImportError(f"{SCHEDULER}={address} asks for a Dask cluster, but "
                                  "`distributed` is not installed: .venv/bin/pip install -r "
                                  "requirements-dask.txt, or unset it (make: DASK=)") from None
            try:
                _CLIENTS[address] = Client(address, timeout="10s", set_as_default=False)
            except OSError as err:
                raise OSError(f"no Dask scheduler answers at {SCHEDULER}={address} ({err}); "
                              "start one (dask scheduler; dask worker ADDRESS --nthreads 1) "
                              "or unset it (make: DASK=)") from None
        return _CLIENTS[address]


def _scattered(client, data):
    """data's future on the cluster, scattered to every worker once (kept while data lives
    here: the last few data sets)."""
    key = (client.scheduler.address, id(data))
    with _LOCK:
        if key not in _SCATTERED or _SCATTERED[key][0] is not data:
            if len(_SCATTERED) >= 4:
                _SCATTERED.pop(next(iter(_SCATTERED)))
            _SCATTERED[key] = (data, client.scatter(data, broadcast=True, hash=False))
        return _SCATTERED[key][1]


def _on_worker(what, fn, *args, **kwargs):
    """fn(*args, **kwargs) on a Dask worker: one BLAS thread, its progress lines named."""
    progress.doing(what)
    with threadpool_limits(limits=1, user_api="blas"):
        return fn(*args, **kwargs)


def chunks(count: int, parts: int = PARTS) -> list:
    """Index ranges cutting `count` networks into consecutive, non-empty stacks, the first
    ones one longer: at most `parts`, of 2 networks or more, but 2 for 2 to 5 networks (so
    that two cores stay busy): 5 -> [0:3], [3:5]; 10 -> 5 of 2; 100 -> 8 of 13 or 12. Never
    the worker count: the cut is the same on every machine."""
    parts = max(1, min(parts, count, max(2, count // 2)))
    sizes = [count // parts + (i < count % parts) for i in range(parts)]
    ends = np.cumsum(sizes).tolist()
    return [slice(end - size, end) for size, end in zip(sizes, ends, strict=True)]


def train(split, settings, lambdas, seeds=None, **kwargs) -> tuple:
    """helpers.training.loop.train, its N networks cut into chunks(N) stacks trained side by
    side (split_networks): the same (params, history), every core busy, one BLAS thread each."""
    seeds = [settings.seed] * len(lambdas) if seeds is None else seeds
    return split_networks(loop.train, split, settings, lambdas, seeds, **kwargs)


def split_networks(train, split, settings, lambdas, seeds, **kwargs) -> tuple:
    """train(split, settings, lambdas, seeds, **kwargs) for N networks as chunks(N) stacks side
    by side (jobs; each one's training `remote`), joined: (params, history) as one stack of N
    would give them. Each network's numbers do not depend on the stack it is in (its own
    initialisation, the shared batches) beyond the BLAS kernel's last digits, and the cut is
    fixed. The seams (kwargs["seams"], helpers.training.seams.Seams) may hold a dropout rate
    (a float, or one per network: cut like the lambdas) and what acts on the shared mini-batch
    order or the step only (eta, record, parts); with rows, on_batch or on_record (they draw or
    keep per stack) or stop_on_divergence (stacks would stop at different steps), one stack
    trains, here."""
    lambdas, seeds = list(lambdas), list(seeds)
    seams = kwargs.pop("seams", None) or Seams()
    solo = any(getattr(seams, k) is not None for k in ("rows", "on_batch", "on_record")) or \
        seams.stop_on_divergence or len(lambdas) < 2
    if solo:
        return run([lambda: train(split, settings, lambdas, seeds, seams=seams, **kwargs)])[0]
    rates = None if seams.dropout is None else \
        np.broadcast_to(np.asarray(seams.dropout, float), (len(lambdas),))
    parts = chunks(len(lambdas))

    def job(part, first):
        if not first:
            progress.doing(None)  # the first part's lines speak for the stack
        mine = seams if rates is None else replace(seams, dropout=rates[part].tolist())
        return remote(train, split, settings, lambdas[part], seeds[part], seams=mine,
                      **{**kwargs, "progress": kwargs.get("progress", True) and first})

    done = run([lambda p=p, i=i: job(p, i == 0) for i, p in enumerate(parts)])
    return join([d[0] for d in done], [d[1] for d in done], parts)


def join(params: list, histories: list, parts: list) -> tuple:
    """One stack's (params, history) from its parts': arrays concatenated along the network
    axis; the curves' rows step by step, each step's networks in order (as one stack records
    them), network numbers counted over the whole stack; the seconds of the slowest part."""
    joined = {k: np.concatenate([p[k] for p in params]) for k in params[0]}
    curves = [h["curves"] for h in histories]
    sizes = [s.stop - s.start for s in parts]
    out = {k: [] for k in curves[0]}
    steps = len(curves[0]["step"]) // sizes[0]
    for r in range(steps):
        for c, size, part in zip(curves, sizes, parts, strict=True):
            for k in out:
                block = c[k][r * size : (r + 1) * size]
                out[k] += [v + part.start for v in block] if k == "network" else block
    history = {**histories[0], "curves": out,
               "seconds": {k: max(h["seconds"][k] for h in histories)
                           for k in histories[0]["seconds"]}}
    return joined, history
