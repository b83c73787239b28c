"""The report's tables: the original's numbers beside this run's, the settings, the ablation."""

from helpers.report.formatting import pm

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


__all__ = ["ablation", "reproduction", "settings_table", "settings_caption"]


def ablation(rows: list) -> str:
    """The ablation table in Markdown: each row adds one change to the one above."""
    lines = ["| configuration | validation accuracy (%) | test accuracy (%) | networks |",
             "|---|---|---|---|"]
    fmt = lambda s: pm(s, unit="") if len(s["values"]) > 1 else f"{100 * s['mean']:.2f}"  # noqa: E731
    lines += [f"| {r['row']}{'' if r.get('kept', True) else ' (not kept)'} | {fmt(r['val'])} | "
              f"{fmt(r['test'])} | "
              f"{len(r['val']['values']) if r['members'] == 1 else r['members']} |" for r in rows]
    return "\n".join(lines)
