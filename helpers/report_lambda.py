"""The report's prose for the lambda searches and the final network, from their results."""

from helpers.report import pc, plural, spread


def coarse(run: dict) -> str:
    s, (lo, hi) = run["settings"], run["range"]
    how = "evenly spaced" if run["parameters"]["kind"] == "grid" else "uniform at random"
    return (f"For the search all five training batches were used: {run['sizes']['val']} images "
            f"held out at random (seeded) for validation, {run['sizes']['train']} for training. "
            f"{len(run['runs'])} values $\\lambda = 10^l$ with $l$ from {lo:g} to {hi:g} "
            f"({how}) were each trained for {plural(s['cycles'], 'cycle')} with "
            f"$n_s = {s['n_s']}$ ($2\\lfloor n / n_{{batch}} \\rfloor$), $\\eta$ from "
            f"{s['eta_min']:g} to {s['eta_max']:g} and batches of {s['batch_size']}: all of them "
            f"side by side as one wide network, so the whole search is a few large matrix "
            f"products per step.")


def coarse_after(run: dict, drop: float = 0.02) -> str:
    """Where validation accuracy falls more than `drop` below the best, and by how much."""
    b, ordered = run["best"][0], sorted(run["runs"], key=lambda r: r["lambda"])
    worse = [r["lambda"] for r in ordered
             if r["lambda"] > b["lambda"] and r["val_accuracy"] < b["val_accuracy"] - drop]
    flat = [r["val_accuracy"] for r in ordered if not worse or r["lambda"] < worse[0]]
    edge = f"up to about $\\lambda$ = {worse[0]:.0e}" if worse else "over the whole range"
    fall = (f"; above it the penalty dominates and validation accuracy falls, down to "
            f"{pc(ordered[-1]['val_accuracy'])} at $\\lambda$ = {ordered[-1]['lambda']:.0e}"
            if worse else "")
    return (f"The choice of $\\lambda$ matters little {edge}: validation accuracy stays within "
            f"{100 * (b['val_accuracy'] - min(flat)):.1f} points of the best{fall}. The best, "
            f"$\\lambda$ = {b['lambda']:.3g}, reaches {pc(b['val_accuracy'])} on validation.")


def fine(run: dict) -> str:
    s, (lo, hi) = run["settings"], run["range"]
    return (f"The fine search trained {len(run['runs'])} values with $l$ from {lo:.3g} to "
            f"{hi:.3g} ({run['parameters']['kind']}), for {plural(s['cycles'], 'cycle')} each, "
            f"with the same split and otherwise the same settings.")


def fine_after(run: dict, used: float | None) -> str:
    """The fine search's best; "it is the value used below" only when the final run used it."""
    b = run["best"][0]
    above = sum(r["val_accuracy"] > 0.5 for r in run["runs"])
    use = ("it is the value used below" if used == b["lambda"] else
           f"the final run below used $\\lambda$ = {used:.4g} instead, given as a parameter")
    return (f"{above} of the {len(run['runs'])} values reach more than 50 % validation "
            f"accuracy. The best, $\\lambda$ = {b['lambda']:.3g}, gives "
            f"{pc(b['train_accuracy'])} training and {pc(b['val_accuracy'])} validation "
            f"accuracy; {use}. The test set played no part in choosing it.")


def final(run: dict) -> str:
    s = run["settings"]
    source = ("taken from the fine search's results" if run["lambda_source"] != "parameter"
              else "given as a parameter, not taken from the fine search")
    return (f"The final network was trained with $\\lambda$ = {run['lambda']:.4g} ({source}) "
            f"on all the training data except {run['sizes']['val']} images held out for "
            f"validation ({run['sizes']['train']} for training), for "
            f"{plural(s['cycles'], 'cycle')} with $n_s = {s['n_s']}$ ({run['steps']} update "
            f"steps), and tested on test_batch.")


def final_after(run: dict, three: dict) -> str:
    a, a3 = run["accuracy"], three["accuracy"]
    gap3, gap = 100 * (a3["train"] - a3["val"]), 100 * (a["train"] - a["val"])
    ratio = run["sizes"]["train"] / three["sizes"]["train"]
    seeds = len(run["accuracy_over_seeds"]["test"]["values"])
    return (f"With {ratio:.1f} times the training data and a tuned $\\lambda$, the gap between "
            f"training and validation accuracy {'shrinks' if gap < gap3 else 'goes'} from "
            f"{gap3:.1f} points (Exercise 4) to {gap:.1f}, and the test accuracy "
            f"{'rises' if a['test'] > a3['test'] else 'goes'} to {pc(a['test'])} "
            f"({spread(run['accuracy_over_seeds'])} over {plural(seeds, 'seed')}).")
