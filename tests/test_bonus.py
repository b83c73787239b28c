"""The bonus's protocol: runs that pair seeds, members that do not, rows that remove one
component each, verdicts by the keep rule, the chosen recipe and the final split."""

import json
from dataclasses import replace

import numpy as np
import pytest

from helpers import paths
from helpers.cifar.data import Split
from helpers.experiments import bonus
from helpers.model import ensemble
from helpers.report import listings, tables
from helpers.training.loop import minibatches
from helpers.training.settings import Settings

SETTINGS = Settings(eta_min=1e-3, eta_max=5e-2, n_s=5, cycles=3, batch_size=8, m=10,
                    records_per_cycle=bonus.RECORDS_PER_CYCLE)


def image_split(seed=0, n_train=48, n_val=24, signal=0.0):
    """A synthetic Split whose rows have CIFAR-10's 3072 values (augmentation needs them);
    with signal > 0, each row is its class's mean (values of that std) plus noise."""
    rng = np.random.default_rng(seed)
    means = signal * np.random.default_rng(99).standard_normal((10, 3072))

    def make(n):
        y = rng.integers(0, 10, n)
        return (rng.standard_normal((n, 3072)) + means[y]).astype(np.float32), y

    (Xa, ya), (Xv, yv), (Xt, yt) = make(n_train), make(n_val), make(n_val)
    return Split(Xa, ya, Xv, yv, Xt, yt, np.zeros(3072, np.float32), np.ones(3072, np.float32),
                 None, f"synthetic{seed}", seed)


def test_snapshots_are_the_last_cycle_ends_and_validation_is_read_twice_a_cycle():
    params, history, snaps, _ = bonus.train_recipe(image_split(), SETTINGS, [1e-3], [0.0], k=8,
                                                   snapshots=2, progress=False)
    assert sorted(snaps, key=int) == ["20", "30"]
    np.testing.assert_array_equal(snaps["30"]["W1"], params["W1"])
    assert sorted(set(history["curves"]["step"])) == [0, 5, 10, 15, 20, 25, 30]
    assert params["W1"].shape == (1, 10, 8)  # the first layer sees the k components


def test_a_network_in_a_stack_is_the_network_trained_alone():
    """Paired rows: stacked or alone, seed s gets the same initialisation, batches, masks and
    augmentation (a shared mask generator would drift apart from the second step on)."""
    split, kw = image_split(), {"k": 8, "max_shift": 2, "p_flip": 0.5, "progress": False}
    stack = bonus.train_recipe(split, SETTINGS, [1e-3, 1e-2], [0.3, 0.5], **kw)[0]
    alone = bonus.train_recipe(split, SETTINGS, [1e-2], [0.5], **kw)[0]
    np.testing.assert_allclose(stack["W1"][1], alone["W1"][0], rtol=1e-4, atol=1e-6)
    other = bonus.train_recipe(split, SETTINGS.__class__(**{**SETTINGS.to_dict(), "seed": 1}),
                               [1e-2], [0.5], **kw)[0]
    assert not np.allclose(other["W1"][0], alone["W1"][0], atol=1e-3)


def test_stacks_side_by_side_share_their_rows_and_equal_each_stack_alone(monkeypatch):
    """train_recipes: a wide and a narrow stack of one seed, flipped, shifted and projected,
    make each step's rows once, and each stack's params, curves and snapshots are those
    train_recipe gives it alone, digit for digit."""
    split = image_split()
    kw = {"k": 8, "max_shift": 2, "p_flip": 0.5, "progress": False}
    narrow = replace(SETTINGS, m=4)
    alone = [bonus.train_recipe(split, SETTINGS, [1e-3, 1e-2], [0.0, 0.3], snapshots=2, **kw),
             bonus.train_recipe(split, narrow, [1e-3], [0.5], **kw)]
    made, hook = [], bonus.rows_hook

    def counted(*args):
        rows = hook(*args)
        return lambda index, t: made.append(t) or rows(index, t)

    monkeypatch.setattr(bonus, "rows_hook", counted)
    together = bonus.train_recipes(split, [(SETTINGS, [1e-3, 1e-2], [0.0, 0.3], 2),
                                           (narrow, [1e-3], [0.5], 0)],
                                   kw["k"], kw["max_shift"], kw["p_flip"], False)
    assert made == list(range(SETTINGS.total_steps))  # once a step, for both stacks
    for (p, h, snaps, carried), (q, g, snaps_alone, carried_alone) in zip(together, alone,
                                                                           strict=True):
        assert all(np.array_equal(p[k], q[k]) for k in p)
        assert h["curves"] == g["curves"] and snaps.keys() == snaps_alone.keys()
        assert all(np.array_equal(snaps[t][k], snaps_alone[t][k]) for t in snaps for k in q)
        np.testing.assert_array_equal(carried["components"], carried_alone["components"])
    with pytest.raises(ValueError, match="differ in m only"):
        bonus.train_recipes(split, [(SETTINGS, [1e-3], [0.0], 0),
                                    (replace(SETTINGS, seed=1, m=4), [1e-3], [0.0], 0)], **kw)


