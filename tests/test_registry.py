"""The registry of sections: checked when read, and the one source of the lists that use it."""

import subprocess

import pytest

from helpers import paths
from helpers import registry as sections
from helpers.workbook import profiles

GOOD = """
[[section]]
notebook = "a"
key = "a"
title = "A"
figures = ["fig1-a"]
listings = 1
checks = [["Accuracy", 3, "Listing 1"]]

[[section]]
notebook = "b"
key = "b"
title = "B"
reads = ["a"]
long = true
listings = 2
checks = [["Accuracy", 3, "Listing 2"]]

[report]
notebook = "report"
checks = [["Reproduction", 1, "the Reproduction section"]]
"""


def registry(tmp_path, text=GOOD):
    (tmp_path / "s.toml").write_text(text)
    return sections.load(tmp_path / "s.toml")


def test_the_makefile_rules_follow_the_registry(tmp_path):
    text = sections.makefile(registry(tmp_path))
    assert "SECTIONS := a b\n" in text and "LONG := b\n" in text
    assert "$(EXECUTED)/b.ipynb: $(EXECUTED)/a.ipynb\n" in text
    assert "$(EXECUTED)/$(REPORT).ipynb: $(EXECUTED)/b.ipynb $(EXECUTED)/a.ipynb\n" in text


def test_the_report_checks_count_every_caption_and_add_up_patterns(tmp_path):
    rows = [line.split("\t") for line in sections.checks(registry(tmp_path)).splitlines()]
    assert ["Figure 1:", "1", "the caption of Figure 1"] in rows
    listing_rows = [r[0] for r in rows if r[0].startswith("Listing")]
    assert listing_rows == [f"Listing {k}:" for k in (1, 2, 3)]
    assert ["Accuracy", "6", "Listing 1; Listing 2"] in rows
    assert not [r for r in rows if r[0] == "Figure 2:"]


@pytest.mark.parametrize(("change", "message"), [
    (('reads = ["a"]', 'reads = ["c"]'), "reads \\['c'\\]"),
    (('key = "b"', 'key = "a"'), "share a key"),
    (('long = true', 'long = "yes"'), "long must be a bool"),
    (('title = "B"', 'titel = "B"'), "unknown field"),
])
def test_a_wrong_registry_is_refused_with_what_is_wrong(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        registry(tmp_path, GOOD.replace(*change))


def test_the_real_registry_matches_the_notebooks_and_profiles():
    real = sections.load()
    for entry in real["sections"]:
        assert (profiles.NOTEBOOKS / f"{entry['notebook']}.ipynb").is_file()
    for profile in ("assignment", "seed", "quick"):
        assert set(profiles.load_profile(profile)) - {"shared"} <= set(sections.names(real))


def test_the_command_line_needs_only_the_standard_library():
    out = subprocess.run(["python3", "-S", "-m", "helpers.registry", "names"], check=True,
                         capture_output=True, text=True, cwd=paths.ROOT).stdout
    assert out.split() == sections.names()


def test_figures_and_listings_are_numbered_in_registry_order():
    registry = {"sections": [
        {"key": "a", "figures": ["f-a1", "f-a2"], "listings": 1},
        {"key": "b", "figures": [], "listings": 2},
        {"key": "c", "figures": ["f-c"], "listings": 0}]}
    numbers = sections.numbering(registry)
    assert numbers["figures"] == {"f-a1": 1, "f-a2": 2, "f-c": 3}  # not 1, 1 for a's two
    assert numbers["listings"] == {"a": [1], "b": [2, 3], "c": []}


def test_headings_and_captions_come_from_the_registry():
    from helpers.report import prose

    entry = sections.by_key("three")
    assert prose.heading("three") == f"## {entry['title']}"
    assert prose.figure_caption("three", 1, "x.") == "**Figure 4:** x."
    assert prose.listing_caption("fine", "y.") == "**Listing 5:** y."
    with pytest.raises(KeyError, match="no section with key 'nope'"):
        sections.by_key("nope")
