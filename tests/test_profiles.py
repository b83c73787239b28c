"""Parameter profiles: unknown keys, wrong types and values outside their rule are refused."""

import pytest

from helpers.workbook import profiles


@pytest.mark.parametrize("profile", ["assignment", "seed", "quick"])
def test_every_profile_names_only_known_parameters(profile):
    profiles.check_profile(profile)
    one = profiles.parameters_for(profile, "02-clr-one-cycle")
    assert one["profile"] == profile


def test_unknown_parameter_is_rejected_with_the_known_ones():
    notebook = profiles.NOTEBOOKS / "02-clr-one-cycle.ipynb"
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['lamda'\].*'lam'"):
        profiles.check({"lam": 0.1, "lamda": 0.1}, notebook)


def test_unknown_profile_and_section_are_rejected(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no profile 'nope'"):
        profiles.load_profile("nope")
    monkeypatch.setattr(profiles, "PROFILES", tmp_path)
    (tmp_path / "bad.yaml").write_text("02-clr-one-cyle:\n  lam: 0.1\n")
    with pytest.raises(ValueError, match="02-clr-one-cyle"):
        profiles.load_profile("bad")
    (tmp_path / "stray.yaml").write_text("shared:\n  lamda: 0.1\n")
    with pytest.raises(ValueError, match="lamda"):
        profiles.check_profile("stray")


def test_params_command_writes_one_notebooks_yaml(tmp_path):
    import yaml

    out = tmp_path / "p.yaml"
    assert profiles.main(["seed", "03-clr-three-cycles", "-o", str(out)]) == 0
    got = yaml.safe_load(out.read_text())
    assert got["profile"] == "seed" and got["m"] == 100 and got["batch_size"] == 62
    assert profiles.main(["nope", "03-clr-three-cycles"]) == 1


@pytest.mark.parametrize(("values", "message"), [
    ({"n_s": -5}, r"n_s must be >= 0 \(0: 2 floor"),
    ({"lam": "abc"}, r"lam must be a float, got 'abc' \(str\)"),
    ({"lam": -0.5}, r"lam must be >= 0, or -1"),
    ({"n_seeds": 0}, "n_seeds must be >= 1"),
    ({"m": 2.5}, r"m must be a int, got 2.5 \(float\)"),
    ({"use_cache": 1}, r"use_cache must be a bool, got 1 \(int\)"),
    ({"limit": -1}, "limit must be >= 0"),
])
def test_wrong_values_name_the_parameter_and_what_it_takes(values, message):
    types = profiles.declared(profiles.NOTEBOOKS / "06-best-lambda.ipynb")
    with pytest.raises(ValueError, match=message):
        profiles.check_values(values, types, "06-best-lambda.ipynb")


def test_good_values_pass_and_an_int_is_a_float():
    types = profiles.declared(profiles.NOTEBOOKS / "06-best-lambda.ipynb")
    profiles.check_values({"n_s": 0, "lam": -1, "eta_max": 1, "use_cache": False}, types, "06")
    assert types["lam"] == "float" and types["n_s"] == "int" and types["profile"] == "str"


def test_a_profile_with_a_wrong_type_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(profiles, "PROFILES", tmp_path)
    (tmp_path / "typo.yaml").write_text("02-clr-one-cycle:\n  n_s: -5\n")
    assert profiles.main(["typo", "02-clr-one-cycle"]) == 1
    (tmp_path / "typo.yaml").write_text("02-clr-one-cycle:\n  lam: abc\n")
    with pytest.raises(ValueError, match="lam must be a float"):
        profiles.parameters_for("typo", "02-clr-one-cycle")


def test_make_s_device_reaches_every_training_notebook_and_only_those(monkeypatch, tmp_path):
    """make report DEVICE=cuda: helpers.workbook.build gives `device` to each notebook that
    trains (it declares the parameter), over its profile; the others run as they were."""
    from helpers.workbook import build

    trains = [p.stem for p in sorted(profiles.NOTEBOOKS.glob("0*.ipynb"))
              if "device" in profiles.declared(p)]
    assert trains == ["02-clr-one-cycle", "03-clr-three-cycles", "04-lambda-coarse-search",
                      "05-lambda-fine-search", "06-best-lambda", "07-lr-range-test", "08-bonus"]
    for name in trains:
        assert profiles.parameters_for("quick", name, "cuda")["device"] == "cuda"
        assert "device" not in profiles.parameters_for("quick", name)  # the notebook's ""
    assert "device" not in profiles.parameters_for("quick", "01-gradient-check", "cuda")
    seen = []
    monkeypatch.setattr(build, "run", lambda *args: seen.append(args) or 0)
    assert build.main(["quick", "02-clr-one-cycle", str(tmp_path), "--device", "cuda"]) == 0
    assert build.main(["quick", "02-clr-one-cycle", str(tmp_path)]) == 0
    assert [args[3] for args in seen] == ["cuda", ""]