def test_jobs_trained_together_name_both_rows_and_the_seed_once():
    r = bonus.Recipe(m=10, k=8, max_shift=2, p_flip=0.5)
    full, narrow = (bonus.Job.per_seed(image_split(), recipe, pairs, [0, 1], 0, what)[1]
                    for recipe, pairs, what in [(r, [(1e-3, 0.0)] * 4, "row 'full'"),
                                                (r.but(m=4), [(1e-3, 0.0)] * 6, "row 'narrow'")])
    assert bonus.Job.together([full, narrow]) == \
        "row 'full' (4 networks) and row 'narrow' (6 networks) on the same rows, seed 1 (2 of 2)"
    assert bonus.Job.together([full]) == full.label
    assert full.rows_key == narrow.rows_key  # the same seed and augmentation: shared
    still = bonus.Job.per_seed(image_split(), r.but(max_shift=0, p_flip=0.0), [(1e-3, 0.0)],
                               [0], 0, "row")[0]
    assert still.rows_key[0] == "alone"  # rows projected once: nothing to share


def test_shared_rows_refuse_runs_on_other_mini_batches():
    shared = bonus.SharedRows(lambda index, t: np.asarray(index) * 2.0)
    first = shared(np.array([1, 2]), 0)
    assert shared(np.array([1, 2]), 0) is first and shared(np.array([3]), 1)[0] == 6
    with pytest.raises(ValueError, match="different mini-batches at step 1"):
        shared(np.array([4]), 1)


def test_augmentation_is_seeded_changes_training_and_refuses_impossible_shifts():
    split = image_split()
    plain = bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], k=8, progress=False)[0]
    a, b = (bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], k=8, max_shift=3, p_flip=0.5,
                               progress=False)[0] for _ in range(2))
    np.testing.assert_array_equal(a["W1"], b["W1"])
    assert not np.allclose(a["W1"], plain["W1"])
    with pytest.raises(ValueError, match="max_shift"):
        bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], max_shift=33, progress=False)


def test_the_projection_is_fitted_on_the_training_rows_of_the_split_given():
    split = image_split()
    data, proj = bonus.features(split, 8)
    np.testing.assert_allclose(proj.mean, split.X_train.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(data.X_test, proj(split.X_test))
    assert bonus.features(split, 0) == (split, None)


def test_a_run_carries_the_projection_it_was_trained_on():
    split = image_split()
    _, _, _, carried = bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], k=8, progress=False)
    data, proj = bonus.features(split, 8)
    np.testing.assert_array_equal(carried["components"], proj.components)
    np.testing.assert_array_equal(bonus.inputs(carried, split.X_val), data.X_val)
    assert bonus.train_recipe(split, SETTINGS, [1e-3], [0.0], progress=False)[3] is None
    assert bonus.inputs(None, split.X_val) is split.X_val


def flipped(split, k):
    """features() as another LAPACK may give it: the same fit, its first component's sign
    turned."""
    proj = bonus.projection.fit(split.X_train, k)
    components = proj.components.copy()
    components[:, 0] *= -1
    proj = bonus.projection.Projection(proj.mean, components, proj.explained)
    return replace(split, X_train=proj(split.X_train), X_val=proj(split.X_val),
                   X_test=proj(split.X_test)), proj


