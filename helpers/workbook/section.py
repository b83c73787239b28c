"""What every section notebook repeats: which notebook it is and which section it runs, its
parameters, paths, split, settings, cache and saving.

Make runs a notebook with WORKBOOK_NOTEBOOK=<name> and WORKBOOK_MAKE=1: its results go to
<build_dir>/<profile>/, which the report reads. Any other run (JupyterLab, nbconvert or
papermill by hand) is a hand run, written to <build_dir>/hand/<profile>/ and
<figures_dir>/hand/<profile>/<notebook>/ instead, under the notebook's own name; a copy
(06-best-lambda-Copy1, or any name with 06's `section` parameter) runs as its original.
"""

import copy
import os
import re
import sys
import threading
import time
from pathlib import Path

from helpers import paths, registry
from helpers.cifar.data import load_split
from helpers.clock import timed
from helpers.experiments.search import best, centred_range, lambda_values, search
from helpers.model.accuracy import accuracies, over_seeds
from helpers.training import progress
from helpers.training.seams import Seams
from helpers.training.settings import Settings
from helpers.training.workers import train
from helpers.workbook import cache, profiles, results

NAME, MAKE = "WORKBOOK_NOTEBOOK", "WORKBOOK_MAKE"  # environment set by make (and tests)
_BOOKKEEPING = threading.Lock()
SETTINGS = ("eta_min", "eta_max", "cycles", "batch_size", "m", "records_per_cycle", "seed")


def start(namespace: dict) -> "Section":
    """The running notebook's Section, its parameters read from `namespace` and checked."""
    name, path, source = which_notebook(namespace)
    types = profiles.declared(parameters_source(path, namespace.get("section")))
    values = {k: namespace[k] for k in types if k in namespace}
    profiles.check_values(values, types, f"{name}.ipynb")
    inline_figures()
    # only make's own runs (named by make, WORKBOOK_MAKE=1) write where the report reads
    official = os.environ.get(MAKE) == "1" and source == f"${NAME}"
    return Section(name, values, official=official)


