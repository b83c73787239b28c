"""Figures: the right axes and lines, and files written atomically."""

import matplotlib
import pytest

from helpers.report import plots
from helpers.workbook import results


def history(networks=2, records=4, steps=40):
    """A history in train()'s layout: `records` rows per network, eta at every step."""
    curves = {c: [] for c in ("step", "network", "lambda", "seed")}
    for r in range(records):
        for k in range(networks):
            curves["step"].append(r * steps // (records - 1))
            curves["network"].append(k)
            curves["lambda"].append(0.01)
            curves["seed"].append(k)
            for part in ("train", "val"):
                for name in plots.PANELS:
                    curves.setdefault(f"{part}_{name}", []).append(1.0 / (r + 1) + k)
    eta = {"step": list(range(steps + 1)), "eta": [1e-5 + 1e-3 * t for t in range(steps + 1)]}
    return {"curves": curves, "eta": eta}


def test_curves_three_panels_two_lines_each():
    fig = plots.curves(history(), network=1)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == list(plots.PANELS)
    for ax in fig.axes:
        assert len(ax.get_lines()) == 2
        assert list(ax.get_lines()[0].get_xdata()) == [0, 13, 26, 40]
    assert fig.axes[2].get_lines()[1].get_ydata()[0] == pytest.approx(200.0)  # percent


def test_curves_unknown_network_is_an_error():
    with pytest.raises(ValueError, match="no network 5"):
        plots.curves(history(networks=2), network=5)


def test_learning_rate_one_line_over_every_step():
    fig = plots.learning_rate(history(steps=40))
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert len(line.get_xdata()) == 41


def test_accuracy_vs_lambda_log_axis_and_best_marked():
    rows = [{"lambda": 10.0**-k, "train_accuracy": 0.5, "val_accuracy": 0.4 + k / 100}
            for k in range(5, 0, -1)]
    fig = plots.accuracy_vs_lambda(rows, best=rows[:1])
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert len(ax.get_lines()) == 2
    assert list(ax.get_lines()[0].get_xdata()) == sorted(r["lambda"] for r in rows)
    assert len(ax.collections) == 1


def test_figures_are_not_left_open_in_pyplot():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    plots.curves(history())
    assert len(plt.get_fignums()) == before


def test_save_writes_png_and_pdf(tmp_path):
    paths = results.save_figure(plots.learning_rate(history()), tmp_path / "sub" / "fig2-eta")
    assert [p.name for p in paths] == ["fig2-eta.png", "fig2-eta.pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["fig2-eta.pdf", "fig2-eta.png"]


def test_save_failure_leaves_nothing_that_looks_finished(tmp_path, monkeypatch):
    fig = plots.learning_rate(history())

    def broken(self, file, **kwargs):
        file.write(b"half a figure")
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        results.save_figure(fig, tmp_path / "fig1")
    assert list(tmp_path.iterdir()) == []


def test_bonus_curves_one_line_per_configuration_at_the_cycle_ends_only():
    """Recorded twice a cycle from step 0: the points drawn are the cycle ends (epochs 4, 8)."""
    curves = {"full recipe": {"epochs": [0, 2, 4, 6, 8], "val": [0.1, 0.4, 0.55, 0.45, 0.58]},
              "without x": {"epochs": [0, 2, 4, 6, 8], "val": [0.1, 0.3, 0.5, 0.4, 0.52]}}
    ax = plots.bonus_curves(curves).axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(curves)
    assert list(lines[0].get_xdata()) == [4, 8]
    assert list(lines[0].get_ydata()) == pytest.approx([55, 58])
    assert lines[0].get_linewidth() > lines[1].get_linewidth()


def every_figure():
    """Each figure of the report, drawn from small synthetic results."""
    rows = [{"lambda": 10.0**-k, "train_accuracy": 0.5, "val_accuracy": 0.4 + k / 100}
            for k in range(5, 0, -1)]
    eta = [1e-5 + 1e-3 * min(t, 40 - t) for t in range(41)]  # one triangle
    curves = {"full recipe": {"epochs": [0, 2, 4, 6, 8], "val": [0.1, 0.4, 0.55, 0.45, 0.58]},
              "without x": {"epochs": [0, 2, 4, 6, 8], "val": [0.1, 0.3, 0.5, 0.4, 0.52]}}
    return {"curves": plots.curves(history()),
            "learning_rate": plots.learning_rate({"eta": {"step": list(range(41)), "eta": eta}}),
            "accuracy_vs_lambda": plots.accuracy_vs_lambda(rows, best=rows[-1:]),
            "range_test": plots.range_test([0.1, 0.2, 0.3], [[0.2, 0.3, 0.1], [0.2, 0.4, 0.1]],
                                           [[2.0, 1.5, 9.0], [2.0, 1.4, 9.0]],
                                           {"eta_min": 0.05, "eta_max": 0.2}),
            "bonus_curves": plots.bonus_curves(curves)}


def test_every_figure_says_what_it_shows_in_its_alternative_text():
    figures = every_figure()
    alt = {name: fig.alt for name, fig in figures.items()}
    assert "training accuracy is 25.00 % and the validation accuracy 25.00 %" in alt["curves"]
    assert "from 1e-05 to 0.02 and falling back, 1 time(s)" in alt["learning_rate"]
    assert "45.00 %, is at lambda = 1e-05; circles mark the best 1" in alt["accuracy_vs_lambda"]
    assert "peaks at 35.00 % at 0.2" in alt["range_test"]
    assert "0.05 to 0.2" in alt["range_test"]
    assert "(full recipe; without x). The first, full recipe" in alt["bonus_curves"]
    assert "ends at 58.00 %" in alt["bonus_curves"]
    assert len(set(alt.values())) == len(alt)


def inline_shell():
    """IPython's shell drawing figures as the report's kernel does (PNG and PDF)."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib_inline.backend_inline import select_figure_formats

    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"png", "pdf"})
    return shell


def test_a_shown_figure_carries_its_alternative_text_as_its_images_metadata():
    shell = inline_shell()
    for fig in every_figure().values():
        data, metadata = shell.display_formatter.format(fig)
        assert {"image/png", "application/pdf"} <= set(data)  # drawn as before
        assert metadata["image/png"] == {"alt": fig.alt}


def test_the_html_report_writes_each_figures_alt_and_nbconvert_does_not_warn(caplog):
    import nbformat
    from nbconvert import HTMLExporter

    from helpers import paths

    data, metadata = inline_shell().display_formatter.format(plots.curves(history()))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("plots.curves(history)")]
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata),
                           nbformat.v4.new_output("display_data", data=data)]  # without alt
    exporter = HTMLExporter(template_name="dd2424-html",
                            extra_template_basedirs=[str(paths.ROOT / "templates")])
    with caplog.at_level("WARNING"):
        html, _ = exporter.from_notebook_node(nb)
    alt = metadata["image/png"]["alt"]
    assert html.count(f'<img alt="{alt}"') == 1
    assert "Alternative text is missing on 1 image(s)." in caplog.text  # the one without
