"""The training cache: hits skip work, keys follow every engine module, bad entries recompute."""

import warnings

import numpy as np
import pytest

from helpers import cache, training


def test_cache_hit_skips_training(tmp_path):
    calls = []

    def train(x, scale=1):
        calls.append(x)
        return {"value": np.arange(x) * scale}

    first, seconds = cache.cached(tmp_path, {"x": 3}, train, 3, scale=2)
    again, seconds_again = cache.cached(tmp_path, {"x": 3}, train, 3, scale=2)
    assert calls == [3] and seconds_again == seconds >= 0
    np.testing.assert_array_equal(again["value"], first["value"])
    cache.cached(tmp_path, {"x": 4}, train, 4)
    cache.cached(None, {"x": 4}, train, 4)  # no cache folder: always computed
    assert calls == [3, 4, 4]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_values_round_trip_without_pickle(tmp_path):
    value = ({"W1": np.ones((2, 3), np.float32), "b": np.arange(3)},
             {"curves": {"step": [0, 5], "lambda": [0.1, 0.1]}, "seconds": {"total": 1.5}},
             [{"lambda": 1e-3, "val_accuracy": 0.5}])
    path = cache.write(tmp_path / "v.npz", value, 2.5)
    got, seconds = cache.read(path)
    assert seconds == 2.5 and isinstance(got, tuple) and got[1:] == value[1:]
    assert got[0]["W1"].dtype == np.float32 and got[0]["W1"].shape == (2, 3)
    np.testing.assert_array_equal(got[0]["b"], value[0]["b"])
    with np.load(path, allow_pickle=False) as stored:  # only plain arrays: nothing to execute
        assert all(stored[k].dtype != object for k in stored.files)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"not a zip",
                                    lambda b: b""])
def test_unreadable_entry_is_recomputed_with_a_warning(tmp_path, damage):
    calls = []
    compute = lambda: calls.append(1) or {"a": np.arange(4)}  # noqa: E731
    cache.cached(tmp_path, {"k": 1}, compute)
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(damage(entry.read_bytes()))
    with pytest.warns(UserWarning, match="unreadable"):
        value, _ = cache.cached(tmp_path, {"k": 1}, compute)
    np.testing.assert_array_equal(value["a"], np.arange(4))
    assert len(calls) == 2
    with warnings.catch_warnings():  # rewritten: the next read is a clean hit
        warnings.simplefilter("error")
        cache.cached(tmp_path, {"k": 1}, compute)
    assert len(calls) == 2


def test_the_key_covers_every_module_the_engine_imports():
    modules = cache.engine_modules(training.train)
    assert {"training", "engine", "network", "blas", "schedule", "settings"} <= set(modules)
    assert "plots" not in modules and "report" not in modules  # a figure change keeps the cache


def test_modules_of_what_is_passed_in_are_part_of_the_key():
    from helpers import data, search

    modules = cache.engine_modules(search.search, (data.Split,), {"on_batch": data.load_split})
    assert "data" in modules and "search" in modules and "download" in modules


def test_cache_key_follows_the_engine_source(tmp_path, monkeypatch):
    (tmp_path / "training.py").write_text("from helpers.engine import x\n")
    (tmp_path / "engine.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "HELPERS", tmp_path)
    fn = training.train
    key = cache.key({"lam": 0.01}, fn)
    assert cache.key({"lam": 0.01}, fn) == key
    assert cache.key({"lam": 0.02}, fn) != key
    (tmp_path / "engine.py").write_text("x = 2\n")  # imported by training: not hand-listed
    assert cache.key({"lam": 0.01}, fn) != key
