"""The assignment's bonus: training with augmentation, dropout and end-of-cycle snapshots,
searches side by side, the ablation's rows, and the ablation itself (one change at a time,
each kept only if it raises validation accuracy, its hyper-parameters searched side by side;
the test set read once per row)."""


from helpers.cifar.augment import flip_shift
from helpers.experiments import range_test
from helpers.model import ensemble
from helpers.model.accuracy import over_seeds
from helpers.training.loop import train
from helpers.training.settings import stream


def train_snapshots(split, settings, lambdas, seeds=None, dropout=None, max_shift: int = 0,
                    p_flip: float = 0.0, eta=None, progress: bool = True) -> tuple:
    """train() with random flips and shifts of each mini-batch (seeded by settings.seed),
    dropout, and a copy of every network at the end of each cycle.

    Output: (params, history, snapshots {str(step): params at that step}).
    """
    augment = _augmentation(settings.seed, max_shift, p_flip)
    ends = set(range(2 * settings.n_s, settings.total_steps + 1, 2 * settings.n_s))
    snapshots = {}
    keep = lambda t, p: snapshots.update({str(t): {k: v.copy() for k, v in p.items()}}) \
        if t in ends else None  # noqa: E731
    record = sorted(ends | {0})
    params, history = train(split, settings, lambdas, seeds, progress=progress, eta=eta,
                            record=record, on_batch=augment, dropout=dropout, on_record=keep)
    return params, history, snapshots


def train_range(split, settings, lambdas, etas, record, seeds=None, dropout=None,
                max_shift: int = 0, p_flip: float = 0.0, progress: bool = True) -> tuple:
    """A range test (rising etas, validation recorded at `record`, stopped where training
    diverges) with the bonus's augmentation and dropout. Output: (params, history)."""
    augment = _augmentation(settings.seed, max_shift, p_flip)
    return train(split, settings, lambdas, seeds, progress=progress, eta=etas, record=record,
                 on_batch=augment, dropout=dropout, parts=("val",), stop_on_divergence=True)


def _augmentation(seed: int, max_shift: int, p_flip: float):
    """The on_batch hook of train(): seeded flips and shifts of each mini-batch, or None."""
    if not (0 <= max_shift < 32 and 0 <= p_flip <= 1):
        raise ValueError(f"max_shift must be in 0..31 and p_flip in [0, 1], got {max_shift} "
                         f"and {p_flip}")
    if max_shift == 0 and p_flip == 0:
        return None
    rng = stream("augmentation", seed)
    return lambda X, y, t: (flip_shift(X, rng, max_shift, p_flip), y)


def final_val(history: dict) -> list:
    """Each network's validation accuracy at the last recorded step, in network order."""
    curves, last = history["curves"], max(history["curves"]["step"])
    val = {k: a for k, a, t in zip(curves["network"], curves["val_accuracy"], curves["step"],
                                   strict=True) if t == last}
    return [val[k] for k in sorted(val)]


def pick(candidates: list, history: dict) -> tuple:
    """(best candidate, its index) by final validation accuracy: network k tried candidates[k]."""
    val = final_val(history)
    best = max(range(len(candidates)), key=lambda k: (val[k], -k))
    return candidates[best], best


def accuracy_row(label: str, params: dict, split, members=None) -> dict:
    """One ablation row: validation and test accuracy, mean ± std over the stacked networks;
    with `members` (snapshot stacks), the ensemble of all of them instead (one number each)."""
    if members is not None:
        val = ensemble.accuracy(members, split.X_val, split.y_val)
        test = ensemble.accuracy(members, split.X_test, split.y_test)
        return {"row": label, "val": over_seeds([val]), "test": over_seeds([test]),
                "members": sum(m["W1"].shape[0] for m in members)}
    networks = [ensemble.take(params, k) for k in range(params["W1"].shape[0])]
    return {"row": label, "members": 1, **{part: over_seeds(
        [ensemble.accuracy([net], getattr(split, f"X_{part}"), getattr(split, f"y_{part}"))
         for net in networks]) for part in ("val", "test")}}


