"""The triangular cyclical learning rate (Smith 2015), a pure function of the update step."""

import numpy as np


def cyclic_eta(t, eta_min: float, eta_max: float, n_s: int):
    """Learning rate eta_t at update step t (t = 0, 1, ...); one cycle is 2 n_s steps.

    On the way up, eta_t = eta_min + (t - 2 l n_s) / n_s (eta_max - eta_min);
    on the way down, eta_t = eta_max - (t - (2 l + 1) n_s) / n_s (eta_max - eta_min),
    where l is the index of the current cycle.

    Inputs: t, an int or an integer array of any shape; eta_min <= eta_max; n_s >= 1.
    Output: a float for an int t, else a float64 array of t's shape.
    """
    position = np.asarray(t) % (2 * n_s)
    rising = position <= n_s
    fraction = np.where(rising, position, 2 * n_s - position) / n_s
    eta = eta_min + fraction * (eta_max - eta_min)
    return float(eta) if np.ndim(eta) == 0 else eta


def schedule(total_steps: int, eta_min: float, eta_max: float, n_s: int) -> np.ndarray:
    """eta_t for t = 0 .. total_steps - 1, as a float64 array of shape (total_steps,)."""
    return cyclic_eta(np.arange(total_steps), eta_min, eta_max, n_s)


def learning_rates(settings, eta=None) -> np.ndarray:
    """eta_t for every step as a float64 array: the cycle of `settings`, eta(t), or an array."""
    if eta is None:
        return schedule(settings.total_steps, settings.eta_min, settings.eta_max, settings.n_s)
    values = np.array([eta(t) for t in range(settings.total_steps)] if callable(eta) else eta,
                      dtype=float).ravel()
    if values.size == 0 or not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("the learning rates must be finite numbers >= 0, at least one step")
    return values
