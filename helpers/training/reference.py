"""The two-layer network and one step of mini-batch gradient descent, written the plain way.

This module is meant to be read next to the report. It holds ONE network, in numpy, in the
report's notation: images are the columns of X (d x n), the labels are one-hot columns of
Y (K x n), and every line sits next to the formula it computes. There are no speed tricks
here: no stacking of networks, no in-place updates, no fused BLAS calls, no scale kept
apart from W1. The training does not use this module; it runs the engine
(helpers.training.step.sgd_step, N networks at once, fused and in place). compare_with_engine
runs both on the same mini-batch, so the fast code can be checked against the formulas.

Shapes, one network: W1 (m, d), b1 (m, 1), W2 (K, m), b2 (K, 1); d input dimensions,
m hidden units, K = 10 classes, n images in the batch.

The rest of the code stores one image per row, X (n, d), the report's X transposed. The
functions here take X that way too (so they are called like the rest of the code) and
transpose it once, at the top, into the report's d x n.
"""

import numpy as np

from helpers.model import network
from helpers.training import step as engine
from helpers.training.loop import minibatches

K = network.K  # classes
NAMES = ("W1", "b1", "W2", "b2")


def one_hot(y, k: int = K) -> np.ndarray:
    """Y (k, n): column i is all zeros except a 1 in row y_i."""
    Y = np.zeros((k, len(y)))
    Y[np.asarray(y), np.arange(len(y))] = 1
    return Y


def softmax(S) -> np.ndarray:
    """p = exp(s) / (1^T exp(s)) for each column s of S (K, n).

    The column's largest score is subtracted first: the same p (the factor exp(-max)
    cancels), but exp can no longer overflow.
    """
    E = np.exp(S - S.max(axis=0, keepdims=True))  # exp(s - max s)
    return E / E.sum(axis=0, keepdims=True)  # exp(s) / 1^T exp(s)


def forward(params: dict, X) -> tuple:
    """S1, H, P for the batch X (d, n), the report's X (columns are images)."""
    W1, b1, W2, b2 = (params[k] for k in NAMES)
    S1 = W1 @ X + b1  # s1 = W1 x + b1, for every column x of X (b1 added to each column)
    H = np.maximum(0, S1)  # h = max(0, s1)
    S = W2 @ H + b2  # s = W2 h + b2
    P = softmax(S)  # p = softmax(s)
    return S1, H, P


def cost(params: dict, X_rows, y, lam: float) -> float:
    """J = (1/n) sum_i -log p_{y_i} + lambda (||W1||^2 + ||W2||^2), X_rows (n, d)."""
    X = X_rows.T  # the report's X: d x n, one image per column
    n = X.shape[1]
    _, _, P = forward(params, X)
    loss = -np.log(P[y, np.arange(n)]).sum() / n  # (1/n) sum_i -log p_{y_i}
    penalty = lam * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())  # lambda (...)
    return float(loss + penalty)


def plain_gradients(params: dict, X_rows, y, lam: float) -> dict:
    """dJ/dW1, dJ/db1, dJ/dW2, dJ/db2 of one network on the batch X_rows (n, d), y (n,).

    The report's formulas; the output has the parameters' shapes and keys.
    """
    X = X_rows.T  # the report's X: d x n, one image per column
    n = X.shape[1]  # images in the batch
    Y = one_hot(y)  # Y: K x n, one-hot labels
    W1, W2 = params["W1"], params["W2"]
    ones = np.ones((n, 1))  # 1: a column of n ones (G 1 sums G's columns)
    S1, H, P = forward(params, X)
    G = P - Y  # G = P - Y
    dW2 = (1 / n) * G @ H.T + 2 * lam * W2  # dJ/dW2 = (1/n) G H^T + 2 lambda W2
    db2 = (1 / n) * G @ ones  # dJ/db2 = (1/n) G 1
    G1 = (W2.T @ G) * (S1 > 0)  # G1 = W2^T G o 1[S1 > 0]
    dW1 = (1 / n) * G1 @ X.T + 2 * lam * W1  # dJ/dW1 = (1/n) G1 X^T + 2 lambda W1
    db1 = (1 / n) * G1 @ ones  # dJ/db1 = (1/n) G1 1
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def plain_step(params: dict, X_rows, y, lam: float, eta: float) -> dict:
    """One mini-batch gradient-descent update of one network: new parameters (a new dict).

    params: W1 (m, d), b1 (m, 1), W2 (K, m), b2 (K, 1); X_rows (n, d) images as rows, as
    everywhere else in the code (transposed inside); y (n,) labels; lam the regularisation
    strength lambda; eta the learning rate of this step. params is not changed.
    """
    grads = plain_gradients(params, X_rows, y, lam)
    W1 = params["W1"] - eta * grads["W1"]  # W1 <- W1 - eta dJ/dW1
    b1 = params["b1"] - eta * grads["b1"]  # b1 <- b1 - eta dJ/db1
    W2 = params["W2"] - eta * grads["W2"]  # W2 <- W2 - eta dJ/dW2
    b2 = params["b2"] - eta * grads["b2"]  # b2 <- b2 - eta dJ/db2
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def cyclic_eta(t: int, eta_min: float, eta_max: float, n_s: int) -> float:
    """The triangular learning rate eta_t at update step t = 0, 1, ... (one cycle: 2 n_s steps).

    The same numbers as helpers.training.schedule.cyclic_eta, written case by case as in the report.
    """
    l = t // (2 * n_s)  # the cycle that step t is in, the report's l  # noqa: E741
    if t <= (2 * l + 1) * n_s:  # 2 l n_s <= t <= (2 l + 1) n_s: on the way up
        return eta_min + (t - 2 * l * n_s) / n_s * (eta_max - eta_min)
    # (2 l + 1) n_s <= t <= 2 (l + 1) n_s: on the way down
    return eta_max - (t - (2 * l + 1) * n_s) / n_s * (eta_max - eta_min)