class Ablation:
    """The configuration so far, the rows of the table, and the last row's training."""

    def __init__(self, run, split, base: dict, n_seeds: int, search_cycles: int):
        self.run, self.split, self.n_seeds, self.search_cycles = run, split, n_seeds, search_cycles
        p, s = run.parameters, base["settings"]
        self.config = {"m": s["m"], "lam": base["lambda"], "dropout": 0.0, "max_shift": 0,
                       "p_flip": 0.0, "cycles": s["cycles"], "eta_min": s["eta_min"],
                       "eta_max": s["eta_max"], "batch_size": p["batch_size"], "seed": p["seed"]}
        over = base["accuracy_over_seeds"]
        self.rows = [{"row": f"the assignment's network (m = {s['m']}, lambda = "
                      f"{base['lambda']:.3g}, {s['cycles']} cycles)", "val": over["val"],
                      "test": over["test"], "members": 1, "kept": True}]
        self.best_val, self.searches, self.range_history = over["val"]["mean"], {}, None
        self._kept = None  # (params, history, snapshots) of self.config, once trained

    def _train(self, config: dict, lambdas, dropout, seeds) -> tuple:
        settings = self.run.settings_for(self.split, **{k: config[k] for k in (
            "m", "cycles", "eta_min", "eta_max", "batch_size", "seed")})
        return self.run.cached(train_snapshots, self.split, settings, lambdas,
                               seeds=seeds, dropout=dropout, max_shift=config["max_shift"],
                               p_flip=config["p_flip"])

    def search(self, name: str, candidates: list, **change) -> float:
        """Train one network per candidate value of `name` side by side (search_cycles cycles),
        return the best by validation accuracy."""
        config = {**self.config, **change, "cycles": self.search_cycles}
        n = len(candidates)
        lambdas = candidates if name == "lam" else [config["lam"]] * n
        dropout = candidates if name == "dropout" else config["dropout"]
        _, history, _ = self._train(config, lambdas, dropout, [config["seed"]] * n)
        best, _ = pick(candidates, history)
        self.searches[name] = {"candidates": list(candidates), "chosen": best,
                               "val": final_val(history)}
        return best

    def step(self, label: str, **change) -> dict:
        """Train n_seeds networks with the change; keep it if validation accuracy rises."""
        config = {**self.config, **change}
        trained = self._seeds(config)
        row = {**accuracy_row(label, trained[0], self.split), "change": change}
        row["kept"] = row["val"]["mean"] > self.best_val
        if row["kept"]:
            self.config, self.best_val, self._kept = config, row["val"]["mean"], trained
        self.rows.append(row)
        return row

    def _seeds(self, config: dict) -> tuple:
        """(params, history, snapshots) of n_seeds networks of `config` side by side."""
        seeds = list(range(config["seed"], config["seed"] + self.n_seeds))
        return self._train(config, [config["lam"]] * self.n_seeds, config["dropout"], seeds)

    def kept(self) -> tuple:
        """(params, history, snapshots) of the configuration kept so far: the training of its
        row, or (when no change was kept) the starting configuration trained here."""
        if self._kept is None:
            self._kept = self._seeds(self.config)
        return self._kept

    @property
    def kept_history(self) -> dict:
        """The training curves of the configuration kept so far (Figure 9)."""
        return self.kept()[1]

    def range_test(self, epochs: int, eta_start: float, eta_end: float, records: int,
                   window: int, fraction: float) -> dict:
        """Smith's range test for the configuration so far (n_seeds side by side)."""
        c, n = self.config, self.n_seeds
        settings = self.run.settings_for(self.split,
                                         **{k: c[k] for k in ("m", "batch_size", "seed")})
        rise = range_test.etas(len(self.split.y_train), c["batch_size"], epochs, eta_start,
                              eta_end)
        _, history = self.run.cached(
            train_range, self.split, settings, [c["lam"]] * n, rise,
            range_test.record_steps(len(rise), records), dropout=c["dropout"],
            max_shift=c["max_shift"], p_flip=c["p_flip"],
            seeds=list(range(c["seed"], c["seed"] + n)))
        self.range_history = history
        return range_test.choose(history, window, fraction)

    def ensemble(self, label: str, last_cycles: int) -> dict:
        """The kept configuration's networks at its last `last_cycles` cycle ends."""
        params, _, snapshots = self.kept()
        ends = sorted(snapshots, key=int)[-last_cycles:]
        row = accuracy_row(label, params, self.split, members=[snapshots[t] for t in ends])
        row["kept"] = row["val"]["mean"] > self.best_val
        self.rows.append(row)
        return row

    def single_and_ensemble(self) -> dict:
        """The chosen configuration's numbers for the results file."""
        single = next(r for r in reversed(self.rows) if r["kept"] and r["members"] == 1)
        group = [r for r in self.rows if r["members"] > 1]
        return {"configuration": self.config, "single": single,
                "ensemble": group[-1] if group else None}
