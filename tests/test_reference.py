"""helpers.reference, the plain one-network formulas, against the code the training runs:
its update equals the engine's fused step (sgd_step with w1_scale and buffer, then fold),
its gradients equal network.gradients, its eta_t equals schedule.cyclic_eta; and plausible
wrong versions of each (one line of reference.py changed) are caught by the comparison.
"""

import inspect
import types
from types import SimpleNamespace

import numpy as np
import pytest

from helpers.model.network import K, evaluate, gradients, init_params
from helpers.training import reference, schedule
from helpers.training.settings import Settings

D, M, BATCH = 20, 6, 8
LAMBDAS = np.array([0.01, 0.1, 0.3])  # one network each
ETA = 0.1  # a step large enough that every term of the update shows
TOL = 1e-12  # max |engine - plain| in float64, every parameter
NAMES = ("W1", "b1", "W2", "b2")


@pytest.fixture(scope="module")
def case():
    """Three networks (float64, non-zero biases: a bias term cannot hide), one batch."""
    rng = np.random.default_rng(2424)
    params = init_params(D, M, range(len(LAMBDAS)), np.float64)
    for b in ("b1", "b2"):
        params[b] = 0.1 * rng.standard_normal(params[b].shape)
    return params, rng.standard_normal((BATCH, D)), rng.integers(0, K, BATCH)


def one(params: dict, i: int) -> dict:
    return {k: v[i] for k, v in params.items()}


def mutated(right=None, wrong=None) -> types.ModuleType:
    """A copy of helpers.reference compiled from its source, with `right` replaced by
    `wrong` (none: as it is)."""
    source = inspect.getsource(reference)
    if right is not None:
        assert source.count(right) == 1, f"reference.py no longer has {right!r}: update the test"
        source = source.replace(right, wrong)
    module = types.ModuleType(f"reference_{'unchanged' if right is None else 'mutated'}")
    exec(compile(source, f"<helpers/reference.py, {wrong or 'unchanged'}>", "exec"),
         module.__dict__)
    return module


# ---- (a) the plain step is the engine's fused step ------------------------------------------


def test_plain_step_equals_the_engine_step_float64(case):
    params, X, y = case
    diff = reference.compare_with_engine(params, X, y, LAMBDAS, ETA)
    assert set(diff) == set(NAMES)
    assert max(diff.values()) < TOL, diff


def test_one_lambda_for_all_networks_and_one_network(case):
    params, X, y = case
    assert max(reference.compare_with_engine(params, X, y, 0.2, ETA).values()) < TOL
    single = {k: v[1:2] for k, v in params.items()}
    assert max(reference.compare_with_engine(single, X, y, [0.1], 0.03).values()) < TOL


def test_plain_step_by_hand_equals_engine_step(case):
    """The loop inside compare_with_engine, written out: plain_step network by network."""
    params, X, y = case
    fused = reference.engine_step(params, X, y, LAMBDAS, ETA)
    for i, lam in enumerate(LAMBDAS):
        plain = reference.plain_step(one(params, i), X, y, lam, ETA)
        for k in NAMES:
            assert plain[k].shape == params[k][i].shape
            assert np.abs(plain[k] - fused[k][i]).max() < TOL, (i, k)


def test_the_engine_in_float32_is_close(case):
    """The training's dtype: the fused float32 step is within float32 rounding of the math."""
    params, X, y = case
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    diff = reference.compare_with_engine(p32, X, y, LAMBDAS, ETA)
    assert 0 < max(diff.values()) < 1e-6, diff


def test_the_comparison_is_not_vacuous_and_leaves_its_inputs(case):
    """Each parameter moves by far more than the tolerance; the inputs are not changed."""
    params, X, y = case
    before = {k: v.copy() for k, v in params.items()}
    X_before = X.copy()
    reference.compare_with_engine(params, X, y, LAMBDAS, ETA)
    assert all(np.array_equal(params[k], before[k]) for k in NAMES)
    assert np.array_equal(X, X_before)
    for i, lam in enumerate(LAMBDAS):
        after = reference.plain_step(one(params, i), X, y, lam, ETA)
        for k in NAMES:
            assert np.abs(after[k] - params[k][i]).max() > 1e6 * TOL, (i, k)


