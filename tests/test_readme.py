"""helpers.report.readme rebuilds the README's blocks from a reference file (synthetic ones in
tmp_path, and the repository's own: README.md must agree with notebooks/reference.json)."""

import json

import pytest

from helpers import paths
from helpers.report import readme, reference

README = """# Title

Prose before.

<!-- results:begin -->
| run | original report (m = 100) | `seed` profile | `assignment` profile |
|---|---|---|---|
| gradient check, max rel. error vs autograd | 1.6e-14 | old | old |
| Exercise 3 | 47.54 % | old | old |
| fine search, best validation | 55.12 % (lambda 2.2e-3) | old | old |
<!-- results:end -->

Prose after.
"""


def results(shift: float) -> dict:
    """{notebook: results} with the keys the table reads; `shift` moves every accuracy."""
    run = {"accuracy": {"train": 0.6, "val": 0.45, "test": 0.4634 + shift},
           "accuracy_over_seeds": {"test": {"mean": 0.4619 + shift, "std": 0.0028,
                                            "values": [0.4634, 0.4604]}}}
    search = {"best": [{"lambda": 1.59e-5, "train_accuracy": 0.55, "val_accuracy": 0.5134 + shift},
                       {"lambda": 2e-5, "train_accuracy": 0.56, "val_accuracy": 0.51}]}
    grad = {"max_relative_error": {
        "autograd": {"W1": 2.93e-14, "b1": 9e-16, "W2": 1.2e-14, "b2": 1e-15},
        "finite_difference": {"W1": 5.85e-7, "b1": 1e-8, "W2": 1e-7, "b2": 3e-9}}}
    return {"01-gradient-check": grad, "02-clr-one-cycle": {**run, "parameters": {"m": 50}},
            "03-clr-three-cycles": run, "04-lambda-coarse-search": search,
            "05-lambda-fine-search": search, "06-best-lambda": run}


def original(test: float = 0.4754) -> dict:
    """notebooks/original.json's layout: {part: {name: {"value", "source"}}}."""
    parts = {"gradient_check": {"W1": 1.63e-14, "W2": 2.1e-16, "b1": 1.6e-15, "b2": 3e-16},
             "Exercise 3": {"train": 0.6456, "val": 0.4652, "test": test},
             "Exercise 4": {"train": 0.739, "val": 0.4854, "test": 0.4881},
             "coarse": {"lambda": 6.2466e-4, "train": 0.5873, "val": 0.529},
             "fine": {"lambda": 2.2477e-3, "train": 0.6212, "val": 0.5512},
             "Best lambda": {"train": 0.6419, "val": 0.547, "test": 0.5444}}
    return {part: {k: {"value": v, "source": "Listing"} for k, v in values.items()}
            for part, values in parts.items()}


def write_results(path, profile: str, shift: float = 0.0, drop: str = "") -> None:
    """Put `profile`'s results (less notebook `drop`) into the reference file at `path`, in
    notebooks/reference.json's layout (helpers.report.reference)."""
    data = (json.loads(path.read_text()) if path.is_file()
            else {"format": reference.FORMAT, "profiles": {}})
    runs = {nb: r for nb, r in results(shift).items() if nb != drop}
    data["profiles"][profile] = {"results": runs}
    path.write_text(json.dumps(data))


@pytest.fixture
def files(tmp_path):
    """(README path, reference file, original.json) with results of both profiles."""
    path, ref, first = (tmp_path / "README.md", tmp_path / "reference.json",
                        tmp_path / "original.json")
    path.write_text(README)
    first.write_text(json.dumps(original()))
    write_results(ref, "seed", shift=0.01)
    write_results(ref, "assignment")
    return path, ref, first


def run(files, *flags) -> int:
    path, ref, first = files
    return readme.main(["--readme", str(path), "--reference", str(ref), "--original", str(first),
                        *flags])


