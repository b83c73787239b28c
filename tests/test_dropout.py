import numpy as np
import pytest
import torch

from helpers.model import network
from helpers.model.dropout import backward, forward, mask
from helpers.model.network import K, deltas, init_params, scores

KEEP = 0.6


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((9, 15)), rng.integers(0, K, 9)
    params = init_params(15, 8, [0, 1], np.float64)
    params["b1"] += 0.1 * rng.standard_normal(params["b1"].shape)  # some S1 near 0 either side
    return params, X, y, mask(rng, (2, 8, 9), KEEP, np.float64)


def autograd(params, X, y, U):
    """Gradients of the mean cross-entropy of each dropped-out network by torch autograd."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    H = torch.relu(t["W1"] @ torch.tensor(X).T + t["b1"]) * torch.tensor(U)
    S = t["W2"] @ H + t["b2"]  # (N, K, n)
    losses = [torch.nn.functional.cross_entropy(S[k].T, torch.tensor(y)) for k in range(len(S))]
    sum(losses).backward()  # the networks share no parameter: each gets its own gradient
    return {k: v.grad.numpy() for k, v in t.items()}


def no_rescaling(params, X, y, P, H_drop, keep):
    """Wrong: helpers.model.network's deltas on H~ without the factor 1 / keep."""
    grads = backward(params, X, y, P, H_drop, keep)
    G1 = deltas(params, y, P, H_drop)[1]
    grads["W1"], grads["b1"] = np.einsum("kmn,nd->kmd", G1, X), G1.sum(-1, keepdims=True)
    return grads


def mask_ignored_in_backward(params, X, y, P, H_drop, keep):
    """Wrong: the backward pass of the plain network (H, not H~; no mask in G1)."""
    H = scores(params, X)[1]
    G, G1 = deltas(params, y, P, H)
    return {"W1": np.einsum("kmn,nd->kmd", G1, X), "b1": G1.sum(-1, keepdims=True),
            "W2": G @ H.mT, "b2": G.sum(-1, keepdims=True)}


def max_error(grad_fn, params, X, y, U):
    P, H_drop = forward(params, X, U)
    ours, ref = grad_fn(params, X, y, P, H_drop, KEEP), autograd(params, X, y, U)
    return max(np.abs(ours[k] - ref[k]).max() / np.abs(ref[k]).max() for k in ref)


def test_gradients_match_autograd_with_a_fixed_mask(case):
    assert max_error(backward, *case) < 1e-12


@pytest.mark.parametrize("wrong", [no_rescaling, mask_ignored_in_backward])
def test_wrong_backward_passes_fail_the_gradient_check(case, wrong):
    assert max_error(wrong, *case) > 1e-3


def test_scaled_mask_values_and_mean():
    U = mask(np.random.default_rng(1), (4, 100, 500), KEEP)
    assert U.dtype == np.float32 and U.shape == (4, 100, 500)
    np.testing.assert_allclose(np.unique(U), [0, 1 / KEEP], rtol=1e-6)
    assert U.mean() == pytest.approx(1, abs=0.01)  # 200,000 draws: std of the mean 0.0018
    assert (U > 0).mean() == pytest.approx(KEEP, abs=0.01)


def test_keep_one_is_the_plain_network(case):
    params, X, y, _ = case
    params = {**params, "b2": np.random.default_rng(4).standard_normal(params["b2"].shape)}
    U = mask(np.random.default_rng(0), (2, 8, 9), 1.0, np.float64)
    np.testing.assert_array_equal(U, 1)
    P, H = forward(params, X, U)
    P_plain, H_plain = network.forward(params, X)  # the network without dropout
    np.testing.assert_allclose(P, P_plain, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(H, H_plain)
    with pytest.raises(ValueError):
        mask(np.random.default_rng(0), (2,), 0.0)


def test_evaluation_without_dropout_is_the_expected_value(case):
    """Averaged over masks, the scores s = W2 h~ + b2 approach the scores without dropout."""
    params, X, _, _ = case
    rng = np.random.default_rng(3)
    draws = 4000
    W2, b2 = params["W2"], params["b2"]
    H = scores(params, X)[1]
    mean_S = sum(W2 @ (H * mask(rng, H.shape, KEEP, np.float64)) + b2 for _ in range(draws)) / draws
    S = scores(params, X)[0]
    assert np.abs(mean_S - S).max() < 0.05 * np.abs(S).max()
    unscaled = sum(W2 @ (H * (mask(rng, H.shape, KEEP, np.float64) > 0)) + b2
                   for _ in range(200)) / 200
    assert np.abs(unscaled - S).max() > 0.2 * np.abs(S).max()  # without 1 / keep: biased


def test_one_keep_per_network(case):
    params, X, y, _ = case
    keep = np.array([0.5, 0.9]).reshape(2, 1, 1)
    U = mask(np.random.default_rng(4), (2, 8, 2000), keep, np.float64)
    assert set(np.unique(U[0])) == {0, 2} and np.unique(U[1]) == pytest.approx([0, 1 / 0.9])
    assert (U[0] > 0).mean() == pytest.approx(0.5, abs=0.03)
    assert (U[1] > 0).mean() == pytest.approx(0.9, abs=0.03)
    U = U[:, :, :9]
    P, H_drop = forward(params, X, U)
    ours, ref = backward(params, X, y, P, H_drop, keep.reshape(-1)), autograd(params, X, y, U)
    for k in ref:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-10, atol=1e-13)
