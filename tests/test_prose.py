"""The report's prose and tables on synthetic results: no sentence contradicts its numbers."""

import copy
import json

import pytest

from helpers import paths
from helpers.report import prose as report
from helpers.report import tables
from helpers.workbook import results


def training_run(train=0.6, val=0.45, test=0.46, cycles=1, seeds=(0.46, 0.47), **extra):
    return {"accuracy": {"train": train, "val": val, "test": test}, "steps": 1000 * cycles,
            "settings": {"eta_min": 1e-5, "eta_max": 0.1, "n_s": 500, "cycles": cycles,
                         "batch_size": 100, "m": 50, "records_per_cycle": 10,
                         "dtype": "float32"},
            "accuracy_over_seeds": {"test": {"mean": sum(seeds) / len(seeds), "std": 0.005,
                                             "values": list(seeds)}},
            "sizes": {"train": 10000, "val": 10000, "test": 10000}, "lambda": 0.01,
            "lambda_source": "parameter", "seeds": [0, 1], "train_seconds": 3.0,
            "git_commit": "0123456789abcdef", **extra}


def search_run(lambdas=(1e-5, 1e-3, 1e-1), vals=(0.50, 0.52, 0.30)):
    runs = [{"lambda": lam, "train_accuracy": v + 0.05, "val_accuracy": v}
            for lam, v in zip(lambdas, vals, strict=True)]
    return {"runs": runs, "best": sorted(runs, key=lambda r: -r["val_accuracy"])[:3],
            "range": [-5, -1], "parameters": {"kind": "grid"}, "steps": 900,
            "settings": training_run()["settings"], "train_seconds": 9.0,
            "sizes": {"train": 45000, "val": 5000, "test": 10000}}


def grad(autograd=1e-14, fd=1e-8):
    return {"max_relative_error": {"autograd": dict.fromkeys(("W1", "b1", "W2", "b2"), autograd),
                                   "finite_difference": dict.fromkeys(("W1", "b1"), fd)},
            "parameters": {"m": 10, "lam": 0.1, "h": 1e-6}, "shape": [5, 20]}


@pytest.mark.parametrize(("errors", "correct"), [((1e-14, 1e-8), True), ((1e-3, 1e-8), False),
                                                 ((1e-14, 1e-2), False)])
def test_the_gradients_are_called_correct_only_when_they_are(errors, correct):
    text = report.gradcheck_verdict(grad(*errors))
    assert ("The analytic gradients are correct." in text) == correct
    assert ("do not match" in text) != correct


def test_cycles_are_counted_in_words():
    assert "and 1 cycle," in report.exercise3(training_run(cycles=1))
    assert "3 cycles (3000 update steps)" in report.exercise4(training_run(cycles=3))
    assert "1 triangle from" in report.exercise3_after(training_run())


def test_exercise_four_says_whether_accuracy_rose_and_the_gap_widened():
    one, better = training_run(test=0.46), training_run(test=0.48, train=0.7, cycles=3)
    assert "rises from 46.00 % after 1 cycle to 48.00 % after 3" in \
        report.exercise4_after(one, better)
    assert "widens" in report.exercise4_after(one, better)
    worse = training_run(test=0.44, train=0.5, val=0.45, cycles=3)
    text = report.exercise4_after(one, worse)
    assert "does not rise" in text and "does not widen" in text and "overfit" not in text


def test_the_final_lambda_says_where_it_came_from():
    fine = search_run()
    chosen = training_run(lambda_source="05-lambda-fine-search", **{"lambda": 1e-3})
    assert "taken from the fine search" in report.final(chosen)
    assert "it is the value used below" in report.fine_after(fine, 1e-3)
    given = training_run(**{"lambda": 0.02})
    assert "given as a parameter" in report.final(given)
    assert "used $\\lambda$ = 0.02 instead" in report.fine_after(fine, 0.02)


def test_the_coarse_prose_finds_where_accuracy_falls():
    text = report.coarse_after(search_run())
    assert "up to about $\\lambda$ = 1e-01" in text and "down to 30.00 %" in text
    flat = report.coarse_after(search_run(vals=(0.51, 0.52, 0.515)))
    assert "over the whole range" in flat and "falls" not in flat


def test_the_reproduction_table_reads_both_sides():
    original = results.load_original()
    R = {"grad": grad(), "one": training_run(), "three": training_run(cycles=3),
         "final": training_run(test=0.5123), "coarse": search_run(), "fine": search_run()}
    table = tables.reproduction(R, original)
    assert "| Best lambda: test accuracy (1000 steps) | 54.44 | 51.23 (46.50 ± 0.50) |" in table
    changed = copy.deepcopy(original)
    changed["Best lambda"]["test"] = 0.5
    assert "| 50.00 | 51.23" in tables.reproduction(R, changed)
    assert tables.settings_table(R).count("\n") == 6


def test_every_published_number_cites_where_it_stands():
    data = json.loads(paths.ORIGINAL.read_text())
    entries = [e for group in data.values() if isinstance(group, dict) for e in group.values()]
    assert len(entries) == 22 and all(e["source"] and "value" in e for e in entries)


def bonus_run(single_test=0.55, ensemble_test=0.57, kept=(True, False)):
    rows = [{"row": "base", "val": {"mean": 0.52}, "test": {"mean": 0.51}, "kept": True}]
    rows += [{"row": f"+ change {k}", "val": {"mean": 0.53 + 0.01 * k}, "test": {"mean": 0.5},
              "kept": keep} for k, keep in enumerate(kept)]
    spread = lambda v: {"mean": v, "std": 0.0, "values": [v, v]}  # noqa: E731
    return {"rows": rows, "parameters": {"n_seeds": 2},
            "single": {"test": spread(single_test), "val": spread(0.55)},
            "ensemble": {"members": 6, "test": {"mean": ensemble_test}}}


def test_each_bonus_change_says_what_it_bought_and_whether_it_stayed():
    lines = report.bonus_changes(bonus_run()).splitlines()
    assert lines[0].startswith("- **change 0**: validation 53.00 % (+1.00 points") and \
        lines[0].endswith("kept.")
    assert "(+1.00 points against the best kept before it)" in lines[1]  # 54 against 53
    assert lines[1].endswith("not kept.")


@pytest.mark.parametrize(("single", "group", "met"), [(0.58, 0.60, True), (0.575, 0.61, False),
                                                      (0.59, 0.595, False)])
def test_the_targets_are_called_met_only_when_both_are(single, group, met):
    text = report.bonus_after(bonus_run(single, group))
    assert ("are met" in text) == met and ("short of the targets" in text) != met