def rows(text: str) -> dict:
    """{row label: its cells} of the table between the markers."""
    lines = readme.block(text)[1].strip().splitlines()
    return {cells[0]: cells[1:] for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_the_table_is_rebuilt_from_the_results(files):
    assert run(files) == 0
    text = files[0].read_text()
    table = rows(text)
    assert table["run"] == ["original report (m = 100)", "`seed` profile (m = 50)",
                            "`assignment` profile (m = 50)"]
    assert table["Exercise 3"] == ["47.54 %", "47.34 % (47.19 ± 0.28)", "46.34 % (46.19 ± 0.28)"]
    assert table["coarse search, best validation"] == [
        "52.90 % (lambda 6.2e-4)", "52.34 % (lambda 1.6e-5)", "51.34 % (lambda 1.6e-5)"]
    assert table["gradient check, max rel. error vs autograd"] == [
        "1.6e-14", "2.9e-14 (5.9e-7 vs finite differences)",
        "2.9e-14 (5.9e-7 vs finite differences)"]
    assert table["best lambda, 3 cycles on 49,000 images"][0] == "54.44 %"
    assert [label for label, *_ in readme.ROWS] == list(table)[2:]  # every row, in order
    before, _, after = readme.block(text)
    assert before.startswith(README.split("<!--")[0]) and after.endswith("Prose after.\n")
    assert sorted(p.name for p in files[0].parent.iterdir()) == [
        "README.md", "original.json", "reference.json"]  # no temporary file left


def test_the_original_column_comes_from_original_json(files, capsys):
    files[2].write_text(json.dumps(original(test=0.4801)))
    assert run(files) == 0
    assert rows(files[0].read_text())["Exercise 3"][0] == "48.01 %"
    files[2].unlink()
    assert run(files, "--check") == 2
    assert "original.json is missing" in capsys.readouterr().err


def test_a_changed_number_changes_the_table_and_check_says_so(files, capsys):
    assert run(files) == 0
    assert run(files, "--check") == 0
    current = files[0].read_text()
    write_results(files[1], "assignment", shift=0.002)
    capsys.readouterr()
    assert run(files, "--check") == 1
    out = capsys.readouterr().out
    assert "differs from" in out and "+| Exercise 3 |" in out and "46.54 %" in out
    assert files[0].read_text() == current  # --check changes nothing
    assert run(files) == 0
    assert rows(files[0].read_text())["Exercise 3"][2] == "46.54 % (46.39 ± 0.28)"
    assert run(files, "--check") == 0


def test_a_profile_the_reference_lacks_has_no_column_and_a_line_saying_so(files):
    data = json.loads(files[1].read_text())
    del data["profiles"]["seed"]
    files[1].write_text(json.dumps(data))
    assert run(files) == 0
    text = files[0].read_text()
    assert rows(text)["run"] == ["original report (m = 100)", "`assignment` profile (m = 50)"]
    assert ("The `seed` profile is not in notebooks/reference.json yet: `make report "
            "PROFILE=seed`, then `make reference`, adds its column.") in text


def test_a_missing_reference_says_what_to_run(files, capsys):
    files[1].unlink()
    assert run(files) == 2
    assert "make reference" in capsys.readouterr().err
    assert files[0].read_text() == README


def test_a_readme_without_the_markers_is_an_error(files, capsys):
    files[0].write_text(README.replace("<!-- results:end -->", ""))
    assert run(files, "--check") == 2
    assert "<!-- results:end -->" in capsys.readouterr().err


def test_the_beyond_block_is_rebuilt_from_the_range_test_and_the_bonus(tmp_path):
    from helpers import registry as sections
    from helpers.report import readme as readme_beyond  # the beyond block

    notebook = {s["key"]: s["notebook"] for s in sections.load()["sections"]}
    over = {p: {"mean": 0.5, "std": 0.01, "values": [0.5, 0.5]} for p in ("val", "test")}
    row = {"row": "without the width", "val": over["val"], "component": "width", "kept": True,
           "gain": {"gain": 0.01, "se": 0.002, "n": 3, "margin": 0.005, "verdict": "better"}}
    one = lambda test: {"members": 3, "cycles": 2, "val": 0.55, "test": test}  # noqa: E731
    paired = {"seeds": [0, 1], "split": "final", "sizes": {"val": 1000}, "lambda": 1e-3}
    records = {
        notebook["final"]: {"settings": {"eta_min": 1e-5, "eta_max": 0.1},
                           "accuracy_over_seeds": over, **paired},
        notebook["range"]: {"chosen": {"eta_min": 0.02, "eta_max": 0.08},
                             "parameters": {"m": 50, "margin": 0.005}, "lambda": 1e-3,
                             "retrained": {"accuracy_over_seeds": over, **paired}},
        notebook["bonus"]: {
            "rows": [row], "protocol": {"seeds": [0, 1, 2], "margin": 0.005},
            "chosen": {"row": "chosen recipe", "val": over["val"], "recipe": {"m": 1000}},
            "searches": {"full": {"pairs": [[1e-3, 0.0], [1e-3, 0.2]], "seconds": 100.0}},
            "final_split": {"single": over, "ensemble": one(0.6), "snapshot_ensemble": one(0.61),
                            "agreement": 0.8, "seeds": [0, 1, 2], "seconds": 20.0}}}
    runs = {"assignment": records}
    text = f"a\n{readme_beyond.BEYOND[0]}\nold\n{readme_beyond.BEYOND[1]}\nb\n"
    new = readme_beyond.regenerate_beyond(text, runs)
    assert "eta_max = 0.08, eta_min = 0.02" in new
    assert "| without the width | 50.00 ± 1.00 | +1.00 ± 0.20 |" in new
    assert "full: 2 network(s) side by side x 3 seeds, 100 s" in new
    assert "total training: 120 s (2.0 min)" in new
    assert "old" not in new and new.startswith("a\n") and new.endswith("b\n")
    assert readme_beyond.regenerate_beyond("no markers", runs) == "no markers"
    del records[notebook["bonus"]]
    with pytest.raises(FileNotFoundError, match=f"{notebook['bonus']}.json"):
        readme_beyond.regenerate_beyond(text, runs)


def test_no_file_of_the_repository_points_outside_it():
    """Sources a reader can follow: the original report is cited by title, author and course,
    and no committed file names a path beside the clone (the workplace's shared folder)."""
    import subprocess

    try:
        names = subprocess.run(["git", "ls-files"], cwd=paths.ROOT, capture_output=True,
                               text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git clone")
    outside = [name for name in names  # .ci/ is the CI's own: it may link the shared data
               if not name.startswith(".ci/")
               and (paths.ROOT / name).is_file() and not (paths.ROOT / name).is_symlink()
               and any(bad in (paths.ROOT / name).read_text(errors="ignore")
                       for bad in ("../" + "shared/", "shared" + "/seeds/",
                                   "shared" + "/tools/"))]
    assert outside == []
    about = json.loads(paths.ORIGINAL.read_text())["about"]
    assert "Silpa Soni Nallacheruvu" in about and "DD2424" in about


def generated(text: str) -> str:
    """`text` less every block the README's numbers are generated in."""
    for start, end in ((readme.BEGIN, readme.END), readme.BEYOND, readme.INTRO, readme.TIMES,
                       readme.TOOK):
        while start in text:
            text = text[: text.index(start)] + text[text.index(end) + len(end):]
    return text


def test_the_readme_agrees_with_the_reference(capsys):
    """CI's check (make test): README.md's blocks are what notebooks/reference.json gives."""
    status = readme.main(["--check"])
    assert status == 0, capsys.readouterr().out
    text = paths.README.read_text()
    assert all(m in text for m in (*readme.INTRO, *readme.TIMES, *readme.BEYOND, *readme.TOOK))


def test_no_number_of_the_readme_is_typed_outside_its_blocks():
    import re

    typed = generated(paths.README.read_text())
    assert re.findall(r"\d+\.\d+ ?%|± ?\d|about \d+ (?:minutes|min)|\d+ minutes", typed) == []


@pytest.mark.parametrize("block", ["results", "intro", "beyond", "times", "took"])
def test_an_edited_number_in_the_readme_is_caught(block, tmp_path, capsys):
    import re

    text = paths.README.read_text()
    start, end = f"<!-- {block}:begin -->", f"<!-- {block}:end -->"
    inside = text[text.index(start): text.index(end)]
    number = re.search(r"\d+\.\d+|\d+ minutes", inside).group(0)
    edited = inside.replace(number, "9" + number, 1)
    path = tmp_path / "README.md"
    path.write_text(text.replace(inside, edited))
    assert readme.main(["--readme", str(path), "--check"]) == 1
    assert "differs from" in capsys.readouterr().out
    assert path.read_text() != text  # --check changes nothing


def test_the_first_screens_time_is_the_whole_build_on_the_reference_machine():
    entry = {"machine": {"cpu": "CPU X", "cores": 2}, "seconds": {"01": 120, "08": 330},
             "results": {}}  # no finish times: the notebooks' own seconds, added up
    assert readme.took(entry) == ("On the reference machine (CPU X, 2 cores) `make report` ran "
                                  "its notebooks in 7.5 minutes.")
    with pytest.raises(readme.ResultsMissing):
        readme.took(None)
