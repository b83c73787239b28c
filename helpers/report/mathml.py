"""The HTML report's math, drawn when the report is built: each TeX formula of the notebook's
Markdown (its cells and its Markdown outputs) becomes MathML, which browsers draw themselves,
so report.html needs no MathJax, no script and no network to show its formulas.

`tex_to_mathml` converts one formula with latex2mathml and refuses, naming the formula, what
it cannot convert (a command it does not know, unbalanced braces): the build fails instead of
leaving TeX in the page. `ReportExporter` is nbconvert's HTML exporter with that conversion in
its Markdown renderer, used by `make report`:

    jupyter nbconvert --to helpers.report.mathml.ReportExporter --template dd2424-html ...

The PDF does not come here: its Markdown goes to LaTeX, TeX and all."""

import re

from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"'  # implied by <math> in an HTML page
COMMAND = re.compile(r"\\[A-Za-z]+|\\.")  # what latex2mathml leaves of a command it lacks
# \log p: TeX puts a thin space between an operator's name and a letter or number after it;
# latex2mathml writes the name as a plain <mi>, which browsers set against what follows.
OPERATOR = re.compile(r"(<mi>(?:log|ln|exp|max|min|arg|det|sin|cos|tan)</mi>)"
                      r"(?=(?:<ms[a-z]*>)*<m[in][ >])")
THIN = '<mspace width="0.167em" />'


class MathError(ValueError):
    """A formula that cannot be drawn as MathML; the message names it and what to do."""


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """The MathML of one TeX formula (without its $ delimiters): an inline <math>, or a
    display="block" one. MathError when latex2mathml cannot convert all of it."""
    where = f"the formula {'$$' if display else '$'}{tex.strip()}{'$$' if display else '$'}"
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception as e:  # latex2mathml's errors name their kind, often with no message
        detail = f"{type(e).__name__}{f': {e}' if str(e) else ''}"
        raise MathError(f"cannot draw {where} as MathML ({detail}): check its braces, "
                        "superscripts and subscripts") from e
    left = sorted(set(COMMAND.findall(mathml)))
    if left:
        raise MathError(f"cannot draw {where} as MathML: latex2mathml does not know "
                        f"{', '.join(left)}; write it with commands it knows (\\lambda, \\eta, "
                        "\\frac, \\times, \\pm, \\sqrt, \\mathbf, ...) or as plain text")
    return OPERATOR.sub(r"\1" + THIN, mathml.replace(XMLNS, "", 1))


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, writing MathML where it wrote TeX for MathJax."""

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body)

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


class ReportExporter(HTMLExporter):
    """HTMLExporter whose Markdown (cells and text/markdown outputs) has its math as MathML."""

    export_from_notebook = "HTML, math as MathML"

    @pass_context
    def markdown2html(self, context, source):
        """HTMLExporter.markdown2html (nbconvert 7.17) with MathMLRenderer for its renderer."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False, attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)
