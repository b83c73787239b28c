"""helpers.report.reference: the reference is written from a build's results (never typed), and
the check of a build against it catches a flipped verdict, a changed chosen setting and an
accuracy outside its tolerance, and passes identical results and differences inside it.
(tests/test_reference.py is helpers/training/reference.py's.)"""

import json
import math

import pytest

from helpers import paths
from helpers.report import reference

NB = reference.notebooks()
RECIPE = {"m": 1000, "lam": 5e-4, "dropout": 0.0, "max_shift": 0, "p_flip": 0.0, "k": 256,
          "cycles": 6, "eta_min": 1e-5, "eta_max": 0.1}


def spread(mean: float, std: float = 0.003, n: int = 5) -> dict:
    values = [mean + std * (i - (n - 1) / 2) for i in range(n)]
    return {"mean": mean, "std": std, "values": values}


def results(shift: float = 0.0) -> dict:
    """{notebook: results} with every part the reference reads; `shift` moves every accuracy."""
    over = {p: spread(v + shift) for p, v in (("train", 0.6), ("val", 0.53), ("test", 0.516))}
    run = {"accuracy": {p: o["values"][0] for p, o in over.items()}, "accuracy_over_seeds": over,
           "lambda": 7.7e-4, "settings": {"eta_min": 1e-5, "eta_max": 0.1}, "seconds": 100.0,
           "seeds": [0, 1, 2, 3, 4], "split": "final: seed 0", "sizes": {"val": 1000},
           "git_commit": "abc", "parameters": {"m": 50, "build_dir": "/somewhere"},
           "history": {"curves": [1, 2, 3]}}
    search = {"best": [{"lambda": 1.6e-5, "val_accuracy": 0.514 + shift}], "runs": [1] * 100}
    gain = {"gain": 0.013, "se": 0.001, "t": 13.0, "q": 2.92, "margin": 0.005, "n": 3,
            "verdict": "better"}
    rows = [{"row": "full recipe", "recipe": RECIPE, "val": spread(0.5716 + shift, 0.0006, 3),
             "component": None},
            {"row": "one network, not its last 3 cycle ends", "recipe": RECIPE,
             "val": spread(0.5716 + shift, 0.0006, 3), "component": "snapshots",
             "ensemble_val": spread(0.5715 + shift, 0.0015, 3), "gain": gain, "kept": True}]
    bonus = {"rows": rows, "chosen": {"recipe": RECIPE, "val": spread(0.59 + shift, 0.003, 3)},
             "final_split": {"single": {p: spread(0.585 + shift, 0.0012) for p in ("val", "test")},
                             "ensemble": {"members": 5, "val": 0.603, "test": 0.5997 + shift},
                             "snapshot_ensemble": {"members": 15, "cycles": 3, "val": 0.602,
                                                   "test": 0.6007 + shift},
                             "agreement": 0.78}}
    rng = {"chosen": {"eta_min": 0.0273, "eta_max": 0.109}, "parameters": {"margin": 0.005},
           "lambda": 7.7e-4, "retrained": {
               "accuracy_over_seeds": {p: spread(o["mean"] - 0.003) for p, o in over.items()},
               "seeds": [0, 1, 2, 3, 4], "split": "final: seed 0", "sizes": {"val": 1000}}}
    grad = {"max_relative_error": {"autograd": {"W1": 3e-14}, "finite_difference": {"W1": 6e-7}}}
    made = {NB["grad"]: grad, NB["one"]: run, NB["three"]: run, NB["coarse"]: search,
            NB["fine"]: search, NB["final"]: run, NB["range"]: rng, NB["bonus"]: bonus}
    return json.loads(json.dumps(made))  # every notebook its own copy


def build(tmp_path, runs: dict, profile: str = "assignment"):
    folder = tmp_path / "build" / profile / "results"
    folder.mkdir(parents=True, exist_ok=True)
    for name, record in runs.items():
        (folder / f"{name}.json").write_text(json.dumps(record))
    return tmp_path / "build"


@pytest.fixture
def written(tmp_path):
    """(reference file, build folder) written from results()."""
    where, path = build(tmp_path, results()), tmp_path / "reference.json"
    reference.write(path, where)
    return path, where


