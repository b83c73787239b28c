"""The notebooks: committed clean, parameters documented, and all of them run (quick profile)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import registry as sections
from helpers import workbook
from helpers.workbook import profiles, section

REGISTRY = sections.load()
SECTIONS = sections.names(REGISTRY)
ALL = [*SECTIONS, REGISTRY["report"]["notebook"]]
TRAINING = [s["notebook"] for s in REGISTRY["sections"] if s["figures"] and "lam" in
            profiles.declared(profiles.NOTEBOOKS / f"{s['notebook']}.ipynb")]
SEARCHES = [s["notebook"] for s in REGISTRY["sections"] if "count" in
            profiles.declared(profiles.NOTEBOOKS / f"{s['notebook']}.ipynb")]


def read(name):
    return nbformat.read(profiles.NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_in_the_registry_and_every_entry_has_a_notebook():
    """Every committed notebook; a person's copies (06-best-lambda-Copy1) are theirs."""
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=profiles.NOTEBOOKS,
                             capture_output=True, text=True)
    names = [Path(n).stem for n in tracked.stdout.split()] if tracked.returncode == 0 else \
        [p.stem for p in profiles.NOTEBOOKS.glob("*.ipynb") if section.strip_copy(p.stem) == p.stem]
    assert sorted(names) == sorted(ALL)


