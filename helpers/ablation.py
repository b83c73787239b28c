"""The bonus's ablation: one change at a time, each kept only if it raises validation
accuracy, its hyper-parameters searched side by side; the test set read once per row."""

from helpers import bonus, rangetest


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
        return self.run.cached(bonus.train_snapshots, self.split, settings, lambdas,
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
        best, _ = bonus.pick(candidates, history)
        self.searches[name] = {"candidates": list(candidates), "chosen": best,
                               "val": bonus.final_val(history)}
        return best

    def step(self, label: str, **change) -> dict:
        """Train n_seeds networks with the change; keep it if validation accuracy rises."""
        config = {**self.config, **change}
        trained = self._seeds(config)
        row = {**bonus.row(label, trained[0], self.split), "change": change}
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
        rise = rangetest.etas(len(self.split.y_train), c["batch_size"], epochs, eta_start,
                              eta_end)
        _, history = self.run.cached(
            bonus.train_range, self.split, settings, [c["lam"]] * n, rise,
            rangetest.record_steps(len(rise), records), dropout=c["dropout"],
            max_shift=c["max_shift"], p_flip=c["p_flip"],
            seeds=list(range(c["seed"], c["seed"] + n)))
        self.range_history = history
        return rangetest.choose(history, window, fraction)

    def ensemble(self, label: str, last_cycles: int) -> dict:
        """The kept configuration's networks at its last `last_cycles` cycle ends."""
        params, _, snapshots = self.kept()
        ends = sorted(snapshots, key=int)[-last_cycles:]
        row = bonus.row(label, params, self.split, members=[snapshots[t] for t in ends])
        row["kept"] = row["val"]["mean"] > self.best_val
        self.rows.append(row)
        return row

    def single_and_ensemble(self) -> dict:
        """The chosen configuration's numbers for the results file."""
        single = next(r for r in reversed(self.rows) if r["kept"] and r["members"] == 1)
        group = [r for r in self.rows if r["members"] > 1]
        return {"configuration": self.config, "single": single,
                "ensemble": group[-1] if group else None}
