"""The reference groups: each built and timed in a fresh process of its own
(`python -m benchmarks.bench --reference GROUP --shape JSON --networks N`, started by
benchmarks.harness.OwnProcesses), so no thread pool of another library spins beside it.

A group is {name: callable}; the process prints the medians of all its callables.
"""

from benchmarks import wide, workloads
from benchmarks.workloads import ENGINES


def torch_user(shape: dict, networks: int) -> dict:
    """The PyTorch user's step (of one network: `networks` is not used)."""
    return {"torch_user": workloads.pytorch_user(shape, *workloads.data(shape))}


def products(shape: dict, networks: int) -> dict:
    """The matrix products alone of `networks` networks' steps, numpy."""
    return {"products": workloads.products(shape, networks)}


def evaluation_products(shape: dict, networks: int) -> dict:
    """The products alone of a whole-set evaluation of `networks` networks."""
    X, _ = workloads.data(shape)
    return {"products": workloads.evaluation_products(shape, X, networks)}


def torch_engines(shape: dict, networks: int) -> dict:
    """Per torch engine (ENGINES): its steps on torch tensors and its products alone."""
    X, y = workloads.data(shape)
    lambdas = workloads.lambdas(networks)
    group = {}
    for name, bf16 in ENGINES.items():
        group[name] = workloads.our_steps(shape, X, y, lambdas, "cpu", bf16)
        group[f"{name} products"] = workloads.products(shape, networks, "torch", bf16)
    return group


def torch_user_wide(shape: dict, networks: int) -> dict:
    """The PyTorch user's wide step of the bonus (of one network)."""
    X, y = workloads.data(shape)
    return {"torch_user_wide": wide.torch_user_wide(shape, X, y, workloads.batches(shape))}


def recipe_products(shape: dict, networks: int) -> dict:
    """The matrix products alone of the bonus recipe's step (the projection included)."""
    return {"recipe_products": wide.recipe_products(shape, networks)}


def torch_user_recipe(shape: dict, networks: int) -> dict:
    """The PyTorch user's version of the bonus recipe's step."""
    X, y = workloads.data(shape)
    return {"torch_user_recipe": wide.torch_user_recipe(shape, X, y, workloads.batches(shape))}


BUILDERS = {"torch_user": torch_user, "products": products,
            "evaluation_products": evaluation_products, "torch_engines": torch_engines,
            "torch_user_wide": torch_user_wide, "recipe_products": recipe_products,
            "torch_user_recipe": torch_user_recipe}
GROUPS = tuple(BUILDERS)


def build(group: str, shape: dict, networks: int) -> dict:
    """{name: callable} of one reference group, built in the process that times them."""
    if group not in BUILDERS:
        raise ValueError(f"unknown reference group {group!r}: one of {', '.join(GROUPS)}")
    return BUILDERS[group](shape, networks)
