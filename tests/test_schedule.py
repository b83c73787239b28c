import numpy as np
import pytest

from helpers.training.schedule import cyclic_eta, schedule

ETA_MIN, ETA_MAX, N_S = 1e-5, 1e-1, 500


@pytest.mark.parametrize(
    ("t", "expected"),
    [(0, ETA_MIN), (N_S, ETA_MAX), (2 * N_S, ETA_MIN), (3 * N_S, ETA_MAX), (4 * N_S, ETA_MIN)],
)
def test_cycle_turning_points(t, expected):
    assert cyclic_eta(t, ETA_MIN, ETA_MAX, N_S) == pytest.approx(expected, rel=1e-12)


def test_halfway_up_and_down_are_the_midpoint():
    mid = (ETA_MIN + ETA_MAX) / 2
    assert cyclic_eta(N_S // 2, ETA_MIN, ETA_MAX, N_S) == pytest.approx(mid)
    assert cyclic_eta(3 * N_S // 2, ETA_MIN, ETA_MAX, N_S) == pytest.approx(mid)


def test_report_formulas_step_by_step():
    t = np.arange(4 * N_S)
    cycle = t // (2 * N_S)
    up = ETA_MIN + (t - 2 * cycle * N_S) / N_S * (ETA_MAX - ETA_MIN)
    down = ETA_MAX - (t - (2 * cycle + 1) * N_S) / N_S * (ETA_MAX - ETA_MIN)
    rising = t - 2 * cycle * N_S <= N_S
    np.testing.assert_allclose(schedule(4 * N_S, ETA_MIN, ETA_MAX, N_S), np.where(rising, up, down))


def test_scalar_and_vector_agree():
    etas = schedule(7, 0.0, 1.0, 3)
    assert [cyclic_eta(t, 0.0, 1.0, 3) for t in range(7)] == pytest.approx(etas.tolist())
    assert isinstance(cyclic_eta(1, 0.0, 1.0, 3), float)
