"""The report's prose and tables on synthetic results: no sentence contradicts its numbers."""

import copy
import json

import numpy as np
import pytest

from helpers import paths
from helpers.experiments.bonus import UNTESTED
from helpers.report import prose as report
from helpers.report import tables
from helpers.workbook import results

# what 07's retraining shares with 06's run (helpers.experiments.range_test.check_paired)
PAIRED = {"seeds": [0, 1, 2], "split": "final: seed 0", "sizes": {"val": 1000}}


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


def bonus_run(single_test=0.55, ensemble_test=0.57, snapshot_test=0.58, kept=None,
              ablate_projection=False, long_cycles=0):
    """A bonus results file: the full recipe, then components with their gains and verdicts."""
    kept = kept or {"dropout": False, "augmentation": True, "ensemble": True,
                    "snapshots": False}
    spread = lambda v: {"mean": v, "std": 0.01, "values": [v - 0.01, v, v + 0.01]}  # noqa: E731
    rows = [{"row": "full recipe: m = 1000", "val": spread(0.58), "component": None,
             "recipe": {"k": 256}}]
    for name, keep in kept.items():
        verdict = "better" if keep else "no measurable difference"
        gain = {"gain": 0.005, "se": 0.002 if keep else 0.01, "n": 3, "verdict": verdict}
        if name == "ensemble":  # no verdict: one ensemble of the seeds (bonus.Study.ensembles)
            keep, gain = None, {"gain": 0.005, "se": None, "n": 3, "verdict": UNTESTED}
        rows.append({"row": f"without {name}", "val": spread(0.575), "component": name,
                     "gain": gain, "kept": keep})
    group = lambda n, test: {"members": n, "val": 0.6, "test": test}  # noqa: E731
    return {"rows": rows, "parameters": {"members": 5, "ablate_projection": ablate_projection,
                                        "long_cycles": long_cycles},
            "final_split": {"single": {"test": spread(single_test), "val": spread(0.58)},
                            "ensemble": group(5, ensemble_test),
                            "snapshot_ensemble": group(15, snapshot_test)}}


def test_each_component_says_its_gain_its_verdict_and_whether_it_stays():
    lines = report.bonus_changes(bonus_run()).splitlines()
    assert lines[0] == ("- **without dropout**: the component's gain +0.50 ± 1.00 points, no "
                        "measurable difference; it is dropped.")
    assert lines[1].endswith("+0.50 ± 0.20 points, better; it stays.")
    assert "without the projection**: not run in this profile" in lines[-2]
    assert "3,072 inputs an image instead of 256" in lines[-2]  # from the recipe, not typed
    assert "the budget axis** (the chosen recipe trained longer" in lines[-1]
    assert "not run" not in report.bonus_changes(bonus_run(ablate_projection=True,
                                                           long_cycles=12))
    assert lines[2] == ("- **without ensemble**: the component's gain +0.50 points (no ±: one "
                        f"ensemble), {UNTESTED}; it is reported on the final split, untested.")


def test_the_ensemble_reported_is_the_one_the_search_split_kept_not_the_best_on_test():
    which, group = report.bonus_ensemble(bonus_run(snapshot_test=0.70))
    assert which == "the ensemble of the members" and group["members"] == 5
    shots = bonus_run(kept={"ensemble": True, "snapshots": True})
    assert report.bonus_ensemble(shots) == ("the ensemble of the members' last cycle ends",
                                            shots["final_split"]["snapshot_ensemble"])


@pytest.mark.parametrize(("single", "group", "said"), [
    (0.60, 0.615, ("met", "met")), (0.595, 0.62, ("not met", "met")),
    (0.61, 0.61, ("met", "not met"))])
def test_each_target_is_called_met_only_when_reached(single, group, said):
    text = report.bonus_after(bonus_run(single, group))
    assert f"60 % for one network ({said[0]})" in text
    assert f"61.5 % for an ensemble ({said[1]})" in text


def test_the_range_test_range_is_better_only_beyond_its_paired_noise():
    over = lambda val: {"val": {"mean": np.mean(val), "std": 0.0, "values": val},  # noqa: E731
                        "test": {"mean": 0.5, "std": 0.0, "values": [0.5] * len(val)}}
    final = {"settings": {"eta_min": 1e-5, "eta_max": 0.1}, **PAIRED, "lambda": 1e-3,
             "accuracy_over_seeds": over([0.530, 0.534, 0.532])}
    run = lambda val: {"chosen": {"eta_min": 0.01, "eta_max": 0.04},  # noqa: E731
                       "retrained": {"accuracy_over_seeds": over(val), **PAIRED},
                       "lambda": 1e-3,
                       "parameters": {"margin": 0.005}}
    assert "is not measurably different on validation" in report.range_test_after(
        run([0.531, 0.530, 0.536]), final)  # the old rule would say "better" (mean rose)
    assert "is better on validation" in report.range_test_after(
        run([0.540, 0.545, 0.541]), final)