def test_the_writer_reads_the_results(tmp_path):
    for shift in (0.0, 0.01):
        where, path = build(tmp_path, results(shift)), tmp_path / f"ref{shift}.json"
        said = reference.write(path, where)
        entry = reference.load(path)["profiles"]["assignment"]
        acc = entry["accuracies"]
        assert acc[f"{NB['final']}: test accuracy over seeds"]["mean"] == pytest.approx(
            0.516 + shift)
        assert acc[f"{NB['bonus']}: final split, ensemble, test accuracy"]["mean"] == \
            pytest.approx(0.5997 + shift)
        assert acc[f"{NB['bonus']}: snapshots: gain"] == {
            "mean": 0.013, "std": pytest.approx(0.001 * math.sqrt(3)), "n": 3}
        assert entry["choices"][f"{NB['bonus']}: snapshots: verdict"] == "better"
        assert entry["choices"][f"{NB['range']}: eta_max"] == 0.109
        assert entry["choices"][f"{NB['bonus']}: chosen recipe"] == RECIPE
        assert entry["results"][NB["final"]]["accuracy_over_seeds"]["test"]["mean"] == \
            pytest.approx(0.516 + shift)
        assert "history" not in entry["results"][NB["final"]]  # curves are not kept
        assert "build_dir" not in entry["results"][NB["final"]]["parameters"]
        assert entry["git_commit"] == "abc" and entry["seconds"][NB["final"]] == 100.0
        m = entry["machine"]
        assert m["cpu"] and m["cores"] >= 1 and m["packages"]["numpy"]
        assert {"library", "version", "kernel", "threads"} <= set(m["numeric_stack"]["blas"][0])
        assert any("assignment: " in line for line in said)
        assert any(line.startswith("seed: not in the reference") for line in said)


def test_a_profile_not_built_keeps_its_entry(written, tmp_path):
    path, where = written
    data = reference.load(path)
    data["profiles"]["seed"] = {"kept": True}
    path.write_text(json.dumps(data))
    said = reference.write(path, where)
    assert reference.load(path)["profiles"]["seed"] == {"kept": True}
    assert list(reference.load(path)["profiles"]) == ["seed", "assignment"]
    assert any(line.startswith("seed: kept the reference's entry") for line in said)


def check(path, where, runs=None, profile="assignment"):
    if runs is not None:
        build(where.parent, runs, profile)
    return reference.check(reference.load(path), where, profile)


def test_identical_results_agree(written):
    status, lines = check(*written)
    assert status == 0 and len(lines) == 1
    assert "agrees with" in lines[0] and "verdicts and chosen settings identical" in lines[0]


def test_a_flipped_verdict_disagrees(written):
    runs = results()
    runs[NB["bonus"]]["rows"][1]["gain"]["verdict"] = "no measurable difference"
    runs[NB["bonus"]]["rows"][1]["kept"] = False
    status, lines = check(*written, runs)
    assert status == 1 and "DISAGREES" in lines[0]
    text = "\n".join(lines)
    assert (f"differs: {NB['bonus']}: snapshots: verdict: reference 'better', this build "
            "'no measurable difference'") in text
    assert f"differs: {NB['bonus']}: snapshots: kept" in text
    assert "reference made on:" in text and "this check runs on:" in text


def test_a_changed_chosen_setting_disagrees(written):
    runs = results()
    runs[NB["range"]]["chosen"]["eta_max"] = 0.11
    runs[NB["bonus"]]["chosen"]["recipe"] = {**RECIPE, "cycles": 3}
    status, lines = check(*written, runs)
    text = "\n".join(lines)
    assert status == 1
    assert f"differs: {NB['range']}: eta_max: reference 0.109, this build 0.11" in text
    assert f"differs: {NB['bonus']}: chosen recipe: reference m = 1000" in text
    assert "3 cycles" in text


def test_a_rows_own_search_picking_another_lambda_is_said_not_failed(written):
    """A row's own lambda and dropout (a near tie of its search) are noted; what the row
    removes, and the chosen recipe, stay choices."""
    runs = results()
    runs[NB["bonus"]]["rows"][1]["recipe"] = {**RECIPE, "lam": 7.7e-4}
    status, lines = check(*written, runs)
    assert status == 0 and "agrees with" in lines[0] and len(lines) == 2
    assert lines[1].startswith(f"  note: {NB['bonus']}: snapshots: its search's pick is ")
    assert "0.00077" in lines[1] and "0.0005" in lines[1]
    runs[NB["bonus"]]["rows"][1]["recipe"] = {**RECIPE, "m": 50}  # what the row removes
    status, lines = check(*written, runs)
    assert status == 1 and f"differs: {NB['bonus']}: snapshots: recipe" in "\n".join(lines)
    runs = results()
    runs[NB["bonus"]]["rows"][0]["recipe"] = {**RECIPE, "lam": 7.7e-4}  # the full recipe's
    assert check(*written, runs)[0] == 1


def test_an_accuracy_inside_its_tolerance_agrees_and_outside_disagrees(written):
    path, where = written
    entry = reference.load(path)["profiles"]["assignment"]
    key = f"{NB['final']}: test accuracy over seeds"
    tol = reference.tolerance(entry["accuracies"][key], reference.floor(entry["accuracies"]))
    assert tol == pytest.approx(3 * math.sqrt(2 / 5) * 0.003)  # its own std is the floor's
    for factor, status in ((0.9, 0), (1.1, 1)):
        runs = results()
        over = runs[NB["final"]]["accuracy_over_seeds"]["test"]
        over["mean"] += factor * tol
        got, lines = check(path, where, runs)
        assert got == status, lines
    assert [line for line in lines if line.startswith("  outside:")] == [
        f"  outside: {key}: reference 51.60 ± 0.30 (5 seeds), this build "
        f"{100 * (0.516 + 1.1 * tol):.2f} ± 0.30 (5 seeds); |difference| {110 * tol:.2f} > "
        f"tolerance {100 * tol:.2f} points"]


