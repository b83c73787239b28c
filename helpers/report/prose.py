"""The report's prose: each paragraph a function of the results, so no sentence can
contradict its numbers (the tables are in helpers/report/tables.py). In the report's order:
the gradient check, Exercises 3 and 4, the lambda searches and the final network, then
beyond the assignment: the range test and the bonus."""

from helpers import registry
from helpers.experiments.bonus import Recipe
from helpers.experiments.protocol import LEVEL, rule
from helpers.experiments.range_test import verdict as range_test_verdict
from helpers.report.formatting import gain, mean_std, pc, plural

BOUNDS = {"autograd": 1e-10, "finite_difference": 1e-6}  # what "the gradients are correct" means
TARGETS = (0.60, 0.615)  # the bonus's targets (SPEC.md, raised once the first were met): one
# network, and an ensemble (test accuracy)


def intro(R: dict, profile: str) -> str:
    s, commit = R["one"]["settings"], R["final"]["git_commit"]
    commit = commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")
    return (f"Parameter profile **{profile}**: {s['m']} hidden units, mini-batches of "
            f"{s['batch_size']}, learning rate cycling between {s['eta_min']:g} and "
            f"{s['eta_max']:g}, {s['dtype']} arithmetic. Code version `{commit}`; the last "
            f"section sets these numbers beside the original report's.")


def gradcheck_setup(grad: dict) -> str:
    p, (n, d) = grad["parameters"], grad["shape"]
    return (f"The check used {n} training images reduced to their first {d} normalised "
            f"dimensions, a network with {p['m']} hidden units, $\\lambda = {p['lam']}$ (so "
            f"that the regularisation term is checked too) and random, non-zero biases, all in "
            f"float64. Layer 0 is the hidden layer, layer 1 the output layer.")


def gradcheck_verdict(grad: dict) -> str:
    """What the errors say: "correct" only when both oracles agree within BOUNDS."""
    worst = {k: max(v.values()) for k, v in grad["max_relative_error"].items()}
    ok = all(worst[k] < bound for k, bound in BOUNDS.items())
    verdict = ("The analytic gradients are correct." if ok else
               "**These errors are larger than rounding explains: the analytic gradients "
               "do not match the references.**")
    return (f"Against autograd the largest relative error is {worst['autograd']:.1e} "
            f"(bound {BOUNDS['autograd']:g}); against centred finite differences it is "
            f"{worst['finite_difference']:.1e} (bound {BOUNDS['finite_difference']:g}, the "
            f"truncation and rounding error of a difference quotient). {verdict}")


def exercise3(one: dict) -> str:
    s = one["settings"]
    return (f"The network was trained on data_batch_1, validated on data_batch_2 and tested on "
            f"test_batch: $\\eta$ between {s['eta_min']:g} and {s['eta_max']:g}, "
            f"$n_s = {s['n_s']}$, batches of {s['batch_size']}, $\\lambda = {one['lambda']}$ "
            f"and {plural(s['cycles'], 'cycle')}, {one['steps']} update steps. Cost, loss and "
            f"accuracy were measured on the whole training and validation sets "
            f"{s['records_per_cycle']} times per cycle.")


def exercise3_after(one: dict) -> str:
    a, s, over = one["accuracy"], one["settings"], one["accuracy_over_seeds"]
    seeds = len(over["test"]["values"])
    return (f"The network ends at {pc(a['train'])} on the training set, {pc(a['val'])} on "
            f"validation and {pc(a['test'])} on the test set. Trained with "
            f"{plural(seeds, 'seed')} side by side, the test accuracy is {mean_std(over)} (mean ± "
            f"standard deviation). Figure {figure_number('one', 1)} shows the learning rate: "
            f"{plural(s['cycles'], 'triangle')} from {s['eta_min']:g} up to "
            f"{s['eta_max']:g} and back in {one['steps']} steps.")


def exercise4(three: dict) -> str:
    s = three["settings"]
    return (f"Same data and learning-rate range, with a half-cycle $n_s = {s['n_s']}$, "
            f"{plural(s['cycles'], 'cycle')} ({three['steps']} update steps) and batches of "
            f"{s['batch_size']}.")


def exercise4_after(one: dict, three: dict) -> str:
    a1, a3 = one["accuracy"], three["accuracy"]
    c1, c3 = one["settings"]["cycles"], three["settings"]["cycles"]
    change = "rises" if a3["test"] > a1["test"] else "does not rise"
    gap1, gap3 = 100 * (a1["train"] - a1["val"]), 100 * (a3["train"] - a3["val"])
    return (f"Test accuracy {change} from {pc(a1['test'])} after {plural(c1, 'cycle')} to "
            f"{pc(a3['test'])} after {c3} ({mean_std(one['accuracy_over_seeds'])} to "
            f"{mean_std(three['accuracy_over_seeds'])} over initialisations). The "
            f"gap between training and validation accuracy "
            f"{'widens' if gap3 > gap1 else 'does not widen'} from {gap1:.1f} to {gap3:.1f} "
            f"points" + (": the network starts to overfit its "
                         f"{three['sizes']['train']:,} training images, which is what the "
                         "search for $\\lambda$ addresses." if gap3 > gap1 else "."))


