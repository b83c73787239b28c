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
from helpers.cifar.augment import CHANNELS, SIDE, flip_shift
from helpers.model.dropout import mask
from helpers.model.network import K, init_params
from helpers.training.step import fold, sgd_step

RATE, MAX_SHIFT, P_FLIP = 0.4, 3, 0.5  # the bonus's dropout rate, shifts (pixels), flips
D = CHANNELS * SIDE * SIDE  # flips and shifts need whole CIFAR-10 images: d = 3072


def our_wide_steps(shape: dict, X, y, networks: int, batches: list):
    """A callable running the steps of `batches` (row indices) for `networks` networks side
    by side, as helpers.training.loop.State.step runs them in the bonus: the row gather,
    flip_shift on the gathered batch, a fresh scaled dropout mask (N, m, n), then sgd_step
    with the decay scale, folded into W1 at the end as train() does at a record."""
    params = init_params(shape["d"], shape["m"], range(networks))
    lam = np.full((networks, 1, 1), LAM, np.float32)
    scale, buffer = np.ones_like(lam), np.empty_like(params["W1"])
    keep = np.full((networks, 1, 1), 1 - RATE)  # State.dropout: one keep per network
    flips, masks = np.random.default_rng([3, 0]), np.random.default_rng([2, 0])

    def run():
        for batch in batches:
            Xb = flip_shift(X[batch], flips, MAX_SHIFT, P_FLIP)
            U = mask(masks, (networks, shape["m"], len(batch)), keep, np.float32)
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


def torch_flip_shift(images, gen):
    """Flips and shifts of a batch (n, 3, 32, 32) as a PyTorch user writes them (what
    torchvision's RandomHorizontalFlip and RandomCrop(32, padding=3) do image by image):
    torch.flip on a random subset, in place, then zero padding and one 32 x 32 crop per image
    at a random corner. Same distribution as helpers.cifar.augment.flip_shift."""
    import torch

    n, s = images.shape[0], MAX_SHIFT
    flip = torch.rand(n, generator=gen) < P_FLIP
    images[flip] = images[flip].flip(-1)
    padded = torch.nn.functional.pad(images, (s, s, s, s))
    corners = torch.randint(0, 2 * s + 1, (n, 2), generator=gen).tolist()
    return torch.stack([image[:, i : i + SIDE, j : j + SIDE]
                        for image, (i, j) in zip(padded, corners, strict=True)])
