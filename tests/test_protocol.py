"""The rule: a paired one-sided t test at the 5 % level (Student's t, n - 1 degrees of
freedom) against a margin of half a point: better or worse only when the gain's one-sided
bound clears the margin."""

import math

import numpy as np
import pytest
from scipy import stats

from helpers.experiments.protocol import LEVEL, MARGIN, RULE, keeps, paired_gain, quantile


def test_a_gain_larger_than_its_spread_is_better():
    out = paired_gain([0.571, 0.574, 0.569], [0.561, 0.563, 0.560])
    assert out["verdict"] == "better" and out["n"] == 3
    assert out["gain"] == pytest.approx(0.01) and out["t"] > out["q"]


def test_t_is_the_mean_difference_over_its_standard_error():
    d = np.array([0.012, 0.004, 0.009, 0.001])
    out = paired_gain(0.5 + d, np.full(4, 0.5))
    se = d.std(ddof=1) / 2
    assert out["se"] == pytest.approx(se) and out["t"] == pytest.approx(d.mean() / se)
    assert out["q"] == pytest.approx(stats.t.ppf(0.95, 3)) and LEVEL == 0.05
    assert out["margin"] == MARGIN == 0.005
    assert RULE == "a paired one-sided t test at the 5 % level against a margin of 0.5 points"


def verdicts(d):
    return paired_gain(0.5 + np.asarray(d), np.full(len(d), 0.5))["verdict"]


def test_the_quantile_is_students_one_sided_one_not_the_se_sd_ddof0_or_two_sided():
    """Each difference set sits between the right threshold and a plausible wrong one."""
    # t = 2.5 on 2 degrees of freedom: above "gain > se" (t > 1), below q = 2.92: no verdict
    d = np.array([1.0, 2.0, 3.0]) + 0.0
    t = d.mean() / (d.std(ddof=1) / math.sqrt(3))
    d = d - d.mean() + 2.5 / t * d.mean()  # same spread, t = 2.5
    assert 1 < d.mean() / (d.std(ddof=1) / math.sqrt(3)) < quantile(3)
    assert verdicts(d) == "no measurable difference"
    # t = 3.0 on 2 degrees of freedom: above q = 2.92; the SD in place of the SE (t / sqrt 3),
    # or the two-sided quantile (4.30), would give no verdict
    d = d - d.mean() + 3.0 / 2.5 * d.mean()
    assert verdicts(d) == "better" and verdicts(-d) == "worse"
    assert d.mean() / d.std(ddof=1) < quantile(3) < 3.0 < stats.t.ppf(0.975, 2)
    # ddof = 0 makes t larger by sqrt(n / (n - 1)): t = 2.5 (ddof 1) is 3.06 with ddof 0
    d = d - d.mean() + 2.5 / 3.0 * d.mean()
    assert d.mean() / (d.std(ddof=0) / math.sqrt(3)) > quantile(3)
    assert verdicts(d) == "no measurable difference"
    # the degrees of freedom are n - 1: q(n) from n degrees of freedom would pass t = 2.5 at
    # n = 4 (q = 2.35 on 3 df, 2.13 on 4)
    e = np.array([0.01, 0.02, 0.03, 0.04])
    e = e - e.mean() + 2.2 * e.std(ddof=1) / 2
    assert stats.t.ppf(0.95, 4) < 2.2 < quantile(4) and verdicts(e) == "no measurable difference"


@pytest.mark.parametrize("n", [2, 3, 5])
def test_under_no_effect_the_rule_errs_at_most_five_percent_each_way(n):
    """20,000 studies of n normal paired differences with mean 0: "better" and "worse" each
    about LEVEL of the time (binomial sd 0.15 %; 0.06 is over six sds above 0.05). The old
    rule (gain > se) says "better" 21 % of the time with n = 3."""
    rng = np.random.default_rng(n)
    d = rng.standard_normal((20_000, n))
    counts = {"better": 0, "worse": 0, "no measurable difference": 0}
    for row in d:
        counts[verdicts(row)] += 1
    assert counts["better"] / len(d) < 0.06 and counts["worse"] / len(d) < 0.06
    assert counts["better"] / len(d) > 0.04 and counts["worse"] / len(d) > 0.04  # not timid


def test_a_gain_inside_the_noise_is_no_measurable_difference():
    with_change, without = [0.58, 0.55, 0.57], [0.56, 0.57, 0.565]  # mean gain +0.0017
    out = paired_gain(with_change, without)
    assert out["verdict"] == "no measurable difference" and not keeps(with_change, without)
    naive = np.mean(with_change) > np.mean(without)  # the old rule: any rise is kept
    assert naive  # which the spread-aware rule refuses


