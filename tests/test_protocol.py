"""The keep rule: better only when the mean paired gain exceeds its standard error."""

import math

import numpy as np
import pytest

from helpers.experiments.protocol import keeps, paired_gain


def test_a_gain_larger_than_its_spread_is_better():
    out = paired_gain([0.571, 0.574, 0.569], [0.561, 0.563, 0.560])
    assert out["verdict"] == "better" and out["n"] == 3
    assert out["gain"] == pytest.approx(0.01) and out["se"] < out["gain"]


def test_a_gain_inside_the_noise_is_no_measurable_difference():
    with_change, without = [0.58, 0.55, 0.57], [0.56, 0.57, 0.565]  # mean gain +0.0017
    out = paired_gain(with_change, without)
    assert out["verdict"] == "no measurable difference" and not keeps(with_change, without)
    naive = np.mean(with_change) > np.mean(without)  # the old rule: any rise is kept
    assert naive  # which the spread-aware rule refuses


def test_a_measurable_loss_is_worse_and_one_pair_is_never_better():
    assert paired_gain([0.50, 0.51, 0.49], [0.55, 0.56, 0.54])["verdict"] == "worse"
    one = paired_gain([0.9], [0.1])
    assert one["se"] == math.inf and one["verdict"] == "no measurable difference"


def test_pairs_matter_not_just_the_means():
    """Shared seed effects cancel in the paired difference: an unpaired rule calls this noise."""
    seeds = np.array([0.50, 0.56, 0.53, 0.59])
    out = paired_gain(seeds + 0.004, seeds)
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
