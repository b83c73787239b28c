"""Gradient check: analytic gradients against PyTorch autograd and centred finite differences."""

import numpy as np

from helpers.model.network import evaluate, gradients, init_params

NAMES = ("W1", "b1", "W2", "b2")


def cost(params: dict, X, y, lambdas) -> float:
    """The cost J of network 0 on the batch (numpy, the analytic code's forward pass)."""
    return float(evaluate(params, X, y, lambdas, chunk=X.shape[0])["cost"][0])


def autograd_gradients(params: dict, X, y, lambdas) -> dict:
    """dJ/dparam by PyTorch autograd on an independent torch forward pass (float64)."""
    import torch

    t = {k: torch.tensor(v[0], dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    Xt = torch.tensor(X, dtype=torch.float64).T
    S = t["W2"] @ torch.relu(t["W1"] @ Xt + t["b1"]) + t["b2"]
    loss = torch.nn.functional.cross_entropy(S.T, torch.tensor(y), reduction="mean")
    J = loss + float(lambdas[0]) * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    J.backward()
    return {k: t[k].grad.numpy()[None] for k in NAMES}


def finite_difference_gradients(params: dict, X, y, lambdas, h: float = 1e-6) -> dict:
    """dJ/dparam by centred differences (J(p + h) - J(p - h)) / 2h, one entry at a time."""
    grads = {}
    for name in NAMES:
        p = params[name]
        grad = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up = cost(params, X, y, lambdas)
            p[i] = old - h
            down = cost(params, X, y, lambdas)
            p[i] = old
            grad[i] = (up - down) / (2 * h)
        grads[name] = grad
    return grads


def max_relative_error(a, b, eps: float = 1e-10) -> float:
    """max |a - b| / max(eps, |a| + |b|) over all entries."""
    return float((np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))).max())


def gradient_check(X, y, m: int = 10, lam: float = 0.1, seed: int = 0, h: float = 1e-6) -> dict:
    """Max relative error per parameter of the analytic gradients, in float64.

    Inputs: X (n, d) a few images reduced to a few dimensions, y (n,) labels; m hidden units;
    lam > 0 so the regularisation term is checked; the biases get random non-zero values
    (zeros could hide a wrong backward pass).
    Output: {"autograd": {W1, b1, W2, b2: error}, "finite_difference": {...}}.
    """
    X = np.asarray(X, np.float64)
    params = init_params(X.shape[1], m, [seed], dtype=np.float64)
    rng = np.random.default_rng(seed + 1)
    for name in ("b1", "b2"):
        params[name] = rng.normal(0, 0.1, params[name].shape)
    lambdas = np.array([lam])
    analytic = gradients(params, X, y, lambdas)
    references = {
        "autograd": autograd_gradients(params, X, y, lambdas),
        "finite_difference": finite_difference_gradients(params, X, y, lambdas, h),
    }
    return {
        oracle: {k: max_relative_error(analytic[k], ref[k]) for k in NAMES}
        for oracle, ref in references.items()
    }
