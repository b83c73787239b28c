"""Benchmarks of the engine against PyTorch and against its own matrix products.

`python -m benchmarks.bench` (or `make bench`) prints a table and merges it into
build/bench/bench.json under a label naming the OpenBLAS settings it ran with.
Every timing is the median of `reps` runs after a warm-up. The numpy engine is timed in this
process; every reference (the PyTorch user's step, the matrix products alone) and the torch
engines are timed each in a fresh process of its own (`--reference GROUP`, JSON on stdout),
so no thread pool of another library is left spinning beside them.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_info, threadpool_limits

from benchmarks import wide
from helpers.model.network import K, evaluate, init_params
from helpers.training.step import fold, sgd_step
from helpers.workbook.results import atomic_write

ROOT = Path(__file__).resolve().parents[1]  # the repository: `python -m benchmarks.bench` there

# The assignment's shapes: batch 100, m = 50 hidden units, CIFAR-10 images (d = 3072);
# "wide": the hidden units of the bonus's wide step (benchmarks/wide.py, always d = 3072).
FULL = {"n": 45000, "d": 3072, "m": 50, "batch": 100, "lambdas": 100, "seeds": 10,
        "steps": 12, "eval_images": 5000, "reps": 5, "wide": [1000, 2000]}
QUICK = {"n": 500, "d": 64, "m": 8, "batch": 20, "lambdas": 4, "seeds": 3,
         "steps": 2, "eval_images": 100, "reps": 5, "wide": [8, 16]}  # tiny: the smoke test
CYCLE = 1800  # steps of the coarse search: one cycle, n_s = 2 floor(45000 / 100)


def environment() -> dict:
    """Which BLAS ran, with which OpenBLAS settings, on which CPU, under which load."""
    import torch  # here and below imported where used: numpy-only references start faster

    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
            "threadpool_info": threadpool_info(), "numpy": np.__version__,
            "torch": torch.__version__, "torch_blas": _torch_blas(),
            "torch_threads": torch.get_num_threads(), "cpu": cpu, "cores": os.cpu_count(),
            "load_average": os.getloadavg(), "python": platform.python_version()}


def _lines(path: str) -> list:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _torch_blas() -> str:
    import torch

    config = torch.__config__.show()
    return "MKL" if "BLAS_INFO=mkl" in config else "other (see torch.__config__.show())"


def interleaved(candidates: dict, reps: int) -> dict:
    """{name: median seconds} of each callable, run in turn `reps` times after a warm-up."""
    times = {name: [] for name in candidates}
    for run in candidates.values():  # warm-up: first-call allocations, thread start
        run()
    for _ in range(reps):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def data(shape: dict, seed: int = 0):
    """Training images X float32 (n, d) and labels y (n,): random (timings do not depend on
    the pixel values; the report's accuracy is checked by the tests, not here)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((shape["n"], shape["d"]), dtype=np.float32)
    return X, rng.integers(0, K, shape["n"])


def our_steps(shape: dict, X, y, lambdas, device=None, bf16=False):
    """A callable running shape["steps"] training steps of len(lambdas) networks side by
    side, exactly as helpers.training.train does (row gather, then sgd_step)."""
    params = init_params(shape["d"], shape["m"], range(len(lambdas)))
    lam = np.asarray(lambdas, np.float32).reshape(-1, 1, 1)
    scale = np.ones_like(lam)
    if device is not None:
        import torch

        move = torch.from_numpy
        params, X, y, lam, scale = ({k: move(v) for k, v in params.items()}, move(X), move(y),
                                    move(lam), move(scale))
    buffer = np.empty_like(params["W1"]) if device is None else None
    batches = _batches(shape, device)

    def run():
        with _bf16_products(bf16):
            for batch in batches:
                sgd_step(params, X[batch], y[batch], lam, 1e-3, buffer, scale)
            fold(params, scale)  # the decay scale into W1, as train() does at a record
    return run


class _bf16_products:
    """Context: torch float32 products with bfloat16 inputs (oneDNN), float32 accumulation."""

    def __init__(self, on: bool):
        self.on, self.old = on, None
        if on:
            import torch

            self.backends = torch.backends

    def __enter__(self):
        if self.on:
            self.old = self.backends.mkldnn.matmul.fp32_precision
            self.backends.mkldnn.matmul.fp32_precision = "bf16"

    def __exit__(self, *exc):
        if self.on:
            self.backends.mkldnn.matmul.fp32_precision = self.old


def _batches(shape: dict, device=None) -> list:
    rng = np.random.default_rng(1)
    rows = [rng.permutation(shape["n"])[: shape["batch"]] for _ in range(shape["steps"])]
    if device is None:
        return rows
    import torch

    return [torch.from_numpy(r) for r in rows]


def products(shape: dict, networks: int, library: str = "numpy", bf16=False):
    """A callable running only the matrix products of shape["steps"] steps, same shapes:
    S1 = W1 X^T (W1 stacked), S = W2 H and W2^T G (batched), dW2 = G H^T, dW1 = G1 X."""
    N, m, d, n = networks, shape["m"], shape["d"], shape["batch"]
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in
              ((N * m, d), (n, d), (N, K, m), (N, m, n), (N, K, n), (N * m, n))]
    if library != "numpy":
        import torch

        arrays = [torch.from_numpy(a) for a in arrays]
    W1, X, W2, H, G, G1 = arrays
    out = np.empty_like(W1) if library == "numpy" else None

    def run():
        with _bf16_products(bf16):
            for _ in range(shape["steps"]):
                W1 @ X.T, W2 @ H, W2.mT @ G, G @ H.mT
                if out is None:
                    W1.addmm_(G1, X)  # torch: the product added in place, as the engine does
                else:
                    np.matmul(G1, X, out=out)
    return run