# ---- (b) the plain gradients and cost are network.gradients and network.evaluate -----------


def test_plain_gradients_equal_network_gradients(case):
    params, X, y = case
    stacked = gradients(params, X, y, LAMBDAS)
    for i, lam in enumerate(LAMBDAS):
        plain = reference.plain_gradients(one(params, i), X, y, lam)
        for k in NAMES:
            assert plain[k].shape == params[k][i].shape
            np.testing.assert_allclose(plain[k], stacked[k][i], rtol=1e-12, atol=1e-14)


def test_plain_cost_equals_network_cost(case):
    params, X, y = case
    costs = evaluate(params, X, y, LAMBDAS)["cost"]
    for i, lam in enumerate(LAMBDAS):
        assert reference.cost(one(params, i), X, y, lam) == pytest.approx(costs[i], rel=1e-12)


def test_plain_gradients_are_the_derivative_of_plain_cost(case):
    """An oracle of its own: centred differences of reference.cost, a few entries each."""
    params, X, y = case
    p, lam, h = {k: v.copy() for k, v in one(params, 2).items()}, 0.3, 1e-6
    grads = reference.plain_gradients(p, X, y, lam)
    for k in NAMES:
        for idx in [(0, 0), (p[k].shape[0] - 1, p[k].shape[1] - 1)]:
            old = p[k][idx]
            p[k][idx] = old + h
            up = reference.cost(p, X, y, lam)
            p[k][idx] = old - h
            down = reference.cost(p, X, y, lam)
            p[k][idx] = old
            assert (up - down) / (2 * h) == pytest.approx(grads[k][idx], rel=1e-5, abs=1e-8)


# ---- (c) wrong versions of the formulas are caught -----------------------------------------

# Each: (the line of reference.py as it is, a plausible wrong version of it).
MUTATIONS = {
    "lambda W2 instead of 2 lambda W2": ("+ 2 * lam * W2", "+ lam * W2"),
    "lambda W1 instead of 2 lambda W1": ("+ 2 * lam * W1", "+ lam * W1"),
    "regulariser with the wrong sign": ("+ 2 * lam * W1", "- 2 * lam * W1"),
    "no 1/n in dJ/dW2": ("dW2 = (1 / n) * G @ H.T", "dW2 = G @ H.T"),
    "no 1/n in dJ/dW1": ("dW1 = (1 / n) * G1 @ X.T", "dW1 = G1 @ X.T"),
    "no 1/n in dJ/db2": ("db2 = (1 / n) * G @ ones", "db2 = G @ ones"),
    "no 1/n in dJ/db1": ("db1 = (1 / n) * G1 @ ones", "db1 = G1 @ ones"),
    "G = Y - P": ("G = P - Y  #", "G = Y - P  #"),
    "no ReLU derivative": ("G1 = (W2.T @ G) * (S1 > 0)", "G1 = W2.T @ G"),
    "biases regularised": ("db2 = (1 / n) * G @ ones", "db2 = (1 / n) * G @ ones + 2 * lam * "
                                                        "params['b2']"),
    "b1 update with the wrong sign": ('b1 = params["b1"] - eta', 'b1 = params["b1"] + eta'),
    "b2 update with the wrong sign": ('b2 = params["b2"] - eta', 'b2 = params["b2"] + eta'),
    "W2 update with the wrong sign": ('W2 = params["W2"] - eta', 'W2 = params["W2"] + eta'),
    "W1 update with the wrong sign": ('W1 = params["W1"] - eta', 'W1 = params["W1"] + eta'),
    "softmax over the images": ("E / E.sum(axis=0, keepdims=True)",
                                "E / E.sum(axis=1, keepdims=True)"),
    "no b1 in s1": ("S1 = W1 @ X + b1", "S1 = W1 @ X"),
}


def test_the_unchanged_copy_passes(case):
    """The copy the mutations are made in is faithful, so a failure below is the mutation's."""
    params, X, y = case
    assert max(mutated().compare_with_engine(params, X, y, LAMBDAS, ETA).values()) < TOL


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_caught_wrong_step(case, mutation):
    """Every wrong version differs from the engine's step by far more than the tolerance."""
    params, X, y = case
    diff = mutated(*MUTATIONS[mutation]).compare_with_engine(params, X, y, LAMBDAS, ETA)
    assert max(diff.values()) > 1e3 * TOL, (mutation, diff)


