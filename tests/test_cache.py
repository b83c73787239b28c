"""The training cache: hits skip work, keys follow every engine module, bad entries recompute."""

import warnings

import numpy as np
import pytest

from helpers.training import loop as training
from helpers.workbook import cache


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
    assert {f"helpers.{m}" for m in ("training.loop", "training.step", "model.network",
                                     "model.blas", "training.schedule", "training.settings",
                                     "training", "model")} <= set(modules)
    assert not [m for m in modules if m.startswith(("helpers.report", "helpers.workbook"))]


def test_modules_of_what_is_passed_in_are_part_of_the_key():
    from helpers.cifar import data
    from helpers.experiments import search

    modules = cache.engine_modules(search.search, (data.Split,), {"on_batch": data.load_split})
    assert {"helpers.cifar.data", "helpers.experiments.search", "helpers.cifar.download"} <= \
        set(modules)


def fake_helpers(tmp_path, files: dict):
    """A helpers tree under tmp_path: {relative path: source}."""
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)


def test_cache_key_follows_the_engine_source_in_sub_packages(tmp_path, monkeypatch):
    fake_helpers(tmp_path, {"training/__init__.py": "", "training/loop.py":
                            "from helpers.training.step import x\nfrom helpers.model import y\n",
                            "training/step.py": "x = 1\n", "model/__init__.py": "",
                            "model/y.py": "z = 1\n"})
    monkeypatch.setattr(cache, "HELPERS", tmp_path)
    fn = training.train
    key = cache.key({"lam": 0.01}, fn)
    assert cache.key({"lam": 0.01}, fn) == key
    assert cache.key({"lam": 0.02}, fn) != key
    for edit in ("training/step.py", "model/y.py", "training/__init__.py", "model/__init__.py"):
        (tmp_path / edit).write_text((tmp_path / edit).read_text() + "# edited\n")
        assert cache.key({"lam": 0.01}, fn) != key, edit  # imported: not hand-listed
        key = cache.key({"lam": 0.01}, fn)


CELL = """
import numpy as np
scale = {scale}
def hook(X, y, t):
    return X * scale{extra}, y
"""


def notebook_hook(scale=2.0, extra="", namespace=None):
    """`hook` as a notebook cell defines it: module __main__, reading the global `scale`."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    exec(compile(CELL.format(scale=scale, extra=extra), "<cell>", "exec"), namespace)
    return namespace["hook"], namespace


def test_a_notebook_hook_enters_the_key_by_its_code_and_the_globals_it_reads():
    hook, _ = notebook_hook()
    same, _ = notebook_hook()
    assert cache.describe(hook) == cache.describe(same)
    assert cache.describe(notebook_hook(extra=" + 1")[0]) != cache.describe(hook)  # edited
    assert cache.describe(notebook_hook(scale=3.0)[0]) != cache.describe(hook)  # its global
    hook, namespace = notebook_hook()
    before = cache.describe(hook)
    namespace["scale"] = 5.0  # a later cell changes the global it reads
    assert cache.describe(hook) != before
    lam = lambda X, y, t: (X + 1, y)  # noqa: E731
    other = lambda X, y, t: (X + 2, y)  # noqa: E731
    assert cache.describe(lam) != cache.describe(other)
    closure = (lambda k: lambda X, y, t: (X * k, y))  # noqa: E731
    assert cache.describe(closure(1)) != cache.describe(closure(2))


def test_an_edited_hook_or_global_is_computed_again(tmp_path):
    calls = []

    def train(on_batch=None):
        calls.append(1)
        return {"x": on_batch(np.ones(2), None, 0)[0]}

    def run(hook):
        inputs = {"kwargs": cache.describe({"on_batch": hook})}
        return cache.cached(tmp_path, inputs, train, on_batch=hook)[0]["x"]

    hook, namespace = notebook_hook()
    np.testing.assert_array_equal(run(hook), [2, 2])
    np.testing.assert_array_equal(run(notebook_hook()[0]), [2, 2])
    assert len(calls) == 1  # the same hook, defined again: a hit
    np.testing.assert_array_equal(run(notebook_hook(extra=" + 1")[0]), [3, 3])
    namespace["scale"] = 10.0
    np.testing.assert_array_equal(run(hook), [10, 10])
    assert len(calls) == 3


def test_values_whose_repr_hides_their_state_cannot_enter_a_key():
    class Hook:  # defined here, in a module of the repository: described by its code and state
        def __init__(self, k):
            self.k = k

        def __call__(self, X, y, t):
            return X * self.k, y

    assert cache.describe(Hook(1)) != cache.describe(Hook(2))
    with pytest.raises(cache.Uncacheable, match="repr does not show its state"):
        cache.describe(object())
    rng = np.random.default_rng(0)
    before = cache.describe(rng)
    rng.random()
    assert cache.describe(rng) != before  # a generator by its state
    a = np.arange(6.0)
    assert cache.describe(a) != cache.describe(a + 1e-9)
    assert cache.describe(np.flip)["function"] == "numpy.flip"


def test_a_helpers_function_enters_by_name_and_its_modules_source(tmp_path, monkeypatch):
    from helpers.cifar import augment

    fake_helpers(tmp_path, {"cifar/augment.py": "from helpers.training.step import x\n",
                            "training/step.py": "x = 1\n"})
    monkeypatch.setattr(cache, "HELPERS", tmp_path)
    before = cache.describe(augment.flip_shift)
    assert before["helpers"] == "helpers.cifar.augment.flip_shift"
    assert cache.describe(augment.flip_shift) == before
    (tmp_path / "training" / "step.py").write_text("x = 2\n")  # a module it imports
    assert cache.describe(augment.flip_shift) != before


def test_a_section_does_not_cache_what_it_cannot_key(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    from helpers import workbook
    from helpers.training.settings import Settings

    monkeypatch.setenv(workbook.NAME, "02-clr-one-cycle")
    run = workbook.Section("02-clr-one-cycle", {"build_dir": str(tmp_path)}, official=False)
    split = SimpleNamespace(describe=lambda: "toy", name="toy", seed=0)
    calls = []
    train = lambda split, settings, hook=None, progress=True: calls.append(1) or {"a": 1}  # noqa: E731
    hook, namespace = notebook_hook()
    for _ in range(2):
        run.cached(train, split, Settings(), hook=hook)
    assert len(calls) == 1
    namespace["scale"] = object()  # a global the key cannot capture
    for _ in range(2):
        run.cached(train, split, Settings(), hook=hook)
    assert len(calls) == 3 and "not cached" in capsys.readouterr().out
