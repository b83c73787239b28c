"""The training cache: hits skip work, keys hold every input by value (cloudpickle), the code as
first imported and the job's numeric stack; bad entries recompute, failed stores keep the run."""

import warnings

import numpy as np
import pytest

from helpers import loaded
from helpers.training import loop as training
from helpers.workbook import cache


class Calls(list):
    """Records calls; pickles as an empty Calls, so that what it records (a test's counter in a
    closure) never changes a key."""

    def __reduce__(self):
        return (Calls, ())


def test_cache_hit_skips_training(tmp_path):
    calls = Calls()

    def train(x, scale=1):
        calls.append(x)
        return {"value": np.arange(x) * scale}

    first, seconds = cache.cached(tmp_path, train, 3, scale=2)
    again, seconds_again = cache.cached(tmp_path, train, 3, scale=2)
    assert calls == [3] and seconds_again == seconds >= 0
    np.testing.assert_array_equal(again["value"], first["value"])
    cache.cached(tmp_path, train, 4)
    cache.cached(None, train, 4)  # no cache folder: always computed
    assert calls == [3, 4, 4]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_calls_computed_together_are_each_stored_as_the_call_alone(tmp_path):
    """cached_together: what the cache holds is read, the rest computed by ONE call of the
    joint computation, and each result stored under its own call's key (a later `cached` of
    that call alone is a hit)."""
    calls, joint = Calls(), []

    def train(x):
        calls.append(x)
        return {"value": np.arange(x)}

    cache.cached(tmp_path, train, 2)  # stored alone before

    def together(missing):
        joint.append(missing)
        return [({"value": np.arange(x)}, 0.5) for x in [(2, 3, 4)[i] for i in missing]]

    done = cache.cached_together(tmp_path, [(train, (x,), {}) for x in (2, 3, 4)],
                                 together)
    assert joint == [[1, 2]] and [len(v["value"]) for v, _ in done] == [2, 3, 4]
    assert [s for _, s in done][1:] == [0.5, 0.5]
    again, seconds = cache.cached(tmp_path, train, 4)
    assert calls == [2] and seconds == 0.5  # stored under the call's own key
    with pytest.raises(ValueError, match="2 calls"):
        cache.cached_together(tmp_path, [(train, (x,), {}) for x in (5, 6)],
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
    calls = Calls()
    compute = lambda: calls.append(1) or {"a": np.arange(4)}  # noqa: E731
    cache.cached(tmp_path, compute)
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(damage(entry.read_bytes()))
    with pytest.warns(UserWarning, match="unreadable"):
        value, _ = cache.cached(tmp_path, compute)
    np.testing.assert_array_equal(value["a"], np.arange(4))
    assert len(calls) == 2
    with warnings.catch_warnings():  # rewritten: the next read is a clean hit
        warnings.simplefilter("error")
        cache.cached(tmp_path, compute)
    assert len(calls) == 2


def test_the_key_covers_every_module_the_engine_imports():
    modules = cache.imports("helpers.training.loop")
    assert {f"helpers.{m}" for m in ("training.loop", "training.step", "model.network",
                                     "model.blas", "training.schedule", "training.settings",
                                     "training", "model")} <= modules
    assert not [m for m in modules if m.startswith(("helpers.report", "helpers.workbook"))]


def fake_helpers(tmp_path, files: dict):
    """A helpers tree under tmp_path: {relative path: source}."""
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)


