"""Independent trainings side by side on the machine's cores, with the same digits however
many there are.

A job (one training, one cache entry) runs on ONE BLAS thread, always: its arithmetic then
never depends on how many jobs run beside it, on make's -j, or on the machine's core count,
only on its inputs. WORKERS jobs run at once, in threads of this process (numpy releases the
GIL in its products and array loops, so two threads keep two cores busy; the data set is
shared, not copied). On two cores, two one-thread jobs at once did 1.3 times (1.12-1.39) the
work of the same jobs one after another on two BLAS threads for the bonus's grid, and 1.1 times
for the coarse search's stack (`make bench`, goal 6: small products leave the second BLAS
thread idle much of the time).

`run` runs a list of jobs; `split_networks` cuts one stack of N networks into WORKERS stacks
trained as separate jobs and joins their results as if they had been one stack.
Ctrl-C (or a kill, which make's runner turns into Ctrl-C) while jobs run stops them at their
next step: every job's training loop checks `helpers.training.progress.stopped`.
"""

from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_limits

from helpers.training import loop, progress
from helpers.training.seams import Seams

WORKERS = 2  # jobs at once; fixed (not the core count), so that splits and digits are too


def run(jobs: list) -> list:
    """The results of `jobs` (callables without arguments), in order; WORKERS at a time, each
    on one BLAS thread. Longest first is the caller's business (jobs start in list order).
    An exception in a job, or Ctrl-C, stops the others at their next step and is raised."""
    if not jobs:
        return []
    with threadpool_limits(limits=1, user_api="blas"):
        if len(jobs) == 1:
            return [jobs[0]()]
        pool = ThreadPoolExecutor(min(WORKERS, len(jobs)), thread_name_prefix="job")
        futures = [pool.submit(_named, progress.current(), job) for job in jobs]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C while waiting
            progress.stop.set()
            raise
        finally:
            if any(f.done() and not f.cancelled() and f.exception() for f in futures):
                progress.stop.set()  # the running jobs raise progress.Stopped at their next step
            pool.shutdown(wait=True, cancel_futures=True)
            progress.stop.clear()
        errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
        if errors:  # the job that failed, not the ones it stopped
            raise next((e for e in errors if not isinstance(e, progress.Stopped)), errors[0])
        return [f.result() for f in futures]


def _named(what, job):
    """job() in a worker thread that first names what trains as the caller's thread did (a
    job may name its own)."""
    progress.doing(what)
    return job()


def chunks(count: int, parts: int = WORKERS) -> list:
    """Index ranges cutting `count` networks into at most `parts` consecutive, non-empty
    stacks, the first ones one longer: 5 -> [0:3], [3:5]."""
    parts = min(parts, count)
    sizes = [count // parts + (i < count % parts) for i in range(parts)]
    ends = np.cumsum(sizes).tolist()
    return [slice(end - size, end) for size, end in zip(sizes, ends, strict=True)]


def train(split, settings, lambdas, seeds=None, **kwargs) -> tuple:
    """helpers.training.loop.train, its N networks cut into WORKERS stacks trained side by side
    (split_networks): the same (params, history), both cores busy, one BLAS thread each."""
    seeds = [settings.seed] * len(lambdas) if seeds is None else seeds
    return split_networks(loop.train, split, settings, lambdas, seeds, **kwargs)


def split_networks(train, split, settings, lambdas, seeds, **kwargs) -> tuple:
    """train(split, settings, lambdas, seeds, **kwargs) for N networks as WORKERS stacks side by
    side (jobs), joined: (params, history) as one stack of N would give them. Each network's
    numbers do not depend on the stack it is in (its own initialisation, the shared batches).
    The seams (kwargs["seams"], helpers.training.seams.Seams) may hold a dropout rate (a float,
    or one per network: cut like the lambdas) and what acts on the shared mini-batch order or
    the step only (eta, record, parts); with rows, on_batch or on_record (they draw or keep per
    stack) or stop_on_divergence (stacks would stop at different steps), one stack trains."""
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
        return train(split, settings, lambdas[part], seeds[part], seams=mine,
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
