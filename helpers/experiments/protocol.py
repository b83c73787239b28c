"""The rule for every verdict the workbook prints (the bonus's components, the range test's
range): a paired one-sided t test at the 5 % level.

Paired: seed k trained with and without the change shares its initialisation and
mini-batches, so the difference d_k = with_k - without_k removes what the seeds share.
With n >= 2 pairs, gain = mean(d), se = std(d, ddof=1) / sqrt(n) and t = gain / se, which
under no effect (and normal differences) follows Student's t with n - 1 degrees of freedom.
The verdict is "better" when t exceeds q, the one-sided quantile 1 - LEVEL of that law
(scipy.stats.t.ppf), "worse" when t < -q, else "no measurable difference" (and the simpler
configuration is kept). A change with no effect is called "better" in LEVEL of the studies
and "worse" in LEVEL of them. With fewer than MIN_PAIRS pairs there is no spread to test
against: paired_gain refuses them.

Which configuration is the simpler one depends on what the change costs. A change that adds
work (a wider layer, dropout, augmentation, longer training, more ensemble members) is kept
only when it is "better". A change that saves work (the projection on principal components:
a first layer several times cheaper) is kept unless it is "worse": with no measurable
difference the cheaper configuration is the simpler one.
"""

import math

import numpy as np
from scipy import stats

VERDICTS = ("better", "no measurable difference", "worse")
LEVEL = 0.05  # each one-sided test's false-positive rate under no effect
MIN_PAIRS = 2  # the t test needs a spread: at least two paired seeds
RULE = f"a paired one-sided t test at the {100 * LEVEL:g} % level"  # in words, for the prose


def quantile(n: int, level: float = LEVEL) -> float:
    """The one-sided critical value of Student's t with n - 1 degrees of freedom."""
    if n < MIN_PAIRS:
        raise ValueError(f"the t test needs at least {MIN_PAIRS} pairs, got {n}")
    return float(stats.t.ppf(1 - level, n - 1))


def paired_gain(with_change, without_change) -> dict:
    """{"gain", "se", "t", "q", "n", "verdict"} of a change from per-seed scores (same seeds,
    same order): the mean paired gain, its standard error, t = gain / se, the quantile it is
    compared with, and the verdict (at least MIN_PAIRS pairs)."""
    a, b = np.asarray(with_change, dtype=float), np.asarray(without_change, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"need one score per seed for both, paired; got {a.shape} and {b.shape}")
    d, n = a - b, a.size
    if n < MIN_PAIRS:
        raise ValueError(f"a verdict needs at least {MIN_PAIRS} paired seeds, got {n}: with "
                         "one there is no spread to judge a gain against")
    gain, se, q = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n)), quantile(n)
    t = gain / se if se > 0 else math.copysign(math.inf, gain) if gain else 0.0
    verdict = VERDICTS[0] if t > q else VERDICTS[2] if t < -q else VERDICTS[1]
    return {"gain": gain, "se": se, "t": t, "q": q, "n": int(n), "verdict": verdict}


def keeps(with_change, without_change, saves_work: bool = False) -> bool:
    """Whether the change stays: measurably better; or, for a change that saves work
    (saves_work), not measurably worse."""
    verdict = paired_gain(with_change, without_change)["verdict"]
    return verdict != VERDICTS[2] if saves_work else verdict == VERDICTS[0]
