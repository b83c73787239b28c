"""The rule for every verdict the workbook prints (the bonus's components, the range test's
range): a paired one-sided t test at the 5 % level against a margin of 0.5 points.

Paired: seed k trained with and without the change shares its initialisation and
mini-batches, so the difference d_k = with_k - without_k removes what the seeds share.
With n >= 2 pairs, gain = mean(d), se = std(d, ddof=1) / sqrt(n), and q the one-sided
quantile 1 - LEVEL of Student's t with n - 1 degrees of freedom (scipy.stats.t.ppf). The
verdict is "better" when the gain's one-sided 95 % lower bound, gain - q se, is above
+MARGIN: the t test rejects "the gain is MARGIN or less", t = (gain - MARGIN) / se > q;
"worse" when its upper bound, gain + q se, is below -MARGIN; else "no measurable
difference" (no difference beyond the margin is shown, and the simpler configuration is
kept). A change with no effect is called "better" in less than LEVEL of the studies, and so
is any change whose gain is MARGIN or less. With fewer than MIN_PAIRS pairs there is no spread
to test against: paired_gain refuses them.

Why a margin (MARGIN, half a point of validation accuracy, the default of 07's and 08's
`margin` parameter; a profile whose accuracies move more between machines sets a larger one):
the same seeds rebuilt on another machine (another BLAS kernel, or the torch engine) move a
network's validation accuracy by 0.1 to 0.4 points, about what another seed does (0.2 to 0.5
points): a gain smaller than that does not survive the machine, and a rule without a margin
decides it by the machine's rounding (the snapshot ensemble's +0.1 to +0.4 points was "better"
under one OpenBLAS kernel and "no measurable difference" under two others, issue 19). Deciding
a gain that small would take about 12 seeds, each a full training of the recipe. With the
margin, a change is called better or worse only when it moves validation by more than half a
point, beyond doubt at the 5 % level.

Which configuration is the simpler one depends on what the change costs. A change that adds
work (a wider layer, dropout, augmentation, longer training, more ensemble members) is kept
only when it is "better". A change that saves work (the projection on principal components:
a first layer several times cheaper) is kept unless it is "worse": with no measurable
difference the cheaper configuration is the simpler one.
"""

import math

import numpy as np

VERDICTS = ("better", "no measurable difference", "worse")
LEVEL = 0.05  # each one-sided test's false-positive rate under no effect
MIN_PAIRS = 2  # the t test needs a spread: at least two paired seeds
MARGIN = 0.005  # the smallest gain the rule decides, in accuracy: half a point (see above)


def rule(margin: float = MARGIN) -> str:
    """The rule in words, for the prose and the tables; margin in accuracy (a fraction)."""
    return (f"a paired one-sided t test at the {100 * LEVEL:g} % level against a margin of "
            f"{100 * margin:g} points")


RULE = rule()  # with the default margin (a profile may set another: 07's and 08's `margin`)


def quantile(n: int, level: float = LEVEL) -> float:
    """The one-sided critical value of Student's t with n - 1 degrees of freedom."""
    if n < MIN_PAIRS:
        raise ValueError(f"the t test needs at least {MIN_PAIRS} pairs, got {n}")
    from scipy import stats  # here, not at the top: half a second of every notebook's start

    return float(stats.t.ppf(1 - level, n - 1))


def paired_gain(with_change, without_change, margin: float = MARGIN) -> dict:
    """{"gain", "se", "t", "q", "margin", "n", "verdict"} of a change from per-seed scores (same
    seeds, same order): the mean paired gain, its standard error, t = gain / se, the quantile
    the bounds are drawn with, the margin, and the verdict (at least MIN_PAIRS pairs): "better"
    when gain - q se > margin, "worse" when gain + q se < -margin (margin 0: the plain t test,
    t > q or t < -q)."""
    a, b = np.asarray(with_change, dtype=float), np.asarray(without_change, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"need one score per seed for both, paired; got {a.shape} and {b.shape}")
    if not margin >= 0:
        raise ValueError(f"the margin is a smallest gain, 0 or more; got {margin!r}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"a score is NaN or infinite (with the change {a.tolist()}, without "
                         f"{b.tolist()}): a run diverged or was not evaluated; no verdict")
    d, n = a - b, a.size
    if n < MIN_PAIRS:
        raise ValueError(f"a verdict needs at least {MIN_PAIRS} paired seeds, got {n}: with "
                         "one there is no spread to judge a gain against")
    gain, se, q = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n)), quantile(n)
    t = gain / se if se > 0 else math.copysign(math.inf, gain) if gain else 0.0
    better, worse = gain - q * se > margin, gain + q * se < -margin
    if se == 0:  # identical differences: the bound is the gain itself
        better, worse = gain > margin, gain < -margin
    verdict = VERDICTS[0] if better else VERDICTS[2] if worse else VERDICTS[1]
    return {"gain": gain, "se": se, "t": t, "q": q, "margin": float(margin), "n": int(n),
            "verdict": verdict}


def keeps(with_change, without_change, saves_work: bool = False,
          margin: float = MARGIN) -> bool:
    """Whether the change stays: measurably better (beyond the margin); or, for a change that
    saves work (saves_work), not measurably worse."""
    return stays(paired_gain(with_change, without_change, margin)["verdict"], saves_work)


def stays(verdict: str, saves_work: bool = False) -> bool:
    """Whether a change with this verdict stays (keeps, from a verdict already drawn)."""
    return verdict != VERDICTS[2] if saves_work else verdict == VERDICTS[0]