def test_the_key_follows_the_source_of_what_a_helpers_object_imports(tmp_path, monkeypatch):
    """A helpers function, class or instance enters by name and the source of every module its
    module imports, however deep, the packages included; an unrelated module does not."""
    from helpers.cifar import augment
    from helpers.training.settings import Settings

    fake_helpers(tmp_path, {"training/__init__.py": "", "training/loop.py":
                            "from helpers.training.step import x\nfrom helpers.model import y\n",
                            "training/step.py": "x = 1\n", "training/settings.py": "",
                            "model/__init__.py": "", "model/y.py": "z = 1\n",
                            "report/prose.py": "", "cifar/augment.py": ""})
    monkeypatch.setattr(cache, "HELPERS", tmp_path)
    monkeypatch.setattr(loaded, "SOURCES", {})  # as if none were imported: keyed by the files
    fn, settings = training.train, Settings()
    key = cache.key(fn, (settings, 0.01))
    assert cache.key(fn, (settings, 0.01)) == key
    assert cache.key(fn, (settings, 0.02)) != key
    assert cache.key(fn, (Settings(m=7), 0.01)) != key  # an instance by its fields
    assert cache.key(augment.flip_shift, (settings, 0.01)) != key  # another function
    for edit in ("training/step.py", "model/y.py", "training/__init__.py", "model/__init__.py"):
        (tmp_path / edit).write_text((tmp_path / edit).read_text() + "# edited\n")
        assert cache.key(fn, (settings, 0.01)) != key, edit  # imported: not hand-listed
        key = cache.key(fn, (settings, 0.01))
    (tmp_path / "report/prose.py").write_text("# edited\n")
    assert cache.key(fn, (settings, 0.01)) == key  # not imported: the same key


CELL = """
import numpy as np
scale = {scale}
def hook(X, y, t):
    return X * scale{extra}, y
"""


def in_notebook(source: str, namespace=None) -> dict:
    """The namespace after running `source` as a notebook cell (module __main__)."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def notebook_hook(scale=2.0, extra="", namespace=None):
    """`hook` as a notebook cell defines it, reading the global `scale`."""
    namespace = in_notebook(CELL.format(scale=scale, extra=extra), namespace)
    return namespace["hook"], namespace


def test_a_notebook_function_enters_by_its_code_closure_and_the_globals_it_reads():
    hook, _ = notebook_hook()
    same, _ = notebook_hook()
    assert cache.serialised(hook) == cache.serialised(same)
    assert cache.serialised(notebook_hook(extra=" + 1")[0]) != cache.serialised(hook)  # edited
    assert cache.serialised(notebook_hook(scale=3.0)[0]) != cache.serialised(hook)  # its global
    hook, namespace = notebook_hook()
    before = cache.serialised(hook)
    namespace["scale"] = 5.0  # a later cell changes the global it reads
    assert cache.serialised(hook) != before
    closure = in_notebook("make = lambda k: lambda X, y, t: (X * k, y)")["make"]
    assert cache.serialised(closure(1)) != cache.serialised(closure(2))


def test_way_1_a_notebook_function_edited_is_computed_again(tmp_path):
    """Review, way 1: the function passed to run.cached itself, its body edited, was keyed by
    its name alone and served the old result."""
    first = in_notebook("def f():\n    return {'v': 1}\n")["f"]
    edited = in_notebook("def f():\n    return {'v': 2}\n")["f"]
    assert cache.cached(tmp_path, first)[0] == {"v": 1}
    assert cache.cached(tmp_path, edited)[0] == {"v": 2}
    assert cache.cached(tmp_path, in_notebook("def f():\n    return {'v': 2}\n")["f"])[0] == \
        {"v": 2}


HOOK_CLASS = """
class Base:
    def shift(self):
        return {shift}

class Hook(Base):
    scale = {scale}

    @staticmethod
    def offset():
        return {offset}

    def __call__(self, X, y, t):
        return X * self.scale + self.shift() + self.offset(), y
