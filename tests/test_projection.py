"""The projection on principal components is fitted on the training images only."""

from dataclasses import dataclass

import numpy as np
import pytest

from helpers.cifar import projection


@dataclass
class Toy:
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray


def toy(seed=0):
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((3, 12))
    make = lambda n, shift: (rng.standard_normal((n, 3)) @ basis + shift  # noqa: E731
                             + 0.01 * rng.standard_normal((n, 12))).astype(np.float32)
    return Toy(make(200, 0.0), make(50, 2.0), make(50, 3.0))  # val and test shifted away


def test_three_components_hold_a_rank_three_set_and_are_orthonormal():
    split = toy()
    p = projection.fit(split.X_train, 3)
    assert p.explained > 0.999 and p.components.shape == (12, 3)
    np.testing.assert_allclose(p.components.T @ p.components, np.eye(3), atol=1e-5)
    np.testing.assert_allclose(p(split.X_train).mean(axis=0), 0, atol=1e-4)


def test_the_split_is_projected_with_the_training_parts_fit_only():
    split = toy()
    projected, p = projection.project_split(split, 3)
    np.testing.assert_allclose(p.mean, split.X_train.mean(axis=0), rtol=1e-5, atol=1e-5)
    leaked = projection.fit(np.concatenate([split.X_train, split.X_val, split.X_test]), 3)
    assert np.abs(leaked.mean - p.mean).max() > 0.1  # a fit on all parts moves the mean
    np.testing.assert_allclose(projected.X_val, p(split.X_val))
    assert projected.X_test.shape == (50, 3) and projected.X_train.dtype == np.float32


def test_k_out_of_range_is_refused():
    with pytest.raises(ValueError, match="k must be in 1 .. 12"):
        projection.fit(toy().X_train, 13)


def test_the_components_are_the_top_singular_vectors_and_hold_their_variance():
    """The covariance route gives the SVD's subspace (a wrong order or unscaled variance fails)."""
    X = toy().X_train
    p = projection.fit(X, 2)
    centred = X.astype(np.float64) - X.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    overlap = np.abs(vt[:2] @ p.components.astype(np.float64))
    np.testing.assert_allclose(np.linalg.svd(overlap)[1], 1, atol=1e-4)  # same plane
    assert p.explained == pytest.approx((s[:2] ** 2).sum() / (s**2).sum(), rel=1e-5)