def test_a_measurable_loss_is_worse_and_one_pair_is_refused():
    assert paired_gain([0.50, 0.51, 0.49], [0.55, 0.56, 0.54])["verdict"] == "worse"
    with pytest.raises(ValueError, match="at least 2 paired seeds"):
        paired_gain([0.9], [0.1])


def test_identical_differences_have_no_spread_but_a_sign():
    assert verdicts([0.01, 0.01, 0.01]) == "better"
    assert verdicts([0.0, 0.0, 0.0]) == "no measurable difference"


def test_pairs_matter_not_just_the_means():
    """Shared seed effects cancel in the paired difference: an unpaired rule calls this noise."""
    seeds = np.array([0.50, 0.56, 0.53, 0.59])
    out = paired_gain(seeds + 0.009 + np.array([0, 1e-4, -1e-4, 0]), seeds)
    assert out["verdict"] == "better"
    unpaired_se = math.sqrt(np.var(seeds, ddof=1) * 2 / 4)
    assert out["gain"] < unpaired_se  # an unpaired comparison would not see it


def test_scores_must_be_paired():
    with pytest.raises(ValueError, match="paired"):
        paired_gain([0.5, 0.6], [0.5])


def test_a_change_that_saves_work_stays_unless_measurably_worse():
    same = ([0.58, 0.55, 0.57], [0.56, 0.57, 0.565])  # no measurable difference
    assert keeps(*same, saves_work=True) and not keeps(*same)
    worse = ([0.50, 0.51, 0.49], [0.55, 0.56, 0.54])
    assert not keeps(*worse, saves_work=True)
    better = ([0.571, 0.574, 0.569], [0.561, 0.563, 0.560])
    assert keeps(*better, saves_work=True) and keeps(*better)


def test_a_gain_is_decided_only_beyond_the_margin():
    """gain - q se must clear +0.5 points: a gain of 1.2 points with se 0.2 does (1.2 - 2.92 *
    0.2 = 0.62), one of 1.0 does not (0.42), though its t (5.0) passes q and its gain the margin
    (a rule that tests t > q and gain > margin apart would call it better). Without the margin
    (0.4 points, se 0.05: t = 8) the plain t test calls it better; the margin does not."""
    def diffs(gain, se):  # three differences with that mean and standard error
        e = np.array([-1.0, 0.0, 1.0])
        return gain + e * se * math.sqrt(3) / e.std(ddof=1)

    assert verdicts(diffs(0.012, 0.002)) == "better" and verdicts(-diffs(0.012, 0.002)) == "worse"
    out = paired_gain(0.5 + diffs(0.010, 0.002), np.full(3, 0.5))
    assert out["t"] == pytest.approx(5.0) and out["t"] > out["q"] and out["gain"] > MARGIN
    assert out["verdict"] == "no measurable difference"
    assert verdicts(-diffs(0.010, 0.002)) == "no measurable difference"
    small = 0.5 + diffs(0.004, 0.0005)
    assert paired_gain(small, np.full(3, 0.5), margin=0)["verdict"] == "better"
    assert paired_gain(small, np.full(3, 0.5))["verdict"] == "no measurable difference"
    assert not keeps(small, np.full(3, 0.5)) and keeps(small, np.full(3, 0.5), margin=0)
    # in points instead of a fraction (0.5 for 0.005), nothing would ever be decided
    assert verdicts(diffs(0.05, 0.002)) == "better"


def test_a_small_real_effect_rarely_passes_the_margin():
    """The snapshot ensemble's case: a true gain of 0.3 points, paired sd 0.33, 3 seeds (the
    three BLAS kernels' estimates). Without the margin the rule calls it better in about 29 %
    of studies, so the verdict follows the machine; with it, in under 2 %. A null effect with
    the same spread: under 1 %."""
    rng = np.random.default_rng(7)
    for true, bound in ((0.003, 0.02), (0.0, 0.01)):
        d = rng.normal(true, 0.0033, (4000, 3))
        better = [paired_gain(0.5 + row, np.full(3, 0.5))["verdict"] == "better" for row in d]
        assert np.mean(better) < bound
    d = rng.normal(0.003, 0.0033, (4000, 3))
    plain = [paired_gain(0.5 + row, np.full(3, 0.5), margin=0)["verdict"] == "better" for row in d]
    assert 0.2 < np.mean(plain) < 0.4


def test_the_margin_is_a_smallest_gain():
    with pytest.raises(ValueError, match="0 or more"):
        paired_gain([0.5, 0.6], [0.5, 0.5], margin=-0.01)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_score_that_is_not_a_number_gets_no_verdict(bad):
    """A NaN (a diverged or unevaluated run) once passed as 'no measurable difference'."""
    for a, b in (([0.5, bad, 0.52], [0.5, 0.5, 0.5]), ([0.5, 0.51, 0.52], [bad, 0.5, 0.5])):
        with pytest.raises(ValueError, match="NaN or infinite"):
            paired_gain(a, b)