"""


def test_way_2_a_notebook_class_enters_with_its_attributes_bases_and_staticmethods(tmp_path):
    """Review, way 2: a hook written as a class, its class attribute, an inherited method or a
    staticmethod changed, was served the old run (scale 0.5, then 2.0: both gave 0.5's)."""
    def train(X, on_batch):
        return {"x": on_batch(X, None, 0)[0]}

    X = np.ones(2)
    for (scale, shift, offset), want in [((0.5, 0, 0), 0.5), ((2.0, 0, 0), 2.0),
                                         ((2.0, 1, 0), 3.0), ((2.0, 1, 5), 8.0)]:
        hook = in_notebook(HOOK_CLASS.format(scale=scale, shift=shift, offset=offset))["Hook"]()
        np.testing.assert_array_equal(cache.cached(tmp_path, train, X, on_batch=hook)[0]["x"],
                                      [want, want])


def test_way_3_data_enter_by_their_bytes_and_loaded_arrays_are_read_only(tmp_path,
                                                                         synthetic_cifar):
    """Review, way 3: a split changed in a notebook kept the fingerprint of its files, and a run
    on other data was served."""
    import dataclasses

    from helpers.cifar.data import load_split

    split = load_split("exercise", path=synthetic_cifar)
    calls = Calls()

    def train(split):
        calls.append(1)
        return {"sum": float(split.X_train.sum())}

    other = dataclasses.replace(split, X_train=split.X_train * 2)
    assert other.fingerprint == split.fingerprint
    a, b = (cache.cached(tmp_path, train, s)[0]["sum"] for s in (split, other))
    assert a != b and len(calls) == 2
    with pytest.raises(ValueError, match="read-only"):
        split.X_train[0, 0] = 1.0  # an edit in place raises at once
    again = load_split("exercise", path=synthetic_cifar)  # the same data, another object
    assert cache.cached(tmp_path, train, again)[0]["sum"] == a and len(calls) == 2


def test_a_read_only_array_is_hashed_once_a_writable_one_every_time(monkeypatch):
    hashed = []
    from helpers import digest

    real = digest.xxhash.xxh3_128
    monkeypatch.setattr(digest.xxhash, "xxh3_128", lambda *a: hashed.append(1) or real(*a))
    frozen = np.arange(12.0)
    frozen.flags.writeable = False
    view = frozen[2:]  # a view of a read-only array: nothing can write it either
    for _ in range(3):
        digest.array_digest(frozen), digest.array_digest(view)
    assert len(hashed) == 2
    writable = np.arange(12.0)
    before = digest.array_digest(writable)
    writable[5] += 1e-9  # edited in place: a new digest
    assert digest.array_digest(writable) != before and len(hashed) == 4
    window = writable[:]
    window.flags.writeable = False  # read-only, but its base is not: hashed every time
    digest.array_digest(window), digest.array_digest(window)
    assert len(hashed) == 6
    assert digest.array_digest(np.zeros(3, np.float32)) != digest.array_digest(np.zeros(3))
    assert digest.array_digest(np.zeros((2, 3))) != digest.array_digest(np.zeros((3, 2)))


RELOAD = """
import importlib, json, sys, warnings
from pathlib import Path
import numpy as np
from helpers.cifar.data import Split
from helpers.training import schedule
from helpers.training.loop import train
from helpers.training.settings import Settings
from helpers.workbook import cache

root, how = Path(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
X = lambda n: rng.standard_normal((n, 8)).astype(np.float32)  # noqa: E731
y = lambda n: rng.integers(0, 10, n)  # noqa: E731
split = Split(X(40), y(40), X(10), y(10), X(10), y(10), np.zeros(8, np.float32),
              np.ones(8, np.float32), None, "toy", 0)
settings = Settings(n_s=2, cycles=1, batch_size=10, m=4)
run = lambda: cache.cached(root / "cache", train, split, settings, [0.01],  # noqa: E731
                           progress=False)[0][0]["W1"]
first = run()
path = root / "helpers" / "training" / "schedule.py"
original = path.read_text()
if how in ("edit", "reload", "revert"):  # the file changes while this process still runs
    path.write_text(original.replace("eta_max - eta_min", "(eta_max - eta_min) * 0.5"))
if how in ("reload", "revert"):
    importlib.reload(schedule)  # helpers.training.loop still holds the old function
if how == "revert":
    path.write_text(original)  # the file as first imported, the reloaded module not
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    again = run()
path.write_text(original)  # as found, for the next kernel
print(json.dumps({"same": bool(np.array_equal(first, again)),
                  "warnings": [str(w.message) for w in caught],
                  "entries": sorted(p.name for p in (root / "cache").glob("*.npz"))}))
"""


def run_copy(tmp_path, how) -> dict:
    """RELOAD in a fresh interpreter on a copy of helpers/ under tmp_path (a kernel)."""
    import json
    import shutil
    import subprocess
    import sys

    from helpers.paths import HELPERS

    if not (tmp_path / "helpers").is_dir():
        shutil.copytree(HELPERS, tmp_path / "helpers",
                        ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "script.py"
    script.write_text(RELOAD)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(script), str(tmp_path), how], env=env,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_way_4_helpers_code_changed_after_import_is_never_cached(tmp_path):
    """Review, way 4: importlib.reload of a helpers module keyed the new source while other
    modules ran the old function, and stored the old code's result under the new key. Now any
    change since the first import (edited, reloaded, reloaded then reverted) means no cache."""
    first = run_copy(tmp_path, "keep")  # unchanged code: a hit, no warning
    assert first["same"] and not first["warnings"] and len(first["entries"]) == 1
    for how in ("edit", "reload", "revert"):
        changed = run_copy(tmp_path, how)
        assert any("helpers/training/schedule.py changed after this kernel imported it" in w
                   and "restart the kernel" in w for w in changed["warnings"]), how
        assert changed["entries"] == first["entries"], how  # nothing stored under a new key
    restarted = run_copy(tmp_path, "keep")  # a new kernel imports the file: its own key
    assert not restarted["warnings"] and restarted["entries"] == first["entries"]


def test_way_5_a_store_that_fails_in_any_way_keeps_the_run(tmp_path, monkeypatch):
    """Review, way 5: a value JSON cannot hold raised TypeError after the training: lost."""
    calls = Calls()
    with pytest.warns(UserWarning, match="could not store.*TypeError"):
        value, _ = cache.cached(tmp_path, lambda: calls.append(1) or {"a": object()})
    assert isinstance(value["a"], object) and calls == [1]
    assert not list(tmp_path.iterdir())  # nothing half-written

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "write", full_disk)
    with pytest.warns(UserWarning, match="could not store"):
        value, _ = cache.cached(tmp_path, lambda: {"a": np.arange(3)})
    np.testing.assert_array_equal(value["a"], np.arange(3))


