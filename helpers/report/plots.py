"""The report's figures: training curves, learning rate and accuracy against lambda."""

import functools

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from helpers.experiments.bonus import RECORDS_PER_CYCLE

STYLE = {  # one print-legible style for every figure (sized for an A4 text width)
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 9,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 1.6,
}
COLOURS = {"train": "#1f5fa8", "val": "#d9622b"}  # blue / orange, distinct in greyscale too
LABELS = {"train": "training", "val": "validation"}
PANELS = ("cost", "loss", "accuracy")


def _styled(draw):
    """Run a drawing function under STYLE (rc settings apply when artists are created)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


class Described(Figure):
    """A Figure with its alternative text, `alt`: a sentence on what it shows, for a reader
    who cannot see it. Shown in Jupyter, it carries the text as its images' metadata
    ({"image/png": {"alt": ...}}), which the HTML report's template (templates/dd2424-html)
    writes as each image's alt attribute."""

    alt = ""

    def _repr_mimebundle_(self, include=None, exclude=None):
        # no data of its own (the inline backend draws the images): only their metadata
        return {}, {mime: {"alt": self.alt} for mime in ("image/png", "image/svg+xml")}


def _figure(width: float, height: float, ncols: int = 1):
    """A Figure (not managed by pyplot: shown only when displayed) and its axes."""
    fig = Described(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:  # ticks are made lazily at draw time: fix their style now
        ax.tick_params(labelsize=STYLE["xtick.labelsize"])
        ax.grid(True, alpha=STYLE["grid.alpha"])
    return fig, axes


@_styled
def curves(history: dict, network: int = 0, title: str | None = None) -> Figure:
    """Cost, loss and accuracy (%) of training and validation sets against the update step.

    history: train()'s history; its "curves" columns step, network, train_/val_ cost, loss,
    accuracy (one row per record and network). network: which network to draw.
    Output: a Figure with three axes, two lines each (training, validation).
    """
    table = history["curves"]
    rows = [i for i, k in enumerate(table["network"]) if k == network]
    if not rows:
        raise ValueError(f"no network {network} in the history (networks {set(table['network'])})")
    steps = np.asarray(table["step"])[rows]
    fig, axes = _figure(6.6, 2.4, ncols=3)
    for ax, name in zip(axes, PANELS, strict=True):
        scale = 100 if name == "accuracy" else 1
        for part in ("train", "val"):
            values = scale * np.asarray(table[f"{part}_{name}"], dtype=float)[rows]
            ax.plot(steps, values, color=COLOURS[part], label=LABELS[part])
        ax.set(xlabel="update step", title=name, ylabel=f"{name} (%)" if scale == 100 else name)
    axes[0].legend(frameon=False)
    if title:
        fig.suptitle(title, fontsize=STYLE["font.size"])
    last = {part: 100 * float(np.asarray(table[f"{part}_accuracy"], dtype=float)[rows][-1])
            for part in ("train", "val")}
    fig.alt = (f"Three line charts against the update step, from {steps[0]} to {steps[-1]}: "
               "the cost, the loss and the accuracy, each of the training set (blue) and the "
               f"validation set (orange). At the last step the training accuracy is "
               f"{last['train']:.2f} % and the validation accuracy {last['val']:.2f} %.")
    return fig


@_styled
def learning_rate(history: dict) -> Figure:
    """The cyclical learning rate eta_t against the update step t, from history["eta"]."""
    fig, (ax,) = _figure(4.6, 2.0)
    ax.plot(history["eta"]["step"], history["eta"]["eta"], color=COLOURS["train"])
    ax.set(xlabel="update step", ylabel=r"learning rate $\eta_t$")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    step, eta = history["eta"]["step"], np.asarray(history["eta"]["eta"], dtype=float)
    peaks = int(np.sum((eta[1:-1] > eta[:-2]) & (eta[1:-1] >= eta[2:])))
    shape = (f"rising linearly from {eta.min():.2g} to {eta.max():.2g} and falling back, "
             f"{peaks} time(s)" if peaks else f"from {eta[0]:.2g} to {eta[-1]:.2g}")
    fig.alt = (f"Line chart of the learning rate against the update step, from {step[0]} to "
               f"{step[-1]}: {shape}.")
    return fig


@_styled
def accuracy_vs_lambda(rows: list, best: list | None = None) -> Figure:
    """Final training and validation accuracy (%) against lambda, on a log x axis.

    rows: search() rows, each with lambda, train_accuracy, val_accuracy (fractions);
    best: optional rows to mark (e.g. the top three by validation accuracy).
    Output: a Figure with one axis, two lines (plus markers for `best`).
    """
    rows = sorted(rows, key=lambda r: r["lambda"])
    lambdas = [r["lambda"] for r in rows]
    fig, (ax,) = _figure(5.2, 2.8)
    for part in ("train", "val"):
        ax.plot(lambdas, [100 * r[f"{part}_accuracy"] for r in rows], color=COLOURS[part],
                marker="o", markersize=2.5, label=LABELS[part])
    if best:
        ax.scatter([r["lambda"] for r in best], [100 * r["val_accuracy"] for r in best],
                   s=50, facecolors="none", edgecolors="black", zorder=3,
                   label="best by validation")
    ax.set(xscale="log", xlabel=r"$\lambda$", ylabel="accuracy (%)")
    ax.legend(frameon=False)
    top = max(rows, key=lambda r: r["val_accuracy"])
    fig.alt = ("Line chart of the training (blue) and validation (orange) accuracy after "
               f"training against lambda, on a log scale from {lambdas[0]:.2g} to "
               f"{lambdas[-1]:.2g} ({len(rows)} values); the best validation accuracy, "
               f"{100 * top['val_accuracy']:.2f} %, is at lambda = {top['lambda']:.3g}"
               + (f"; circles mark the best {len(best)} by validation accuracy." if best else "."))
    return fig


@_styled
def range_test(at, accuracy, loss, chosen: dict) -> Figure:
    """Validation accuracy (%) and loss against eta for each seed, the chosen range shaded.

    at (K,) etas; accuracy, loss (N, K) per seed; chosen: {"eta_min", "eta_max"}.
    """
    fig, axes = _figure(6.6, 2.5, ncols=2)
    for ax, values, name in ((axes[0], 100 * np.asarray(accuracy), "accuracy (%)"),
                             (axes[1], np.asarray(loss), "loss")):
        for k, row in enumerate(values):
            ax.plot(at, row, color=COLOURS["val"], alpha=0.9 if k == 0 else 0.45,
                    label="validation, one line per seed" if k == 0 else None)
        ax.axvspan(chosen["eta_min"], chosen["eta_max"], color=COLOURS["train"], alpha=0.15,
                   label=r"chosen range $[\eta_{min}, \eta_{max}]$")
        ax.set(xlabel=r"learning rate $\eta$ (rising linearly)", ylabel=name)
    finite = np.asarray(loss)[np.isfinite(loss)]
    if finite.size:  # the loss explodes where training diverges: show where it starts to
        axes[1].set_ylim(0, 2 * float(np.median(finite)))
    axes[0].legend(frameon=False, loc="lower center")
    mean = np.nanmean(100 * np.asarray(accuracy, dtype=float), axis=0)
    fig.alt = (f"Two line charts against the learning rate, rising linearly from {at[0]:.2g} to "
               f"{at[-1]:.2g}: the validation accuracy (left) and loss (right), one line per "
               f"seed ({len(accuracy)}); the mean accuracy peaks at {np.nanmax(mean):.2f} % at "
               f"{at[int(np.nanargmax(mean))]:.3g}. A shaded band marks the chosen range, "
               f"{chosen['eta_min']:.3g} to {chosen['eta_max']:.3g}.")
    return fig


@_styled
def bonus_curves(curves: dict, per_cycle: int = RECORDS_PER_CYCLE) -> Figure:
    """Validation accuracy (%) at the end of each cycle (eta back at its minimum) against
    training epochs, one line per configuration: the first (the full recipe) bold.

    curves: {label: {"epochs": [...], "val": [...]}} (mean over seeds), in table order,
    measured per_cycle times a cycle from step 0 on; the points between cycle ends (eta high,
    accuracy low) are left out.
    """
    fig, axes = _figure(6.6, 3.2)
    ax, lows, highs = axes[0], [], []
    for k, (label, c) in enumerate(curves.items()):
        epochs = np.asarray(c["epochs"])[per_cycle::per_cycle]
        val = 100 * np.asarray(c["val"])[per_cycle::per_cycle]
        ax.plot(epochs, val, marker="o", markersize=3, linewidth=2.4 if k == 0 else 1.3,
                color="black" if k == 0 else None, label=label, zorder=3 if k == 0 else 2)
        lows.append(val.min())
        highs.append(val.max())
    ax.set(xlabel="training epochs (end of each cycle)", ylabel="validation accuracy (%)")
    ax.set_ylim(min(lows) - 1, max(highs) + 0.5)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    first, c = next(iter(curves.items()))
    fig.alt = ("Line chart of the validation accuracy at the end of each cycle against training "
               f"epochs, one line per configuration ({'; '.join(curves)}). The first, {first} "
               f"(bold, black), ends at {100 * c['val'][per_cycle::per_cycle][-1]:.2f} %.")
    return fig