def flops_per_step(shape: dict, networks: int) -> float:
    """2 N m n (2 d + 3 K): the two W1 products, the three small W2 products."""
    return 2.0 * networks * shape["m"] * shape["batch"] * (2 * shape["d"] + 3 * K)


def pytorch_user(shape: dict, X, y, lam: float = 1e-3):
    """The step as a PyTorch user writes it: nn.Sequential, CrossEntropyLoss, autograd,
    optim.SGD with weight_decay = 2 lambda on the weights only (= our cost J)."""
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(shape["d"], shape["m"]), torch.nn.ReLU(),
                              torch.nn.Linear(shape["m"], K))
    weights = [net[0].weight, net[2].weight]
    biases = [net[0].bias, net[2].bias]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": 2 * lam},
                           {"params": biases, "weight_decay": 0.0}], lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y, batches = torch.from_numpy(X), torch.from_numpy(y), _batches(shape, "cpu")

    def run():
        for batch in batches:
            opt.zero_grad()
            loss_fn(net(X[batch]), y[batch]).backward()
            opt.step()
    return run


def row(goal: str, what: str, seconds: float, reference: str, ref_seconds: float,
        ratio: float, target: str, met, note: str = "") -> dict:
    """One line of the table; `met` is None where the goal has no threshold."""
    return {"goal": goal, "what": what, "median_s": seconds, "reference": reference,
            "reference_median_s": ref_seconds, "ratio": ratio, "target": target,
            "met": met, "note": note}


def bench_step(shape: dict, X, y) -> list:
    """Goal 1: one step of one network (batch 100, m = 50) against PyTorch and BLAS."""
    shape = {**shape, "steps": 4 * shape["steps"]}  # a step is short: time more of them
    runs = interleaved({"ours": our_steps(shape, X, y, [1e-3]),
                        ONE: one_blas_thread(our_steps(shape, X, y, [1e-3]))}, shape["reps"])
    for group in ("torch_user", "products", "torch_engines"):
        runs |= in_own_process(group, shape, 1)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    rows = [
        row("1 step", "one step, 1 network (numpy engine)", t["ours"],
            "PyTorch user's step (nn.Sequential, autograd, SGD)", t["torch_user"],
            t["ours"] / t["torch_user"], "<= 1.2", t["ours"] <= 1.2 * t["torch_user"]),
        row("1 step", "one step, 1 network (numpy engine)", t["ours"],
            "its matrix products alone (numpy)", t["products"], t["ours"] / t["products"],
            "<= 2", t["ours"] <= 2 * t["products"])]
    return rows + [row("engine", f"one step, 1 network, {name}", t[name], "numpy engine",
                       t["ours"], t[name] / t["ours"], "", None) for name in (*ENGINES, ONE)]


ENGINES = {"torch float32 (MKL)": False, "torch, oneDNN bf16 math mode": True}
ONE = "numpy engine, one BLAS thread"
PROCESSES = []  # {"group", "pid", "networks"} of every reference timed in its own process


