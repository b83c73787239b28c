"""What every section notebook repeats: its parameters, paths, split, settings, cache, saving.

Make runs a notebook with WORKBOOK_NOTEBOOK=<name> and WORKBOOK_MAKE=1: its results go to
<build_dir>/<profile>/, which the report reads. Any other run (JupyterLab, nbconvert or
papermill by hand) is a hand run, written to <build_dir>/hand/<profile>/ and
<figures_dir>/hand/<profile>/<notebook>/ instead, under the notebook's own name; a copy
(06-best-lambda-Copy1, or any name with 06's `section` parameter) runs as its original.
"""

import copy
import os
import sys
import time
from pathlib import Path

from helpers import cache, listings, params, plots, results, session
from helpers.data import load_split
from helpers.network import evaluate
from helpers.search import best, centred_range, lambda_values, search
from helpers.settings import Settings
from helpers.training import train

NAME, MAKE = session.NAME, session.MAKE  # environment set by make (and tests)
SETTINGS = ("eta_min", "eta_max", "cycles", "batch_size", "m", "records_per_cycle", "seed")


def start(namespace: dict) -> "Section":
    """The running notebook's Section, its parameters read from `namespace` and checked."""
    name, path, source = session.which_notebook(namespace)
    types = params.declared(path) if path.is_file() else {}
    values = {k: namespace[k] for k in types if k in namespace}
    params.check_values(values, types, f"{name}.ipynb")
    session.inline_figures()
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
        self.entry, self.found_by = session.section_of(name, parameters.get("section"))
        p = parameters
        self.profile = p.get("profile", "assignment")
        build = results.resolve(p.get("build_dir", "build"))
        self.results_dir = build / ("" if official else "hand") / self.profile / "results"
        self.official_dir = build / self.profile / "results"
        figures = results.resolve(p.get("figures_dir", "figures"))
        self.figures = figures / self.profile if official else \
            figures / "hand" / self.profile / name  # a copy's figures beside, not over, 06's
        self.cache_dir = build / self.profile / "cache" if p.get("use_cache", True) else None
        self.progress = not official and sys.stderr is not None  # a person is watching
        self.started, self.numbers = time.time(), {}
        self.results = self.numbers  # everything saved; a part records into a dict of it

    def part(self, key: str) -> "Section":
        """This run, recording its split, settings, training and accuracies under
        results[key] instead of at the top (07: the range test, then the retraining)."""
        view = copy.copy(self)
        view.numbers = self.results.setdefault(key, {})
        return view

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
        reads); a hand run's own, where there is one, before make's."""
        name = which or self.reads()[0]
        hand = not self.official and (self.results_dir / f"{name}.json").is_file()
        return results.load(name, self.results_dir if hand else self.official_dir)

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

    def cached(self, fn, split, settings: Settings, *args, **kwargs):
        """fn(split, settings, *args, **kwargs) through the training cache (seconds recorded)."""
        limit = self.parameters.get("limit", 0)
        folder = self.cache_dir
        try:
            inputs = {"split": split.describe(), "data": [split.name, split.seed, limit],
                      "settings": settings.to_dict(), "args": cache.describe(args),
                      "kwargs": {k: cache.describe(v) for k, v in kwargs.items()}}
        except cache.Uncacheable as err:
            inputs, folder = None, None
            if self.cache_dir is not None:
                print(f"not cached (trained afresh every time): the key cannot capture {err}")
        value, seconds = cache.cached(folder, inputs, fn, split, settings, *args,
                                      progress=self.progress, **kwargs)
        self.results["train_seconds"] = self.results.get("train_seconds", 0) + seconds
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

    def record(self, **numbers) -> None:
        """Add `numbers` to the results (of this part), to be saved with them."""
        self.numbers.update(numbers)

    def figure(self, fig, stem: str):
        """Save fig as <figures>/<stem>.png and .pdf; return it to be shown."""
        plots.save(fig, self.figures / stem)
        drawn = self.results.setdefault("figures", [])
        drawn += [] if stem in drawn else [stem]  # a cell run twice draws one figure
        return fig

    def save(self, **numbers) -> Path:
        """Write the results file: everything recorded so far, `numbers`, the parameters."""
        path = results.save(self.results_dir, self.name, {**self.results, **numbers},
                            self.parameters, self.profile, self.started)
        print(f"results: {path}" + ("" if self.official else " (a hand run: make report "
                                                               "does not read it)"))
        return path

