"""The training cache: hits skip work, keys follow every engine module, bad entries recompute."""

import warnings

import numpy as np
import pytest

from helpers import loaded
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


def test_calls_computed_together_are_each_stored_as_the_call_alone(tmp_path):
    """cached_together: what the cache holds is read, the rest computed by ONE call of the
    joint computation, and each result stored under its own call's key (a later `cached` of
    that call alone is a hit)."""
    calls, joint = [], []

    def train(x):
        calls.append(x)
        return {"value": np.arange(x)}

    cache.cached(tmp_path, {"x": 2}, train, 2)  # stored alone before

    def together(missing):
        joint.append(missing)
        return [({"value": np.arange(x)}, 0.5) for x in [(2, 3, 4)[i] for i in missing]]

    done = cache.cached_together(tmp_path, [({"x": x}, train, (x,), {}) for x in (2, 3, 4)],
                                 together)
    assert joint == [[1, 2]] and [len(v["value"]) for v, _ in done] == [2, 3, 4]
    assert [s for _, s in done][1:] == [0.5, 0.5]
    again, seconds = cache.cached(tmp_path, {"x": 4}, train, 4)
    assert calls == [2] and seconds == 0.5  # stored under the call's own key
    with pytest.raises(ValueError, match="2 calls"):
        cache.cached_together(tmp_path, [({"x": x}, train, (x,), {}) for x in (5, 6)],
                              lambda missing: [])


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
    monkeypatch.setattr(loaded, "SOURCES", {})  # as if none were imported: keyed by the files
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
    monkeypatch.setattr(loaded, "SOURCES", {})
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


# What decides a result and was missing from the key (issue: a cache that never serves a stale,
# foreign or mislabelled run)

EDIT_WITH_KERNEL_OPEN = """
import json, sys, warnings
from pathlib import Path
import numpy as np
from helpers.cifar.data import Split
from helpers.training.loop import train
from helpers.training.settings import Settings
from helpers.workbook import cache

root, edit = Path(sys.argv[1]), sys.argv[2] == "edit"
rng = np.random.default_rng(0)
X = lambda n: rng.standard_normal((n, 8)).astype(np.float32)  # noqa: E731
y = lambda n: rng.integers(0, 10, n)  # noqa: E731
split = Split(X(40), y(40), X(10), y(10), X(10), y(10), np.zeros(8, np.float32),
              np.ones(8, np.float32), None, "toy", 0)
settings = Settings(n_s=2, cycles=1, batch_size=10, m=4)
run = lambda: cache.cached(root / "cache", {"toy": 1}, train, split, settings, [0.01],  # noqa: E731
                           progress=False)[0][0]["W1"]
first = run()
if edit:  # the file changes while this process (a kernel) still runs the old code
    loop = root / "helpers" / "training" / "loop.py"
    loop.write_text(loop.read_text() + "\\nEDITED = True\\n")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    again = run()
print(json.dumps({"same": bool(np.array_equal(first, again)),
                  "warnings": [str(w.message) for w in caught],
                  "entries": sorted(p.name for p in (root / "cache").glob("*.npz"))}))
"""


def run_copy(tmp_path, *args) -> dict:
    """EDIT_WITH_KERNEL_OPEN in a fresh interpreter on a copy of helpers/ under tmp_path."""
    import json
    import shutil
    import subprocess
    import sys

    from helpers.paths import HELPERS

    if not (tmp_path / "helpers").is_dir():
        shutil.copytree(HELPERS, tmp_path / "helpers",
                        ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "script.py"
    script.write_text(EDIT_WITH_KERNEL_OPEN)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(script), str(tmp_path), *args], env=env,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_helpers_file_edited_with_the_kernel_open_is_neither_served_nor_stored(tmp_path):
    first = run_copy(tmp_path, "keep")  # unchanged code: a hit, no warning
    assert first["same"] and not first["warnings"] and len(first["entries"]) == 1
    edited = run_copy(tmp_path, "edit")  # loop.py edited after this process imported it
    assert any("helpers/training/loop.py changed on disk" in w for w in edited["warnings"])
    assert edited["entries"] == first["entries"]  # nothing stored under the new code's key
    restarted = run_copy(tmp_path, "keep")  # a new kernel imports the edited file: its own key
    assert not restarted["warnings"] and len(restarted["entries"]) == 2


def test_a_helpers_file_that_does_not_parse_is_not_cached_not_an_error(tmp_path, monkeypatch):
    """A run while a helpers file is half edited (or mid-merge) trains without the cache."""
    broken = tmp_path / "bonus.py"
    broken.write_text('def f():\n    """unterminated\n<<<<<<< HEAD\n')
    real = cache.source_file
    monkeypatch.setattr(cache, "source_file", lambda name: broken
                        if name == "helpers.experiments.bonus" else real(name))
    with pytest.raises(cache.Stale, match="bonus.py of helpers.experiments.bonus does not parse"):
        cache.imports("helpers.experiments.bonus")
    calls = []
    fn = lambda: calls.append(1) or {"x": 1}  # noqa: E731
    fn.__module__ = "helpers.experiments.bonus"
    with pytest.warns(UserWarning, match="does not parse"):
        value, _ = cache.cached(tmp_path / "cache", {"a": 1}, fn)
    assert value == {"x": 1} and calls == [1] and not (tmp_path / "cache").exists()


