"""The seams of helpers.training.loop.train: what a caller may change in a training run besides
its data, settings, lambdas and seeds, in one object (every field optional)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Seams:
    """train()'s seams; Seams() is the plain run (the triangular cycle, no hook, no dropout).

    The cache key holds a Seams by value (helpers.workbook.cache): arrays by their bytes, a
    notebook's function by its code and the globals it reads (cloudpickle).
    """

    eta: object = None
    """The learning rate: None for the triangular cycle of the settings, a function of the
    step t, or an array with one value per step (its length is then the step count)."""

    record: object = None
    """The steps at which whole-set metrics are recorded (the last step always is); None:
    records_per_cycle times per cycle plus step 0, or with record_curves=False the end only."""

    on_batch: object = None
    """A function (X, y, t) -> (X, y) applied to each gathered mini-batch before its step
    (augmentation); X is a fresh copy (an engine array: numpy, or a tensor on the device) it
    may change in place."""

    rows: object = None
    """A function (index, t) -> X that gathers the mini-batch of the training rows `index`
    instead of split.X_train[index]: e.g. flipped and shifted in pixel space, then projected,
    while the split holds the projected rows the curves are measured on. index and X are the
    engine's: numpy arrays, or tensors on the device (helpers.experiments.bonus.rows_hook)."""

    dropout: object = None
    """The probability of dropping each hidden unit in training (inverted dropout, none at
    evaluation): a float, or one per network; None or 0: no dropout."""

    parts: tuple = ("train", "val")
    """The sets the curves are measured on ("train", "val" or both)."""

    stop_on_divergence: bool = False
    """A step that would turn a value NaN or infinite ends training there (recorded;
    history["stopped_at"]) instead of raising (a range test)."""

    on_record: object = None
    """A function (t, params) called after each recording with the networks' current
    parameters, engine arrays (to keep end-of-cycle snapshots: copy what you keep, e.g. with
    helpers.training.loop.snapshot)."""