def references(group: str, shape: dict, networks: int) -> dict:
    """{name: callable} of one reference group, built in the process that times them."""
    if group == "products":
        return {"products": products(shape, networks)}
    X, y = data(shape)
    if group == "torch_user":
        return {"torch_user": pytorch_user(shape, X, y)}
    if group == "torch_user_wide":
        return {"torch_user_wide": wide.torch_user_wide(shape, X, y, _batches(shape))}
    if group == "evaluation_products":
        return {"products": evaluation_products(shape, X, networks)}
    if group == "torch_engines":
        lambdas = np.logspace(-5, -1, networks)
        return {key: run for name, bf16 in ENGINES.items() for key, run in (
            (name, our_steps(shape, X, y, lambdas, "cpu", bf16)),
            (f"{name} products", products(shape, networks, "torch", bf16)))}
    raise ValueError(f"unknown reference group {group!r}: one of {', '.join(GROUPS)}")


GROUPS = ("torch_user", "products", "evaluation_products", "torch_engines", "torch_user_wide")


def in_own_process(group: str, shape: dict, networks: int) -> dict:
    """{name: median seconds} of a reference group timed by a fresh Python process
    (`python -m benchmarks.bench --reference GROUP`): its own BLAS and torch threads, and
    none of this process's left spinning beside it."""
    command = [sys.executable, "-m", "benchmarks.bench", "--reference", group,
               "--shape", json.dumps(shape), "--networks", str(networks)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the reference {group} failed in its own process "
                           f"({' '.join(command[1:5])} ...):\n{done.stderr[-3000:]}")
    answer = json.loads(done.stdout)
    PROCESSES.append({"group": group, "pid": answer["pid"], "networks": networks})
    return answer["medians"]


def one_blas_thread(run):
    """`run` with numpy's BLAS on one thread (what make -j2 gives each notebook)."""
    controller = ThreadpoolController()

    def limited():
        with controller.limit(limits=1, user_api="blas"):
            run()
    return limited


def bench_side_by_side(shape: dict, X, y, networks: int, label: str) -> list:
    """Goal 2: `networks` networks side by side against the products on the same shapes
    (same library) and against `networks` sequential runs of the PyTorch user's step;
    then the torch engines against the numpy engine and against their own products."""
    lambdas = np.logspace(-5, -1, networks)
    user_shape = {**shape, "steps": 5 * shape["steps"]}
    runs = interleaved({"ours": our_steps(shape, X, y, lambdas),
                        ONE: one_blas_thread(our_steps(shape, X, y, lambdas))}, shape["reps"])
    runs |= in_own_process("products", shape, networks)
    runs |= in_own_process("torch_engines", shape, networks)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    t["torch_user"] = in_own_process("torch_user", user_shape, 1)["torch_user"] / \
        user_shape["steps"]
    rate = lambda key: f"{flops_per_step(shape, networks) / t[key] / 1e9:.0f} GFLOP/s"  # noqa: E731
    sequential = networks * t["torch_user"]
    rows = [
        row("2 search", f"{label}: step, {networks} networks (numpy), {rate('ours')}", t["ours"],
            f"numpy products alone, same shapes, {rate('products')}", t["products"],
            t["products"] / t["ours"], ">= 0.70 of the GEMM rate",
            t["products"] / t["ours"] >= 0.7),
        row("2 search", f"{label}: step, {networks} networks (numpy)", t["ours"],
            f"{networks} sequential PyTorch-user steps (1 timed, x {networks})", sequential,
            sequential / t["ours"], ">= 2 times faster", sequential >= 2 * t["ours"]),
        row("2 search", f"{label}: one cycle ({CYCLE} steps), numpy, extrapolated",
            CYCLE * t["ours"], f"{networks} sequential PyTorch-user runs, extrapolated",
            CYCLE * sequential, sequential / t["ours"], "", None,
            f"{shape['steps'] * shape['reps']} timed steps, times {CYCLE} / {shape['steps']}")]
    for name in ENGINES:
        rows += [row("engine", f"{label}: step, {name}, {rate(name)}", t[name],
                     f"numpy engine, {rate('ours')}", t["ours"], t[name] / t["ours"], "", None),
                 row("engine", f"{label}: step, {name}", t[name],
                     f"its products alone, {rate(name + ' products')}", t[name + " products"],
                     t[name + " products"] / t[name], "", None)]
    return rows + [row("engine", f"{label}: step, {ONE}, {rate(ONE)}", t[ONE],
                       f"numpy engine, {rate('ours')}", t["ours"], t[ONE] / t["ours"], "", None)]


