"""The notebooks: committed clean, parameters documented, and all of them run (quick profile)."""

import json

import nbformat
import pytest

from helpers import params

SECTIONS = ["01-gradient-check", "02-clr-one-cycle", "03-clr-three-cycles",
            "04-lambda-coarse-search", "05-lambda-fine-search", "06-best-lambda"]
ALL = [*SECTIONS, "report"]
TRAINING = {"02-clr-one-cycle": 2, "03-clr-three-cycles": 2, "06-best-lambda": 2}  # figures


def read(name):
    return nbformat.read(params.NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_the_notebooks_are_the_expected_ones():
    assert sorted(p.stem for p in params.NOTEBOOKS.glob("*.ipynb")) == sorted(ALL)


@pytest.mark.parametrize("name", ALL)
def test_committed_without_outputs_and_orchestrates_only(name):
    nb = read(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    for line in tagged[0].source.splitlines():
        assert ": " in line and "  # " in line, f"typed literal with a comment: {line!r}"
    assert not any(line.lstrip().startswith(("def ", "class "))
                   for c in code for line in c.source.splitlines())
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.parametrize("name", ALL)
def test_every_notebook_has_profile_and_build_dir(name):
    known = params.notebook_parameters(params.NOTEBOOKS / f"{name}.ipynb")
    assert {"profile", "build_dir"} <= set(known)
    assert known["profile"] == '"assignment"'


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, cifar_dir):
    """Run all seven notebooks, in order, with the quick profile; every output in tmp."""
    import papermill

    tmp = tmp_path_factory.mktemp("quick")
    paths = {"build_dir": str(tmp / "build"), "figures_dir": str(tmp / "figures"),
             "data_dir": str(cifar_dir)}
    for name in ALL:
        notebook = params.NOTEBOOKS / f"{name}.ipynb"
        known = params.notebook_parameters(notebook)
        values = {**params.parameters_for("quick", name),
                  **{k: v for k, v in paths.items() if k in known}}
        papermill.execute_notebook(str(notebook), str(tmp / f"{name}.ipynb"), parameters=values,
                                   kernel_name="python3", progress_bar=False, cwd=str(tmp),
                                   execution_timeout=300)
    return tmp


def result(tmp, name):
    return json.loads((tmp / "build" / "quick" / "results" / f"{name}.json").read_text())


@pytest.mark.data
def test_gradient_check_results(quick_run):
    errors = result(quick_run, "01-gradient-check")["max_relative_error"]
    for oracle, bound in (("autograd", 1e-10), ("finite_difference", 1e-4)):
        assert set(errors[oracle]) == {"W1", "b1", "W2", "b2"}
        assert max(errors[oracle].values()) < bound


@pytest.mark.data
@pytest.mark.parametrize("name", TRAINING)
def test_training_results_and_figures(quick_run, name):
    r = result(quick_run, name)
    assert set(r["accuracy"]) == {"train", "val", "test"}
    assert all(0 <= v <= 1 for v in r["accuracy"].values())
    assert r["steps"] == r["settings"]["n_s"] * 2 * r["settings"]["cycles"]
    assert r["profile"] == "quick" and r["seconds"] >= 0 and r["git_commit"]
    for stem in r["figures"]:
        for suffix in (".png", ".pdf"):
            assert (quick_run / "figures" / "quick" / f"{stem}{suffix}").is_file()


@pytest.mark.data
@pytest.mark.parametrize("name", ["04-lambda-coarse-search", "05-lambda-fine-search"])
def test_search_results(quick_run, name):
    r = result(quick_run, name)
    assert len(r["runs"]) == params.load_profile("quick")[name]["count"]
    assert len(r["best"]) == 3
    assert [b["val_accuracy"] for b in r["best"]] == sorted(
        (x["val_accuracy"] for x in r["runs"]), reverse=True)[:3]
    for row in r["runs"] + r["best"]:
        assert {"lambda", "train_accuracy", "val_accuracy"} <= set(row)


@pytest.mark.data
def test_best_lambda_comes_from_the_fine_search(quick_run):
    final, fine = result(quick_run, "06-best-lambda"), result(quick_run, "05-lambda-fine-search")
    assert final["lambda"] == fine["best"][0]["lambda"]
    assert final["lambda_source"] == "05-lambda-fine-search"


@pytest.mark.data
def test_report_shows_seven_figures_and_six_listings(quick_run):
    nb = nbformat.read(quick_run / "report.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 7
    assert all("application/pdf" in o["data"] for o in figures)  # vector in the PDF
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.count("Accuracy for testing : ") == 3
    assert text.count("lambda=") == 6 and text.count("Relative errors in W:") == 2
    captions = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert all(f"**Figure {k}:**" in captions for k in range(1, 8))
    assert all(f"**Listing {k}:**" in captions for k in range(1, 7))
    assert not [o for o in outputs if o.output_type == "error"]


@pytest.mark.data
def test_fine_search_can_centre_on_the_coarse_optimum(quick_run, cifar_dir):
    import math

    import papermill

    values = {**params.parameters_for("quick", "05-lambda-fine-search"), "profile": "quick",
              "build_dir": str(quick_run / "build"), "data_dir": str(cifar_dir),
              "centre_on_coarse": True, "half_width": 0.5, "use_cache": False}
    papermill.execute_notebook(str(params.NOTEBOOKS / "05-lambda-fine-search.ipynb"),
                               str(quick_run / "05-centred.ipynb"), parameters=values,
                               kernel_name="python3", progress_bar=False, cwd=str(quick_run),
                               execution_timeout=300)
    best = result(quick_run, "04-lambda-coarse-search")["best"][0]["lambda"]
    low, high = result(quick_run, "05-lambda-fine-search")["range"]
    assert (low, high) == pytest.approx((math.log10(best) - 0.5, math.log10(best) + 0.5))
