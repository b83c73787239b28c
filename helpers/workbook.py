"""What every section notebook repeats: its parameters, paths, split, settings, cache, saving.

Make runs a notebook with WORKBOOK_NOTEBOOK=<name> and WORKBOOK_MAKE=1: its results go to
<build_dir>/<profile>/, which the report reads. Any other run (Jupyter, papermill by hand) is
a hand run, written to <build_dir>/hand/<profile>/ and <figures_dir>/hand/<profile>/ instead.
"""

import os
import sys
import time
from pathlib import Path

from helpers import cache, listings, params, plots, results, sections, session
from helpers.data import load_split
from helpers.network import evaluate
from helpers.search import best, centred_range, lambda_values, search
from helpers.settings import Settings
from helpers.training import train

NAME, MAKE = session.NAME, session.MAKE  # environment set by make (and tests)
SETTINGS = ("eta_min", "eta_max", "cycles", "batch_size", "m", "records_per_cycle", "seed")


def start(namespace: dict) -> "Section":
    """The running notebook's Section, its parameters read from `namespace` and checked."""
    name, path = session.which_notebook(namespace)
    types = params.declared(path) if path.is_file() else {}
    values = {k: namespace[k] for k in types if k in namespace}
    params.check_values(values, types, f"{name}.ipynb")
    session.inline_figures()
    return Section(name, values, official=os.environ.get(MAKE) == "1")


class Section:
    """One run of a section notebook: where it writes, what it has computed so far."""

    def __init__(self, name: str, parameters: dict, official: bool):
        self.name, self.parameters, self.official = name, parameters, official
        self.entry = sections.by_name(name) or {"reads": [], "figures": []}
        p = parameters
        self.profile = p.get("profile", "assignment")
        build = results.resolve(p.get("build_dir", "build"))
        self.results_dir = build / ("" if official else "hand") / self.profile / "results"
        self.official_dir = build / self.profile / "results"
        self.figures = results.resolve(p.get("figures_dir", "figures")) / \
            ("" if official else "hand") / self.profile
        self.cache_dir = build / self.profile / "cache" if p.get("use_cache", True) else None
        self.progress = not official and sys.stderr is not None  # a person is watching
        self.started, self.numbers = time.time(), {}

    def split(self, kind: str):
        """The named split (helpers.data.load_split) with this notebook's data parameters."""
        p = self.parameters
        split = load_split(kind, path=p.get("data_dir") or None, seed=p.get("split_seed", 0),
                           limit=p.get("limit") or None)
        self.numbers.update(split=split.describe(), sizes={
            part: len(getattr(split, f"y_{part}")) for part in ("train", "val", "test")})
        print(split.describe())
        return split

    def settings(self, split, **changes) -> Settings:
        """Settings from the parameters and `changes`; n_s 0 means 2 floor(n / batch_size)."""
        p = {**self.parameters, **changes}
        n_s = p.get("n_s", 0) or 2 * (len(split.y_train) // p.get("batch_size", 100))
        settings = Settings(n_s=n_s, **{k: p[k] for k in SETTINGS if k in p})
        self.numbers.update(settings=settings.to_dict(), steps=settings.total_steps)
        return settings

    def read(self, which: int | str = 0) -> dict:
        """The results of a section: by name, or the which-th it reads; a hand run's first."""
        name = self.entry["reads"][which] if isinstance(which, int) else which
        hand = not self.official and (self.results_dir / f"{name}.json").is_file()
        return results.load(name, self.results_dir if hand else self.official_dir)

    def lam(self, lam: float) -> float:
        """lam itself, or for -1 the best lambda (by validation) of the search it reads."""
        source = "parameter" if lam >= 0 else self.entry["reads"][0]
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

    def cached(self, fn, split, settings: Settings, *args, **kwargs):
        """fn(split, settings, *args, **kwargs) through the training cache (seconds recorded)."""
        limit = self.parameters.get("limit", 0)
        inputs = {"split": split.describe(), "data": [split.name, split.seed, limit],
                  "settings": settings.to_dict(), "args": args,
                  "kwargs": {k: _describe(v) for k, v in kwargs.items()}}
        value, seconds = cache.cached(self.cache_dir, inputs, fn, split, settings, *args,
                                      progress=self.progress, **kwargs)
        self.numbers["train_seconds"] = self.numbers.get("train_seconds", 0) + seconds
        return value

    def train(self, split, settings: Settings, lam: float, **seams):
        """n_seeds networks with lambda `lam`, seeds seed, seed + 1, ..., side by side.

        Output (params, history); the first network is the headline run."""
        p = self.parameters
        seeds = list(range(p.get("seed", 0), p.get("seed", 0) + p.get("n_seeds", 1)))
        self.lambdas_trained = [lam] * len(seeds)
        net, history = self.cached(train, split, settings, self.lambdas_trained, seeds=seeds,
                                   **seams)
        self.numbers.update(seeds=seeds, history=history)
        return net, history

    def search(self, split, settings: Settings, lambdas) -> tuple:
        """One network per lambda, all at once: (search()'s rows, the best three)."""
        rows = self.cached(search, split, settings, lambdas)
        self.numbers.update(runs=rows, best=best(rows, k=3))
        return rows, self.numbers["best"]

    def accuracies(self, net, split) -> dict:
        """Headline (first network) and mean ± std over the networks, on the whole sets."""
        accuracy = listings.accuracies(net, split, self.lambdas_trained, evaluate)
        headline = {part: float(values[0]) for part, values in accuracy.items()}
        over = {part: listings.spread(values) for part, values in accuracy.items()}
        self.numbers.update(accuracy=headline, accuracy_over_seeds=over)
        return headline

    def figure(self, fig, stem: str):
        """Save fig as <figures>/<stem>.png and .pdf; return it to be shown."""
        plots.save(fig, self.figures / stem)
        self.numbers.setdefault("figures", []).append(stem)
        return fig

    def save(self, **numbers) -> Path:
        """Write the results file: everything recorded so far, `numbers`, the parameters."""
        path = results.save(self.results_dir, self.name, {**self.numbers, **numbers},
                            self.parameters, self.profile, self.started)
        print(f"results: {path}" + ("" if self.official else " (a hand run: make report "
                                                               "does not read it)"))
        return path


def _describe(value):
    """A callable as module.name (its code is in the cache key), anything else as it is."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return value