class Section:
    """One run of a section notebook: where it writes, what it has computed so far.

    Its split, settings, training and accuracies are recorded at the top of its results;
    a notebook that trains twice records each run under a key of its own: run.part(key).
    """

    def __init__(self, name: str, parameters: dict, official: bool):
        self.name, self.parameters, self.official = name, parameters, official
        self.entry, self.found_by = section_of(name, parameters.get("section"))
        p = parameters
        self.profile = p.get("profile", "assignment")
        build = paths.resolve(p.get("build_dir", "build"))
        self.results_dir = build / ("" if official else "hand") / self.profile / "results"
        self.official_dir = build / self.profile / "results"
        figures = paths.resolve(p.get("figures_dir", "figures"))
        self.figures = figures / self.profile if official else \
            figures / "hand" / self.profile / name  # a copy's figures beside, not over, 06's
        # one cache for every profile and hand run: its key holds every input, not the profile
        self.cache_dir = build / "cache" if p.get("use_cache", True) else None
        self.progress = not official and sys.stderr is not None  # a person is watching
        self.started, self.numbers = time.time(), {}
        self.all_numbers = self.numbers  # everything saved; a part records into a dict of it

    def part(self, key: str) -> "Section":
        """This run, recording its split, settings, training and accuracies under
        results[key] instead of at the top (07: the range test, then the retraining)."""
        view = copy.copy(self)
        view.numbers = self.all_numbers.setdefault(key, {})
        return view

    def split(self, kind: str):
        """The named split (helpers.cifar.data.load_split) with this notebook's data parameters."""
        p = self.parameters
        split = load_split(kind, path=p.get("data_dir") or None, seed=p.get("split_seed", 0),
                           limit=p.get("limit") or None)
        self.numbers.update(split=split.describe(), sizes={
            part: len(getattr(split, f"y_{part}")) for part in ("train", "val", "test")})
        print(split.describe())
        return split

    def settings(self, split, **changes) -> Settings:
        """Settings from the parameters and `changes` (recorded); see settings_for."""
        settings = self.settings_for(split, **changes)
        self.numbers.update(settings=settings.to_dict(), steps=settings.total_steps)
        return settings

    def settings_for(self, split, **changes) -> Settings:
        """Settings from the parameters and `changes`, not recorded; n_s 0 means
        2 floor(n / batch_size)."""
        p = {**self.parameters, **changes}
        n_s = p.get("n_s", 0) or 2 * (len(split.y_train) // p.get("batch_size", 100))
        return Settings(n_s=n_s, **{k: p[k] for k in SETTINGS if k in p})

    def read(self, which: str | None = None) -> dict:
        """The results of section `which` (a notebook name; default: the first this one
        reads); a hand run's own, where there is one, before make's. A hand run says which
        file it read and from when (and when make's is newer)."""
        name = which or self.reads()[0]
        hand = not self.official and (self.results_dir / f"{name}.json").is_file()
        found = results.load(name, self.results_dir if hand else self.official_dir)
        self._check_split_seed(name, found)
        if not self.official:
            print(provenance(name, self.results_dir if hand else self.official_dir,
                             self.official_dir if hand else None))
        return found

    def _check_split_seed(self, name: str, found: dict) -> None:
        """ValueError when section `name`, whose results this one reads, held out its
        validation images with another split_seed: the splits' validation sets are disjoint
        (helpers.cifar.data.held_out_slice) only within one seed's partition, so this
        section's validation images would overlap those the other chose on."""
        theirs = found.get("parameters", {}).get("split_seed")
        mine = self.parameters.get("split_seed")
        if theirs is not None and mine is not None and theirs != mine:
            raise ValueError(
                f"{self.name} has split_seed {mine} but {name}, whose results it reads, used "
                f"split_seed {theirs}: the two splits' validation images are disjoint only "
                f"within one seed's partition, so this run's validation would overlap the "
                f"images {name} chose on. Use one split_seed for both (the profile's "
                f"params/{self.profile}.yaml, or this notebook's parameter)")

    def reads(self) -> list:
        """The sections this one reads (the registry); ValueError saying how it was looked up
        when this notebook is no section, or reads none."""
        if self.entry is None or not self.entry["reads"]:
            what = "matches no section of notebooks/sections.toml" if self.entry is None \
                else f"runs section {self.entry['notebook']}, which reads no other section"
            raise ValueError(
                f"notebook {self.name!r} {what}: it was looked up by {self.found_by}. To "
                f"read another section's results, put the section it copies in its parameters "
                f"cell (section: str = \"06-best-lambda\"), or name the one to read: "
                f"run.read(\"05-lambda-fine-search\")")
        return self.entry["reads"]

    def lam(self, lam: float) -> float:
        """lam itself, or for -1 the best lambda (by validation) of the search it reads."""
        source = "parameter" if lam >= 0 else self.reads()[0]
        value = lam if lam >= 0 else self.read()["best"][0]["lambda"]
        self.numbers.update({"lambda": value, "lambda_source": source})
        print(f"lambda = {value} (from {source})")
        return value

    def lambdas(self) -> list:
        """The search's lambdas from l_min, l_max, count, kind (or centred on the best read)."""
        p = self.parameters
        l_range = (centred_range(self.read()["best"][0]["lambda"], p["half_width"])
                   if p.get("centre_on_coarse") else (p["l_min"], p["l_max"]))
        values = lambda_values(*l_range, p["count"], p["kind"], seed=p.get("lambda_seed", 0))
        self.numbers["range"] = list(l_range)
        print(f"{p['count']} lambdas 10^l, l in [{l_range[0]:.3g}, {l_range[1]:.3g}] ({p['kind']})")
        return values

    def cached(self, fn, split, settings: Settings, *args, label: str | None = None,
               **kwargs):
        """fn(split, settings, *args, **kwargs) through the training cache (seconds recorded);
        label: what trains, for make's progress lines (default: fn's name and the seed)."""
        return self.cached_timed(fn, split, settings, *args, label=label, **kwargs)[0]

    def cached_timed(self, fn, split, settings: Settings, *args, label: str | None = None,
                     **kwargs) -> tuple:
        """(cached's value, the seconds it took to compute: its first computation's for a
        stored one)."""
        return self.cached_together(
            fn, [(split, settings, args, kwargs)],
            lambda missing: [timed(fn, split, settings, *args, progress=self.progress,
                                         **kwargs)],
            label or f"{fn.__name__}, seed {settings.seed}")[0]

    def cached_together(self, fn, calls: list, compute, label: str) -> list:
        """cached_timed of each call fn(split, settings, *args, **kwargs) in calls [(split,
        settings, args, kwargs)], those the cache lacks computed by ONE call compute(indices
        of the missing calls) -> [(value, seconds)], which must give what fn gives (several
        trainings side by side sharing work); each stored under its own call's key. label:
        what trains, for make's progress lines."""
        progress.doing(label)
        keyed = [(fn, (split, settings, *args), kwargs) for split, settings, args, kwargs in calls]
        done = cache.cached_together(self.cache_dir, keyed, compute, say=print)
        with _BOOKKEEPING:  # jobs side by side (helpers.training.workers) add theirs
            self.all_numbers["train_seconds"] = self.all_numbers.get("train_seconds", 0) + \
                sum(seconds for _, seconds in done)
        return done

    @property
    def device(self):
        """The engine of this run's training, its `device` parameter: None for numpy (""), or
        a torch device ("cpu", "cuda"). An argument of every training, so in its cache key."""
        return self.parameters.get("device") or None

    def train(self, split, settings: Settings, lam: float, **seams):
        """n_seeds networks with lambda `lam`, seeds seed, seed + 1, ..., side by side, on the
        run's device; seams: the fields of helpers.training.seams.Seams (eta=, record=, ...).

        Output (params, history); the first network is the headline run."""
        p = self.parameters
        seeds = list(range(p.get("seed", 0), p.get("seed", 0) + p.get("n_seeds", 1)))
        self.lambdas_trained = [lam] * len(seeds)
        net, history = self.cached(train, split, settings, self.lambdas_trained, seeds=seeds,
                                   label=f"{len(seeds)} network(s) side by side",
                                   device=self.device, seams=Seams(**seams))
        self.numbers.update(seeds=seeds, history=history)
        return net, history

    def search(self, split, settings: Settings, lambdas) -> tuple:
        """One network per lambda, all at once: (search()'s rows, the best three)."""
        rows = self.cached(search, split, settings, lambdas, device=self.device,
                           label=f"the search, {len(lambdas)} networks side by side")
        self.numbers.update(runs=rows, best=best(rows, k=3))
        return rows, self.numbers["best"]

    def accuracies(self, net, split) -> dict:
        """Headline (first network) and mean ± std over the networks, on the whole sets."""
        accuracy = accuracies(net, split, self.lambdas_trained)
        headline = {part: float(values[0]) for part, values in accuracy.items()}
        over = {part: over_seeds(values) for part, values in accuracy.items()}
        self.numbers.update(accuracy=headline, accuracy_over_seeds=over)
        return headline

    def record(self, **numbers) -> None:
        """Add `numbers` to the results (of this part), to be saved with them."""
        self.numbers.update(numbers)

    def figure(self, fig, stem: str):
        """Save fig as <figures>/<stem>.png and .pdf; return it to be shown."""
        results.save_figure(fig, self.figures / stem)
        drawn = self.all_numbers.setdefault("figures", [])
        drawn += [] if stem in drawn else [stem]  # a cell run twice draws one figure
        return fig

    def save(self, **numbers) -> None:
        """Write the results file (self.saved): everything recorded so far, `numbers`, the
        parameters. Returns nothing, so that a cell ending with it shows only its message."""
        self.saved = results.save(self.results_dir, self.name, {**self.all_numbers, **numbers},
                                  self.parameters, self.profile, self.started)
        print(f"results: {self.saved}" + ("" if self.official else " (a hand run: make report "
                                                                     "does not read it)"))


def provenance(name: str, folder: Path, newer_than: Path | None = None) -> str:
    """One line: which results file of section `name` is read, written when and by what run;
    with newer_than (make's folder, when a hand run's own file is read), whether make's is
    newer."""
    path = folder / f"{name}.json"
    written = path.stat().st_mtime
    line = (f"reads {path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path}"
            f" ({'a hand run' if 'hand' in path.parts else 'make report'}'s, written "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(written))}, "
            f"{_age(time.time() - written)} ago)")
    other = None if newer_than is None else newer_than / f"{name}.json"
    if other is not None and other.is_file() and other.stat().st_mtime > written:
        line += (f"; make report's {other.name} is newer: delete {path.name} from "
                 f"{folder} to read it")
    return line


