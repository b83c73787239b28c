"""helpers.report.mathml: the report's TeX becomes MathML when the HTML is built, and a formula
it cannot convert stops the build (never TeX left in the page)."""

import re

import nbformat
import pytest

from helpers import paths
from helpers.report.mathml import MathError, ReportExporter, tex_to_mathml

# Formulas the report writes (helpers/report/prose.py, notebooks/report.ipynb), with what their
# MathML must hold.
FORMULAS = {
    r"\lambda = 0.1": ["<mi>&#x003BB;</mi>", "<mo>&#x0003D;</mo>", "<mn>0.1</mn>"],
    r"\eta_{min} = 0.25\, \eta_{max}": ["<msub><mi>&#x003B7;</mi><mrow><mi>m</mi><mi>i</mi>",
                                        "<mspace"],
    r"n_s = 500": ["<msub><mi>n</mi><mi>s</mi></msub>"],
    r"\lambda = 10^l": ["<msup><mn>10</mn><mi>l</mi></msup>"],
    r"2\lfloor n / n_{batch} \rfloor": ["&#x0230A;", "&#x0230B;"],
    r"\bar d - q s_d / \sqrt n": ["<mover><mi>d</mi>", "<msqrt><mi>n</mi></msqrt>"],
    r"G = W^{[2]\top}(P - Y)": ["<msup><mi>W</mi>", "&#x022A4;"],
    r"J = \frac{1}{n}\sum_i -\log p_{y_i} + \lambda(\|W^{[1]}\|^2 + \|W^{[2]}\|^2)":
        ["<mfrac>", "&#x02211;", "<mi>log</mi>", "&#x02016;"],
    r"3 \times 4": ["<mo>&#x000D7;</mo>"],
    r"0.52 \pm 0.01": ["&#x000B1;"],
    r"(G \circ \mathbf{1}_{H>0})X^\top": ['mathvariant="bold"', "&#x0003E;", "&#x02218;"],
}


@pytest.mark.parametrize("tex", list(FORMULAS))
def test_the_reports_formulas_become_mathml(tex):
    mathml = tex_to_mathml(tex)
    assert mathml.startswith('<math display="inline">') and mathml.endswith("</math>")
    assert "xmlns" not in mathml  # an HTML page implies it; ElementTree would rename it ns0:
    for part in FORMULAS[tex]:
        assert part in mathml
    assert "\\" not in mathml


def test_display_math_is_a_block():
    assert tex_to_mathml(r"\frac{\partial J}{\partial b^{[2]}}", display=True).startswith(
        '<math display="block">')


def test_every_formula_of_the_report_notebook_converts():
    """Each $...$ and $$...$$ of notebooks/report.ipynb's Markdown cells."""
    nb = nbformat.read(paths.ROOT / "notebooks" / "report.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    display = re.findall(r"\$\$(.+?)\$\$", text, re.S)
    inline = re.findall(r"\$(.+?)\$", re.sub(r"\$\$.+?\$\$", "", text, flags=re.S))
    assert len(display) >= 2 and len(inline) >= 2
    for tex in display:
        assert "<mfrac>" in tex_to_mathml(tex, display=True)
    for tex in inline:
        tex_to_mathml(tex)


@pytest.mark.parametrize("tex, said", [
    (r"\lambdax = 0.1", r"\lambdax"),     # a command latex2mathml does not know: it would
    (r"\eta_{\mathit{max}} + \foo", r"\foo"),  # leave "\foo" as text in the page
    (r"\frac{1}{", "NoAvailableTokensError"),  # unbalanced braces
    (r"x^", "MissingSuperScriptOrSubscriptError"),
])
def test_a_formula_it_cannot_convert_is_an_error_naming_it(tex, said):
    with pytest.raises(MathError) as caught:
        tex_to_mathml(tex)
    message = str(caught.value)
    assert f"${tex}$" in message and said in message


def notebook(markdown: str, output: str) -> nbformat.NotebookNode:
    """A notebook: a Markdown cell, then a code cell whose output is Markdown (as prose's)."""
    code = nbformat.v4.new_code_cell("show()", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/markdown": output, "text/plain": "<Markdown>"})])
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown), code])


def export(nb) -> str:
    exporter = ReportExporter(template_name="dd2424-html", exclude_input=True,
                              extra_template_basedirs=[str(paths.ROOT / "templates")])
    return exporter.from_notebook_node(nb)[0]


def test_the_exporter_writes_mathml_for_cells_and_markdown_outputs_and_no_script():
    html = export(notebook(
        "# The $\\lambda$ search\n\nWith $G = W^{[2]\\top}(P - Y)$,\n\n"
        "$$\\frac{\\partial J}{\\partial b^{[2]}} = \\frac{1}{n} \\sum_{i=1}^n (P - Y)_i$$",
        "a network with $\\lambda = 0.01$ and $\\eta_{max}$ = 0.1, 47.5 % ± 0.3"))
    body = html[html.index("<body"):]
    assert body.count("<math") == 5 and '<math display="block">' in body
    assert "$" not in re.sub(r"<[^>]+>", "", body)  # no TeX left for a script to find
    heading = re.search(r"<h1[^>]*>.*?</h1>", body, re.S).group(0)
    assert "<math" in heading and "ns0:" not in heading  # the anchor's rewrite keeps MathML
    assert "<script" not in html and "mathjax" not in html.lower()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:|file:|//)""", html)


def test_a_bad_formula_stops_the_export():
    with pytest.raises(MathError, match=r"\\foo"):
        export(notebook("fine", "a bad $\\foo = 1$ in an output"))


def test_an_operator_name_is_set_apart_from_what_follows_as_in_tex():
    assert '<mi>log</mi><mspace width="0.167em" /><msub><mi>p</mi>' in tex_to_mathml(
        r"-\log p_{y_i}")
    assert "<mi>log</mi><mo" in tex_to_mathml(r"\log(x)")  # no space before a parenthesis
