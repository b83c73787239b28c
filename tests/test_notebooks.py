"""The notebooks: committed clean, parameters documented, and all of them run (quick profile)."""

import json

import nbformat
import pytest

from helpers import params, sections, workbook

REGISTRY = sections.load()
SECTIONS = sections.names(REGISTRY)
ALL = [*SECTIONS, REGISTRY["report"]["notebook"]]
TRAINING = [s["notebook"] for s in REGISTRY["sections"] if s["figures"] and "lam" in
            params.declared(params.NOTEBOOKS / f"{s['notebook']}.ipynb")]
SEARCHES = [s["notebook"] for s in REGISTRY["sections"] if "count" in
            params.declared(params.NOTEBOOKS / f"{s['notebook']}.ipynb")]


def read(name):
    return nbformat.read(params.NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_in_the_registry_and_every_entry_has_a_notebook():
    assert sorted(p.stem for p in params.NOTEBOOKS.glob("*.ipynb")) == sorted(ALL)


def run_notebook(name, out, values, cwd, official=True):
    """papermill one notebook as make runs it (official) or as a person would (a hand run)."""
    import papermill

    with pytest.MonkeyPatch.context() as env:
        env.setenv(workbook.NAME, name)
        if official:
            env.setenv(workbook.MAKE, "1")
        else:
            env.delenv(workbook.MAKE, raising=False)
        papermill.execute_notebook(str(params.NOTEBOOKS / f"{name}.ipynb"), str(out),
                                   parameters=values, kernel_name="python3", progress_bar=False,
                                   cwd=str(cwd), execution_timeout=300)


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
    """Run every notebook, in order, with the quick profile; every output in tmp."""
    tmp = tmp_path_factory.mktemp("quick")
    paths = {"build_dir": str(tmp / "build"), "figures_dir": str(tmp / "figures"),
             "data_dir": str(cifar_dir)}
    for name in ALL:
        notebook = params.NOTEBOOKS / f"{name}.ipynb"
        known = params.notebook_parameters(notebook)
        values = {**params.parameters_for("quick", name),
                  **{k: v for k, v in paths.items() if k in known}}
        run_notebook(name, tmp / f"{name}.ipynb", values, tmp)
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
@pytest.mark.parametrize("name", SEARCHES)
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
def test_report_shows_every_figure_and_listing_of_the_registry(quick_run):
    n_figures = sum(len(s["figures"]) for s in REGISTRY["sections"])
    n_listings = sum(s["listings"] for s in REGISTRY["sections"])
    nb = nbformat.read(quick_run / "report.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == n_figures
    assert all("application/pdf" in o["data"] for o in figures)  # vector in the PDF
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.count("Accuracy for testing : ") == 3
    assert text.count("lambda=") == 6 and text.count("Relative errors in W:") == 2
    captions = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert all(f"**Figure {k}:**" in captions for k in range(1, n_figures + 1))
    assert all(f"**Listing {k}:**" in captions for k in range(1, n_listings + 1))
    assert not [o for o in outputs if o.output_type == "error"]


@pytest.mark.data
def test_fine_search_can_centre_on_the_coarse_optimum(quick_run, cifar_dir):
    import math

    values = {**params.parameters_for("quick", "05-lambda-fine-search"), "profile": "quick",
              "build_dir": str(quick_run / "build"), "data_dir": str(cifar_dir),
              "centre_on_coarse": True, "half_width": 0.5, "use_cache": False}
    run_notebook("05-lambda-fine-search", quick_run / "05-centred.ipynb", values, quick_run)
    best = result(quick_run, "04-lambda-coarse-search")["best"][0]["lambda"]
    low, high = result(quick_run, "05-lambda-fine-search")["range"]
    assert (low, high) == pytest.approx((math.log10(best) - 0.5, math.log10(best) + 0.5))


@pytest.mark.data
def test_a_hand_run_never_changes_what_the_report_reads(quick_run, cifar_dir):
    name = "02-clr-one-cycle"
    official = quick_run / "build" / "quick" / "results" / f"{name}.json"
    figures = sorted((quick_run / "figures" / "quick").iterdir())
    before = official.read_bytes(), [f.read_bytes() for f in figures]
    values = {**params.parameters_for("quick", name), "lam": 0.5,
              "build_dir": str(quick_run / "build"), "figures_dir": str(quick_run / "figures"),
              "data_dir": str(cifar_dir)}
    run_notebook(name, quick_run / "02-by-hand.ipynb", values, quick_run, official=False)
    assert (official.read_bytes(), [f.read_bytes() for f in figures]) == before
    hand = json.loads((quick_run / "build" / "hand" / "quick" / "results" / f"{name}.json")
                      .read_text())
    assert hand["lambda"] == 0.5 and hand["parameters"]["lam"] == 0.5
    assert (quick_run / "figures" / "hand" / "quick" / "fig1-curves-one-cycle.png").is_file()