def _age(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(seconds, 0):.0f} seconds"


# Which notebook is running, and which section it runs
# What file managers and JupyterLab append to a copy: -Copy1 (JupyterLab), " copy",
# " copy 2" (macOS), " - Copy", " - Copy (2)" (Windows), " (1)" (browsers' downloads).
COPY_SUFFIX = re.compile(r"(-Copy\d*| copy( \d+)?| - Copy( \(\d+\))?| \(\d+\))$", re.IGNORECASE)


def which_notebook(namespace: dict) -> tuple:
    """(name, path, source) of the running notebook, from the first of these that says:

    0. make (WORKBOOK_MAKE=1 and WORKBOOK_NOTEBOOK=NAME) when the command that started the
       kernel is papermill running notebooks/NAME.ipynb: whatever the environment inherited;
    1. Jupyter's own session (JupyterLab and VS Code tell the kernel its notebook's path);
    2. the environment variable WORKBOOK_NOTEBOOK (make sets it);
    3. the command that started the kernel (`jupyter nbconvert --execute NAME.ipynb`,
       `papermill IN.ipynb OUT.ipynb`: the notebook it names);
    4. the notebook's own `section` parameter (its registry name; a copy carries its
       original's).
    ValueError when none does, and when WORKBOOK_NOTEBOOK answers but names another section
    than the notebook's `section` parameter, or another notebook than the command runs (make's
    variables left in a shell). `source` says which one answered.
    """
    launcher, named = launcher_notebook(), os.environ.get(NAME)
    found = [("Jupyter's session", namespace.get("__session__")
              or os.environ.get("JPY_SESSION_NAME") or namespace.get("__vsc_ipynb_file__")),
             (f"${NAME}", named),
             ("the command that started the kernel", launcher),
             ("its section parameter", namespace.get("section"))]
    if os.environ.get(MAKE) == "1" and named and launcher and Path(launcher).stem == named:
        found.insert(0, (f"${NAME}", named))
    source, session = next(((s, v) for s, v in found if v), (None, None))
    if not session:
        raise ValueError(f"cannot tell which notebook this is: run it in Jupyter, with make, "
                         f"with jupyter nbconvert --execute or papermill, or give it a "
                         f"`section` parameter (or set {NAME}=<notebook name>)")
    if source == f"${NAME}":
        _check_named(named, namespace.get("section"), launcher)
    path = Path(session)
    if path.suffix != ".ipynb":
        path = paths.NOTEBOOKS / f"{session}.ipynb"
    elif not path.is_absolute() and not path.is_file():
        path = paths.NOTEBOOKS / path.name
    return path.stem, path, source