# The lambda searches and the final network


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
            f"validation, none of them among those the searches chose on "
            f"({run['sizes']['train']} for training), for "
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
            f"({mean_std(run['accuracy_over_seeds'])} over {plural(seeds, 'initialisation')}, "
            f"trained side by side on one mini-batch order).")


# Beyond the assignment: the range test and the bonus


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
    """The two ranges on validation, paired seed by seed (same seeds and mini-batches), the
    rule's verdict (helpers.experiments.protocol); the test accuracy reported beside it."""
    c, s = run["chosen"], final["settings"]
    new, old = run["retrained"]["accuracy_over_seeds"], final["accuracy_over_seeds"]
    g = range_test_verdict(run, final)
    verdict = {"better": "better", "worse": "worse",
               "no measurable difference": "not measurably different"}[g["verdict"]]
    return (f"Retrained with $\\eta$ from {c['eta_min']:.3g} to {c['eta_max']:.3g} instead of "
            f"{s['eta_min']:g} to {s['eta_max']:g} (same $\\lambda$, seeds, cycles and steps), "
            f"the best-lambda network reaches {mean_std(new, 'val')} validation accuracy against "
            f"{mean_std(old, 'val')} with the assignment's range: a paired gain of "
            f"{gain(g)} over {plural(g['n'], 'initialisation')} (paired: the same "
            f"initialisations and mini-batches in both), so the range test's range is "
            f"{verdict} on validation by the rule of the bonus, {rule(g['margin'])}. On the "
            f"test set, reported once: {mean_std(new, 'test')} against "
            f"{mean_std(old, 'test')}.")


def bonus(run: dict) -> str:
    """The protocol in a paragraph, from the run's parameters and rows."""
    p, full = run["parameters"], run["rows"][0]
    pairs = len(run["searches"]["full"]["pairs"])
    r, margin = full["recipe"], run["protocol"]["margin"]
    epochs = 4 * r["cycles"]  # a cycle is 2 n_s = 4 epochs (n_s = 2 floor(n / batch))
    return (f"Every choice is made on the search split ({run['search']['sizes']['train']:,} "
            f"training, {run['search']['sizes']['val']:,} validation images) with "
            f"{plural(len(run['protocol']['seeds']), 'paired seed')}: seed $s$ fixes the "
            f"initialisation, the mini-batch order, the dropout masks and the augmentation, so "
            f"a row's seed $s$ is paired with the full recipe's. The full "
            f"recipe is {Recipe(**r).describe()}; its $\\lambda$ and dropout rate were "
            f"searched side by side ({pairs} pairs, one run per seed). Each row of the table below "
            f"removes one component and trains as long ({plural(r['cycles'], 'cycle')}, "
            f"{epochs} epochs), on the search split too. A row differs from the full recipe by "
            f"its component and by what comes with removing it: the rows without dropout and "
            f"without the width take the $\\lambda$ (and dropout rate) best for them, and a "
            f"narrower layer or raw pixels give the first layer another shape, hence another "
            f"initialisation. The rule is {rule(margin)}: with $d_s$ the full recipe's "
            f"validation accuracy minus the row's for seed $s$, a component is *better* when "
            f"$\\bar d - q s_d / \\sqrt n$ exceeds {100 * margin:g} points, *worse* when "
            f"$\\bar d + q s_d / \\sqrt n$ is below $-{100 * margin:g}$ ($q$ the "
            f"{100 * (1 - LEVEL):g} % quantile of Student's $t$, $n - 1$ degrees of freedom), "
            f"else there is *no measurable difference*; with no effect a component is called "
            f"better, or worse, less than {100 * LEVEL:g} % of the time each, and the margin is "
            f"about what an accuracy moves between machines. A component that adds work stays "
            f"only when "
            f"it is better, the projection (which saves work) unless it is worse. The chosen "
            f"recipe is then trained on the final split ({run['final']['sizes']['train']:,} / "
            f"{run['final']['sizes']['val']:,}) by {plural(p['members'], 'independent member')}, "
            f"each its own seed, and the test set is read once, for it and its ensembles."
            + budget_axis(run))


