"""The report's prose beyond the assignment: the range test and the bonus, from their results."""

from helpers.report import plural, spread


def range_test(run: dict) -> str:
    p, c, seeds = run["parameters"], run["chosen"], len(run["range_test"]["seeds"])
    stop = (f"Training diverged at $\\eta$ = {c['stopped_at_eta']:.3g}, which ended the test. "
            if c["stopped_at_eta"] else "")
    return (f"The network of the assignment ({p['m']} hidden units, $\\lambda$ = "
            f"{run['lambda']:.3g} from the fine search) was trained with "
            f"{plural(seeds, 'seed')} side by side while $\\eta$ rose linearly from "
            f"{p['eta_start']:g} to {p['eta_end']:g} over {plural(p['epochs'], 'epoch')} of the "
            f"search split, validation accuracy measured {p['records']} times. {stop}The rule "
            f"takes $\\eta_{{max}}$ where the seeds' mean validation accuracy, smoothed over "
            f"{c['window']} measurements, peaks, and $\\eta_{{min}} = {c['fraction']:g}\\, "
            f"\\eta_{{max}}$ (Smith suggests a factor of 3 to 4 between the two).")


def range_test_after(run: dict, final: dict) -> str:
    """Which range did better on validation; the test accuracy reported beside it."""
    c, s = run["chosen"], final["settings"]
    new, old = run["retrained"]["accuracy_over_seeds"], final["accuracy_over_seeds"]
    better = new["val"]["mean"] > old["val"]["mean"]
    return (f"Retrained with $\\eta$ from {c['eta_min']:.3g} to {c['eta_max']:.3g} instead of "
            f"{s['eta_min']:g} to {s['eta_max']:g} (same $\\lambda$, seeds, cycles and steps), "
            f"the best-lambda network reaches {spread(new, 'val')} validation accuracy against "
            f"{spread(old, 'val')} with the assignment's range: the range test's range is "
            f"{'better' if better else 'no better'} on validation. On the test set, reported "
            f"once: {spread(new, 'test')} against {spread(old, 'test')}.")


def bonus(run: dict) -> str:
    p, base = run["parameters"], run["rows"][0]
    return (f"Starting from {base['row']}, each change below was tried on top of the "
            f"configuration kept so far, with {plural(p['n_seeds'], 'seed')} side by side on "
            f"the final split; its hyper-parameters (lambda for the wider network, the dropout "
            f"rate, the learning-rate range) were chosen on the validation set by searches run "
            f"side by side, and a change was kept only if it raised the mean validation "
            f"accuracy. The test set was read once per row, for this table.")


def bonus_changes(run: dict) -> str:
    """One sentence per change: what it did to validation accuracy, and whether it was kept."""
    lines, best = [], run["rows"][0]["val"]["mean"]
    for row in run["rows"][1:]:
        val, test = row["val"]["mean"], row["test"]["mean"]
        verdict = "kept" if row["kept"] else "not kept"
        lines.append(f"- **{row['row'].lstrip('+ ')}**: validation {100 * val:.2f} % "
                     f"({100 * (val - best):+.2f} points against the best kept before it), "
                     f"test {100 * test:.2f} %; {verdict}.")
        best = max(best, val) if row["kept"] else best
    return "\n".join(lines)


def bonus_after(run: dict, targets=(0.58, 0.60)) -> str:
    """The final numbers against the issue's targets, said as they are."""
    one, group = run["single"], run["ensemble"]
    said = (f"The chosen single network reaches {100 * one['test']['mean']:.2f} % test "
            f"accuracy (mean over {plural(len(one['test']['values']), 'seed')})")
    if group:
        said += f", the ensemble of {group['members']} networks {100 * group['test']['mean']:.2f} %"
    reached = one["test"]["mean"] >= targets[0] and bool(group) and \
        group["test"]["mean"] >= targets[1]
    return said + (f": both targets ({100 * targets[0]:.0f} % and {100 * targets[1]:.0f} %) are "
                   "met." if reached else f", short of the targets of "
                   f"{100 * targets[0]:.0f} % for one network and {100 * targets[1]:.0f} % for an "
                   "ensemble within this training budget.")