def test_the_loader_records_the_source_it_compiles():
    import sys

    from helpers.workbook import section  # noqa: F401  (imported by now, through the hook)

    for name in ("helpers", "helpers.loaded", "helpers.workbook.section",
                 "helpers.training.loop"):
        assert name in sys.modules and loaded.SOURCES[name] == cache.source_digest(name), name


def section_run(tmp_path):
    from helpers import workbook

    return workbook.Section("02-clr-one-cycle", {"build_dir": str(tmp_path)}, official=False)


def test_another_copy_of_the_data_is_another_key(tmp_path, synthetic_cifar):
    import shutil

    from helpers.cifar.data import TRAIN_FILES, load_split
    from helpers.training.settings import Settings

    other = tmp_path / "other"
    shutil.copytree(synthetic_cifar, other)
    raw = bytearray((other / TRAIN_FILES[0]).read_bytes())
    raw[-200] ^= 1  # one bit of one pixel value
    (other / TRAIN_FILES[0]).write_bytes(bytes(raw))
    a, b = load_split("exercise", path=synthetic_cifar), load_split("exercise", path=other)
    assert a.describe() == b.describe() and a.fingerprint != b.fingerprint
    assert load_split("exercise", path=synthetic_cifar).fingerprint == a.fingerprint
    run, calls = section_run(tmp_path), []
    fn = lambda split, settings, progress=True: calls.append(1) or {"x": 1}  # noqa: E731
    for split in (a, a, b):
        run.cached(fn, split, Settings(batch_size=5))
    assert len(calls) == 2


def test_the_numeric_stack_is_part_of_the_key(monkeypatch):
    from threadpoolctl import threadpool_limits

    from helpers.workbook import environment

    stack = environment.numeric_stack()
    assert stack["numpy"] == np.__version__ and stack["blas"]
    assert all({"library", "version", "kernel", "threads"} <= set(b) for b in stack["blas"])
    before = cache.key({"a": 1}, training.train)
    with threadpool_limits(limits=1, user_api="blas"):
        one = cache.key({"a": 1}, training.train)
    assert (one == before) == all(b["threads"] == 1 for b in stack["blas"])
    monkeypatch.setattr(environment, "numeric_stack",
                        lambda: {**stack, "blas": [{**stack["blas"][0], "kernel": "Other"}]})
    assert cache.key({"a": 1}, training.train) != before


def test_modules_read_as_globals_enter_by_what_they_run(tmp_path, monkeypatch):
    import importlib
    import sys

    from helpers.cifar import augment

    described = cache.describe(augment)
    assert described["module"] == "helpers.cifar.augment" and "source" in described
    (tmp_path / "mymod.py").write_text("def f(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import mymod

    before = cache.describe(mymod)
    (tmp_path / "mymod.py").write_text("def f(x):\n    return x + 2\n")
    importlib.reload(mymod)
    assert cache.describe(mymod) != before  # a user's module: by its code, not its name
    del sys.modules["mymod"]


def test_values_are_described_faithfully_or_not_cached():
    torch = pytest.importorskip("torch")

    t = torch.zeros(5000)
    u = t.clone()
    u[2500] = 1.0  # hidden in the middle of a truncated repr
    assert repr(t) == repr(u) and cache.describe(t) != cache.describe(u)
    legacy = np.random.RandomState(0)
    before = cache.describe(legacy)
    assert cache.describe(np.random.RandomState(0)) == before  # by its state, not its address
    legacy.random_sample()
    assert cache.describe(legacy) != before
    objects = np.array([1.5, "a"], dtype=object)
    assert cache.describe(objects) == cache.describe(np.array([1.5, "a"], dtype=object))

    class Rounded:  # a repr that rounds what it holds, as a DataFrame's does
        __module__ = "pandas.core.frame"

        def __init__(self, v):
            self.v = v

        def __repr__(self):
            return f"{self.v:.3f}"

    with pytest.raises(cache.Uncacheable, match="round or truncate"):
        cache.describe(Rounded(0.1234567))
    import pathlib

    assert cache.describe(pathlib.Path("a")) != cache.describe(pathlib.Path("b"))


def test_a_failed_store_keeps_the_result(tmp_path, monkeypatch):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "write", full_disk)
    with pytest.warns(UserWarning, match="could not store"):
        value, _ = cache.cached(tmp_path, {"k": 1}, lambda: {"a": np.arange(3)})
    np.testing.assert_array_equal(value["a"], np.arange(3))
