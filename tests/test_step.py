"""sgd_step (the fused, in-place update that train uses) is the explicit gradient step
W <- W - eta dJ/dW with dJ/dW from network.gradients (the gradient-checked formulas):
several networks with different lambdas side by side, with and without the W1 scale, in
float32 and float64, on numpy and torch; and the comparison catches wrong updates.
"""

import inspect
import sys

import numpy as np
import pytest

from helpers.model import dropout
from helpers.model.network import K, gradients, init_params, to_device, to_numpy
from helpers.training import loop as training
from helpers.training import step as engines
from helpers.training.settings import Settings
from tests.test_loop import DEVICE, synthetic_split

D, M, BATCH = 20, 6, 8
LAMBDAS = np.array([0.01, 0.1, 0.3])  # one network each: decays 0.998 ... 0.94 at eta 0.1
SCALES = np.array([0.5, 0.8, 1.0])  # w1_scale at the start: the real W1 is scale * params W1
ETAS = (0.1, 0.05, 0.02, 0.1)  # one learning rate per step
TOL = {np.float32: 1e-5, np.float64: 1e-12}  # max |error| / max |value|, each parameter


@pytest.fixture(scope="module")
def start():
    """Initial parameters (float64, non-zero biases) and one batch per step."""
    rng = np.random.default_rng(8)
    params = init_params(D, M, range(len(LAMBDAS)), np.float64)
    for b in ("b1", "b2"):
        params[b] = 0.1 * rng.standard_normal(params[b].shape)
    X = rng.standard_normal((len(ETAS), BATCH, D))
    return params, X, rng.integers(0, K, (len(ETAS), BATCH))


def explicit(params: dict, X, y, steps: int) -> dict:
    """`steps` updates W <- W - eta gradients(W), in float64."""
    for t in range(steps):
        grads = gradients(params, X[t], y[t], LAMBDAS)
        params = {k: v - ETAS[t] * grads[k] for k, v in params.items()}
    return params


def fused(params: dict, X, y, steps: int, dtype, engine: str, scaled: bool,
          step=None) -> dict:
    """`steps` calls of `step` (default sgd_step) as train makes them, in `dtype` on
    `engine`; float64 numpy parameters back, with the W1 scale multiplied into W1."""
    step = step or engines.sgd_step
    move = (lambda a: a.astype(dtype)) if engine == "numpy" else (
        lambda a: to_device(a.astype(dtype), DEVICE))
    p = {k: move(v) for k, v in params.items()}
    lam = move(LAMBDAS.reshape(-1, 1, 1))
    scale = move(SCALES.reshape(-1, 1, 1)) if scaled else None
    if scaled:
        p["W1"] = move(params["W1"] / SCALES.reshape(-1, 1, 1))
    buffer = np.empty_like(p["W1"]) if engine == "numpy" else None
    for t in range(steps):
        labels = y[t] if engine == "numpy" else to_device(y[t], DEVICE)
        step(p, move(X[t]), labels, lam, ETAS[t], buffer, scale)
    out = {k: to_numpy(v).astype(np.float64) for k, v in p.items()}
    if scaled:
        out["W1"] = out["W1"] * to_numpy(scale).astype(np.float64)
    return out


def mismatch(got: dict, want: dict) -> float:
    """The largest error of any parameter, relative to that parameter's largest entry."""
    assert got.keys() == want.keys() and all(got[k].shape == want[k].shape for k in want)
    return max(np.abs(got[k] - want[k]).max() / np.abs(want[k]).max() for k in want)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scaled", [False, True], ids=["plain", "w1_scale"])
@pytest.mark.parametrize("steps", [1, len(ETAS)])
def test_sgd_step_is_the_explicit_gradient_step(start, engine, dtype, scaled, steps):
    got = fused(*start, steps, dtype, engine, scaled)
    assert mismatch(got, explicit(*start, steps)) < TOL[dtype]


