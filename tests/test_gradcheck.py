import numpy as np
import pytest

from helpers.model import network
from helpers.model.gradcheck import NAMES, gradient_check, max_relative_error


@pytest.fixture
def small_batch():
    """Five images of 20 dimensions (the real check uses CIFAR-10 images reduced like this)."""
    rng = np.random.default_rng(1)
    return rng.standard_normal((5, 20)), rng.integers(0, network.K, 5)


def test_analytic_gradients_match_both_oracles(small_batch):
    errors = gradient_check(*small_batch, m=6, lam=0.1)
    for name in NAMES:
        assert errors["autograd"][name] < 1e-10, name
        assert errors["finite_difference"][name] < 1e-6, name


def test_check_catches_a_wrong_gradient(small_batch, monkeypatch):
    """A backward pass that forgets the regularisation term must fail the check."""
    real = network.gradients

    def without_penalty(params, X, y, lambdas):
        return real(params, X, y, np.zeros_like(lambdas))

    monkeypatch.setattr("helpers.model.gradcheck.gradients", without_penalty)
    errors = gradient_check(*small_batch, m=6, lam=0.1)
    assert errors["autograd"]["W1"] > 1e-3 and errors["finite_difference"]["W2"] > 1e-3
    assert errors["autograd"]["b1"] < 1e-10  # biases are not regularised


def test_relative_error_definition():
    assert max_relative_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert max_relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
