"""The bonus's wide step, as helpers.experiments.bonus.train_snapshots trains it, and the
PyTorch user's version of it: m = 1000 or 2000 hidden units, batch 100, float32, d = 3072,
inverted dropout 0.4 (a fresh mask every step) and random flips and shifts of every gathered
mini-batch.

benchmarks/suite.py times the numpy engine's step (1 network, and 2 side by side like the
bonus's seeds) against its matrix products alone and against the PyTorch user's step, each
reference in a process of its own (the groups `products` and `torch_user_wide` of
benchmarks/references.py). Lambda, step size and the optimiser are the other workloads'
(benchmarks/workloads.py).
"""

import numpy as np

from benchmarks.workloads import ETA, LAM, torch_sgd
from helpers.cifar.augment import CHANNELS, SIDE, gather_flip_shift
from helpers.cifar.projection import Projection
from helpers.model.dropout import masks
from helpers.model.network import K, init_params
from helpers.training.step import fold, sgd_step

RATE, MAX_SHIFT, P_FLIP = 0.4, 3, 0.5  # the bonus's dropout rate, shifts (pixels), flips
D = CHANNELS * SIDE * SIDE  # flips and shifts need whole CIFAR-10 images: d = 3072


def our_wide_steps(shape: dict, X, y, networks: int, batches: list):
    """A callable running the steps of `batches` (row indices) for `networks` networks side
    by side, as helpers.training.loop.State.step runs them in the bonus on raw pixels: the rows
    gathered, flipped and shifted in one pass (gather_flip_shift, as bonus.rows_hook without a
    projection), fresh scaled dropout masks (N, m, n) from one draw (State.mask), then sgd_step
    with the decay scale, folded into W1 at the end as train() does at a record."""
    params = init_params(shape["d"], shape["m"], range(networks))
    lam = np.full((networks, 1, 1), LAM, np.float32)
    scale, buffer = np.ones_like(lam), np.empty_like(params["W1"])
    keep = np.full(networks, 1 - RATE)  # State.dropout: one keep per network
    flips, draws = np.random.default_rng([3, 0]), np.random.default_rng([2, 0])

    def run():
        for batch in batches:
            Xb = gather_flip_shift(X, batch, flips, MAX_SHIFT, P_FLIP)
            U = masks(draws, keep, np.empty((networks, shape["m"], len(batch)), np.float32))
            sgd_step(params, Xb, y[batch], lam, ETA, buffer, scale, U)
        fold(params, scale)
    return run


def torch_user_wide(shape: dict, X, y, batches: list):
    """The PyTorch user's step: nn.Sequential(Linear(d, m), ReLU, Dropout(0.4), Linear(m, K))
    in training mode, CrossEntropyLoss, optim.SGD with weight_decay = 2 lambda on the weights
    only (workloads.torch_sgd), on the batch flipped and shifted by torch_flip_shift."""
    import torch

    nn = torch.nn
    net = nn.Sequential(nn.Linear(shape["d"], shape["m"]), nn.ReLU(), nn.Dropout(RATE),
                        nn.Linear(shape["m"], K)).train()
    opt = torch_sgd([net[0].weight, net[3].weight], [net[0].bias, net[3].bias])
    loss_fn = nn.CrossEntropyLoss()
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    batches, gen = [torch.from_numpy(b) for b in batches], torch.Generator().manual_seed(3)

    def run():
        for batch in batches:
            images = torch_flip_shift(X[batch].view(-1, CHANNELS, SIDE, SIDE), gen)
            opt.zero_grad()
            loss_fn(net(images.flatten(1)), y[batch]).backward()
            opt.step()
    return run


def torch_flip_shift(images, gen, max_shift: int = MAX_SHIFT, p_flip: float = P_FLIP):
    """Flips and shifts of a batch (n, 3, 32, 32) as a PyTorch user writes them (what
    torchvision's RandomHorizontalFlip and RandomCrop(32, padding=3) do image by image):
    torch.flip on a random subset, in place, then zero padding and one 32 x 32 crop per image
    at a random corner. Same distribution as helpers.cifar.augment.flip_shift."""
    import torch

    n, s = images.shape[0], max_shift
    flip = torch.rand(n, generator=gen) < p_flip
    images[flip] = images[flip].flip(-1)
    padded = torch.nn.functional.pad(images, (s, s, s, s))
    corners = torch.randint(0, 2 * s + 1, (n, 2), generator=gen).tolist()
    return torch.stack([image[:, i : i + SIDE, j : j + SIDE]
                        for image, (i, j) in zip(padded, corners, strict=True)])


# The bonus's chosen recipe: the input on its first k principal components (rows gathered,
# flipped and shifted in pixel space when the recipe augments, then projected), dropout when
# the recipe has it, one network (its members are independent runs, one at a time). The
# recipe is shape["recipe"]: {"m", "k", "dropout", "max_shift", "p_flip"} (bonus.Recipe's).


def components(d: int, k: int, seed: int = 4) -> tuple:
    """A mean (d,) and orthonormal columns (d, k), float32: the projection's shapes (a step's
    time does not depend on which components they are)."""
    rng = np.random.default_rng(seed)
    V = np.linalg.qr(rng.standard_normal((d, k)))[0].astype(np.float32)
    return 0.01 * rng.standard_normal(d, dtype=np.float32), V


def augments(recipe: dict) -> bool:
    return recipe["max_shift"] > 0 or recipe["p_flip"] > 0