def budget_axis(run: dict) -> str:
    """What the rows that add a component said (the budget axis, test-time flips), or ""."""
    added = [row for row in run["rows"] if row.get("adds")]
    longer = next((row for row in added if row["component"] == "longer training"), None)
    said = ""
    if longer:
        cycles = longer["recipe"]["cycles"]
        said += (f" Then the budget axis: the recipe the rows chose, trained "
                 f"{plural(cycles, 'cycle')} ({4 * cycles} epochs), against its own runs read "
                 f"at the end of its own cycles, and at that length dropout and flips (without "
                 f"shifts) added, each against the longer recipe without them, paired by seed "
                 f"and judged by the same rule; a row at length joins the chosen recipe when its "
                 f"component is better and the rule finds it better than the recipe chosen so "
                 f"far (the same seeds at that recipe's length); of several, the one of highest "
                 f"validation.")
    if any(row["component"] == "test-time flips" for row in added):
        said += (" Test-time flips (each network's scores of an image and of its mirror image "
                 "averaged before the softmax) are a row too, judged on the chosen recipe's "
                 "networks on the search split, and used on the final split only if they "
                 "stay.")
    return said


def bonus_changes(run: dict) -> str:
    """One line per component: its paired gain, the verdict, and whether it stays; then
    what this profile did not run."""
    said = lambda row: ("it is reported on the final split, untested" if row["kept"] is None  # noqa: E731
                        else "it stays" if row["kept"] else "it is dropped")
    lines = [f"- **{row['row']}**: the component's gain {gain(row['gain'])}, "
             f"{row['gain']['verdict']}; {said(row)}."
             for row in run["rows"] if row.get("component")]
    if not run["parameters"].get("ablate_projection"):
        k = (run["rows"][0].get("recipe") or {}).get("k")  # the full recipe's projection
        lines.append(f"- **without the projection**: not run in this profile (raw pixels give "
                     f"the first layer {32 * 32 * 3:,} inputs an image"
                     + (f" instead of {k}" if k else "") + ", the slowest row by far); the "
                     "`paper` profile runs it.")
    if not run["parameters"].get("long_cycles"):
        lines.append("- **the budget axis** (the chosen recipe trained longer, with and without "
                     "dropout and flips at that length): not run in this profile (its rows train "
                     "each seed twice as long, three times over); the `paper` profile runs it.")
    return "\n".join(lines)


def bonus_ensemble(run: dict) -> tuple:
    """(what is reported as the ensemble, its numbers): the snapshot ensemble if the search
    split's rule kept it, else the ensemble of the members (which no rule tests: the search
    split has one ensemble of its seeds, nothing to pair; see bonus.Study.ensembles)."""
    kept = {row["component"]: row["kept"] for row in run["rows"] if row.get("component")}
    f = run["final_split"]
    if kept.get("snapshots"):
        return "the ensemble of the members' last cycle ends", f["snapshot_ensemble"]
    return "the ensemble of the members", f["ensemble"]


def bonus_after(run: dict, targets=TARGETS) -> str:
    """The final numbers against the targets, said as they are."""
    f = run["final_split"]
    one = f["single"]["test"]
    said = (f"On the test set, read once: one network of the chosen recipe reaches "
            f"{100 * one['mean']:.2f} ± {100 * one['std']:.2f} % (mean ± std over "
            f"{plural(len(one['values']), 'independent member')})")
    which, group = bonus_ensemble(run)
    if group:
        said += f", {which} ({group['members']} networks) {pc(group['test'])}"
    else:
        said += f", and {which}"
    met = lambda ok: "met" if ok else "not met"  # noqa: E731
    return said + (f". Targets: {100 * targets[0]:g} % for one network "
                   f"({met(one['mean'] >= targets[0])}), {100 * targets[1]:g} % for an ensemble "
                   f"({met(bool(group) and group['test'] >= targets[1])}).")


# Headings and captions, titled and numbered from the registry (notebooks/sections.toml)


def heading(key: str, level: int = 2) -> str:
    """The section's heading: its registry title, "## Exercise 3"."""
    return f"{'#' * level} {registry.by_key(key)['title']}"


def figure_number(key: str, index: int) -> int:
    """The number of the index-th figure of section `key`, in registry order."""
    return registry.numbering()["figures"][registry.by_key(key)["figures"][index]]


def figure_caption(key: str, index: int, text: str) -> str:
    """ "**Figure 5:** text" for the index-th figure of section `key` (registry order)."""
    return f"**Figure {figure_number(key, index)}:** {text}"


def listing_caption(key: str, text: str, index: int = 0) -> str:
    """ "**Listing 4:** text" for the index-th listing of section `key`."""
    return f"**Listing {registry.numbering()['listings'][key][index]}:** {text}"
