"""Accuracies over seeds: mean, sample std and the values."""

import numpy as np
import pytest

from helpers.model.accuracy import over_seeds


def test_over_seeds():
    assert over_seeds([0.5]) == {"mean": 0.5, "std": 0.0, "values": [0.5]}
    assert over_seeds(np.array([0.4, 0.6]))["std"] == pytest.approx(0.1414, abs=1e-4)
