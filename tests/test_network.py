import numpy as np
import pytest

from helpers.model.network import (
    K,
    evaluate,
    forward,
    gradients,
    init_params,
    softmax,
    to_device,
    to_numpy,
)
from tests.test_loop import DEVICE


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((7, 12)), rng.integers(0, K, 7)


def test_init_shapes_and_scales():
    params = init_params(3072, 50, [0, 1], dtype=np.float32)
    assert params["W1"].shape == (2, 50, 3072) and params["W2"].shape == (2, K, 50)
    assert params["b1"].shape == (2, 50, 1) and params["b2"].shape == (2, K, 1)
    assert all(p.dtype == np.float32 for p in params.values())
    assert params["W1"].std() == pytest.approx(1 / np.sqrt(3072), rel=0.01)
    wide = init_params(3072, 2000, [0])  # 20,000 entries in W2: std known to within 1 %
    assert wide["W2"].std() == pytest.approx(1 / np.sqrt(2000), rel=0.03)
    assert not params["b1"].any() and not params["b2"].any()


def test_init_of_a_network_depends_only_on_its_seed():
    alone = init_params(20, 5, [3], np.float64)
    stacked = init_params(20, 5, [1, 3, 3], np.float64)
    for name, value in alone.items():
        np.testing.assert_array_equal(stacked[name][1], value[0])
        np.testing.assert_array_equal(stacked[name][2], value[0])
    assert not np.array_equal(stacked["W1"][0], stacked["W1"][1])


def test_forward_probabilities(batch):
    X, _ = batch
    P, H = forward(init_params(12, 4, [0, 1], np.float64), X)
    assert P.shape == (2, K, 7) and H.shape == (2, 4, 7)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P > 0).all() and (H >= 0).all()


def test_softmax_is_stable_for_large_scores():
    S = np.array([[[1000.0], [0.0]]])
    np.testing.assert_allclose(softmax(S)[0, :, 0], [1.0, 0.0])


def test_evaluate_chunks_agree_and_match_definition(batch):
    X, y = batch
    params = init_params(12, 4, [0], np.float64)
    lam = np.array([0.1])
    whole, chunked = evaluate(params, X, y, lam), evaluate(params, X, y, lam, chunk=3)
    for key in whole:
        np.testing.assert_allclose(whole[key], chunked[key])
    P, _ = forward(params, X)
    loss = -np.log(P[0, y, np.arange(7)]).mean()
    penalty = 0.1 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
    assert whole["loss"][0] == pytest.approx(loss)
    assert whole["cost"][0] == pytest.approx(loss + penalty)
    assert whole["accuracy"][0] == pytest.approx((P[0].argmax(0) == y).mean())


def test_torch_tensors_give_the_numpy_results(batch):
    X, y = batch
    params = init_params(12, 4, [0, 1], np.float64)
    lam = np.array([0.1, 0.01])
    expected = gradients(params, X, y, lam)
    as_torch = {k: to_device(v, DEVICE) for k, v in params.items()}
    got = gradients(as_torch, *(to_device(a, DEVICE) for a in (X, y, lam)))
    for name, value in expected.items():
        np.testing.assert_allclose(to_numpy(got[name]), value, rtol=1e-12, atol=1e-15)


def test_evaluate_whole_chunks_agree_with_small_ones():
    """Chunks over 1000 images take the one-BLAS-thread path for the products W2 H."""
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((1500, 12)).astype(np.float32), rng.integers(0, K, 1500)
    params, lam = init_params(12, 4, [0, 1, 2]), np.array([0.1, 0.0, 0.01], np.float32)
    whole, small = evaluate(params, X, y, lam), evaluate(params, X, y, lam, chunk=100)
    for key in whole:
        np.testing.assert_allclose(whole[key], small[key], rtol=1e-5)
