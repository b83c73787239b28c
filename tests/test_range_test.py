import numpy as np
import pytest

from helpers.experiments.range_test import FRACTION, eta_range, range_test_schedule, smooth

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


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_smooth_with_fewer_values_than_its_window(n):
    values = np.arange(1.0, n + 1) ** 2
    got = smooth(values, 5)
    expected = [values[max(0, i - 2) : i + 3].mean() for i in range(n)]
    assert got.shape == (n,)
    np.testing.assert_allclose(got, expected)


def test_an_early_stop_reads_the_range_off_what_was_measured():
    etas, scores = np.array([0.01, 0.02, 0.03]), np.array([0.3, 0.5, 0.2])
    eta_min, eta_max = eta_range(etas, scores, window=3)  # smoothed: 0.4, 0.333, 0.35
    assert eta_max == 0.01 and eta_min == 0.25 * 0.01
    eta_max = eta_range(etas, scores, window=5)[1]  # every value the mean of all three: a tie
    assert eta_max == 0.01 and len(smooth(scores, 5)) == 3  # not 5 values, not an IndexError


def history(steps, accuracies, etas, stopped=None):
    """A range-test history as train() writes it: one network, validation only."""
    h = {"curves": {"step": steps, "network": [0] * len(steps), "val_accuracy": accuracies},
         "eta": {"step": list(range(len(etas))), "eta": etas}}
    return h if stopped is None else {**h, "stopped_at": stopped}


def test_the_range_test_says_when_it_stopped_early_and_with_how_few_measurements():
    from helpers.experiments import range_test
    from helpers.report import listings

    etas = list(np.linspace(0.01, 0.1, 10))
    chosen = range_test.choose(history([0, 4, 6], [0.2, 0.4, 0.1], etas, stopped=6), 5, 0.25)
    assert chosen["measurements"] == 3 and chosen["stopped_at_eta"] == etas[6]
    assert chosen["eta_max"] == etas[0]  # window 5 over 3 values: all the same mean, a tie
    text = listings.chosen_range(chosen)
    assert "diverged at eta = 0.07, where the test stopped after 3 measurements" in text
    assert "only 3 measurements, fewer than the window of 5" in text
    with pytest.raises(ValueError, match="1 measurement.*diverged.*too few"):
        range_test.choose(history([0], [0.2], etas[:1], stopped=0), 5, 0.25)


def test_the_range_test_records_its_own_schedule_not_a_cycles():
    from helpers.experiments.range_test import etas, settings_of
    from helpers.training.settings import Settings

    rise = etas(450, 100, 8, 1e-5, 1.0)
    out = settings_of(Settings(n_s=900, cycles=3, batch_size=100, m=50), rise)
    assert out["steps"] == 32 and out["eta_start"] == 1e-5 and out["eta_end"] == 1.0
    assert out["batch_size"] == 100 and not {"n_s", "cycles", "eta_max"} & set(out)


def paired_runs(**changes):
    """06's results and 07's (the retraining with the chosen range), paired; changes: what
    07's retraining has otherwise ("lambda" 07's)."""
    over = {"val": {"values": [0.530, 0.534, 0.532]}}
    final = {"seeds": [0, 1, 2], "split": "final: seed 0", "sizes": {"val": 1000},
             "lambda": 1e-3, "settings": {"m": 50, "eta_min": 1e-5, "eta_max": 0.1},
             "accuracy_over_seeds": over}
    retrained = {**{k: final[k] for k in ("seeds", "split", "sizes")},
                 "settings": {"m": 50, "eta_min": 0.01, "eta_max": 0.04},
                 "accuracy_over_seeds": {"val": {"values": [0.540, 0.545, 0.541]}}}
    lam = changes.pop("lambda", 1e-3)
    retrained.update(changes)
    return {"retrained": retrained, "lambda": lam, "parameters": {"margin": 0.005}}, final


def test_the_range_verdict_checks_that_its_runs_are_paired():
    from helpers.experiments.range_test import verdict

    assert verdict(*paired_runs())["verdict"] == "better"  # only the eta range differs
    for changes, said in (({"seeds": [1, 2, 3]}, "seeds"), ({"seeds": [2, 1, 0]}, "seeds"),
                          ({"split": "final: seed 1"}, "split"), ({"lambda": 2e-3}, "lambda"),
                          ({"settings": {"m": 100, "eta_min": 0.01, "eta_max": 0.04}},
                           "settings m")):
        with pytest.raises(ValueError, match=f"not paired.*{said}: 06 has"):
            verdict(*paired_runs(**changes))
    run, final = paired_runs()
    del run["retrained"]["seeds"]
    with pytest.raises(ValueError, match="seeds: 06 has .*07 'none'"):
        verdict(run, final)
