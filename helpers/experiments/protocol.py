"""The keep rule for the bonus's choices: a change is better only when its mean gain over
paired seeds exceeds the standard error of that gain.

Paired: seed k trained with and without the change shares its initialisation and
mini-batches, so the difference d_k = with_k - without_k removes what the seeds share.
With n >= 2 pairs, gain = mean(d) and se = std(d, ddof=1) / sqrt(n). The verdict is
"better" when gain > se, "worse" when gain < -se, else "no measurable difference" (and the
simpler configuration is kept). With one pair there is no spread: never "better".

Which configuration is the simpler one depends on what the change costs. A change that adds
work (a wider layer, dropout, augmentation, longer training, more ensemble members) is kept
only when it is "better". A change that saves work (the projection on principal components:
a first layer several times cheaper) is kept unless it is "worse": with no measurable
difference the cheaper configuration is the simpler one.
"""

import math

import numpy as np

VERDICTS = ("better", "no measurable difference", "worse")


def paired_gain(with_change, without_change) -> dict:
    """{"gain", "se", "n", "verdict"} of a change from per-seed scores (same seeds, same order)."""
    a, b = np.asarray(with_change, dtype=float), np.asarray(without_change, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"need one score per seed for both, paired; got {a.shape} and {b.shape}")
    d, n = a - b, a.size
    gain = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    verdict = VERDICTS[0] if gain > se else VERDICTS[2] if gain < -se else VERDICTS[1]
    return {"gain": gain, "se": se, "n": int(n), "verdict": verdict}


def keeps(with_change, without_change, saves_work: bool = False) -> bool:
    """Whether the change stays: measurably better; or, for a change that saves work
    (saves_work), not measurably worse."""
    verdict = paired_gain(with_change, without_change)["verdict"]
    return verdict != VERDICTS[2] if saves_work else verdict == VERDICTS[0]