def test_the_update_moves_every_parameter(start):
    """The comparison is not vacuous: each parameter changes by far more than the tolerance."""
    before, after = start[0], explicit(*start, 1)
    for k in before:
        assert mismatch({k: after[k]}, {k: before[k]}) > 1e3 * TOL[np.float32], k


# Each mutation: (what the line of sgd_step says, what a wrong version says instead).
MUTATIONS = {
    "decay 1 - eta lambda": ("decay = 1 - 2 * eta * lam", "decay = 1 - eta * lam"),
    "no decay": ("decay = 1 - 2 * eta * lam", "decay = 1"),
    "the first lambda for every network": ("decay = 1 - 2 * eta * lam",
                                           "decay = 1 - 2 * eta * lam[:1]"),
    "decay with the wrong sign": ("decay = 1 - 2 * eta * lam", "decay = 1 + 2 * eta * lam"),
    "b1 step with the wrong sign": ('params["b1"] += G1.sum', 'params["b1"] -= G1.sum'),
    "b2 step with the wrong sign": ('params["b2"] += db2', 'params["b2"] -= db2'),
    "W2 step with the wrong sign": ('params["W2"] += (H @ G.mT).mT',
                                    'params["W2"] -= (H @ G.mT).mT'),
    "W2 step not transposed back": ('params["W2"] += (H @ G.mT).mT',
                                    'params["W2"] += (H @ G.mT).mT[..., ::-1]'),
    "W1 step not divided by the scale": ("G1 /= w1_scale", "G1 *= 1"),
}


def mutated(mutation=None):
    """A copy of sgd_step compiled from its source, with one line changed (none: as is)."""
    source = inspect.getsource(engines.sgd_step)
    if mutation is not None:
        right, wrong = MUTATIONS[mutation]
        assert source.count(right) == 1, f"sgd_step no longer has {right!r}: update MUTATIONS"
        source = source.replace(right, wrong)
    namespace = dict(vars(sys.modules[engines.sgd_step.__module__]))  # its imports
    exec(compile(source, f"<sgd_step, {mutation or 'unchanged'}>", "exec"), namespace)
    return namespace["sgd_step"]


def test_the_unchanged_copy_passes(start):
    """The copy the mutations are made in is faithful, so a failure below is the mutation's."""
    for scaled in (False, True):
        got = fused(*start, 1, np.float32, "numpy", scaled, step=mutated())
        assert mismatch(got, explicit(*start, 1)) < TOL[np.float32]


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_caught_wrong_update(start, mutation):
    """Every wrong version fails the comparison, at the loosest tolerance (float32)."""
    scalings = [True] if "scale" in mutation else [False, True]
    for scaled in scalings:
        got = fused(*start, 1, np.float32, "numpy", scaled, step=mutated(mutation))
        assert mismatch(got, explicit(*start, 1)) > 10 * TOL[np.float32], (mutation, scaled)


# The dropout step, and training with dropout (their own shapes)

DROP_D, DROP_M, DROP_N, DROP_BATCH = 12, 5, 3, 7
DROP_LAMBDAS = np.array([0.0, 0.05, 0.2])
KEEP = np.array([1.0, 0.8, 0.5]).reshape(-1, 1, 1)


def dropout_case(seed=3):
    rng = np.random.default_rng(seed)
    params = init_params(DROP_D, DROP_M, range(DROP_N), np.float64)
    params["b1"] = 0.1 * rng.standard_normal(params["b1"].shape)
    X, y = rng.standard_normal((DROP_BATCH, DROP_D)), rng.integers(0, K, DROP_BATCH)
    return params, X, y, dropout.mask(rng, (DROP_N, DROP_M, DROP_BATCH), KEEP, np.float64)


