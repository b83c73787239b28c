"""The report's listings: plain-text blocks, each a function of the numbers it prints."""

from helpers.experiments.bonus import Recipe
from helpers.experiments.protocol import rule
from helpers.experiments.range_test import verdict as range_test_verdict
from helpers.report.formatting import gain, pc, pm


def accuracy_listing(accuracy: dict, steps: int) -> str:
    """The report's accuracy listing: "Accuracy for training : 64.56% with steps 1000"."""
    names = {"train": "training", "val": "validation", "test": "testing"}
    return "\n".join(f"Accuracy for {names[k]} : {100 * accuracy[k]:.2f}% with steps {steps}"
                     for k in names)


def search_listing(rows: list) -> str:
    """The report's search listing, one line per row: lambda, training and validation accuracy."""
    return "\n".join(f"lambda={r['lambda']}, training accuracy={100 * r['train_accuracy']:.2f}%, "
                     f"validation accuracy={100 * r['val_accuracy']:.2f}%" for r in rows)


def gradient_listing(errors: dict) -> str:
    """The report's gradient listing for one oracle: errors {W1, b1, W2, b2: max rel. error}."""
    lines = []
    for kind in ("W", "b"):
        lines += [f"Relative errors in {kind}:"] + [
            f"Layer {k}: max relative error = {errors[f'{kind}{k + 1}']:.2e}" for k in (0, 1)]
        lines.append("")
    return "\n".join(lines[:-1])


def seeds_line(spread_test: dict) -> str:
    """"Test accuracy over 5 initialisation(s) (one mini-batch order): 46.19 ± 0.27 %" from an
    over_seeds() of test accuracies of networks trained side by side: their seeds vary the
    initialisation only, so the spread is over initialisations, not over whole runs."""
    return (f"Test accuracy over {len(spread_test['values'])} initialisation(s) (one mini-batch "
            f"order): {pm(spread_test)}")


def cycle_ends(history: dict, n_s: int, network: int = 0) -> str:
    """Validation accuracy at the end of each cycle (steps 2 n_s, 4 n_s, ...), one line each."""
    curves = history["curves"]
    lines = [f"End of cycle {step // (2 * n_s)} (step {step}): training accuracy "
             f"{100 * curves['train_accuracy'][i]:.2f} %, validation accuracy "
             f"{100 * curves['val_accuracy'][i]:.2f} %"
             for i, step in enumerate(curves["step"])
             if step > 0 and step % (2 * n_s) == 0 and curves["network"][i] == network]
    return "\n".join(lines)


def chosen_range(chosen: dict) -> str:
    """The range the range test's rule chose, and the rule, in one listing."""
    stop, count = chosen.get("stopped_at_eta"), chosen.get("measurements")
    few = count is not None and count < chosen["window"]
    return (f"eta_max = {chosen['eta_max']:.4g} (peak of the mean validation accuracy, moving "
            f"average over {chosen['window']} measurements)\n"
            f"eta_min = {chosen['eta_min']:.4g} (= {chosen['fraction']:g} eta_max)"
            + (f"\ntraining diverged at eta = {stop:.3g}, where the test stopped"
               + (f" after {count} measurements" if count else "") if stop else "")
            + (f"\nonly {count} measurements, fewer than the window of {chosen['window']}: each "
               "smoothed value is a mean over part of it" if few else ""))


def range_comparison(rows: list) -> str:
    """One line per (label, eta_min, eta_max, accuracy_over_seeds): validation and test, over
    the initialisations of networks trained side by side (one mini-batch order)."""
    return "\n".join(
        f"eta {lo:.3g} .. {hi:.3g} ({label}): validation {pm(o['val'])}, test {pm(o['test'])} "
        f"({len(o['test']['values'])} initialisations, one mini-batch order)"
        for label, lo, hi, o in rows)


def range_comparison_of(assignment: dict, range_test: dict) -> str:
    """range_comparison of the best-lambda run (06's results) and its retraining with the
    range the range test chose (07's results: "chosen", "retrained"), then the rule's verdict
    on validation (helpers.experiments.range_test.verdict)."""
    s, c = assignment["settings"], range_test["chosen"]
    new, old = range_test["retrained"]["accuracy_over_seeds"], assignment["accuracy_over_seeds"]
    g = range_test_verdict(range_test, assignment)
    return range_comparison([
        ("the assignment's", s["eta_min"], s["eta_max"], old),
        ("the range test's", c["eta_min"], c["eta_max"], new)]) + (
        f"\nthe range test's range on validation: {gain(g)}, {g['verdict']} ({rule(g['margin'])})")


def bonus_listing(chosen: dict, final: dict) -> str:
    """The chosen recipe, its validation on the search split, and on the final split each
    member's accuracy, their ensemble's and their snapshots' ensemble's (test read once)."""
    one, group, shots = final["single"], final["ensemble"], final["snapshot_ensemble"]
    n = len(one["test"]["values"])
    return "\n".join([
        f"chosen recipe: {Recipe(**chosen['recipe']).describe()}",
        f"search split: validation {pm(chosen['val'])} ({len(chosen['val']['values'])} seeds)",
        f"final split, one network: validation {pm(one['val'])}, test {pm(one['test'])} "
        f"({n} independent members)",
        f"ensemble of the {group['members']} members: validation {pc(group['val'])}, test "
        f"{pc(group['test'])} (members agree on {pc(final['agreement'])} of test images)",
        f"ensemble of their last {shots['cycles']} cycle ends ({shots['members']} networks): "
        f"validation {pc(shots['val'])}, test {pc(shots['test'])}",
        *(["every network with test-time flips (its scores of each image and of its mirror "
           "image averaged)"] if final.get("test_time_flips") else [])])

def _shared(search: dict) -> str:
    """What a search's runs shared their rows with, for bonus_times ("" for nothing)."""
    if search.get("rows_from"):
        return f", on the rows made by '{search['rows_from']}'"
    if search.get("rows_also_for"):
        return f", making the rows of {', '.join(repr(r) for r in search['rows_also_for'])} too"
    return ""


def bonus_times(run: dict) -> str:
    """Where the bonus's training time went: each side-by-side search on the search split
    (networks x seeds), the final split's members, and the total (seconds as trained, also
    when this build read them from the cache; the sum over the jobs, which run one per core at
    a time, so about the cores times the wall time they took). A row trained beside the full
    recipe, sharing its rows (helpers.experiments.bonus.train_recipes), counts its own steps:
    the rows' flips, shifts and projection are in the full recipe's seconds."""
    n = len(run["protocol"]["seeds"])
    lines = [f"{label}: {len(g['pairs'])} network(s) side by side x {n} seeds, "
             f"{g['seconds']:.0f} s{_shared(g)}" for label, g in run["searches"].items()]
    f = run["final_split"]
    lines.append(f"final split: {len(f['seeds'])} independent members, {f['seconds']:.0f} s")
    total = sum(g["seconds"] for g in run["searches"].values()) + f["seconds"]
    lines.append(f"total training: {total:.0f} s ({total / 60:.1f} min) of one-thread jobs, one "
                 f"per core at a time (helpers/training/workers.py)")
    return "\n".join(lines)