def test_cached_networks_are_evaluated_on_their_own_projection_not_a_refitted_one(monkeypatch):
    """Runs cached by one process, evaluated in another whose projection has a component of
    the other sign: every number is the one the first process gave."""
    study = tiny_study(run=CachingRun(), signal=0.5)
    study.full_recipe([1e-3], [0.3], snapshots=2)
    want = study.ensembles(2), study.train_final(study.recipe, 2, 10, 2)
    trained = len(study.run.calls)
    monkeypatch.setattr(bonus, "features", flipped)
    assert study.ensembles(2) == want[0]
    again = study.train_final(study.recipe, 2, 10, 2)
    assert {**again, "seconds": 0} == {**want[1], "seconds": 0}  # seconds: training's only
    assert len(study.run.calls) == trained  # nothing trained again: all from the cache
    # the flip matters: the networks read through the refitted projection score otherwise
    p, _, _, carried = study._runs["full"][0]
    X, y = study.search.X_val, study.search.y_val
    assert ensemble.accuracy([p], flipped(study.search, 8)[0].X_val, y) != \
        bonus.ensemble_accuracy([(carried, [p])], X, y)


# The study, on tiny real trainings


class TinyRun:
    """What Study needs of a workbook Section: settings_for, cached_together, all_numbers,
    progress, each cached call recorded (the settings' seed and width, the networks' lambdas
    and dropouts)."""

    def __init__(self):
        self.all_numbers, self.calls, self.progress = {}, [], False

    def settings_for(self, split, **change):
        base = {"n_s": 2 * (len(split.y_train) // change.get("batch_size", 8)), "m": 10,
                "batch_size": 8, "eta_min": 1e-3, "eta_max": 5e-2}
        return Settings(**{**base, **change})

    def cached_together(self, fn, calls, compute, label):
        for _, settings, args, kwargs in calls:
            self.calls.append((settings.seed, settings.m, args, kwargs))
        self.all_numbers["train_seconds"] = self.all_numbers.get("train_seconds", 0) + \
            len(calls)
        return [(value, 1.0) for value, _ in compute(list(range(len(calls))))]


class CachingRun(TinyRun):
    """A TinyRun whose runs are stored by their inputs, as the workbook's cache stores them."""

    def __init__(self):
        super().__init__()
        self.store = {}

    def cached_together(self, fn, calls, compute, label):
        keys = [repr((split.describe(), settings, args, sorted(kwargs.items())))
                for split, settings, args, kwargs in calls]
        missing = [i for i, key in enumerate(keys) if key not in self.store]
        if missing:
            done = super().cached_together(fn, [calls[i] for i in missing],
                                           lambda sub: compute([missing[j] for j in sub]), label)
            self.store.update({keys[i]: run for i, run in zip(missing, done, strict=True)})
        return [self.store[key] for key in keys]


def tiny_study(seeds=(0, 1, 2), run=None, signal=0.0):
    base = bonus.Recipe(m=10, k=8, max_shift=2, p_flip=0.5, cycles=2)
    return bonus.Study(run or TinyRun(), image_split(0, signal=signal),
                       image_split(1, signal=signal), base, seeds, batch_size=8)


def test_a_study_from_the_full_recipe_to_the_final_split():
    study = tiny_study()
    full, without = study.full_recipe([1e-3, 1e-2], [0.0, 0.3], snapshots=2)
    assert full["recipe"]["dropout"] == 0.3 and without["recipe"]["dropout"] == 0.0
    calls = study.run.calls
    assert len(calls) == 3 and all(len(c[2][0]) == 4 for c in calls)  # one grid per seed
    study.without("augmentation", "without flips and shifts", max_shift=0, p_flip=0.0)
    study.without("width", "without the width", m=4, lambdas=[1e-3], dropouts=[0.0])
    study.shorter(1)
    study.ensembles(2)
    names = [r["component"] for r in study.rows]
    assert names == [None, "dropout", "augmentation", "width", "training length", "ensemble",
                     "snapshots"]
    for row in study.rows[1:]:
        if row["component"] == "ensemble":
            continue
        assert row["gain"]["n"] == 3 and row["kept"] == (row["gain"]["verdict"] == "better")
        want = np.mean(full["val"]["values"]) - np.mean(row["val"]["values"])
        if row["component"] not in ("ensemble", "snapshots"):
            assert row["gain"]["gain"] == pytest.approx(want)  # full minus the row, per seed
    # the shorter row is the full recipe's runs read at the end of cycle 1 (step 2 n_s)
    end = 2 * study.run.settings_for(study.search).n_s
    curve = study.curves[full["row"]]
    assert study.rows[4]["val"]["mean"] == pytest.approx(
        curve["val"][curve["epochs"].index(end * 8 / 48)])
    # one ensemble of the seeds has nothing to pair with: no verdict, no ± (not the singles'
    # SE beside one repeated number)
    group = study.rows[5]
    assert group["kept"] is None and group["gain"]["se"] is None
    assert group["gain"]["verdict"] == bonus.UNTESTED
    assert group["gain"]["gain"] == pytest.approx(group["ensemble_val"]
                                                  - np.mean(full["val"]["values"]))
    assert study.rows[6]["gain"]["se"] is not None  # the snapshots are paired seed by seed
    recipe = study.chosen()
    final = study.train_final(recipe, members=3, seed=10, snapshot_cycles=2)
    assert final["seeds"] == [10, 11, 12] and final["ensemble"]["members"] == 3
    assert final["snapshot_ensemble"]["members"] == 3 * min(2, recipe.cycles)
    assert len(final["single"]["test"]["values"]) == 3
    assert 0 <= final["agreement"] <= 1
    text = listings.bonus_listing(study.chosen_row(recipe), final)
    assert text.startswith("chosen recipe: m = ") and "3 independent members" in text
    table = tables.ablation(study.rows, short=False)  # the README's: whole labels
    assert table.count("\n") == len(study.rows) + 1 and "| full recipe |" in table
    table = tables.ablation(study.rows)  # the report's: short labels, then their legend
    assert table.count("\n") == len(study.rows) + 3 and "| full |" in table


def test_members_are_independent_runs_each_with_its_own_seed():
    """Independent members: one run each, so each has its own initialisation, mini-batch
    order, masks and augmentation. Members side by side in one run share their batches."""
    study = tiny_study()
    study.recipe = study.base
    study.train_final(study.base, members=3, seed=5, snapshot_cycles=1)
    members = study.run.calls[-3:]
    assert sorted(c[0] for c in members) == [5, 6, 7] and all(len(c[2][0]) == 1 for c in members)
    orders = [next(minibatches(48, 8, seed, 1)) for seed in bonus.member_seeds(5, 3)]
    assert not np.array_equal(orders[0], orders[1])


def test_chosen_drops_what_did_not_measurably_help_and_keeps_the_cheaper_projection():
    study = tiny_study()
    study.recipe = bonus.Recipe(m=1000, lam=1e-3, dropout=0.2, max_shift=3, p_flip=0.5, k=256,
                                cycles=6)
    full = [0.58, 0.59, 0.585]
    study.full = {"val": {"values": full}}

    def row(component, values, **change):
        recipe = study.recipe.but(**change).to_dict()
        study.rows.append({"component": component, "recipe": recipe,
                           **bonus.verdict_of(full, values, component in bonus.SAVES_WORK)})

    row("dropout", [0.581, 0.592, 0.584], dropout=0.0, lam=5e-4)  # no measurable difference
    row("augmentation", [0.55, 0.56, 0.555], max_shift=0, p_flip=0.0)  # clearly better
    row("projection", [0.582, 0.588, 0.586], k=0)  # no measurable difference: saves work
    row("training length", [0.57, 0.58, 0.574], cycles=3)  # better: stays
    chosen = study.chosen()
    assert chosen.dropout == 0.0 and chosen.lam == 5e-4  # dropped, its own lambda
    assert chosen.max_shift == 3 and chosen.k == 256 and chosen.cycles == 6
    assert [r["kept"] for r in study.rows] == [False, True, True, True]


def test_a_grid_row_needs_a_dropout_rate_and_the_ensembles_need_snapshots():
    with pytest.raises(ValueError, match="dropout rate above 0"):
        tiny_study().full_recipe([1e-3], [0.0])
    study = tiny_study(seeds=(0, 1))
    study.full_recipe([1e-3], [0.3], snapshots=1)
    with pytest.raises(ValueError, match="snapshots"):
        study.ensembles(2)


def test_recipe_lines():
    r = bonus.Recipe(m=1000, lam=1e-3, dropout=0.2, max_shift=3, p_flip=0.5, k=256)
    assert r.describe() == ("m = 1000, lambda = 0.001, dropout 0.2, flips p = 0.5 and shifts "
                            "up to 3 px, 256 principal components, 6 cycles, eta 1e-05 .. 0.1")
    assert "no dropout, no augmentation, raw pixels" in bonus.Recipe().describe()


def test_a_study_refuses_fewer_seeds_than_the_rule_needs():
    with pytest.raises(ValueError, match="at least 2 paired seeds"):
        tiny_study(seeds=(0,))


def test_removing_the_width_does_not_bring_back_a_dropped_dropout_rate():
    study = tiny_study()
    study.recipe = bonus.Recipe(m=1000, lam=1e-3, dropout=0.2, k=256, cycles=6)
    full = [0.58, 0.59, 0.585]
    study.full = {"val": {"values": full}}
    for component, values, change in [
            ("dropout", [0.581, 0.592, 0.584], {"dropout": 0.0, "lam": 5e-4}),  # dropped
            ("width", [0.581, 0.589, 0.586], {"m": 50, "lam": 1e-4, "dropout": 0.5})]:  # too
        study.rows.append({"component": component, "recipe": study.recipe.but(**change)
                           .to_dict(), **bonus.verdict_of(full, values, False)})
    chosen = study.chosen()
    assert chosen.m == 50 and chosen.lam == 1e-4 and chosen.dropout == 0.0


def test_bad_snapshot_member_and_cycle_counts_are_refused_by_name():
    with pytest.raises(ValueError, match="snapshots must be in 0 .. 3"):
        bonus.train_recipe(image_split(), SETTINGS, [1e-3], [0.0], snapshots=4, progress=False)
    study = tiny_study(seeds=(0, 1))
    study.full_recipe([1e-3], [0.3], snapshots=1)
    with pytest.raises(ValueError, match="snapshot_cycles must be at least 1"):
        study.ensembles(0)
    for bad in (2, 3, 0):
        with pytest.raises(ValueError, match="short_cycles must be in 1 .. 1"):
            study.shorter(bad)
    for members, cycles in ((0, 1), (1, 0)):
        with pytest.raises(ValueError, match="members and snapshot_cycles must be at least 1"):
            study.train_final(study.recipe, members=members, seed=5, snapshot_cycles=cycles)
        with pytest.raises(ValueError, match="members and snapshot_cycles must be at least 1"):
            study.chosen_and_final(study.recipe, members=members, seed=5, snapshot_cycles=cycles)


def test_the_notebooks_figure_9_is_drawn_after_the_chosen_recipes_curve_exists():
    """The report draws Figure 9 from the saved curves, the chosen recipe's included; 08's own
    Figure 9 must be drawn after chosen_row adds it, or it lacks that line."""
    cells = ["".join(c["source"]) for c in json.loads(
        (paths.ROOT / "notebooks" / "08-bonus.ipynb").read_text())["cells"]]
    where = lambda text: next(k for k, c in enumerate(cells) if text in c)  # noqa: E731
    assert where("study.chosen_and_final(") < where("fig9-bonus-curves")


def test_rows_side_by_side_equal_rows_one_after_another(monkeypatch):
    """side_by_side trains every row's seeds as one set of jobs (one workers.run), then makes
    the rows as the calls one by one would: the same rows, searches and curves."""
    from helpers.training import workers

    studies = [tiny_study(seeds=(0, 1)) for _ in range(2)]
    for study in studies:
        study.full_recipe([1e-3, 1e-2], [0.3])
    batches = []
    run = workers.run
    monkeypatch.setattr(workers, "run", lambda jobs: batches.append(len(jobs)) or run(jobs))
    rows = dict(max_shift=0, p_flip=0.0), dict(m=6, lambdas=[1e-3, 1e-2], dropouts=[0.0, 0.3])
    with studies[0].side_by_side():
        assert studies[0].without("augmentation", "no aug", **rows[0]) is None  # noted
        studies[0].without("width", "narrow", **rows[1])
    assert [b for b in batches if b] == [4]  # 2 rows x 2 seeds in one set of jobs
    studies[1].without("augmentation", "no aug", **rows[0])
    studies[1].without("width", "narrow", **rows[1])
    assert studies[0].rows == studies[1].rows and len(studies[0].rows) == 4
    assert studies[0].curves == studies[1].curves
    assert [s["pairs"] for s in studies[0].searches.values()] == \
        [s["pairs"] for s in studies[1].searches.values()]


def test_the_narrow_row_trains_beside_the_full_recipe_the_others_after_its_pick(monkeypatch):
    """A row that searches its own lambdas and dropouts does not wait for the full recipe's
    pick: its seeds are in the first set of jobs; the row that takes the pick, in the next.
    The rows are those the calls one by one give, in the order asked."""
    batches, train_jobs = [], bonus.Study.train_jobs

    def noted(study, jobs):
        batches.append(len({j.key for j in jobs} - set(study._done)))
        return train_jobs(study, jobs)

    monkeypatch.setattr(bonus.Study, "train_jobs", noted)
    shared, train_recipes = [], bonus.train_recipes
    monkeypatch.setattr(bonus, "train_recipes", lambda split, stacks, *args: (
        len(stacks) > 1 and shared.append([settings.m for settings, *_ in stacks])) or
        train_recipes(split, stacks, *args))
    narrow = dict(m=6, lambdas=[1e-3, 1e-2], dropouts=[0.0, 0.3])
    together, alone = tiny_study(seeds=(0, 1)), tiny_study(seeds=(0, 1))
    with together.side_by_side():
        assert together.full_recipe([1e-3, 1e-2], [0.3]) is None  # noted
        together.without("augmentation", "no aug", max_shift=0, p_flip=0.0)
        together.without("width", "narrow", **narrow)
    assert [b for b in batches if b] == [4, 2]  # (full + narrow) x 2 seeds; then no aug
    assert shared == [[10, 6], [10, 6]]  # each seed's full and narrow runs share their rows
    shared.clear()
    assert together.searches["narrow"]["rows_from"] == "full"
    assert together.searches["full"]["rows_also_for"] == ["narrow"]
    assert "rows_from" not in together.searches["no aug"]  # projected once: its own
    times = listings.bonus_times({"protocol": {"seeds": [0, 1]}, "searches": together.searches,
                                  "final_split": {"seeds": [5], "seconds": 1.0}})
    assert "narrow: 4 network(s) side by side x 2 seeds, 2 s, on the rows made by 'full'" in times
    assert "full: 4 network(s) side by side x 2 seeds, 2 s, making the rows of 'narrow' too" \
        in times
    alone.full_recipe([1e-3, 1e-2], [0.3])
    alone.without("augmentation", "no aug", max_shift=0, p_flip=0.0)
    alone.without("width", "narrow", **narrow)
    assert not shared  # one after another: nothing to share
    assert [r["row"] for r in together.rows] == [r["row"] for r in alone.rows]
    assert together.rows == alone.rows and together.curves == alone.curves  # digit for digit


def test_final_trains_the_chosen_rows_and_the_members_runs_as_one_set_of_jobs(monkeypatch):
    batches, train_jobs = [], bonus.Study.train_jobs

    def noted(study, jobs):
        batches.append(len({j.key for j in jobs} - set(study._done)))
        return train_jobs(study, jobs)

    together, alone = tiny_study(seeds=(0, 1)), tiny_study(seeds=(0, 1))
    for study in (together, alone):
        study.full_recipe([1e-3], [0.3])
    recipe = together.recipe.but(dropout=0.0, max_shift=0, p_flip=0.0)  # no row trained it
    monkeypatch.setattr(bonus.Study, "train_jobs", noted)
    chosen, final = together.chosen_and_final(recipe, members=3, seed=10, snapshot_cycles=1)
    assert [b for b in batches if b] == [2 + 3]  # its 2 seeds and 3 members at once
    assert chosen == alone.chosen_row(recipe)
    assert final == alone.train_final(recipe, members=3, seed=10, snapshot_cycles=1)


# The budget axis and test-time flips


def test_the_budget_axis_judges_length_dropout_and_flips_at_the_length_they_are_used_at():
    study = tiny_study()
    study.full_recipe([1e-3], [0.3])
    study.without("augmentation", "without flips and shifts", max_shift=0, p_flip=0.0)
    base = study.chosen()
    rows = study.at_length(3, [0.3])
    assert [r["component"] for r in rows] == ["longer training", "dropout at length",
                                              "flips at length"]
    assert all(r["adds"] and r["gain"]["n"] == 3 for r in rows)
    assert rows[0]["over_chosen"] == rows[0]["gain"]  # the longer row: the same comparison
    longer, dropout, flips = rows
    assert longer["recipe"] == base.but(cycles=3).to_dict()
    assert dropout["recipe"]["dropout"] == 0.3 and dropout["recipe"]["cycles"] == 3
    assert (flips["recipe"]["p_flip"], flips["recipe"]["max_shift"]) == (0.5, 0)
    # the gains are the row minus what it is judged against, seed by seed: the longer row
    # against its own runs read at the end of the base's cycles (the same networks)
    end = 2 * base.cycles * study.run.settings_for(study.search).n_s
    curve = study.curves[longer["row"]]
    short = curve["val"][curve["epochs"].index(end * 8 / 48)]
    assert longer["gain"]["gain"] == pytest.approx(longer["val"]["mean"] - short)
    for row in (dropout, flips):
        assert row["gain"]["gain"] == pytest.approx(row["val"]["mean"] - longer["val"]["mean"])
        assert row["over_chosen"]["gain"] == pytest.approx(row["val"]["mean"] - short)
    assert max(study.curves[longer["row"]]["epochs"]) == pytest.approx(3 * 2 * 12 * 8 / 48)
    with pytest.raises(ValueError, match="more than the chosen recipe's"):
        study.at_length(1, [0.3])


def test_chosen_takes_the_best_row_at_length_that_beats_the_chosen_recipe_and_its_own_without():
    """A row at length joins the chosen recipe when its component is better (against the longer
    recipe without it) and it is better than the recipe chosen so far at its own length
    (over_chosen); of several, the highest validation. Longer training that alone changes
    nothing must not keep flips that win only at length out (the measured case: 12 cycles
    -0.01 points, flips at 12 cycles +1.77 points)."""
    def study_with(*rows):
        study = tiny_study()
        study.recipe = bonus.Recipe(m=1000, lam=1e-3, k=256, cycles=6)
        short = [0.59, 0.595, 0.592]
        for component, values, change in rows:
            row = {"component": component, "adds": True,
                   "recipe": study.recipe.but(cycles=12, **change).to_dict(),
                   "val": {"mean": float(np.mean(values)), "values": values},
                   **bonus.verdict_of(values, [0.59, 0.596, 0.591], False)}  # vs 12 plain
            row["over_chosen"] = bonus.protocol.paired_gain(values, short)
            study.rows.append(row)
        return study.chosen()

    plain, flips = [0.59, 0.596, 0.591], [0.607, 0.611, 0.609]
    six = bonus.Recipe(m=1000, lam=1e-3, k=256, cycles=6)
    assert study_with(("longer training", plain, {}),
                      ("flips at length", flips, {"p_flip": 0.5})) == six.but(cycles=12, p_flip=0.5)
    assert study_with(("longer training", plain, {}),
                      ("flips at length", plain, {"p_flip": 0.5})) == six  # nothing won
    dropout = [0.600, 0.604, 0.602]  # better than the plain longer and than 6 cycles, below flips
    assert study_with(("longer training", plain, {}),
                      ("dropout at length", dropout, {"dropout": 0.2}),
                      ("flips at length", flips, {"p_flip": 0.5})).p_flip == 0.5
    assert study_with(("longer training", plain, {}),
                      ("dropout at length", dropout, {"dropout": 0.2, "lam": 5e-4})) == \
        six.but(cycles=12, dropout=0.2, lam=5e-4)


def test_test_time_flips_are_a_row_judged_on_the_chosen_networks_and_used_when_kept():
    study = tiny_study(signal=0.5)
    study.full_recipe([1e-3], [0.3])
    recipe = study.recipe
    chosen, final = study.chosen_and_final(recipe, members=2, seed=10, snapshot_cycles=1,
                                           test_flips=True)
    row = study.rows[-1]
    assert row["component"] == "test-time flips" and row["adds"] and row["gain"]["n"] == 3
    runs, j = study._runs["full recipe"], study._network["full recipe"]
    X, y = study.search.X_val, study.search.y_val
    with_flips = [bonus.ensemble_accuracy([(c, [ensemble.take(p, j)])], X, y, flips=True)
                  for p, _, _, c in runs]
    assert row["val"]["values"] == with_flips
    assert final["test_time_flips"] is row["kept"]
    plain = study.train_final(recipe, members=2, seed=10, snapshot_cycles=1, flips=False)
    flipped = study.train_final(recipe, members=2, seed=10, snapshot_cycles=1, flips=True)
    assert plain["single"]["test"] != flipped["single"]["test"]  # the flips are used
    assert tables.ablation(study.rows).count("\n") == len(study.rows) + 3
