"""End-to-end checks on the real CIFAR-10 data (skipped when absent, required in CI)."""

import numpy as np
import pytest

from helpers.cifar.data import load_split
from helpers.model.network import evaluate
from helpers.training.loop import train
from helpers.training.settings import Settings


@pytest.mark.data
def test_exercise_3_reaches_the_expected_test_accuracy(cifar_dir):
    """SPEC, Exercise 3 (assignment profile, float32): test accuracy in 45 - 48.5 %."""
    split = load_split("exercise", path=cifar_dir)
    settings = Settings(eta_min=1e-5, eta_max=1e-1, n_s=500, cycles=1, batch_size=100, m=50)
    params, history = train(split, settings, [0.01], progress=False)
    test = evaluate(params, split.X_test, split.y_test, np.array([0.01], np.float32))
    assert 0.45 <= test["accuracy"][0] <= 0.485
    assert history["curves"]["step"][-1] == 1000
    assert history["curves"]["val_accuracy"][-1] > 0.44
    assert history["curves"]["train_cost"][-1] < history["curves"]["train_cost"][0]
