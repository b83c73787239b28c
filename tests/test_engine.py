"""The dropout step: sgd_step with a mask U is the explicit step on the dropped-out network,
and training with dropout draws masks, evaluates without them, and refuses what it can't do."""

import numpy as np
import pytest

from helpers.model import dropout
from helpers.model.network import K, init_params
from helpers.training import loop as training
from helpers.training import step as engine
from helpers.training.settings import Settings
from tests.test_training import synthetic_split

D, M, N, BATCH = 12, 5, 3, 7
LAMBDAS = np.array([0.0, 0.05, 0.2])
KEEP = np.array([1.0, 0.8, 0.5]).reshape(-1, 1, 1)


def start(seed=3):
    rng = np.random.default_rng(seed)
    params = init_params(D, M, range(N), np.float64)
    params["b1"] = 0.1 * rng.standard_normal(params["b1"].shape)
    X, y = rng.standard_normal((BATCH, D)), rng.integers(0, K, BATCH)
    return params, X, y, dropout.mask(rng, (N, M, BATCH), KEEP, np.float64)


def explicit(params, X, y, U, eta, keep=KEEP):
    """W - eta (dL/dW of the dropped-out network + 2 lambda W), from dropout.backward."""
    P, H = dropout.forward(params, X, U)
    grads = dropout.backward(params, X, y, P, H, keep.ravel())
    lam = LAMBDAS.reshape(-1, 1, 1)
    return {k: v - eta * (grads[k] + (2 * lam * v if k[0] == "W" else 0))
            for k, v in params.items()}


def test_the_dropout_step_is_the_explicit_step():
    params, X, y, U = start()
    want = explicit(params, X, y, U, 0.1)
    got = {k: v.copy() for k, v in params.items()}
    engine.sgd_step(got, X, y, LAMBDAS.reshape(-1, 1, 1), 0.1, U=U)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14)


def test_a_mask_of_ones_is_the_plain_step():
    params, X, y, _ = start()
    plain, masked = ({k: v.copy() for k, v in params.items()} for _ in range(2))
    lam = LAMBDAS.reshape(-1, 1, 1)
    engine.sgd_step(plain, X, y, lam, 0.1)
    engine.sgd_step(masked, X, y, lam, 0.1, U=np.ones((N, M, BATCH)))
    for k in plain:
        np.testing.assert_allclose(masked[k], plain[k], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("wrong", ["no 1/keep in the backward pass", "mask ignored backward"])
def test_a_wrong_dropout_step_is_caught(wrong):
    params, X, y, U = start()
    if wrong == "no 1/keep in the backward pass":
        want = explicit(params, X, y, U, 0.1, keep=np.ones_like(KEEP))
    else:  # the forward pass drops units, the backward pass lets every unit through
        P, _ = dropout.forward(params, X, U)
        grads = dropout.backward(params, X, y, P, dropout.forward(params, X, 1.0)[1], 1.0)
        lam = LAMBDAS.reshape(-1, 1, 1)
        want = {k: v - 0.1 * (grads[k] + (2 * lam * v if k[0] == "W" else 0))
                for k, v in params.items()}
    got = {k: v.copy() for k, v in params.items()}
    engine.sgd_step(got, X, y, LAMBDAS.reshape(-1, 1, 1), 0.1, U=U)
    assert not np.allclose(got["W1"][1:], want["W1"][1:], rtol=1e-8)


def test_training_with_dropout_is_seeded_and_differs_from_without():
    split = synthetic_split()
    settings = Settings(eta_min=1e-3, eta_max=5e-2, n_s=10, cycles=1, batch_size=8, m=12)
    plain, _ = training.train(split, settings, [1e-3, 1e-3], progress=False)
    a, history = training.train(split, settings, [1e-3, 1e-3], progress=False,
                                dropout=[0.0, 0.5])
    b, _ = training.train(split, settings, [1e-3, 1e-3], progress=False, dropout=[0.0, 0.5])
    np.testing.assert_array_equal(a["W1"], b["W1"])  # the masks come from the seed
    np.testing.assert_allclose(a["W1"][0], plain["W1"][0], rtol=1e-5, atol=1e-7)  # rate 0
    assert not np.allclose(a["W1"][1], plain["W1"][1])
    acc = history["curves"]["train_accuracy"]  # evaluation has no dropout: repeatable
    _, again = training.train(split, settings, [1e-3, 1e-3], progress=False, dropout=[0.0, 0.5])
    assert again["curves"]["train_accuracy"] == acc


@pytest.mark.parametrize(("rate", "device", "message"), [(1.0, None, "in \\[0, 1\\)"),
                                                          (-0.1, None, "in \\[0, 1\\)"),
                                                          (0.3, "cpu", "numpy engine only")])
def test_impossible_dropout_is_refused(rate, device, message):
    settings = Settings(n_s=2, batch_size=8, m=4)
    with pytest.raises(ValueError, match=message):
        training.train(synthetic_split(), settings, [0.0], progress=False, dropout=rate,
                       device=device)
