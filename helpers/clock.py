"""A call and the seconds it took (standard library only): below every package that times work."""

import time


def timed(fn, *args, **kwargs) -> tuple:
    """(fn(*args, **kwargs), the seconds it took, rounded to 0.01)."""
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, round(time.perf_counter() - started, 2)
