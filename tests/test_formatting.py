"""How numbers are written: one function each, used by the report, the listings and the README."""

from helpers.report import formatting
from helpers.report.formatting import mean_std, pc, plural, sci


def test_percent_scientific_and_plural():
    assert pc(0.4754) == "47.54 %" and pc(1) == "100.00 %"
    assert sci(2.94e-14) == "2.9e-14" and sci(4.7e-7) == "4.7e-7"  # exponent not padded
    assert plural(1, "cycle") == "1 cycle" and plural(3, "cycle") == "3 cycles"


def test_mean_std_of_one_set_over_seeds():
    over = {"test": {"mean": 0.4619, "std": 0.0027, "values": [0.46, 0.4638]},
            "val": {"mean": 0.5, "std": 0.01, "values": [0.49, 0.51]}}
    assert mean_std(over) == "46.19 ± 0.27 %"
    assert mean_std(over, "val", unit="") == "50.00 ± 1.00"


def test_one_home_for_mean_plus_minus_std():
    from helpers.report import listings, tables

    spread = {"mean": 0.5713, "std": 0.0027, "values": [0.57, 0.5727]}
    assert listings.seeds_line(spread) == ("Test accuracy over 2 initialisation(s) (one "
                                                "mini-batch order): 57.13 ± 0.27 %")
    row = {"row": "x", "val": spread, "component": "width", "kept": False,
           "gain": {"gain": 0.0052, "se": 0.0021, "n": 3, "margin": 0.0, "verdict": "better"}}
    assert "| x | 57.13 ± 0.27 | +0.52 ± 0.21 | better | no |" in \
        tables.ablation([row], short=False)
    assert formatting.gain(row["gain"]) == "+0.52 ± 0.21 points"
