"""The report's tables: the original's numbers beside this run's, the settings, the ablation."""

from helpers.experiments.protocol import rule
from helpers.report.formatting import gain, pm

RUNS = {"Exercise 3": "one", "Exercise 4": "three", "Best lambda": "final"}


def reproduction(R: dict, original: dict) -> str:
    """Markdown table: each published number of the original beside this run's."""
    grad = R["grad"]["max_relative_error"]["autograd"]
    rows = ["| result | original report | this run |", "|" + "-" * 44 + "|" + "-" * 16 + "|"
            + "-" * 26 + "|"]  # dashes: column widths in the PDF
    rows += [f"| gradient check, max rel. error {k} (autograd) | {v:.2e} | {grad[k]:.2e} |"
             for k, v in original["gradient_check"].items()]
    for label, key in RUNS.items():
        o, run = original[label], R[key]
        t = run["accuracy_over_seeds"]["test"]
        rows += [f"| {label}: {part} accuracy ({run['steps']} steps) | {100 * o[part]:.2f} | "
                 f"{100 * run['accuracy'][part]:.2f}"
                 + (f" ({pm(t, unit='')})" if part == "test" else "")
                 + " |" for part in ("train", "val", "test")]
    for label in ("coarse", "fine"):
        o, b = original[label], R[label]["best"][0]
        rows += [f"| {label} search: best lambda | {o['lambda']:.3g} | {b['lambda']:.3g} |",
                 f"| {label} search: its training accuracy | {100 * o['train']:.2f} | "
                 f"{100 * b['train_accuracy']:.2f} |",
                 f"| {label} search: its validation accuracy | {100 * o['val']:.2f} | "
                 f"{100 * b['val_accuracy']:.2f} |"]
    return "\n".join(rows)


def settings_table(R: dict) -> str:
    """Markdown table: the settings and training seconds of every training section."""
    rows = [r"| run | m | batch | $n_s$ | cycles | $\lambda$ | steps | training / "
            "validation images | training seconds |",
            "|" + "|".join("-" * w for w in (13, 4, 6, 6, 7, 10, 6, 14, 10)) + "|"]
    labels = {"one": "Exercise 3", "three": "Exercise 4", "coarse": "coarse search",
              "fine": "fine search", "final": "best lambda"}
    for key, label in labels.items():
        r, s = R[key], R[key]["settings"]
        lam = f"{r['lambda']:.3g}" if "lambda" in r else f"{len(r['runs'])} values"
        rows.append(f"| {label} | {s['m']} | {s['batch_size']} | {s['n_s']} | {s['cycles']} | "
                    f"{lam} | {r['steps']} | {r['sizes']['train']} / {r['sizes']['val']} | "
                    f"{r['train_seconds']:.0f} |")
    return "\n".join(rows)


def settings_caption(R: dict, profile: str) -> str:
    seeds = len(R["one"]["seeds"])
    return (f"**Table 2:** Settings of this run (profile *{profile}*). Training seconds: the "
            f"time the engine took to train that run's networks, here on {seeds} seed(s) side "
            f"by side for the training runs and all the lambdas at once for the searches; a "
            f"rerun with unchanged inputs reads them from the cache instead.")


__all__ = ["ablation", "grid", "reproduction", "settings_table", "settings_caption", "short_label"]


# Table 3's row labels: one short line each in the PDF's first column (by the row's
# component; the full and chosen recipes by their first word); the legend under the table
# spells each row out.
SHORT = {"dropout": "no dropout", "augmentation": "no flip/shift", "width": "narrow",
         "projection": "raw pixels", "training length": "shorter", "ensemble": "no ensemble",
         "snapshots": "no snapshots", "longer training": "longer",
         "dropout at length": "long + dropout", "flips at length": "long + flips",
         "test-time flips": "test flips"}
WIDTHS = (17, 18, 18, 33, 14)  # the columns' shares of the PDF's text width, in dashes


def short_label(row: dict) -> str:
    """A row's label in Table 3: "no dropout" for the row without dropout, "full" for the
    full recipe."""
    component = row.get("component")
    if component is None:
        return row["row"].split()[0]
    return SHORT.get(component, f"no {component}")


def ablation(rows: list, short: bool = True) -> str:
    """The ablation table in Markdown: the full recipe, then one row per component removed
    (validation mean ± std over seeds; the component's paired gain ± SE, the verdict of the rule,
    a paired one-sided t test at the 5 % level against a margin of 0.5 points
    (helpers.experiments.protocol.rule), whether it
    stays). short: each row by its short label, the columns' widths set for the PDF and a
    legend under the table that spells the labels and the rule out (the report's Table 3);
    False: each row by its whole label, the rule in the verdict's header, no legend (the
    README)."""
    margins = {r["gain"]["margin"] for r in rows if "margin" in (r.get("gain") or {})}
    if len(margins) != 1:
        raise ValueError(f"the rows' verdicts should share one margin, got {sorted(margins)}")
    said_rule = rule(margins.pop())
    lines = ["| configuration | validation accuracy (%) | gain of the component (points) | "
             + ("verdict" if short else f"verdict ({said_rule})") + " | component stays |",
             "|" + "|".join("-" * w for w in WIDTHS) + "|" if short else "|---|---|---|---|---|"]
    legend = []
    for r in rows:
        stays = "reported" if r.get("kept") is None else "yes" if r["kept"] else "no"
        verdict = r["gain"]["verdict"] if r.get("component") else ""
        # short: the verdict's words, its reason ("not tested (why)") in the legend
        said, _, why = verdict.partition(" (") if short else (verdict, "", "")
        measured = gain(r["gain"], unit="") if r.get("component") else ""
        measured = measured.partition(" (")[0] if short else measured  # "(no ±: ...)": legend
        cells = [measured, said, stays] if r.get("component") else ["", "", ""]
        extra = f" (ensemble: {ensemble_cell(r['ensemble_val'])})" if "ensemble_val" in r else ""
        label = short_label(r) if short else f"{r['row']}{extra}"
        reason = f", {said}: {why[:-1]}, no ±" if why else ""
        legend.append(f"*{label}*: {r['row']}{extra}{reason}")
        lines.append(f"| {label} | {pm(r['val'], unit='')} | " + " | ".join(cells) + " |")
    if short:
        lines += ["", "Rows: " + "; ".join(legend) + f". Verdicts: {said_rule}."]
    return "\n".join(lines)


def ensemble_cell(value) -> str:
    """An ensemble's accuracy: one number, or mean ± std over seeds."""
    return f"{100 * value:.2f}" if isinstance(value, float) else pm(value, unit="")


def grid(search: dict) -> str:
    """A side-by-side search as Markdown: lambda, dropout, validation mean and per seed."""
    lines = ["| lambda | dropout | validation accuracy (%), mean | per seed |", "|---|---|---|---|"]
    lines += [f"| {lam:.3g} | {p:g} | {100 * mean:.2f} | "
              f"{', '.join(f'{100 * v:.2f}' for v in values)} |"
              for (lam, p), mean, values in zip(search["pairs"], search["val_mean"],
                                                search["val"], strict=True)]
    return "\n".join(lines)
