import numpy as np
import pytest

from helpers.lrrange import FRACTION, eta_range, range_test_schedule, smooth

ETAS = np.linspace(0.005, 0.5, 100)
PEAK = ETAS[39]  # 0.2


def curve(noise=0.0, seed=0):
    """Accuracy rising to its best at eta = PEAK, then falling; optional Gaussian noise."""
    clean = 0.5 - 4 * (ETAS - PEAK) ** 2
    return clean + noise * np.random.default_rng(seed).standard_normal(len(ETAS))


def raw_argmax(etas, scores):
    """Wrong: the best raw accuracy."""
    return etas[np.argmax(scores)]


def first_decrease(etas, scores):
    """Wrong: the first eta after which accuracy goes down."""
    return etas[np.flatnonzero(np.diff(scores) < 0)[0]]


def test_schedules_rise_from_start_to_end():
    lin = range_test_schedule(5, 0.1, 0.5)
    np.testing.assert_allclose(lin, [0.1, 0.2, 0.3, 0.4, 0.5])
    log = range_test_schedule(3, 1e-4, 1.0, "log")
    np.testing.assert_allclose(log, [1e-4, 1e-2, 1.0])
    assert np.all(np.diff(range_test_schedule(50, 1e-5, 1, "log")) > 0)
    for bad in [(1, 0.1, 0.5), (5, 0.5, 0.1), (5, 0.0, 0.1)]:
        with pytest.raises(ValueError):
            range_test_schedule(*bad)
    with pytest.raises(ValueError):
        range_test_schedule(5, 0.1, 0.5, "cosine")


def test_smooth_is_a_centred_moving_average():
    np.testing.assert_allclose(smooth([0, 0, 5, 0, 0], 5), [5 / 3, 5 / 4, 1, 5 / 4, 5 / 3])
    np.testing.assert_allclose(smooth([1, 2, 3, 4], 3), [1.5, 2, 3, 3.5])
    np.testing.assert_allclose(smooth([3, 1, 2], 1), [3, 1, 2])
    with pytest.raises(ValueError):
        smooth([1, 2], 4)


def test_clean_curve_gives_its_peak_and_the_stated_fraction():
    eta_min, eta_max = eta_range(ETAS, curve())
    assert eta_max == pytest.approx(PEAK) and eta_min == pytest.approx(FRACTION * PEAK)
    assert eta_range(ETAS, curve(), fraction=1 / 3)[0] == pytest.approx(PEAK / 3)


def test_losses_give_the_eta_before_the_loss_turns_up():
    loss = 1 + 4 * (ETAS - PEAK) ** 2
    assert eta_range(ETAS, loss, higher_is_better=False)[1] == pytest.approx(PEAK)


def test_a_single_spike_does_not_move_eta_max_but_moves_the_raw_argmax():
    spiky = curve()
    spiky[80] += 0.3  # eta 0.4: the raw curve's best value by far
    assert eta_range(ETAS, spiky)[1] == pytest.approx(PEAK)
    assert raw_argmax(ETAS, spiky) == pytest.approx(ETAS[80])


@pytest.mark.parametrize("seed", range(5))
def test_noise_moves_eta_max_little_unlike_the_wrong_rules(seed):
    noisy = curve(noise=0.01, seed=seed)
    assert abs(eta_range(ETAS, noisy, window=9)[1] - PEAK) < 0.05
    assert abs(first_decrease(ETAS, noisy) - PEAK) > 0.05


def test_bad_inputs():
    for etas, scores in [([0.1], [0.5]), ([0.1, 0.2], [0.5]), ([0.2, 0.1], [0.5, 0.6])]:
        with pytest.raises(ValueError):
            eta_range(etas, scores)
