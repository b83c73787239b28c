"""N two-layer networks side by side: initialisation, forward, backward, cost and accuracy.

The report's notation, one network: s1 = W1 x + b1, h = max(0, s1), s = W2 h + b2,
p = softmax(s); J = mean cross-entropy + lambda (||W1||^2 + ||W2||^2).

N networks (one per lambda, or per seed) are stacked along a leading axis and trained on
the same mini-batches, so each layer is one wide matrix product instead of N small ones.
Data are stored one image per row: X has shape (n, d), the report's X transposed.
Every function here works on numpy arrays and on torch tensors (CPU or GPU) alike.
"""

import numpy as np

from helpers.model import fused
from helpers.model.blas import one_blas_thread

K = 10  # classes


def xp(a):
    """The array module of `a`: numpy for numpy arrays, torch for torch tensors."""
    if isinstance(a, np.ndarray):
        return np
    import torch

    return torch


def to_device(a: np.ndarray, device):
    """`a` as a torch tensor on `device` (sharing a's memory on the CPU, copied elsewhere)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(a)).to(device)


def to_numpy(a):
    """`a` as a numpy array: itself, or a torch tensor copied to the host (shared on the CPU)."""
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()


def arange(n: int, like):
    """0 .. n - 1 on the engine of `like`: a numpy array, or a tensor on like's device (made
    there: a host index for a GPU tensor would be copied to it at every step)."""
    if isinstance(like, np.ndarray):
        return np.arange(n)
    import torch

    return torch.arange(n, device=like.device)


def on_engine(values, a):
    """values (a number, a list, a numpy array or a tensor) as an array of a's engine: numpy,
    or a tensor on a's device (a numpy operand of a GPU tensor fails)."""
    if isinstance(a, np.ndarray):
        return np.asarray(values)
    import torch

    return torch.as_tensor(values, device=a.device)


def init_params(d: int, m: int, seeds, dtype=np.float32) -> dict:
    """He-style init of the assignment, one network per seed, each from its own generator.

    Inputs: d input dimensions, m hidden units, seeds (N ints), dtype of the result.
    Output: {"W1": (N, m, d), "b1": (N, m, 1), "W2": (N, K, m), "b2": (N, K, 1)};
    biases 0, W1 ~ N(0, 1/sqrt(d)^2), W2 ~ N(0, 1/sqrt(m)^2) (std 1/sqrt(d), 1/sqrt(m)).
    Network k depends only on seeds[k], not on N, so a stack equals separate runs.
    """
    rngs = [np.random.default_rng(seed) for seed in seeds]
    W1 = np.stack([r.standard_normal((m, d)) / np.sqrt(d) for r in rngs])
    W2 = np.stack([r.standard_normal((K, m)) / np.sqrt(m) for r in rngs])
    n = len(rngs)
    return {
        "W1": W1.astype(dtype),
        "b1": np.zeros((n, m, 1), dtype),
        "W2": W2.astype(dtype),
        "b2": np.zeros((n, K, 1), dtype),
    }


def scores(params: dict, X, w1_scale=None, U=None):
    """Class scores s and hidden activations h for a batch X (n, d): (N, K, n), (N, m, n).

    w1_scale: optional (N, 1, 1); then network k's W1 is w1_scale[k] * params["W1"][k].
    U: optional (N, m, n) dropout mask (helpers.model.dropout); then h is the dropped-out
    max(0, s1) * U and s is computed from it. The elementwise passes on s1 run as one
    (helpers.model.fused) where the arrays allow, with the same digits.
    """
    W1 = params["W1"]
    N, m, d = W1.shape
    S1 = (W1.reshape(N * m, d) @ X.T).reshape(N, m, -1)
    if fused.usable(S1, w1_scale, params["b1"], U):
        H = fused.hidden(S1, w1_scale, params["b1"], U)
    else:
        if w1_scale is not None:
            S1 *= w1_scale
        S1 += params["b1"]
        H = S1.clip(min=0)
        if U is not None:
            H = xp(H).multiply(H, U, out=H)  # in place: H is clip's own array
    with one_blas_thread(H):
        S = params["W2"] @ H
    return S + params["b2"], H


