""".ci/check-html, the reader's check of the HTML report: a page that would not render on a
reader's machine (raw TeX, a formula not drawn, an image not decoded or without alternative
text, anything loaded from outside the page) is caught, each kind by itself; a page as the
report's exporter writes it passes. Needs Debian's chromium (skipped without it, except in CI,
which installs it)."""

import importlib.machinery
import importlib.util
import os
import shutil

import nbformat
import pytest

from helpers import paths
from helpers.report.mathml import ReportExporter, tex_to_mathml

loader = importlib.machinery.SourceFileLoader("check_html", str(paths.ROOT / ".ci" / "check-html"))
check_html = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
loader.exec_module(check_html)

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5"
       "ErkJggg==")  # one pixel
IMG = f'<img alt="Figure 1: the cost against the update step" src="data:image/png;base64,{PNG}">'
FORMULA = tex_to_mathml(r"\eta_{min} = 0.25\, \eta_{max}")


def page(body: str, head: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>{head}'
            f"</head><body><p>With {FORMULA} as drawn.</p>{IMG}{body}</body></html>")


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium"):
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("CI must have chromium for the reader's check (.ci/run installs it)")
        pytest.skip("no chromium (apt-get install chromium)")
    with check_html.Browser("chromium") as b:
        yield b


@pytest.fixture
def read(browser, tmp_path):
    """The problems the check finds in an HTML page (written to tmp_path/report/)."""
    def read(html: str) -> list[str]:
        path = tmp_path / "report" / "report.html"
        path.parent.mkdir(exist_ok=True)
        path.write_text(html)
        return check_html.check(path, browser)[1]
    return read


def test_a_self_contained_page_passes(read, browser, tmp_path):
    assert read(page("")) == []
    facts = browser.read(tmp_path / "report" / "report.html")
    assert len(facts["formulas"]) == 1 and facts["formulas"][0]["display"] in check_html.DRAWN
    assert facts["images"][0]["decoded"] and facts["requests"] == []


@pytest.mark.parametrize("tex, said", [
    (r"$\lambda = 0.1$", r"'$\lambda = 0.1$'"), (r"$$\frac{1}{n}$$", r"'$$\frac{1}{n}$$'"),
    (r"\(x^2\)", r"'\(x^2\)'"), (r"\[x^2\]", r"'\[x^2\]'"), (r"with \eta rising", r"'\eta'"),
    (r"\begin{align} x \end{align}", r"'\begin'")])
def test_raw_tex_is_caught(read, tex, said):
    found = read(page(f"<p>The rate {tex} here.</p>"))
    assert len(found) == 1 and "raw TeX in the page's text" in found[0] and said in found[0]


@pytest.mark.parametrize("math, why", [
    ("<math><merror><mtext>bad</mtext></merror></math>", "<merror>"),
    ("<math></math>", "empty"),
    (r"<math><mi>\foo</mi></math>", "TeX in it"),
    ('<math style="display: inline">x</math>', "not MathML"),  # a browser without MathML
])
def test_a_formula_not_drawn_is_caught(read, math, why):
    found = read(page(f"<p>A formula {math} here.</p>"))
    assert any("is not drawn" in f and why in f for f in found), found


@pytest.mark.parametrize("ref, where", [
    ('<script src="https://cdn.example.org/require.min.js"></script>', "in the page"),
    ('<script src="file:///usr/share/javascript/mathjax/MathJax.js"></script>', "in the page"),
    ('<link rel="stylesheet" href="style.css">', "in the page"),
    ("<style>@import url(https://fonts.example.org/css);</style>", "in its stylesheets"),
    ("<style>@font-face { font-family: F; src: url(https://fonts.example.org/f.woff2); }"
     "</style>", "in its stylesheets"),
])
def test_an_external_script_or_stylesheet_is_caught(read, ref, where):
    found = read(page("", head=ref))
    assert any(f"external reference(s) {where}" in f for f in found), found


def test_an_image_from_the_network_or_a_file_beside_it_is_caught(read, tmp_path):
    (tmp_path / "report" / "figure.png").parent.mkdir(exist_ok=True)
    (tmp_path / "report" / "figure.png").write_bytes(__import__("base64").b64decode(PNG))
    outside = (tmp_path / "report" / "figure.png").as_uri()
    for src in ("https://example.org/figure.png", "figure.png", outside):
        found = read(page(f'<img alt="a figure" src="{src}">'))
        assert any("external reference(s) in the page" in f and src[:40] in f
                   for f in found), found
    assert any("requested by the page" in f for f in found)  # loaded, yet from outside


@pytest.mark.parametrize("img", [
    f'<img src="data:image/png;base64,{PNG}">',
    f'<img alt="" src="data:image/png;base64,{PNG}">',
    f'<img alt="{check_html.PLACEHOLDER}" src="data:image/png;base64,{PNG}">',
])
def test_an_image_without_alternative_text_is_caught(read, img):
    found = read(page(img))
    assert len(found) == 1 and "image 2" in found[0] and "no alternative text" in found[0]


def test_an_image_that_does_not_decode_is_caught(read):
    found = read(page('<img alt="a figure" src="data:image/png;base64,AAAAAAAA">'))
    assert len(found) == 1 and "image 2" in found[0] and "not decoded" in found[0]


def test_a_link_a_reader_may_follow_is_no_reference_but_a_link_to_a_file_is(read):
    assert read(page('<a href="https://www.kth.se/">the course</a> <a href="#top">up</a>')) == []
    found = read(page('<a href="../figures/fig5.png">figure 5</a>'))
    assert len(found) == 1 and "fig5.png" in found[0]


def test_a_page_without_formulas_or_images_is_caught(read):
    found = read('<!DOCTYPE html><html><body><p>Nothing here.</p></body></html>')
    assert found == ["no formula and no image at all: is this the report?"]


def test_what_the_report_exporter_writes_passes(read):
    """A notebook like report.ipynb (math in a cell and in a Markdown output, a figure with its
    alternative text), exported as make report does, is what a reader can read."""
    md = nbformat.v4.new_markdown_cell(
        "# The $\\lambda$ search\n\n$$\\frac{\\partial J}{\\partial b^{[2]}} = "
        "\\frac{1}{n} \\sum_{i=1}^n (P - Y)_i$$")
    out = [nbformat.v4.new_output("display_data", data={
               "text/markdown": "with $\\eta_{max}$ = 0.1", "text/plain": "<Markdown>"}),
           nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Fig>"},
                                  metadata={"image/png": {"alt": "the cost per step"}})]
    nb = nbformat.v4.new_notebook(cells=[md, nbformat.v4.new_code_cell("show()", outputs=out)])
    exporter = ReportExporter(template_name="dd2424-html", exclude_input=True,
                              extra_template_basedirs=[str(paths.ROOT / "templates")])
    assert read(exporter.from_notebook_node(nb)[0]) == []


def test_the_command_says_when_it_cannot_run(tmp_path, capsys):
    assert check_html.main([str(tmp_path / "missing.html")]) == 2
    assert "run make report first" in capsys.readouterr().err
    (tmp_path / "r.html").write_text(page(""))
    assert check_html.main([str(tmp_path / "r.html"), "--chromium", "no-such-browser"]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err