def explicit_dropout_step(params, X, y, U, eta, keep=KEEP):
    """W - eta (dL/dW of the dropped-out network + 2 lambda W), from dropout.backward."""
    P, H = dropout.forward(params, X, U)
    grads = dropout.backward(params, X, y, P, H, keep.ravel())
    lam = DROP_LAMBDAS.reshape(-1, 1, 1)
    return {k: v - eta * (grads[k] + (2 * lam * v if k[0] == "W" else 0))
            for k, v in params.items()}


def test_the_dropout_step_is_the_explicit_step():
    params, X, y, U = dropout_case()
    want = explicit_dropout_step(params, X, y, U, 0.1)
    got = {k: v.copy() for k, v in params.items()}
    engines.sgd_step(got, X, y, DROP_LAMBDAS.reshape(-1, 1, 1), 0.1, U=U)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14)


def test_a_mask_of_ones_is_the_plain_step():
    params, X, y, _ = dropout_case()
    plain, masked = ({k: v.copy() for k, v in params.items()} for _ in range(2))
    lam = DROP_LAMBDAS.reshape(-1, 1, 1)
    engines.sgd_step(plain, X, y, lam, 0.1)
    engines.sgd_step(masked, X, y, lam, 0.1, U=np.ones((DROP_N, DROP_M, DROP_BATCH)))
    for k in plain:
        np.testing.assert_allclose(masked[k], plain[k], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("wrong", ["no 1/keep in the backward pass", "mask ignored backward"])
def test_a_wrong_dropout_step_is_caught(wrong):
    params, X, y, U = dropout_case()
    if wrong == "no 1/keep in the backward pass":
        want = explicit_dropout_step(params, X, y, U, 0.1, keep=np.ones_like(KEEP))
    else:  # the forward pass drops units, the backward pass lets every unit through
        P, _ = dropout.forward(params, X, U)
        grads = dropout.backward(params, X, y, P, dropout.forward(params, X, 1.0)[1], 1.0)
        lam = DROP_LAMBDAS.reshape(-1, 1, 1)
        want = {k: v - 0.1 * (grads[k] + (2 * lam * v if k[0] == "W" else 0))
                for k, v in params.items()}
    got = {k: v.copy() for k, v in params.items()}
    engines.sgd_step(got, X, y, DROP_LAMBDAS.reshape(-1, 1, 1), 0.1, U=U)
    assert not np.allclose(got["W1"][1:], want["W1"][1:], rtol=1e-8)


def test_training_with_dropout_is_seeded_and_differs_from_without():
    split = synthetic_split()
    settings = Settings(eta_min=1e-3, eta_max=5e-2, n_s=10, cycles=1, batch_size=8, m=12)
    plain, _ = training.train(split, settings, [1e-3, 1e-3], progress=False)
    a, history = training.train(split, settings, [1e-3, 1e-3], progress=False,
                                seams=training.Seams(dropout=[0.0, 0.5]))
    b, _ = training.train(split, settings, [1e-3, 1e-3], progress=False,
                          seams=training.Seams(dropout=[0.0, 0.5]))
    np.testing.assert_array_equal(a["W1"], b["W1"])  # the masks come from the seed
    np.testing.assert_allclose(a["W1"][0], plain["W1"][0], rtol=1e-5, atol=1e-7)  # rate 0
    assert not np.allclose(a["W1"][1], plain["W1"][1])
    acc = history["curves"]["train_accuracy"]  # evaluation has no dropout: repeatable
    _, again = training.train(split, settings, [1e-3, 1e-3], progress=False,
                          seams=training.Seams(dropout=[0.0, 0.5]))
    assert again["curves"]["train_accuracy"] == acc


@pytest.mark.parametrize(("rate", "device"), [(1.0, None), (-0.1, None), (1.0, DEVICE)])
def test_impossible_dropout_is_refused(rate, device):
    settings = Settings(n_s=2, batch_size=8, m=4)
    with pytest.raises(ValueError, match="in \\[0, 1\\)"):
        training.train(synthetic_split(), settings, [0.0], progress=False, device=device,
                       seams=training.Seams(dropout=rate))