def softmax(S):
    """Column-wise softmax over the class axis of S (N, K, n), computed stably."""
    E = xp(S).exp(S - xp(S).amax(S, axis=-2, keepdims=True))
    return E / E.sum(axis=-2, keepdims=True)


def forward(params: dict, X, w1_scale=None):
    """Probabilities P (N, K, n) and the hidden activations H (N, m, n) that backward needs."""
    S, H = scores(params, X, w1_scale)
    return softmax(S), H


def deltas(params: dict, y, P, H, scale: float = 1.0, U=None):
    """`scale` times the gradients of the mean loss with respect to s and s1, (N, K, n), (N, m, n).

    G = (P - Y) / n and G1 = (W2^T G) * 1[H > 0], for labels y (n,) and P, H from forward;
    with a dropout mask U (N, m, n), G1 = (W2^T G) * 1[H > 0] * U (H the dropped-out layer).
    """
    n = P.shape[-1]
    G = P * (scale / n)
    G[:, y, arange(n, G)] -= scale / n
    G1 = params["W2"].mT @ G
    if fused.usable(G1, H, U):
        return G, fused.relu_grad(G1, H, U)
    G1 *= H > 0  # in place: G1 is the product's own array
    if U is not None:
        G1 *= U
    return G, G1


def backward(params: dict, X, y, P, H) -> dict:
    """Gradients of the mean cross-entropy (no regularisation term), the report's formulas.

    Inputs: X (n, d), y (n,) integer labels, P (N, K, n) and H (N, m, n) from forward.
    Output: a dict keyed like the parameters, with their shapes:
      G = (P - Y) / n, dW2 = G H^T, db2 = G 1, G1 = (W2^T G) * 1[H > 0], dW1 = G1 X^T, db1 = G1 1.
    """
    N, m, d = params["W1"].shape
    G, G1 = deltas(params, y, P, H)
    dW1 = G1.reshape(N * m, -1) @ X
    return {
        "W1": dW1.reshape(N, m, d),
        "b1": G1.sum(axis=-1, keepdims=True),
        "W2": G @ H.mT,
        "b2": G.sum(axis=-1, keepdims=True),
    }


def gradients(params: dict, X, y, lambdas) -> dict:
    """Gradients of the cost J: the report's formulas, mean over the batch plus 2 lambda W.

    lambdas: (N,) one regularisation strength per network. Output keyed like params.
    """
    P, H = forward(params, X)
    grads = backward(params, X, y, P, H)
    lam = lambdas.reshape(-1, 1, 1)
    grads["W1"] = grads["W1"] + 2 * lam * params["W1"]
    grads["W2"] = grads["W2"] + 2 * lam * params["W2"]
    return grads


def penalty(params: dict, lambdas):
    """lambda (||W1||^2 + ||W2||^2) per network: (N,)."""
    return lambdas * ((params["W1"] ** 2).sum(axis=(1, 2)) + (params["W2"] ** 2).sum(axis=(1, 2)))


def evaluate(params: dict, X, y, lambdas, chunk: int = 5000) -> dict:
    """Loss, cost and accuracy of every network on a whole set, in chunks of `chunk` images.

    Inputs: X (n, d), y (n,), lambdas (N,). Output: {"loss", "cost", "accuracy"}, each (N,)
    (accuracy is a fraction). Memory stays at about N * m * chunk values.
    """
    mod = xp(X)
    n = X.shape[0]
    loss_sum = correct = 0
    for start in range(0, n, chunk):
        Xc, yc = X[start : start + chunk], y[start : start + chunk]
        S, _ = scores(params, Xc)
        top = mod.amax(S, axis=-2, keepdims=True)
        log_z = mod.log(mod.exp(S - top).sum(axis=-2)) + top[:, 0, :]
        cols = arange(Xc.shape[0], S)
        loss_sum = loss_sum + (log_z - S[:, yc, cols]).sum(axis=-1)
        correct = correct + (S.argmax(axis=-2) == yc).sum(axis=-1)
    loss = loss_sum / n
    return {"loss": loss, "cost": loss + penalty(params, lambdas), "accuracy": correct / n}
