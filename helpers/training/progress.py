"""Progress lines for make's log: what trains, step of total, time spent and left.

make's runner (helpers.workbook.build) names a file in WORKBOOK_PROGRESS; the training loop
appends a line to it at most every EVERY seconds, and the runner prints each line to the
terminal with the notebook's name. Nothing reaches the notebook's outputs (a kernel's own
stdout and stderr end up in the executed notebook), and without the variable (a hand run,
a test) nothing is written.
"""

import os
import threading
import time

VARIABLE = "WORKBOOK_PROGRESS"
EVERY = 15.0  # seconds between two lines of one training
_doing = threading.local()  # per thread: jobs side by side (helpers.training.workers) each
# name their own training


def doing(what: str | None) -> None:
    """Name what trains next in this thread (a row and its seed), for the lines of the
    trainings that follow; None: they print none (a part of a stack split in jobs beside the
    part that speaks for it)."""
    _doing.what = what


def current() -> str | None:
    """What this thread named with doing() ("training" when nothing was named)."""
    return getattr(_doing, "what", "training")


def clock(seconds: float) -> str:
    """"45 s", "3 min 05 s", "1 h 02 min"."""
    seconds = int(round(max(seconds, 0)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Ticker:
    """Called with each step t of a training of `total` steps: a line every EVERY seconds;
    Stopped when `stop` is set."""

    def __init__(self, total: int):
        self.path, self.total = os.environ.get(VARIABLE), total
        self.start = self.last = time.monotonic()
        self.what = current()

    def __call__(self, t: int) -> None:
        if stop.is_set():
            raise Stopped(f"stopped at step {t} of {self.total}")
        if not self.path or self.what is None:
            return
        now = time.monotonic()
        if now - self.last < EVERY or t == 0:
            return
        self.last, spent = now, now - self.start
        left = spent * (self.total - t) / t
        line = (f"{self.what}: step {t:,} of {self.total:,}, {clock(spent)} in, about "
                f"{clock(left)} left")
        try:
            with open(self.path, "a") as f:
                f.write(line + "\n")
        except OSError:
            self.path = None  # the log is a courtesy: never a reason to stop training


class Stopped(Exception):
    """A training stopped at a step because `stop` was set (Ctrl-C, or a job beside it failed)."""


stop = threading.Event()  # set: every training loop raises Stopped at its next step
