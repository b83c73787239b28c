"""Training settings: typed, validated before any training starts."""

from dataclasses import asdict, dataclass, fields

import numpy as np

DTYPES = ("float32", "float64")
# The random streams of a run, one id each, so that no two kinds of draw share a generator:
# stream(kind, seed) is numpy.random.default_rng([STREAMS[kind], seed]). The initialisation
# draws from default_rng(seed) itself (helpers.model.network.init_params).
STREAMS = {"minibatches": 1, "dropout": 2, "augmentation": 3}


@dataclass(frozen=True)
class Settings:
    """Hyper-parameters of one training run (or of N runs side by side)."""

    eta_min: float = 1e-5  # lowest learning rate of the cycle
    eta_max: float = 1e-1  # highest learning rate of the cycle
    n_s: int = 500  # half a cycle, in update steps
    cycles: int = 1  # number of full cycles; total steps = 2 n_s cycles
    batch_size: int = 100  # images per mini-batch
    m: int = 50  # hidden units
    records_per_cycle: int = 10  # whole-set evaluations per cycle (plus step 0 and the end)
    seed: int = 0  # initialisation and mini-batch order
    dtype: str = "float32"  # float32 or float64

    def __post_init__(self):
        for name in ("n_s", "cycles", "batch_size", "m", "records_per_cycle"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("seed", self.seed, minimum=0)
        for name in ("eta_min", "eta_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.eta_min > self.eta_max:
            raise ValueError(
                f"eta_min ({self.eta_min}) is above eta_max ({self.eta_max}): "
                "the cycle would run backwards; swap them"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")

    @property
    def total_steps(self) -> int:
        """Update steps in the whole run: 2 n_s per cycle."""
        return 2 * self.n_s * self.cycles

    @classmethod
    def from_dict(cls, values: dict) -> "Settings":
        """Settings from a plain dict; an unknown key is a ValueError naming it."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; known settings are {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict:
        """The settings as a JSON-serialisable dict."""
        return asdict(self)


def _check_int(name: str, value, minimum: int):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def check_lambdas(lambdas) -> list:
    """Regularisation strengths as a list of floats; each must be finite and >= 0."""
    values = [lambdas] if np.ndim(lambdas) == 0 else list(np.ravel(lambdas))
    if not values:
        raise ValueError("no lambda given: pass at least one regularisation strength")
    for lam in values:
        if isinstance(lam, bool | str) or not np.isfinite(lam) or lam < 0:
            raise ValueError(f"lambda must be a finite number >= 0, got {lam!r}")
    return [float(lam) for lam in values]


def stream(kind: str, seed: int) -> np.random.Generator:
    """The generator of one kind of draw ("minibatches", "dropout", "augmentation") for a seed."""
    return np.random.default_rng([STREAMS[kind], seed])
