"""What a run ran under: which BLAS, with which OpenBLAS settings, on which CPU, under which
load; and the label naming those settings, the run's key in build/bench/bench.json.
"""

import os
import platform
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

# the settings `make bench` runs with, then without
OPENBLAS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET = "(unset)"
CPUINFO = "/proc/cpuinfo"


def environment() -> dict:
    """Which BLAS ran, with which OpenBLAS settings, on which CPU, under which load."""
    import torch  # imported where used: numpy-only reference processes start faster

    cpu = next((line.split(":", 1)[1].strip() for line in _lines(CPUINFO)
                if line.startswith("model name")), platform.processor())
    return {**{name: os.environ.get(name, UNSET) for name in OPENBLAS},
            "threadpool_info": threadpool_info(), "numpy": np.__version__,
            "torch": torch.__version__, "torch_blas": torch_blas(),
            "torch_threads": torch.get_num_threads(), "cpu": cpu, "cores": os.cpu_count(),
            "load_average": os.getloadavg(), "python": platform.python_version()}


def label() -> str:
    """Which OpenBLAS settings this process runs with: the JSON key of this run."""
    return "openblas-unset" if not any(name in os.environ for name in OPENBLAS) else "as-is"


def torch_blas() -> str:
    import torch

    config = torch.__config__.show()
    return "MKL" if "BLAS_INFO=mkl" in config else "other (see torch.__config__.show())"


def numpy_blas(env: dict) -> str:
    """numpy's BLAS libraries in `env`: API, version, architecture, threads."""
    blas = [i for i in env["threadpool_info"] if i.get("user_api") == "blas"]
    return ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture')}, "
                     f"{i['num_threads']} threads)" for i in blas) or "unknown"


def _lines(path: str) -> list:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