def our_recipe_steps(shape: dict, X, y, batches: list, dropouts=None, beside=None):
    """A callable running the recipe's steps as helpers.experiments.bonus trains them
    (helpers.training.loop.State.step with bonus.rows_hook): with augmentation, the raw rows
    gathered, flipped, shifted and centred in one pass (gather_flip_shift) and projected
    (a helpers.cifar.projection.Projection) every step;
    without, the gather of rows projected once beforehand (as features() does); then, when a
    network drops out, fresh scaled masks (N, m, n) from one draw of the run's stream as
    State.mask makes them, and sgd_step with the decay scale.
    dropouts: one rate per network side by side (default: the recipe's, one network).
    beside: {"m", "dropouts"} of a second stack stepped on the same rows (bonus.train_recipes:
    the narrow row beside the full recipe's grid), its own masks and step."""
    r = shape["recipe"]
    rates = [r["dropout"]] if dropouts is None else list(dropouts)
    project = Projection(*components(X.shape[1], r["k"]), 1.0)
    flips = np.random.default_rng([3, 0])
    stacks = [_stack(r["k"], r["m"], rates)] + \
        ([] if beside is None else [_stack(r["k"], beside["m"], beside["dropouts"])])
    projected = None if augments(r) else project(X)

    def run():
        for batch in batches:
            if projected is None:  # as bonus.rows_hook: gathered, flipped, shifted and centred
                Z = project.centred(gather_flip_shift(X, batch, flips, r["max_shift"],
                                                      r["p_flip"], project.mean))
            else:
                Z = projected[batch]
            for stack in stacks:
                stack(Z, y[batch])
        for stack in stacks:
            stack.fold()
    return run


def _stack(k: int, m: int, rates: list):
    """One stack's step on given rows (its masks, sgd_step with the decay scale), and .fold."""
    networks = len(rates)
    params = init_params(k, m, range(networks))
    lam = np.full((networks, 1, 1), LAM, np.float32)
    scale, buffer = np.ones_like(lam), np.empty_like(params["W1"])
    draws, keeps = np.random.default_rng([2, 0]), 1 - np.asarray(rates)

    def step(Z, yb):
        U = None if not any(rates) else \
            masks(draws, keeps, np.empty((networks, m, Z.shape[0]), np.float32))
        sgd_step(params, Z, yb, lam, ETA, buffer, scale, U)
    step.fold = lambda: fold(params, scale)
    return step


def recipe_products(shape: dict, networks: int = 1, beside: int = 0, beside_m: int = 0):
    """A callable running only the matrix products of the recipe's steps: the projection
    (n, d) x (d, k) when it augments (projected each step), then the step products of
    `networks` networks side by side at d = k (workloads.products), and of `beside` networks
    of beside_m units on the same rows (no second projection)."""
    from benchmarks.workloads import products

    r = shape["recipe"]
    rng = np.random.default_rng(5)
    Xb = rng.standard_normal((shape["batch"], shape["d"]), dtype=np.float32)
    _, V = components(shape["d"], r["k"])
    network, project = products({**shape, "d": r["k"], "m": r["m"]}, networks), augments(r)
    second = products({**shape, "d": r["k"], "m": beside_m}, beside) if beside else None

    def run():
        for _ in range(shape["steps"] if project else 0):
            Xb @ V
        network()
        if second is not None:
            second()
    return run


def recipe_flops(shape: dict, networks: int = 1, beside: int = 0, beside_m: int = 0) -> float:
    """Per step: the projection 2 n d k (when it augments), the networks' products at d = k,
    those of the `beside` networks of beside_m units."""
    from benchmarks.workloads import flops_per_step

    r = shape["recipe"]
    return 2.0 * shape["batch"] * shape["d"] * r["k"] * augments(r) + \
        flops_per_step({**shape, "d": r["k"], "m": r["m"]}, networks) + \
        (flops_per_step({**shape, "d": r["k"], "m": beside_m}, beside) if beside else 0.0)


def torch_user_recipe(shape: dict, X, y, batches: list):
    """The PyTorch user's version: the batch flipped and shifted by torch_flip_shift and
    projected by a torch product with the components when the recipe augments (else the data
    set projected once), then
    nn.Sequential(Linear(k, m), ReLU, [Dropout(p)], Linear(m, K)), CrossEntropyLoss and
    workloads.torch_sgd."""
    import torch

    nn, r = torch.nn, shape["recipe"]
    mean, V = (torch.from_numpy(a) for a in components(X.shape[1], r["k"]))
    layers = [nn.Linear(r["k"], r["m"]), nn.ReLU()] + \
        ([nn.Dropout(r["dropout"])] if r["dropout"] else []) + [nn.Linear(r["m"], K)]
    net = nn.Sequential(*layers).train()
    opt = torch_sgd([net[0].weight, net[-1].weight], [net[0].bias, net[-1].bias])
    loss_fn = nn.CrossEntropyLoss()
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    batches, gen = [torch.from_numpy(b) for b in batches], torch.Generator().manual_seed(3)
    projected = None if augments(r) else (X - mean) @ V  # a user projects the data set once

    def run():
        for batch in batches:
            if projected is None:
                images = torch_flip_shift(X[batch].view(-1, CHANNELS, SIDE, SIDE), gen,
                                          r["max_shift"], r["p_flip"]).flatten(1)
                Z = (images - mean) @ V
            else:
                Z = projected[batch]
            opt.zero_grad()
            loss_fn(net(Z), y[batch]).backward()
            opt.step()
    return run
