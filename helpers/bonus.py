"""The assignment's bonus: training with augmentation, dropout and end-of-cycle snapshots,
searches side by side, and the ablation table's rows."""

import numpy as np

from helpers import ensemble
from helpers.augment import flip_shift
from helpers.listings import spread
from helpers.training import train


def train_snapshots(split, settings, lambdas, seeds=None, dropout=None, max_shift: int = 0,
                    p_flip: float = 0.0, eta=None, progress: bool = True) -> tuple:
    """train() with random flips and shifts of each mini-batch (seeded by settings.seed),
    dropout, and a copy of every network at the end of each cycle.

    Output: (params, history, snapshots {str(step): params at that step}).
    """
    augment = _augmentation(settings.seed, max_shift, p_flip)
    ends = set(range(2 * settings.n_s, settings.total_steps + 1, 2 * settings.n_s))
    snapshots = {}
    keep = lambda t, p: snapshots.update({str(t): {k: v.copy() for k, v in p.items()}}) \
        if t in ends else None  # noqa: E731
    record = sorted(ends | {0})
    params, history = train(split, settings, lambdas, seeds, progress=progress, eta=eta,
                            record=record, on_batch=augment, dropout=dropout, on_record=keep)
    return params, history, snapshots


def train_range(split, settings, lambdas, etas, record, seeds=None, dropout=None,
                max_shift: int = 0, p_flip: float = 0.0, progress: bool = True) -> tuple:
    """A range test (rising etas, validation recorded at `record`, stopped where training
    diverges) with the bonus's augmentation and dropout. Output: (params, history)."""
    augment = _augmentation(settings.seed, max_shift, p_flip)
    return train(split, settings, lambdas, seeds, progress=progress, eta=etas, record=record,
                 on_batch=augment, dropout=dropout, parts=("val",), stop_on_divergence=True)


def _augmentation(seed: int, max_shift: int, p_flip: float):
    """The on_batch hook of train(): seeded flips and shifts of each mini-batch, or None."""
    if not (0 <= max_shift < 32 and 0 <= p_flip <= 1):
        raise ValueError(f"max_shift must be in 0..31 and p_flip in [0, 1], got {max_shift} "
                         f"and {p_flip}")
    if max_shift == 0 and p_flip == 0:
        return None
    rng = np.random.default_rng([3, seed])
    return lambda X, y, t: (flip_shift(X, rng, max_shift, p_flip), y)


def final_val(history: dict) -> list:
    """Each network's validation accuracy at the last recorded step, in network order."""
    curves, last = history["curves"], max(history["curves"]["step"])
    val = {k: a for k, a, t in zip(curves["network"], curves["val_accuracy"], curves["step"],
                                   strict=True) if t == last}
    return [val[k] for k in sorted(val)]


def pick(candidates: list, history: dict) -> tuple:
    """(best candidate, its index) by final validation accuracy: network k tried candidates[k]."""
    val = final_val(history)
    best = max(range(len(candidates)), key=lambda k: (val[k], -k))
    return candidates[best], best


def row(label: str, params: dict, split, members=None) -> dict:
    """One ablation row: validation and test accuracy, mean ± std over the stacked networks;
    with `members` (snapshot stacks), the ensemble of all of them instead (one number each)."""
    if members is not None:
        val = ensemble.accuracy(members, split.X_val, split.y_val)
        test = ensemble.accuracy(members, split.X_test, split.y_test)
        return {"row": label, "val": spread([val]), "test": spread([test]),
                "members": sum(m["W1"].shape[0] for m in members)}
    networks = [ensemble.take(params, k) for k in range(params["W1"].shape[0])]
    return {"row": label, "members": 1, **{part: spread(
        [ensemble.accuracy([net], getattr(split, f"X_{part}"), getattr(split, f"y_{part}"))
         for net in networks]) for part in ("val", "test")}}


def table(rows: list) -> str:
    """The ablation table in Markdown: each row adds one change to the one above."""
    lines = ["| configuration | validation accuracy (%) | test accuracy (%) | networks |",
             "|---|---|---|---|"]
    fmt = lambda s: f"{100 * s['mean']:.2f}" + (f" ± {100 * s['std']:.2f}"  # noqa: E731
                                                if len(s["values"]) > 1 else "")
    lines += [f"| {r['row']}{'' if r.get('kept', True) else ' (not kept)'} | {fmt(r['val'])} | "
              f"{fmt(r['test'])} | "
              f"{len(r['val']['values']) if r['members'] == 1 else r['members']} |" for r in rows]
    return "\n".join(lines)


def summary(final: dict) -> str:
    """The chosen configuration and its single-network and ensemble accuracy, in a listing."""
    c, one, group = final["configuration"], final["single"], final["ensemble"]
    lines = [f"configuration: m = {c['m']}, lambda = {c['lam']:.3g}, dropout {c['dropout']:g}, "
             f"shifts up to {c['max_shift']} px, flips p = {c['p_flip']:g}, {c['cycles']} "
             f"cycles, eta {c['eta_min']:.3g} .. {c['eta_max']:.3g}",
             f"one network: validation {100 * one['val']['mean']:.2f} %, test "
             f"{100 * one['test']['mean']:.2f} ± {100 * one['test']['std']:.2f} % "
             f"({len(one['test']['values'])} seeds)"]
    if group:
        lines.append(f"ensemble of {group['members']} networks: validation "
                     f"{100 * group['val']['mean']:.2f} %, test {100 * group['test']['mean']:.2f}"
                     f" %{'' if group['kept'] else ' (not kept: no better on validation)'}")
    return "\n".join(lines)
