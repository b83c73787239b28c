"""The report's prose beyond the assignment: the range test and the bonus, from their results."""

from helpers.report import plural


def spread(over: dict, part: str) -> str:
    """ "52.10 ± 0.30 %" from an accuracy_over_seeds entry."""
    return f"{100 * over[part]['mean']:.2f} ± {100 * over[part]['std']:.2f} %"


def range_test(run: dict) -> str:
    p, c = run["parameters"], run["chosen"]
    stop = (f"Training diverged at $\\eta$ = {c['stopped_at_eta']:.3g}, which ended the test. "
            if c["stopped_at_eta"] else "")
    return (f"The network of the assignment ({p['m']} hidden units, $\\lambda$ = "
            f"{run['lambda']:.3g} from the fine search) was trained with "
            f"{plural(len(run['seeds']), 'seed')} side by side while $\\eta$ rose linearly from "
            f"{p['eta_start']:g} to {p['eta_end']:g} over {plural(p['epochs'], 'epoch')} of the "
            f"search split, validation accuracy measured {p['records']} times. {stop}The rule "
            f"takes $\\eta_{{max}}$ where the seeds' mean validation accuracy, smoothed over "
            f"{c['window']} measurements, peaks, and $\\eta_{{min}} = {c['fraction']:g}\\, "
            f"\\eta_{{max}}$ (Smith suggests a factor of 3 to 4 between the two).")


def range_test_after(run: dict, final: dict) -> str:
    """Which range did better on validation; the test accuracy reported beside it."""
    c, s = run["chosen"], final["settings"]
    new, old = run["accuracy_over_seeds"], final["accuracy_over_seeds"]
    better = new["val"]["mean"] > old["val"]["mean"]
    return (f"Retrained with $\\eta$ from {c['eta_min']:.3g} to {c['eta_max']:.3g} instead of "
            f"{s['eta_min']:g} to {s['eta_max']:g} (same $\\lambda$, seeds, cycles and steps), "
            f"the best-lambda network reaches {spread(new, 'val')} validation accuracy against "
            f"{spread(old, 'val')} with the assignment's range: the range test's range is "
            f"{'better' if better else 'no better'} on validation. On the test set, reported "
            f"once: {spread(new, 'test')} against {spread(old, 'test')}.")
