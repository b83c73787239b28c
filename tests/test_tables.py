"""The report's tables: Table 3's short labels, its legend and its columns in the PDF."""

import re
import shutil
import subprocess

import pytest
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.textpath import TextToPath

from helpers import paths
from helpers.experiments.bonus import UNTESTED
from helpers.report import tables


def spread(mean):
    return {"mean": mean, "std": 0.0087, "values": [mean - 0.0087, mean + 0.0087]}


def row(label, val, component=None, gain=0.0, **extra):
    """One ablation row as bonus.Study writes it."""
    if component is None:
        return {"row": label, "val": spread(val), "component": None, **extra}
    return {"row": label, "val": spread(val), "component": component, "kept": gain > 0,
            "gain": {"gain": gain, "se": 0.0054, "n": 3, "margin": 0.005,
                     "verdict": "better" if gain > 0 else "no measurable difference"}, **extra}


# The rows of the default profile's Table 3 (README), with the paper profile's projection row
# and the widest numbers a row can show (a gain of +10.00 points, 100.00 %)
DEFAULT_ROWS = [
    row("full recipe", 0.5716),
    row("without dropout (lambda 0.0005)", 0.5849, "dropout", -0.0133),
    row("without flips and shifts", 0.5853, "augmentation", -0.0137),
    row("without the width (m = 50)", 0.5201, "width", 0.1000),
    row("without the projection (raw pixels)", 0.5701, "projection", 0.0015),
    row("shorter training: 3 of 6 cycles", 0.5540, "training length", 0.0176),
    {**row("one network, not an ensemble of the 3 seeds", 0.5716, "ensemble", 0.0098,
           ensemble_val=0.5814), "kept": None,
     "gain": {"gain": 0.0098, "se": None, "n": 3, "verdict": UNTESTED}},
    row("one network, not its last 3 cycle ends", 0.5716, "snapshots", -0.0001,
        ensemble_val=spread(0.5715)),
    row("chosen recipe", 1.0),
]


def table_lines(text):
    return [line for line in text.splitlines() if line.startswith("|")]


def cells(line):
    return [cell.strip() for cell in line.split("|")[1:-1]]


def test_short_labels_one_per_row_and_a_legend_that_spells_each_out():
    text = tables.ablation(DEFAULT_ROWS)
    labels = [cells(line)[0] for line in table_lines(text)[2:]]
    assert labels == ["full", "no dropout", "no flip/shift", "narrow", "raw pixels", "shorter",
                      "no ensemble", "no snapshots", "chosen"]
    assert len(set(labels)) == len(labels)
    legend = text.split("\n\n", 1)[1]
    assert legend.startswith("Rows: *full*: full recipe; *no dropout*: without dropout")
    for label, r in zip(labels, DEFAULT_ROWS, strict=True):
        assert f"*{label}*: {r['row']}" in legend  # every row spelled out, in table order
    assert "*no ensemble*: one network, not an ensemble of the 3 seeds (ensemble: 58.14)" in legend
    assert "(ensemble: 57.15 ± 0.87)" in legend
    # the untested row: its verdict's words in the table, the reason in the legend
    assert cells(table_lines(text)[8])[2:] == ["+0.98", "not tested", "reported"]
    assert "(ensemble: 58.14), not tested: one ensemble of the seeds: nothing to pair it " \
        "with, no ±;" in legend


def test_an_unknown_component_still_gets_a_short_label():
    assert tables.short_label(row("without the thing", 0.5, "thing", 0.01)) == "no thing"


def test_readme_keeps_the_whole_labels_and_no_legend():
    text = tables.ablation(DEFAULT_ROWS, short=False)
    assert "\n\n" not in text and len(table_lines(text)) == len(DEFAULT_ROWS) + 2
    assert "| one network, not an ensemble of the 3 seeds (ensemble: 58.14) | 57.16 ± 0.87 |" \
        in text


def column_widths_pt():
    """The PDF's Table 3 columns in points: pandoc shares the text width less the column
    separations (2 x 6 pt each, less the outer two) by the separator's dashes."""
    template = (paths.ROOT / "templates" / "dd2424" / "index.tex.j2").read_text()
    margins = [float(cm) for cm in re.findall(r"[lr]margin=([\d.]+)cm", template)]
    text_width = (21.0 - sum(margins)) / 2.54 * 72.27
    dashes = [len(cell) for cell in cells(table_lines(tables.ablation(DEFAULT_ROWS))[1])]
    assert tuple(dashes) == tables.WIDTHS and sum(dashes) == 100
    usable = text_width - 2 * 6 * (len(dashes) - 1)
    return [usable * d / sum(dashes) for d in dashes]


def width_pt(text, size=10.0):
    """Width of text in DejaVu Serif at `size` points (the PDF's \\small in 11 pt type)."""
    font = FontProperties(fname=findfont(FontProperties(family="DejaVu Serif")), size=size)
    return TextToPath().get_text_width_height_descent(text, font, ismath=False)[0]


def test_labels_numbers_and_verdicts_fit_their_columns_on_one_line():
    assert "\\small" in (paths.ROOT / "templates" / "dd2424" / "index.tex.j2").read_text()
    widths = column_widths_pt()
    lines = table_lines(tables.ablation(DEFAULT_ROWS))
    for line in lines[2:]:  # every cell of every row on one line
        for cell, width in zip(cells(line), widths, strict=True):
            assert width_pt(cell) < width, (cell, width)
    for header, width in zip(cells(lines[0]), widths, strict=True):
        for word in header.split():  # headers wrap, but between words
            assert width_pt(word) < width, (word, width)


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")
def test_pandoc_sets_the_columns_by_the_dashes():
    latex = subprocess.run(["pandoc", "-f", "markdown", "-t", "latex"],
                           input=tables.ablation(DEFAULT_ROWS), capture_output=True, text=True,
                           check=True).stdout
    shares = [float(s) for s in re.findall(r"\\real\{([\d.]+)\}", latex)]
    assert shares == pytest.approx([w / 100 for w in tables.WIDTHS])
    assert "\\begin{longtable}" in latex and "\\emph{no ensemble}: one network" in latex