def test_what_cannot_be_serialised_is_computed_and_said_once(tmp_path, monkeypatch, capsys):
    import threading
    from types import SimpleNamespace

    from helpers import workbook
    from helpers.training.settings import Settings

    monkeypatch.setenv(workbook.NAME, "02-clr-one-cycle")
    run = workbook.Section("02-clr-one-cycle", {"build_dir": str(tmp_path)}, official=False)
    split = SimpleNamespace(describe=lambda: "toy", name="toy", seed=0)
    calls = Calls()
    train = lambda split, settings, hook=None, progress=True: calls.append(1) or {"a": 1}  # noqa: E731
    hook, namespace = notebook_hook()
    for _ in range(2):
        run.cached(train, split, Settings(), hook=hook)
    assert len(calls) == 1
    namespace["scale"] = threading.Lock()  # a global cloudpickle cannot serialise
    capsys.readouterr()
    run.cached_together(train, [(split, Settings(), (), {"hook": hook})] * 2,
                        lambda missing: [({"a": 1}, 0.0) for _ in missing], "two")
    out = capsys.readouterr().out
    assert out.count("not cached") == 1 and "lock" in out
    assert not [p for p in (tmp_path / "cache").iterdir() if "Lock" in p.name]


def test_a_section_keys_its_call_without_its_progress_switch(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from helpers import workbook
    from helpers.training.settings import Settings

    monkeypatch.setenv(workbook.NAME, "02-clr-one-cycle")
    split = SimpleNamespace(describe=lambda: "toy", name="toy", seed=0, X_train=np.ones(3))
    calls = Calls()
    train = lambda split, settings, progress=True: calls.append(progress) or {"a": 1}  # noqa: E731
    for official in (False, True):  # a hand run shows progress, make's does not
        run = workbook.Section("02-clr-one-cycle", {"build_dir": str(tmp_path)},
                               official=official)
        run.cached(train, split, Settings())
    assert len(calls) == 1


def test_helpers_files_that_do_not_parse_are_not_cached_not_an_error(tmp_path, monkeypatch):
    """A run while a helpers file is half edited (or mid-merge) computes without the cache."""
    broken = tmp_path / "bonus.py"
    broken.write_text('def f():\n    """unterminated\n<<<<<<< HEAD\n')
    from helpers.experiments import bonus

    real = cache.source_file
    monkeypatch.setattr(cache, "source_file", lambda name: broken
                        if name == "helpers.experiments.bonus" else real(name))
    monkeypatch.setattr(loaded, "SOURCES", {})  # as if not imported: keyed by the files
    with pytest.raises(cache.Stale, match="bonus.py of helpers.experiments.bonus does not parse"):
        cache.imports("helpers.experiments.bonus")

    with pytest.warns(UserWarning, match="does not parse"):
        value, _ = cache.cached(tmp_path / "cache", lambda f: {"x": 1}, bonus.Recipe)
    assert value == {"x": 1} and not (tmp_path / "cache").exists()


def test_the_loader_keeps_the_source_first_imported():
    import sys

    from helpers.workbook import section  # noqa: F401  (imported by now, through the hook)

    for name in ("helpers", "helpers.loaded", "helpers.workbook.section",
                 "helpers.training.loop"):
        assert name in sys.modules, name
        assert loaded.SOURCES[name] == loaded.digest(cache.source_file(name).read_bytes())
    assert not loaded.RELOADED


def test_the_job_s_blas_threads_enter_the_key_not_the_process_s(monkeypatch):
    """A hand run under OPENBLAS_NUM_THREADS=2 and make's share their entries: every cached
    computation runs on JOB_BLAS_THREADS, and that is what the key says."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from helpers.workbook import environment

    with threadpool_limits(limits=2, user_api="blas"):
        two = cache.key(training.train, (1,))
    with threadpool_limits(limits=1, user_api="blas"):
        one = cache.key(training.train, (1,))
    assert one == two
    seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        cache.cached_together(None, [(len, ((),), {})], lambda missing: seen.append(
            [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]) or [(0, 0)])
    assert seen and set(seen[0]) == {cache.JOB_BLAS_THREADS}
    stack = environment.numeric_stack()
    monkeypatch.setattr(environment, "numeric_stack", lambda threads=True: {
        **stack, "blas": [{**stack["blas"][0], "kernel": "Other"}]})
    assert cache.key(training.train, (1,)) != one  # the kernel decides digits


def test_generators_and_tensors_enter_by_their_state_and_bytes():
    rng = np.random.default_rng(0)
    before = cache.serialised(rng)
    assert cache.serialised(np.random.default_rng(0)) == before
    rng.random()
    assert cache.serialised(rng) != before
    legacy = np.random.RandomState(0)
    before = cache.serialised(legacy)
    legacy.random_sample()
    assert cache.serialised(legacy) != before
    objects = np.array([1.5, "a"], dtype=object)
    assert cache.serialised(objects) == cache.serialised(np.array([1.5, "a"], dtype=object))
    assert cache.serialised(objects) != cache.serialised(np.array([1.5, "b"], dtype=object))
    torch = pytest.importorskip("torch")
    t = torch.zeros(5000)
    u = t.clone()
    u[2500] = 1.0  # hidden in the middle of a truncated repr
    assert repr(t) == repr(u) and cache.serialised(t) != cache.serialised(u)


def test_installed_code_by_name_and_version_user_modules_by_value(tmp_path, monkeypatch):
    import importlib
    import sys

    flip = cache.serialised(np.flip)
    assert b"numpy.flip" in flip and np.__version__.encode() in flip
    (tmp_path / "mymod.py").write_text("def f(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import mymod

    before, f_before = cache.serialised(mymod), cache.serialised(mymod.f)
    (tmp_path / "mymod.py").write_text("def f(x):\n    return x + 2\n")
    importlib.reload(mymod)
    assert cache.serialised(mymod) != before  # a user's module: by its code, not its name
    assert cache.serialised(mymod.f) != f_before
    del sys.modules["mymod"]


def test_the_raw_bits_mask_draw_leaves_the_generator_as_numpy_does():
    """Keys that hold a generator agree whichever way its masks were drawn."""
    from helpers.model import fused

    for count in (2, 8, 1000):
        ours, numpys = np.random.default_rng(3), np.random.default_rng(3)
        out = np.empty((1, 1, count), np.float32)
        if not fused.masks(ours, [0.7], out):
            pytest.skip("the raw-bits draw is not used on this machine")
        numpys.random((1, count), dtype=np.float32)
        assert ours.bit_generator.state == numpys.bit_generator.state, count
        assert cache.serialised(ours) == cache.serialised(numpys)
