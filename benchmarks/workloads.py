"""The workloads: what is timed or read, each a callable that runs it once where it is timed.

The engine's training step (`our_steps`, numpy or torch tensors), its matrix products alone
(`products`), the PyTorch user's step (`pytorch_user`), the whole-set evaluation and its
products, the coarse search itself on CIFAR-10 (`whole_search`), the process's peak memory,
and the report's seconds from the last `make report` (`report_seconds`). The bonus's wide
step is in benchmarks/wide.py. Images are random float32: a step's time does not depend on
the pixel values (the accuracy bands are checked by the tests on the real data).
"""

import json
import resource
import time

import numpy as np
from threadpoolctl import threadpool_limits

from helpers import registry
from helpers.model.network import K, evaluate, init_params
from helpers.training.step import fold, sgd_step
from helpers.workbook.timing import times

# The assignment's shapes: batch 100, m = 50 hidden units, CIFAR-10 images (d = 3072);
# "wide": the hidden units of the bonus's wide step (benchmarks/wide.py, always d = 3072).
FULL = {"n": 45000, "d": 3072, "m": 50, "batch": 100, "lambdas": 100, "seeds": 10,
        "steps": 12, "eval_images": 5000, "reps": 5, "wide": [1000, 2000],
        "recipe": {"m": 1000, "k": 256, "dropout": 0.2, "max_shift": 3, "p_flip": 0.5},
        "read_chosen": True, "job_reps": 11}
QUICK = {"n": 500, "d": 64, "m": 8, "batch": 20, "lambdas": 4, "seeds": 3,
         "steps": 2, "eval_images": 100, "reps": 5, "wide": [8, 16],
         "recipe": {"m": 16, "k": 8, "dropout": 0.2, "max_shift": 3, "p_flip": 0.5},
         "job_reps": 3}  # tiny
# "recipe": the bonus's full recipe (notebooks/08-bonus.ipynb's defaults); the bench times the
# recipe the last make report chose instead, when its results are there (benchmarks/suite.py).
# "job_reps": goal 6's repetitions of the two sides timed in turn, one ratio per repetition.
LAM, ETA = 1e-3, 1e-3  # lambda and step size of every timed step (its time depends on neither)
SEARCH_RANGE = (-5, -1)  # log10 of the coarse search's smallest and largest lambda
EVAL_CHUNK = 5000  # images per chunk of a whole-set evaluation
DATA_SEED, BATCH_SEED, PRODUCT_SEED = 0, 1, 2
ENGINES = {"torch float32 (MKL)": False, "torch, oneDNN bf16 math mode": True}  # name: bf16


def data(shape: dict, seed: int = DATA_SEED):
    """Training images X float32 (n, d) and labels y (n,): random."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((shape["n"], shape["d"]), dtype=np.float32)
    return X, rng.integers(0, K, shape["n"])


def batches(shape: dict, device=None) -> list:
    """shape["steps"] mini-batches of row indices (torch tensors with a device)."""
    rng = np.random.default_rng(BATCH_SEED)
    rows = [rng.permutation(shape["n"])[: shape["batch"]] for _ in range(shape["steps"])]
    if device is None:
        return rows
    import torch  # here and below imported where used: numpy-only references start faster

    return [torch.from_numpy(r) for r in rows]


def lambdas(networks: int):
    """The lambdas of `networks` networks side by side, log-spaced as the coarse search's."""
    return np.logspace(*SEARCH_RANGE, networks)


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


def our_steps(shape: dict, X, y, lambdas, device=None, bf16=False):
    """A callable running shape["steps"] training steps of len(lambdas) networks side by
    side, exactly as helpers.training.loop.train does (row gather, then sgd_step)."""
    params = init_params(shape["d"], shape["m"], range(len(lambdas)))
    lam = np.asarray(lambdas, np.float32).reshape(-1, 1, 1)
    scale = np.ones_like(lam)
    if device is not None:
        import torch

        move = torch.from_numpy
        params, X, y, lam, scale = ({k: move(v) for k, v in params.items()}, move(X), move(y),
                                    move(lam), move(scale))
    buffer = np.empty_like(params["W1"]) if device is None else None
    steps = batches(shape, device)

    def run():
        with _bf16_products(bf16):
            for batch in steps:
                sgd_step(params, X[batch], y[batch], lam, ETA, buffer, scale)
            fold(params, scale)  # the decay scale into W1, as train() does at a record
    return run


def products(shape: dict, networks: int, library: str = "numpy", bf16=False):
    """A callable running only the matrix products of shape["steps"] steps, same shapes:
    S1 = W1 X^T (W1 stacked), S = W2 H and W2^T G (batched), dW2 = G H^T, dW1 = G1 X."""
    N, m, d, n = networks, shape["m"], shape["d"], shape["batch"]
    rng = np.random.default_rng(PRODUCT_SEED)
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