def _check_named(named: str, carried: str | None, launcher: str | None) -> None:
    """ValueError when WORKBOOK_NOTEBOOK=named disagrees with the notebook's own `section`
    parameter or with the notebook the command runs."""
    clash = None
    if carried and carried != named:
        clash = f"this notebook's section parameter is {carried!r}"
    elif launcher and Path(launcher).stem != named:
        clash = f"the command that started this kernel runs {Path(launcher).name}"
    if clash:
        raise ValueError(
            f"{NAME}={named} names another notebook than the one running ({clash}): make's "
            f"variables left in this shell? Run `unset {NAME} {MAKE}`, then run it again "
            f"(make report sets them itself)")


def parameters_source(path: Path, carried: str | None) -> Path:
    """The notebook whose parameters cell declares this run's parameters: its own file, or,
    where that is gone (renamed or moved while its kernel ran, an untitled notebook), the
    notebook of its `section` parameter; ValueError saying what to do when neither is there."""
    if path.is_file():
        return path
    entry = registry.by_name(carried, registry.load()) if carried else None
    if entry is None:
        raise ValueError(
            f"cannot read the parameters of {path}: the file is not there (renamed or moved "
            f"while its kernel runs, or never saved) and it has no `section` parameter naming "
            f"a section of notebooks/sections.toml. Save it, restart its kernel and run it "
            f"again, or add `section: str = \"06-best-lambda\"` (the section it runs) to its "
            f"parameters cell")
    original = paths.NOTEBOOKS / f"{entry['notebook']}.ipynb"
    print(f"note: {path.name} is not on disk (renamed or moved while its kernel runs?): its "
          f"parameters are those of notebooks/{original.name}, the section it names")
    return original


