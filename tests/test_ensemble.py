"""Ensembles: the mean of probabilities (not of scores), over every network of every member."""

import numpy as np
import pytest

from helpers.model import ensemble
from helpers.model.network import K, init_params, softmax


def stack(seeds, d=6, m=4, scale=1.0):
    params = init_params(d, m, seeds, np.float64)
    params["W2"] = params["W2"] * scale
    return params


def test_one_network_is_its_own_ensemble():
    X = np.random.default_rng(0).standard_normal((30, 6))
    params = stack([0])
    p = ensemble.probabilities(params, X)
    np.testing.assert_allclose(ensemble.average([params], X), p[0])
    y = p[0].argmax(axis=0)
    assert ensemble.accuracy([params], X, y) == 1.0


def test_members_are_weighted_by_network_not_by_member():
    X = np.random.default_rng(1).standard_normal((20, 6))
    a, b = stack([0, 1]), stack([2])
    p = np.concatenate([ensemble.probabilities(a, X), ensemble.probabilities(b, X)])
    np.testing.assert_allclose(ensemble.average([a, b], X), p.mean(axis=0))
    np.testing.assert_allclose(ensemble.average([a, b], X).sum(axis=0), 1.0)


def test_probabilities_are_averaged_not_scores():
    # one image: network 0 leans to class 0 (p 0.25) and scores class 1 very low; network 1
    # is sure of class 1 (p 0.94). Mean probabilities pick class 1, mean scores class 0.
    s = np.zeros((2, K, 1))
    s[0, 0, 0], s[0, 1, 0] = 1.0, -30.0
    s[1, 1, 0] = 5.0
    p = softmax(s).mean(axis=0)
    logits = s.mean(axis=0)
    assert p.argmax() != logits.argmax()  # the two rules disagree here
    params = {"W1": np.eye(1)[None].repeat(2, 0), "b1": np.zeros((2, 1, 1)),
              "W2": np.zeros((2, K, 1)), "b2": s}
    assert ensemble.average([params], np.ones((1, 1))).argmax() == p.argmax()


def test_take_picks_networks_out_of_a_stack():
    params = stack([0, 1, 2])
    two = ensemble.take(params, [2, 0])
    np.testing.assert_array_equal(two["W1"][0], params["W1"][2])
    assert two["b2"].shape == (2, K, 1)
    with pytest.raises(IndexError):
        ensemble.take(params, [3])