def torch_sgd(weights: list, biases: list):
    """optim.SGD with weight_decay = 2 lambda on the weights only (= our cost J)."""
    import torch

    return torch.optim.SGD([{"params": weights, "weight_decay": 2 * LAM},
                            {"params": biases, "weight_decay": 0.0}], lr=ETA)


def pytorch_user(shape: dict, X, y):
    """The step as a PyTorch user writes it: nn.Sequential, CrossEntropyLoss, autograd,
    `torch_sgd`."""
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(shape["d"], shape["m"]), torch.nn.ReLU(),
                              torch.nn.Linear(shape["m"], K))
    opt = torch_sgd([net[0].weight, net[2].weight], [net[0].bias, net[2].bias])
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y, steps = torch.from_numpy(X), torch.from_numpy(y), batches(shape, "cpu")

    def run():
        for batch in steps:
            opt.zero_grad()
            loss_fn(net(X[batch]), y[batch]).backward()
            opt.step()
    return run


def our_evaluation(shape: dict, X, y, networks: int):
    """A callable evaluating `networks` networks on the first shape["eval_images"] images."""
    params = init_params(shape["d"], shape["m"], range(networks))
    Xe, ye = X[: shape["eval_images"]], y[: shape["eval_images"]]
    lam = np.full(networks, LAM, np.float32)
    return lambda: evaluate(params, Xe, ye, lam, chunk=EVAL_CHUNK)


def evaluation_products(shape: dict, X, networks: int):
    """A callable running only the products of `our_evaluation`, by chunks: W1 X^T on the
    stacked W1, then the N small W2 H on one thread, as the engine runs them."""
    params = init_params(shape["d"], shape["m"], range(networks))
    Xe = X[: shape["eval_images"]]
    W1, W2 = params["W1"].reshape(-1, shape["d"]), params["W2"]
    H = np.ones((networks, shape["m"], min(EVAL_CHUNK, len(Xe))), np.float32)

    def gemms():
        for start in range(0, len(Xe), EVAL_CHUNK):
            W1 @ Xe[start : start + EVAL_CHUNK].T
            with threadpool_limits(1, user_api="blas"):
                W2 @ H
    return gemms


def evaluated(shape: dict) -> int:
    """How many images a whole-set evaluation of the benchmark runs on."""
    return min(shape["eval_images"], shape["n"])


def evaluation_flops(shape: dict, networks: int) -> float:
    """2 N m n (d + K) of a whole-set evaluation on n = evaluated(shape) images."""
    return 2.0 * networks * shape["m"] * evaluated(shape) * (shape["d"] + K)


def search_n_s(n: int) -> int:
    """The coarse search's half cycle, n_s = 2 floor(n / 100): one cycle is 2 n_s steps."""
    return 2 * (n // FULL["batch"])


def whole_search(path=None) -> tuple:
    """The coarse search itself, once, on CIFAR-10 (helpers.experiments.search.search: 100
    lambdas, one cycle, n_s = 2 floor(45000 / 100), then the whole-set evaluation).
    (seconds, the best row); raises helpers.cifar.data.DataError without CIFAR-10."""
    from helpers.cifar.data import load_split
    from helpers.experiments.search import best, lambda_values, search
    from helpers.training.settings import Settings

    split = load_split("search", path=path)
    settings = Settings(n_s=search_n_s(len(split.y_train)), batch_size=FULL["batch"],
                        m=FULL["m"])
    start = time.perf_counter()
    rows = search(split, settings, lambda_values(*SEARCH_RANGE, FULL["lambdas"]), progress=False)
    top = best(rows, 1)[0]
    return time.perf_counter() - start, top


def peak_rss() -> int:
    """Peak resident memory of this process, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def report_seconds(build, profile: str) -> tuple:
    """From the last `make report` of `profile` under `build`: ({notebook: seconds},
    {notebook: training seconds}, [notebooks it runs with no record]). A notebook's seconds
    are its results JSON "seconds" or papermill's duration, the larger; its training
    seconds the results' "train_seconds" (kept with a cached result)."""
    seconds, training = {}, {}
    for path in sorted((build / profile / "results").glob("*.json")):
        record = json.loads(path.read_text())
        seconds[path.stem] = float(record.get("seconds", 0.0))
        training[path.stem] = float(record.get("train_seconds", 0.0))
    for name, duration in times(build / profile / "notebooks").items():
        seconds[name] = max(seconds.get(name, 0.0), duration)
    sections = registry.load()
    run = [*registry.names(sections), sections["report"].get("notebook", "report")]
    return seconds, training, sorted(set(run) - seconds.keys())