def launcher_notebook(pid: int | None = None) -> str | None:
    """The notebook named on the command line of the process that started this kernel
    (jupyter nbconvert --execute NAME.ipynb; papermill IN.ipynb OUT.ipynb: IN), as an
    absolute path; None where there is none, several, or no /proc (not Linux)."""
    proc = Path(f"/proc/{os.getppid() if pid is None else pid}")
    try:
        args = [a.decode() for a in (proc / "cmdline").read_bytes().split(b"\0") if a]
        cwd = (proc / "cwd").resolve()
    except (OSError, UnicodeDecodeError):
        return None
    values = {k + 1 for k, a in enumerate(args) if a in ("--output", "--output-dir")}
    named = [cwd / a for k, a in enumerate(args) if k and k not in values
             and a.endswith(".ipynb") and not a.startswith("-")]  # nbconvert's --output x.ipynb
    papermill = any(Path(a).name.startswith("papermill") for a in args[:2])
    if not named or (len(named) > 1 and not papermill):
        return None
    return str(named[0]) if named[0].is_file() else None


def section_of(name: str, carried: str | None = None) -> tuple:
    """(registry entry or None, how it was found) of a notebook called `name` whose
    `section` parameter is `carried`: by that parameter, by its name, or by its name
    without a copy suffix (06-best-lambda-Copy1 runs as 06-best-lambda)."""
    sections = registry.load()
    for how, key in (("its section parameter", carried), ("its name", name),
                     ("its name without the copy suffix", strip_copy(name))):
        entry = registry.by_name(key, sections) if key else None
        if entry is not None:
            return entry, f"{how} ({key!r})"
    return None, (f"its section parameter ({carried!r}), " if carried else "") + \
        f"its name ({name!r}) and its name without a copy suffix ({strip_copy(name)!r})"


def strip_copy(name: str) -> str:
    """`name` without the copy suffixes at its end: 06-best-lambda-Copy1-Copy2 -> 06-best-lambda."""
    while (shorter := COPY_SUFFIX.sub("", name)) != name:
        name = shorter
    return name


def inline_figures() -> None:
    """Figures shown inline as PNG (HTML) and PDF (vector, for the PDF report)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['png', 'pdf']")