@pytest.mark.parametrize("mutation", [k for k in MUTATIONS if "update" not in k])
def test_caught_wrong_gradients(case, mutation):
    """... and those in the gradients (not in an update line) differ from network.gradients."""
    params, X, y = case
    stacked = gradients(params, X, y, LAMBDAS)
    plain = mutated(*MUTATIONS[mutation]).plain_gradients(one(params, 1), X, y, LAMBDAS[1])
    assert max(np.abs(plain[k] - stacked[k][1]).max() for k in NAMES) > 1e3 * TOL


# ---- (d) the triangular learning rate -------------------------------------------------------

CYCLES = [(1e-5, 1e-1, 500), (1e-5, 1e-1, 5), (0.0, 1.0, 1), (0.2, 0.7, 3)]


@pytest.mark.parametrize("eta_min, eta_max, n_s", CYCLES)
def test_plain_eta_equals_cyclic_eta_over_two_cycles(eta_min, eta_max, n_s):
    t = np.arange(4 * n_s + 1)  # two whole cycles and the first step of the third
    want = schedule.cyclic_eta(t, eta_min, eta_max, n_s)
    got = [reference.cyclic_eta(int(s), eta_min, eta_max, n_s) for s in t]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15 * eta_max)
    assert got[0] == eta_min and got[n_s] == pytest.approx(eta_max)
    assert got[2 * n_s] == pytest.approx(eta_min) and got[3 * n_s] == pytest.approx(eta_max)


ETA_MUTATIONS = {
    "the down slope starting at 2 l n_s": ("eta_max - (t - (2 * l + 1) * n_s)",
                                           "eta_max - (t - 2 * l * n_s)"),
    "the cycle index t // n_s": ("l = t // (2 * n_s)", "l = t // n_s"),
    "the up slope over 2 n_s": ("(t - 2 * l * n_s) / n_s", "(t - 2 * l * n_s) / (2 * n_s)"),
    "the turn at 2 l n_s": ("if t <= (2 * l + 1) * n_s", "if t <= 2 * l * n_s"),
}


def test_the_unchanged_eta_copy_passes():
    t = np.arange(4 * 5 + 1)
    got = [mutated().cyclic_eta(int(s), 1e-5, 1e-1, 5) for s in t]
    np.testing.assert_allclose(got, schedule.cyclic_eta(t, 1e-5, 1e-1, 5), rtol=0, atol=1e-16)


@pytest.mark.parametrize("mutation", ETA_MUTATIONS)
def test_caught_wrong_eta(mutation):
    eta = mutated(*ETA_MUTATIONS[mutation]).cyclic_eta
    t = np.arange(4 * 5 + 1)
    got = np.array([eta(int(s), 1e-5, 1e-1, 5) for s in t])
    assert np.abs(got - schedule.cyclic_eta(t, 1e-5, 1e-1, 5)).max() > 1e-3, mutation


# ---- the notebook's check ------------------------------------------------------------------


def test_first_batch_check_on_a_small_split():
    """first_batch_check (notebook 02's cell): the run's first network and first mini-batch."""
    rng = np.random.default_rng(5)
    split = SimpleNamespace(X_train=rng.standard_normal((30, D)).astype(np.float32),
                            y_train=rng.integers(0, K, 30))
    X_before = split.X_train.copy()
    settings = Settings(n_s=3, batch_size=10, m=M, seed=4, eta_max=0.05)
    check = reference.first_batch_check(split, settings, 0.01)
    assert check["dtype"] == "float64" and check["eta"] == 0.05 and check["n"] == 10
    assert reference.largest(check) < TOL
    assert min(check["update"].values()) > 1e6 * TOL
    check32 = reference.first_batch_check(split, settings, 0.01, dtype="float32")
    assert 0 < reference.largest(check32) < 1e-6
    assert np.array_equal(split.X_train, X_before)
    text = reference.listing(check32)
    assert "float32" in text and "largest difference" in text and text.count("max |") == 8