def bench_whole_search(path=None) -> list:
    """The coarse search itself, once, on CIFAR-10 (helpers.search.search: 100 lambdas, one
    cycle, n_s = 2 floor(45000 / 100), then the whole-set evaluation). Not a median."""
    from helpers.cifar.data import DataError, load_split
    from helpers.experiments.search import best, lambda_values, search
    from helpers.training.settings import Settings

    try:
        split = load_split("search", path=path)
    except DataError as err:
        return [row("2 search", "whole coarse search on CIFAR-10", None, "", None, None, "",
                    None, f"not measured: {err}")]
    settings = Settings(n_s=2 * (len(split.y_train) // 100), batch_size=100, m=50)
    start = time.perf_counter()
    top = best(search(split, settings, lambda_values(-5, -1, 100), progress=False), 1)[0]
    return [row("2 search", f"whole coarse search on CIFAR-10, measured once; best val "
                f"{top['val_accuracy']:.1%} (lambda {top['lambda']:.2g})",
                time.perf_counter() - start, "one cycle extrapolated from the timed steps",
                None, None, "", None, "includes the final whole-set evaluation")]


def _against_extrapolation(whole: list, rows: list) -> list:
    cycle = next(r for r in rows if r["what"].startswith("coarse search: one cycle"))
    return [{**r, "reference_median_s": cycle["median_s"],
             "ratio": r["median_s"] / cycle["median_s"]} if r["median_s"] else r for r in whole]


def evaluation_products(shape: dict, X, networks: int):
    """A callable running only the products of a whole-set evaluation, chunks of 5000:
    W1 X^T on the stacked W1, then the N small W2 H on one thread, as the engine runs them."""
    params = init_params(shape["d"], shape["m"], range(networks))
    Xe = X[: shape["eval_images"]]
    W1, W2 = params["W1"].reshape(-1, shape["d"]), params["W2"]
    H = np.ones((networks, shape["m"], min(5000, len(Xe))), np.float32)

    def gemms():
        for start in range(0, len(Xe), 5000):
            W1 @ Xe[start : start + 5000].T
            with threadpool_limits(1, user_api="blas"):
                W2 @ H
    return gemms


def bench_evaluate(shape: dict, X, y, networks: int) -> list:
    """Whole-set evaluation of `networks` networks against its two products alone."""
    params = init_params(shape["d"], shape["m"], range(networks))
    Xe, ye = X[: shape["eval_images"]], y[: shape["eval_images"]]
    lam = np.full(networks, 1e-3, np.float32)
    runs = interleaved({"ours": lambda: evaluate(params, Xe, ye, lam)}, shape["reps"])
    runs |= in_own_process("evaluation_products", shape, networks)
    flops = 2.0 * networks * shape["m"] * len(ye) * (shape["d"] + K)
    rate = lambda s: f"{flops / s / 1e9:.0f} GFLOP/s"  # noqa: E731
    return [row("3 report", f"whole-set evaluation, {networks} networks x {len(ye)} images, "
                f"{rate(runs['ours'])}", runs["ours"],
                f"its products alone, {rate(runs['products'])}", runs["products"],
                runs["products"] / runs["ours"], "", None)]


BUDGET = 1200.0  # seconds: the whole report with the range test and the bonus (issue 9)


def bench_report(build: Path, profile: str) -> list:
    """Goal 3 from the report build's own records: per notebook its seconds (results JSON
    "seconds" or papermill's duration, the larger) and the training seconds it reports
    ("train_seconds", kept with a cached result). A notebook that took less than its
    training read the cache: a clean build would have added the training."""
    seconds, training = {}, {}
    for path in sorted((build / profile / "results").glob("*.json")):
        record = json.loads(path.read_text())
        seconds[path.stem] = float(record.get("seconds", 0.0))
        training[path.stem] = float(record.get("train_seconds", 0.0))
    for path in sorted((build / profile / "notebooks").glob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        if "." not in path.stem and meta.get("duration") is not None:
            seconds[path.stem] = max(seconds.get(path.stem, 0.0), float(meta["duration"]))
    if not seconds:
        return [row("3 report", f"make report ({profile})", None, "20 minutes", BUDGET, None,
                    f"< {BUDGET:.0f} s", None, f"not measured: no {build / profile}/results")]
    clean = {k: v + training.get(k, 0.0) if training.get(k, 0.0) > v else v
             for k, v in seconds.items()}
    total = sum(clean.values())
    rows = [row("3 report", f"notebook {k}, training {training.get(k, 0.0):.1f} s of it",
                clean[k], "total", total, clean[k] / total, "", None,
                f"cached: ran in {seconds[k]:.1f} s" if clean[k] > seconds[k] else "")
            for k in seconds]
    missing = sorted({p.stem for p in Path("notebooks").glob("*.ipynb")} - seconds.keys())
    note = ("clean-build estimate from the last make report's records; "
            "notebooks only, export not included")
    return rows + [row("3 report", f"notebooks of {profile}, one after another", total,
                       "20 minutes", BUDGET, total / BUDGET, f"< {BUDGET:.0f} s",
                       None if missing else total < BUDGET,
                       f"incomplete, no record of {missing}" if missing else note)]


def bench_memory(X) -> list:
    """Goal 4: peak resident memory of this process (the 100-network search and its data)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return [row("4 memory", "peak RSS (GiB, not s), this benchmark process", peak / 2**30,
                "3 GiB", 3.0, peak / 2**30 / 3.0, "< 3 GiB", peak < 3 * 2**30,
                f"GiB; data float32 ({X.dtype}, {X.nbytes / 2**20:.0f} MiB), no float64 copy")]


def bench_wide(shape: dict, X, y) -> list:
    """Goal 5: the bonus's wide step (dropout, flips and shifts; benchmarks/wide.py) at each
    width of shape["wide"], of 1 network and of 2 side by side (the bonus's seeds), against
    its matrix products alone and against the PyTorch user's step (1 timed, x N)."""
    if X.shape[1] != wide.D:  # the quick shapes' rows are not 32 x 32 images
        X, y = data({**shape, "d": wide.D})
    rows = []
    for m in shape["wide"]:
        at = {**shape, "d": wide.D, "m": m}
        user = in_own_process("torch_user_wide", at, 1)["torch_user_wide"] / at["steps"]
        for networks in (1, 2):
            rows += _wide_rows(at, X, y, networks, user)
    return rows


def _wide_rows(shape: dict, X, y, networks: int, user: float) -> list:
    ours = wide.our_wide_steps(shape, X, y, networks, _batches(shape))
    runs = interleaved({"ours": ours}, shape["reps"])
    runs |= in_own_process("products", shape, networks)
    t = {k: v / shape["steps"] for k, v in runs.items()}
    rate = lambda key: f"{flops_per_step(shape, networks) / t[key] / 1e9:.0f} GFLOP/s"  # noqa: E731
    what = f"bonus m={shape['m']}, {networks} network{'s' * (networks > 1)} (dropout, flips/shifts)"
    sequential = networks * user
    return [row("5 bonus", f"{what}, {rate('ours')}", t["ours"],
                f"numpy products alone, same shapes, {rate('products')}", t["products"],
                t["products"] / t["ours"], ">= 0.70 of the GEMM rate",
                t["products"] / t["ours"] >= 0.7),
            row("5 bonus", f"{what}, numpy", t["ours"],
                f"{networks} x PyTorch-user step (Dropout, torch flips/shifts)", sequential,
                sequential / t["ours"], "", None, "ratio: times faster than PyTorch; "
                f"its step timed once, times {networks}")]


def label() -> str:
    """Which OpenBLAS settings this process ran with: the JSON key of this run."""
    unset = "OPENBLAS_CORETYPE" not in os.environ and "OPENBLAS_L2_SIZE" not in os.environ
    return "openblas-unset" if unset else "as-is"


def table(rows: list) -> str:
    """The rows as a fixed-width text table."""
    lines = [f"{'goal':<9}{'measured':<62}{'median':>11}  {'reference':<58}{'median':>11}"
             f"{'ratio':>8}  {'target':<26}met"]
    for r in rows:
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        lines.append(f"{r['goal']:<9}{r['what'][:61]:<62}{_fmt(r['median_s']):>11}  "
                     f"{r['reference'][:57]:<58}{_fmt(r['reference_median_s']):>11}"
                     f"{_fmt(r['ratio'], 2):>8}  {r['target']:<26}{met}")
    return "\n".join(lines)


def markdown(result: dict, goals=("1 step", "2 search", "engine", "3 report", "4 memory",
                                  "5 bonus")) -> str:
    """One run of the JSON as a Markdown table (for the README), rows of `goals` only."""
    env = result["environment"]
    lines = [f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}, OPENBLAS_L2_SIZE="
             f"{env['OPENBLAS_L2_SIZE']}; numpy BLAS {_blas_summary(env)}; torch BLAS "
             f"{env['torch_blas']}; load average {env['load_average'][0]:.1f} before, "
             f"{env['load_average_after'][0]:.1f} after; {result['finished']}"
             + (f"; {OWN_PROCESS}" if "reference_processes" in result else ""), "",
             "| goal | measured | median (s) | reference | median (s) | ratio | target | met |",
             "|---|---|---:|---|---:|---:|---|---|"]
    for r in (r for r in result["rows"] if r["goal"] in goals):
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        lines.append(f"| {r['goal']} | {r['what']} | {_fmt(r['median_s'], 3)} | "
                     f"{r['reference']} | {_fmt(r['reference_median_s'], 3)} | "
                     f"{_fmt(r['ratio'], 2)} | {r['target']} | {met} |")
    return "\n".join(lines)


OWN_PROCESS = ("references (PyTorch user, products alone) and the torch engines: each timed in "
               "a fresh process of its own; the numpy engine in this one")


def _fmt(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def write_json(path: Path, key: str, result: dict) -> None:
    """Merge `result` into path's {"runs": {key: result}} atomically (temp file, replace)."""
    try:
        merged = json.loads(path.read_text())
    except (OSError, ValueError):
        merged = {"runs": {}}
    merged.setdefault("runs", {})[key] = result
    text = json.dumps(merged, indent=1).encode()
    atomic_write(path, lambda f: f.write(text))


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.reference:  # a child of in_own_process: the medians as JSON, nothing else
        medians = interleaved(references(args.reference, json.loads(args.shape), args.networks),
                              json.loads(args.shape)["reps"])
        print(json.dumps({"pid": os.getpid(), "medians": medians}))
        return 0
    if args.markdown:
        for key, result in json.loads(Path(args.out).read_text())["runs"].items():
            print(f"### {key}\n\n{markdown(result)}\n")
        return 0
    shape = QUICK if args.quick else FULL
    PROCESSES.clear()
    env = environment()
    whole = bench_whole_search(args.data) if args.whole_search else []  # before X: memory
    X, y = data(shape)
    rows = bench_step(shape, X, y)
    rows += bench_side_by_side(shape, X, y, shape["lambdas"], "coarse search")
    rows += _against_extrapolation(whole, rows)
    rows += bench_side_by_side(shape, X, y, shape["seeds"], "seed repeats")
    rows += bench_evaluate(shape, X, y, shape["lambdas"])
    rows += bench_report(Path(args.build), args.profile)
    rows += bench_memory(X)
    rows += bench_wide(shape, X, y)  # after the memory row: its peak is the search's
    env["load_average_after"] = os.getloadavg()
    result = {"label": label(), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "shape": shape, "environment": env, "rows": rows,
              "reference_processes": {"this": os.getpid(), "references": PROCESSES}}
    print(f"benchmarks ({label()}: OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}, "
          f"OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}; numpy BLAS {_blas_summary(env)}; "
          f"torch BLAS {env['torch_blas']}; load average {env['load_average'][0]:.1f} before, "
          f"{env['load_average_after'][0]:.1f} after)")
    if max(env["load_average"][0], env["load_average_after"][0]) > 1.5:
        print("note: other processes used the cores; a two-thread BLAS call then waits for a "
              "scheduler tick (about 4 ms), which hits small products most")
    print(OWN_PROCESS)
    print(table(rows))
    write_json(Path(args.out), label(), result)
    print(f"written to {args.out} under \"{label()}\"")
    return 0


def _blas_summary(env: dict) -> str:
    blas = [i for i in env["threadpool_info"] if i.get("user_api") == "blas"]
    return ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture')}, "
                     f"{i['num_threads']} threads)" for i in blas) or "unknown"


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes (smoke test)")
    parser.add_argument("--out", default="build/bench/bench.json", help="JSON to merge into")
    parser.add_argument("--build", default="build", help="where make report writes")
    parser.add_argument("--profile", default="assignment", help="report profile to read")
    parser.add_argument("--whole-search", action="store_true",
                        help="also run the whole coarse search once on CIFAR-10 (about 1 min)")
    parser.add_argument("--data", default=None, help="CIFAR-10 folder (default: find it)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the runs in --out as Markdown tables, measure nothing")
    parser.add_argument("--reference", choices=GROUPS,
                        help="time one reference group in this process; print JSON (internal)")
    parser.add_argument("--shape", help="with --reference: the shape as JSON")
    parser.add_argument("--networks", type=int, default=1, help="with --reference")
    args = parser.parse_args(argv)
    if args.reference and not args.shape:
        parser.error("--reference needs --shape (the shape as JSON)")
    return args


if __name__ == "__main__":
    sys.exit(main())
