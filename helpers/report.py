"""The report's prose: each paragraph a function of the results, so no sentence can
contradict its numbers. The tables are in helpers/tables.py."""

import json

from helpers import results, sections

ORIGINAL = results.ROOT / "notebooks" / "original.json"
BOUNDS = {"autograd": 1e-10, "finite_difference": 1e-6}  # what "the gradients are correct" means


def load(build_dir, profile: str) -> dict:
    """{section key: its results} for every section of the registry (make report's results)."""
    folder = results.resolve(build_dir) / profile / "results"
    return {s["key"]: results.load(s["notebook"], folder) for s in sections.load()["sections"]}


def original(path=ORIGINAL) -> dict:
    """The original report's published numbers, {group: {name: value}} (sources dropped)."""
    data = json.loads(results.resolve(path).read_text())
    return {group: {k: v["value"] for k, v in entries.items()}
            for group, entries in data.items() if isinstance(entries, dict)}


def pc(fraction: float) -> str:
    """A fraction as a percentage with two decimals: 0.4754 -> "47.54 %"."""
    return f"{100 * fraction:.2f} %"


def plural(count: int, word: str) -> str:
    """ "1 cycle", "3 cycles"."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def spread(over: dict, part: str = "test") -> str:
    """ "46.19 ± 0.27 %": mean ± std over seeds of one set's accuracy, from a results file's
    accuracy_over_seeds."""
    return f"{100 * over[part]['mean']:.2f} ± {100 * over[part]['std']:.2f} %"


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
            f"{plural(seeds, 'seed')} side by side, the test accuracy is {spread(over)} (mean ± "
            f"standard deviation). Figure 2 shows the learning rate: "
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
            f"{pc(a3['test'])} after {c3} ({spread(one['accuracy_over_seeds'])} to "
            f"{spread(three['accuracy_over_seeds'])} over seeds). The "
            f"gap between training and validation accuracy "
            f"{'widens' if gap3 > gap1 else 'does not widen'} from {gap1:.1f} to {gap3:.1f} "
            f"points" + (": the network starts to overfit its "
                         f"{three['sizes']['train']:,} training images, which is what the "
                         "search for $\\lambda$ addresses." if gap3 > gap1 else "."))
