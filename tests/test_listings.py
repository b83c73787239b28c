"""The report's listings, spreads over seeds, and the notebooks' timings by part."""



import numpy as np

from helpers.report import listings

# what 07's retraining shares with 06's run (helpers.experiments.range_test.check_paired)
PAIRED = {"seeds": [0, 1, 2], "split": "final: seed 0", "sizes": {"val": 1000}}


def test_listings_in_the_reports_format():
    text = listings.accuracy_listing({"train": 0.6456, "val": 0.4652, "test": 0.4754}, 1000)
    assert text.splitlines() == ["Accuracy for training : 64.56% with steps 1000",
                                 "Accuracy for validation : 46.52% with steps 1000",
                                 "Accuracy for testing : 47.54% with steps 1000"]
    row = {"lambda": 0.0006246592215568911, "train_accuracy": 0.5873, "val_accuracy": 0.529}
    assert listings.search_listing([row]) == ("lambda=0.0006246592215568911, training "
                                              "accuracy=58.73%, validation accuracy=52.90%")
    lines = listings.gradient_listing({"W1": 1.63e-14, "W2": 2.12e-16, "b1": 1.6e-15,
                                      "b2": 3.08e-16}).splitlines()
    assert lines[:3] == ["Relative errors in W:", "Layer 0: max relative error = 1.63e-14",
                         "Layer 1: max relative error = 2.12e-16"]
    assert lines[4:] == ["Relative errors in b:", "Layer 0: max relative error = 1.60e-15",
                         "Layer 1: max relative error = 3.08e-16"]


def test_the_range_comparison_ends_with_the_rules_verdict_on_validation():
    over = lambda val: {"val": {"mean": float(np.mean(val)), "std": 0.001,  # noqa: E731
                                "values": val},
                        "test": {"mean": 0.5, "std": 0.0, "values": [0.5] * len(val)}}
    assignment = {"settings": {"eta_min": 1e-5, "eta_max": 0.1}, **PAIRED, "lambda": 1e-3,
                  "accuracy_over_seeds": over([0.530, 0.534, 0.532])}
    run = lambda val, margin=0.005: {"chosen": {"eta_min": 0.01, "eta_max": 0.04},  # noqa: E731
                                     "retrained": {"accuracy_over_seeds": over(val), **PAIRED},
                                     "lambda": 1e-3,
                                     "parameters": {"margin": margin}}
    text = listings.range_comparison_of(assignment, run([0.531, 0.530, 0.536]))
    assert text.splitlines()[-1] == ("the range test's range on validation: +0.03 ± 0.23 points, "
                                     "no measurable difference (a paired one-sided t test at the "
                                     "5 % level against a margin of 0.5 points)")
    assert "better (a paired" in listings.range_comparison_of(assignment,
                                                              run([0.540, 0.545, 0.541]))
    # the margin is 07's own parameter: +1.0 points is not beyond a margin of 2
    wide = listings.range_comparison_of(assignment, run([0.540, 0.545, 0.541], margin=0.02))
    assert wide.endswith("no measurable difference (a paired one-sided t test at the 5 % level "
                         "against a margin of 2 points)")
