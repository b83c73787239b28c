"""How numbers are written in the report, its listings and the README: one function each."""


def pc(fraction: float) -> str:
    """A fraction as a percentage with two decimals: 0.4754 -> "47.54 %"."""
    return f"{100 * fraction:.2f} %"


def sci(x: float) -> str:
    """A small number in short scientific notation: 2.9e-14 (one decimal, exponent unpadded)."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def plural(count: int, word: str) -> str:
    """ "1 cycle", "3 cycles"."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def pm(spread: dict, unit: str = " %") -> str:
    """ "46.19 ± 0.27 %": the mean ± std of a spread over seeds ({"mean", "std", "values"},
    fractions), in percent; unit "" for a table cell."""
    return f"{100 * spread['mean']:.2f} ± {100 * spread['std']:.2f}{unit}"


def mean_std(over: dict, part: str = "test", unit: str = " %") -> str:
    """pm() of one set's accuracy from a results file's accuracy_over_seeds ({part: spread})."""
    return pm(over[part], unit)


def gain(paired: dict, unit: str = " points") -> str:
    """ "+0.52 ± 0.21 points": a paired gain ± its standard error (helpers.experiments.protocol
    .paired_gain, fractions) in percentage points; "+0.98 points (no ±: one ensemble)" for
    a difference measured once (se None: helpers.experiments.bonus's ensemble row)."""
    if paired["se"] is None:
        return f"{100 * paired['gain']:+.2f}{unit} (no ±: one ensemble)"
    return f"{100 * paired['gain']:+.2f} ± {100 * paired['se']:.2f}{unit}"