def run_notebook(name, out, values, cwd, official=True):
    """papermill one notebook as make runs it (official) or as a person would (a hand run)."""
    import papermill

    with pytest.MonkeyPatch.context() as env:
        env.setenv(workbook.NAME, name)
        if official:
            env.setenv(workbook.MAKE, "1")
        else:
            env.delenv(workbook.MAKE, raising=False)
        papermill.execute_notebook(str(profiles.NOTEBOOKS / f"{name}.ipynb"), str(out),
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
        assert line.startswith("# ") or ": " in line and "  # " in line, \
            f"typed literal with a comment, or a comment line: {line!r}"
    assert not any(line.lstrip().startswith(("def ", "class "))
                   for c in code for line in c.source.splitlines())
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


# Where a notebook runs from and writes to, not what it computes: after the science, under a
# comment line of their own, in this order
PLUMBING = ("section", "profile", "build_dir", "figures_dir", "data_dir", "limit", "use_cache",
            "device")


@pytest.mark.parametrize("name", SECTIONS)
def test_parameters_cell_puts_the_science_first_and_marks_the_plumbing(name):
    cell = next(c for c in read(name).cells if "parameters" in c.metadata.get("tags", []))
    lines = cell.source.splitlines()
    names = [line.split(":")[0] for line in lines]
    mark = next(k for k, line in enumerate(lines) if line.startswith("# plumbing"))
    assert not set(names[:mark]) & set(PLUMBING) and names[0] not in PLUMBING
    assert names[mark + 1:] == [p for p in PLUMBING if p in names]
    assert names[mark + 1] == "section" and lines[mark + 1] == f'section: str = "{name}"  ' \
        "# the section it runs (a copy keeps it)"


@pytest.mark.parametrize("name", ALL)
def test_every_notebook_has_profile_and_build_dir(name):
    known = profiles.notebook_parameters(profiles.NOTEBOOKS / f"{name}.ipynb")
    assert {"profile", "build_dir"} <= set(known)
    assert known["profile"] == '"assignment"'


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, cifar_dir):
    """Run every notebook, in order, with the quick profile; every output in tmp."""
    tmp = tmp_path_factory.mktemp("quick")
    paths = {"build_dir": str(tmp / "build"), "figures_dir": str(tmp / "figures"),
             "data_dir": str(cifar_dir)}
    for name in ALL:
        notebook = profiles.NOTEBOOKS / f"{name}.ipynb"
        known = profiles.notebook_parameters(notebook)
        values = {**profiles.parameters_for("quick", name),
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
    assert r["profile"] == "quick" and r["seconds"] >= 0 and r["git_commit"]
    run = r.get("retrained", r)  # 07 records its two runs apart
    assert set(run["accuracy"]) == {"train", "val", "test"}
    assert all(0 <= v <= 1 for v in run["accuracy"].values())
    assert run["steps"] == run["settings"]["n_s"] * 2 * run["settings"]["cycles"]
    for stem in r["figures"]:
        for suffix in (".png", ".pdf"):
            assert (quick_run / "figures" / "quick" / f"{stem}{suffix}").is_file()


@pytest.mark.data
def test_the_range_test_keeps_its_own_split_and_settings_apart_from_the_retraining(quick_run):
    r = result(quick_run, "07-lr-range-test")
    test, retrained = r["range_test"], r["retrained"]
    assert test["split"] != retrained["split"]  # the search split, then the final one
    assert len(test["history"]["eta"]["eta"]) != retrained["steps"]
    assert retrained["settings"]["eta_max"] == r["chosen"]["eta_max"]
    assert test["history"]["eta"]["eta"][0] == r["parameters"]["eta_start"]
    assert "settings" not in r and "accuracy" not in test
    rise = len(test["history"]["eta"]["eta"])  # the test's own steps, not the retraining's
    assert test["steps"] == test["settings"]["steps"] == rise != retrained["steps"]
    assert "cycles" not in test["settings"] and "n_s" not in test["settings"]


@pytest.mark.data
@pytest.mark.parametrize("name", SEARCHES)
def test_search_results(quick_run, name):
    r = result(quick_run, name)
    assert len(r["runs"]) == profiles.load_profile("quick")[name]["count"]
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
    shown = "\n".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    for kind, count in (("Figure", n_figures), ("Listing", n_listings)):  # numbered by the registry
        assert [shown.count(f"**{kind} {k}:**") for k in range(1, count + 2)] == [1] * count + [0]
    titles = [line for line in shown.splitlines() if line.startswith("## ")]
    assert [f"## {s['title']}" for s in REGISTRY["sections"]] == [t for t in titles if t[3:] in
                                                                  {s["title"] for s in
                                                                   REGISTRY["sections"]}]
    assert not [o for o in outputs if o.output_type == "error"]


@pytest.mark.data
def test_fine_search_can_centre_on_the_coarse_optimum(quick_run, cifar_dir):
    import math

    values = {**profiles.parameters_for("quick", "05-lambda-fine-search"), "profile": "quick",
              "build_dir": str(quick_run / "build"), "data_dir": str(cifar_dir),
              "centre_on_coarse": True, "half_width": 0.5, "use_cache": False}
    official = quick_run / "build" / "quick" / "results" / "05-lambda-fine-search.json"
    kept = official.read_bytes()  # what 06, and then 07, chose from: put back after
    try:
        run_notebook("05-lambda-fine-search", quick_run / "05-centred.ipynb", values, quick_run)
        best = result(quick_run, "04-lambda-coarse-search")["best"][0]["lambda"]
        low, high = result(quick_run, "05-lambda-fine-search")["range"]
    finally:
        official.write_bytes(kept)
    assert (low, high) == pytest.approx((math.log10(best) - 0.5, math.log10(best) + 0.5))


@pytest.mark.data
def test_a_hand_run_never_changes_what_the_report_reads(quick_run, cifar_dir):
    name = "02-clr-one-cycle"
    official = quick_run / "build" / "quick" / "results" / f"{name}.json"
    figures = sorted((quick_run / "figures" / "quick").iterdir())
    before = official.read_bytes(), [f.read_bytes() for f in figures]
    values = {**profiles.parameters_for("quick", name), "lam": 0.5,
              "build_dir": str(quick_run / "build"), "figures_dir": str(quick_run / "figures"),
              "data_dir": str(cifar_dir)}
    run_notebook(name, quick_run / "02-by-hand.ipynb", values, quick_run, official=False)
    assert (official.read_bytes(), [f.read_bytes() for f in figures]) == before
    hand = json.loads((quick_run / "build" / "hand" / "quick" / "results" / f"{name}.json")
                      .read_text())
    assert hand["lambda"] == 0.5 and hand["parameters"]["lam"] == 0.5
    assert (quick_run / "figures" / "hand" / "quick" / name / "fig1-curves-one-cycle.png").is_file()


def without_make_variables() -> dict:
    """This process's environment without the variables make sets for its own runs."""
    return {k: v for k, v in os.environ.items() if k not in (workbook.NAME, workbook.MAKE)}


def edited_copy(name, path, values):
    """notebooks/<name>.ipynb copied to `path` with its parameters cell's values replaced by
    `values`, as a person edits a copy before running it (section and types kept)."""
    nb = json.loads((profiles.NOTEBOOKS / f"{name}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    lines = []
    for line in "".join(cell["source"]).splitlines():
        key = line.split(":")[0]
        if key in values:
            declared, comment = line.split(" = ")[0], line.split("  # ")[1]
            line = f"{declared} = {values[key]!r}  # {comment}"
        lines.append(line)
    cell["source"] = "\n".join(lines)
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.data
@pytest.mark.parametrize("name", ["06-best-lambda", "07-lr-range-test", "08-bonus"])
def test_a_duplicated_notebook_runs_under_papermill_and_saves_under_its_own_name(
        quick_run, cifar_dir, name):
    official = quick_run / "build" / "quick" / "results"
    before = {p.name: p.read_bytes() for p in official.iterdir()}
    copy = quick_run / f"{name}-Copy1.ipynb"  # JupyterLab's Duplicate
    copy.write_bytes((profiles.NOTEBOOKS / f"{name}.ipynb").read_bytes())
    values = {**profiles.parameters_for("quick", name), "build_dir": str(quick_run / "build"),
              "figures_dir": str(quick_run / "figures"), "data_dir": str(cifar_dir)}
    yaml_file = quick_run / f"{name}-Copy1.yaml"
    yaml_file.write_text(json.dumps(values))  # JSON is YAML
    papermill = Path(sys.executable).parent / "papermill"
    subprocess.run([str(papermill), "-k", "python3", "--no-progress-bar", str(copy),
                    str(quick_run / f"{name}-Copy1.out.ipynb"), "-f", str(yaml_file)],
                   env=without_make_variables(), cwd=quick_run, check=True,
                   capture_output=True, timeout=600)
    hand = json.loads((quick_run / "build" / "hand" / "quick" / "results" /
                       f"{name}-Copy1.json").read_text())
    assert hand["notebook"] == f"{name}-Copy1"
    entry = sections.by_name(name, REGISTRY)
    for figure in entry["figures"]:
        assert (quick_run / "figures" / "hand" / "quick" / f"{name}-Copy1" /
                f"{figure}.png").is_file()
    assert {p.name: p.read_bytes() for p in official.iterdir()} == before


@pytest.mark.data
def test_nbconvert_runs_a_renamed_copy_with_no_variable_set(quick_run, cifar_dir):
    name = "02-clr-one-cycle"
    official = quick_run / "build" / "quick" / "results"
    before = {p.name: p.read_bytes() for p in official.iterdir()}
    values = {**profiles.parameters_for("quick", name), "build_dir": str(quick_run / "build"),
              "figures_dir": str(quick_run / "figures"), "data_dir": str(cifar_dir)}
    copy = edited_copy(name, quick_run / "my lam experiment.ipynb", {**values, "lam": 0.02})
    jupyter = Path(sys.executable).parent / "jupyter"
    subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", copy.name,
                    "--output", "my-lam-experiment.out.ipynb"], env=without_make_variables(),
                   cwd=quick_run, check=True, capture_output=True, timeout=600)
    hand = json.loads((quick_run / "build" / "hand" / "quick" / "results" /
                       "my lam experiment.json").read_text())
    assert hand["lambda"] == 0.02 and hand["parameters"]["section"] == name
    assert (quick_run / "figures" / "hand" / "quick" / "my lam experiment" /
            "fig1-curves-one-cycle.png").is_file()
    assert {p.name: p.read_bytes() for p in official.iterdir()} == before


@pytest.mark.data
@pytest.mark.slow
def test_a_training_notebook_on_the_torch_cpu_engine_agrees_with_numpy(tmp_path, cifar_dir):
    """02 of the quick profile, run as make runs it with DEVICE=cpu and without: the same
    networks (nothing drawn differs without dropout or augmentation), accuracies within float
    rounding; the device is a parameter of the run, recorded with it."""
    name, got = "02-clr-one-cycle", {}
    for device in ("", "cpu"):
        build = tmp_path / (device or "numpy")
        values = {**profiles.parameters_for("quick", name, device), "build_dir": str(build),
                  "figures_dir": str(build / "figures"), "data_dir": str(cifar_dir)}
        run_notebook(name, tmp_path / f"{device or 'numpy'}.ipynb", values, tmp_path)
        got[device] = json.loads((build / "quick" / "results" / f"{name}.json").read_text())
    assert got["cpu"]["parameters"]["device"] == "cpu" and not got[""]["parameters"].get("device")
    for part, value in got[""]["accuracy"].items():
        assert got["cpu"]["accuracy"][part] == pytest.approx(value, abs=2 / 500)  # <= 2 images
    np.testing.assert_allclose(got["cpu"]["history"]["curves"]["val_loss"],
                               got[""]["history"]["curves"]["val_loss"], rtol=1e-3)