# ---- the plain step next to the engine's ---------------------------------------------------


def engine_step(params_stack: dict, X_rows, y, lam, eta: float) -> dict:
    """The engine's update of N stacked networks on a copy, exactly as train runs it.

    sgd_step in the params' dtype with a w1_scale array (all ones, the decay of W1 kept as
    one number per network) and a scratch buffer, then fold (the scale multiplied into W1),
    no dropout. lam: one lambda for all networks or one per network. Output: a new dict.
    """
    dtype = params_stack["W1"].dtype
    p = {k: np.array(v, dtype) for k, v in params_stack.items()}  # copies: the input stays
    N = p["W1"].shape[0]
    lam = np.array(np.broadcast_to(np.asarray(lam, dtype), (N,))).reshape(-1, 1, 1)
    w1_scale = np.ones_like(lam)
    buffer = np.empty_like(p["W1"])
    engine.sgd_step(p, np.array(X_rows, dtype), np.asarray(y), lam, eta, buffer, w1_scale)
    engine.fold(p, w1_scale)
    return p


def compare_with_engine(params_stack: dict, X_rows, y, lam, eta: float) -> dict:
    """The largest |engine - plain| of each parameter after one update, over the N networks.

    params_stack: N networks stacked as init_params gives them: W1 (N, m, d), b1 (N, m, 1),
    W2 (N, K, m), b2 (N, K, 1), in any float dtype. The engine step (engine_step) runs in
    that dtype; the plain step runs network by network in float64 from the same start
    (the formulas, with as little rounding as numpy gives). lam: a float or one per network.
    Output: {"W1": float, "b1": ..., "W2": ..., "b2": ...}.
    """
    fused = engine_step(params_stack, X_rows, y, lam, eta)
    N = params_stack["W1"].shape[0]
    lams = np.broadcast_to(np.asarray(lam, np.float64), (N,))
    X64 = np.asarray(X_rows, np.float64)
    plain = [plain_step({k: np.asarray(v[i], np.float64) for k, v in params_stack.items()},
                        X64, y, float(lams[i]), eta) for i in range(N)]
    return {k: max(float(np.abs(np.asarray(fused[k][i], np.float64) - plain[i][k]).max())
                   for i in range(N)) for k in NAMES}


def first_batch_check(split, settings, lam: float, dtype="float64", eta=None) -> dict:
    """The plain step next to the engine's on the first mini-batch of a training run.

    The network is the run's first initial network (init_params with settings.seed and
    settings.m) in `dtype`; the batch holds the images of the training's first mini-batch
    (minibatches with settings.seed, from a generator of its own); eta defaults to
    settings.eta_max, the largest step of the cycle. Nothing the training computes is
    touched: init_params and minibatches make fresh generators, the images are copied.
    Output: {"dtype", "eta", "n", "difference": compare_with_engine's, "update": the
    largest |plain step - start| of each parameter, for scale}.
    """
    eta = settings.eta_max if eta is None else eta
    batch = next(minibatches(len(split.y_train), settings.batch_size, settings.seed, 1))
    X, y = np.array(split.X_train[batch]), np.array(split.y_train[batch])
    start = network.init_params(X.shape[1], settings.m, [settings.seed], np.dtype(dtype))
    one = {k: np.asarray(v[0], np.float64) for k, v in start.items()}
    plain = plain_step(one, X, y, lam, eta)
    return {"dtype": np.dtype(dtype).name, "eta": float(eta), "n": len(batch),
            "difference": compare_with_engine(start, X, y, lam, eta),
            "update": {k: float(np.abs(plain[k] - one[k]).max()) for k in NAMES}}


def listing(check: dict) -> str:
    """first_batch_check's result as a few lines of text."""
    lines = [f"eta = {check['eta']:g}, {check['n']} images: the engine in {check['dtype']}, "
             "the plain step in float64"]
    for k in NAMES:
        lines.append(f"  {k}: max |engine - plain| = {check['difference'][k]:.2e}   "
                     f"(max |step| = {check['update'][k]:.2e})")
    lines.append(f"  largest difference: {largest(check):.2e}")
    return "\n".join(lines)


def largest(check: dict) -> float:
    """The largest difference of any parameter in first_batch_check's result."""
    return max(check["difference"].values())