def test_the_tolerance_rule():
    assert reference.tolerance({"std": 0.01, "n": 3}, 0.0) == pytest.approx(
        3 * math.sqrt(2 / 3) * 0.01)
    # a tiny spread, or a number measured once with none, takes the floor
    assert reference.tolerance({"std": 1e-5, "n": 3}, 0.004) == pytest.approx(
        3 * math.sqrt(2 / 3) * 0.004)
    assert reference.tolerance({"std": None, "n": 1}, 0.004) == pytest.approx(
        3 * math.sqrt(2) * 0.004)
    accuracies = {"a": {"std": 0.001, "n": 3}, "b": {"std": 0.003, "n": 5},
                  "c": {"std": 0.005, "n": 5}, "d": {"std": 0.9, "n": 1},
                  "x: gain": {"std": 0.9, "n": 3}}
    assert reference.floor(accuracies) == 0.003  # median of those over several seeds


def test_a_missing_part_is_named_and_a_profile_not_in_the_reference_passes(written):
    runs = results()
    del runs[NB["bonus"]]["final_split"]
    status, lines = check(*written, runs)
    assert status == 1
    assert f"  missing in this build: {NB['bonus']}: final split, ensemble, test accuracy" in lines
    status, lines = check(*written, results(), profile="quick")
    assert status == 0 and "has no `quick` profile" in lines[0]


def test_a_build_accuracy_that_is_not_a_number_disagrees(written):
    """A NaN accuracy (a diverged run) once passed: |NaN - x| > tolerance is False."""
    runs = results()
    runs[NB["final"]]["accuracy_over_seeds"]["test"]["mean"] = math.nan
    status, lines = check(*written, runs)
    assert status == 1 and "DISAGREES" in lines[0]
    assert f"  not a number: {NB['final']}: test accuracy over seeds: this build has nan" in \
        "\n".join(lines)


def test_a_reference_std_that_is_not_a_number_is_refused(written):
    """A NaN std made every tolerance NaN, and every comparison with it passed."""
    path, where = written
    data = json.loads(path.read_text())
    key = f"{NB['final']}: test accuracy over seeds"
    data["profiles"]["assignment"]["accuracies"][key]["std"] = math.nan
    path.write_text(json.dumps(data))
    with pytest.raises(reference.ReferenceError, match="std that is not a number"):
        check(path, where)
    assert reference.main(["check", "assignment", "--reference", str(path), "--build",
                           str(where)]) == 2


def test_a_profile_that_does_not_exist_is_an_error_not_a_pass(written, capsys):
    path, where = written
    status, lines = check(path, where, profile="asignment")
    assert status == 2 and "no profile `asignment`" in lines[0] and "assignment" in lines[0]
    assert reference.main(["check", "asignment", "--reference", str(path), "--build",
                           str(where)]) == 2


def test_the_command_line(written, capsys):
    path, where = written
    args = ["--reference", str(path), "--build", str(where)]
    assert reference.main(["check", "assignment", *args]) == 0
    assert "agrees with" in capsys.readouterr().out
    assert reference.main(["check", "assignment", "--reference", str(path.with_name("no.json")),
                           "--build", str(where)]) == 2
    assert "make reference" in capsys.readouterr().err


def test_the_committed_reference_was_written_by_the_command():
    """notebooks/reference.json's numbers are what its own results give (not edited by hand),
    and they agree with themselves."""
    data = reference.load(paths.NOTEBOOKS / "reference.json")
    assert data["profiles"] and set(data["profiles"]) <= set(reference.PROFILES)
    for profile, entry in data["profiles"].items():
        assert reference.facts(entry["results"]) == {
            "accuracies": entry["accuracies"], "choices": entry["choices"],
            "picks": entry["picks"]}, profile
        assert entry["machine"]["numeric_stack"]["blas"] and entry["machine"]["cpu"]


def test_two_builds_compared_as_a_build_with_the_reference(tmp_path, capsys):
    first = build(tmp_path / "a", results())
    second = build(tmp_path / "b", results(shift=0.0001))
    assert reference.main(["compare", "assignment", str(first), str(second)]) == 0
    assert "agrees with" in capsys.readouterr().out
    runs = results()
    runs[NB["bonus"]]["rows"][1]["gain"]["verdict"] = "no measurable difference"
    third = build(tmp_path / "c", runs)
    assert reference.main(["compare", "assignment", str(first), str(third)]) == 1
    assert "snapshots: verdict" in capsys.readouterr().out
    sections = ",".join(n for n in NB.values() if n != NB["bonus"])
    assert reference.main(["compare", "assignment", str(first), str(third),
                           "--sections", sections]) == 0  # the bonus left out
    assert "(`assignment`)" in capsys.readouterr().out
