"""What decides a result besides its inputs and code: the numeric stack and the data files.

`numeric_stack()` enters every cache key: Python, numpy, each BLAS library numpy (or torch)
loaded (its name, version, kernel and thread count, from threadpoolctl), torch with its
thread count where it is loaded, and numba's version (the step's fused passes). The last
digits of a training depend on all of them.

`python -m helpers.workbook.environment FILE [--device DEVICE]` is make's stamp: it writes
FILE (JSON: the stack, without the thread counts that make itself sets per notebook, the
fingerprint of the CIFAR-10 files, and make's DEVICE where one is given) only when that
differs from what FILE holds, so that every notebook of a profile reruns after an upgrade, a
change of data or of DEVICE, and only then.
"""

import json
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np


def numeric_stack(threads: bool = True) -> dict:
    """{"python", "machine", "numpy", "blas": [...], "torch"?, "numba"} of this process;
    threads False leaves out the thread counts."""
    from threadpoolctl import threadpool_info

    blas = [{"library": lib.get("internal_api"), "version": lib.get("version"),
             "kernel": lib.get("architecture"), "file": Path(lib.get("filepath", "")).name,
             **({"threads": lib.get("num_threads")} if threads else {})}
            for lib in threadpool_info() if lib.get("user_api") == "blas"]
    stack = {"python": platform.python_version(), "machine": platform.machine(),
             "numpy": np.__version__, "blas": sorted(blas, key=json.dumps)}
    torch = sys.modules.get("torch")
    if torch is not None:
        stack["torch"] = {"version": torch.__version__,
                          **({"threads": torch.get_num_threads()} if threads else {})}
    try:  # the compiler of the step's fused passes (helpers.model.fused): same digits as numpy
        stack["numba"] = metadata.version("numba")  # by test, and its version is recorded
    except metadata.PackageNotFoundError:
        stack["numba"] = None
    return stack


def stamp(data_dir=None, device: str = "") -> dict:
    """The stack (no thread counts), the data's fingerprint and the training's device (make's
    DEVICE, "" for numpy), as make's stamp holds them."""
    from helpers.cifar.data import find_cifar10, folder_fingerprint

    folder = find_cifar10(data_dir)
    try:  # torch is imported by the notebooks that use it, not here: its installed version
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    return {"numeric_stack": numeric_stack(threads=False), "torch_installed": torch,
            **({"device": device} if device else {}),
            "data": {"folder": str(folder), "fingerprint": folder_fingerprint(folder)}}


def write_if_changed(path, content: dict) -> bool:
    """Write content to path (JSON) unless it holds it already; True when written."""
    from helpers.workbook.results import atomic_write

    path, text = Path(path), json.dumps(content, indent=1, sort_keys=True) + "\n"
    if path.is_file() and path.read_text() == text:
        return False
    atomic_write(path, lambda f: f.write(text.encode()))
    return True


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    device = ""
    if args[1:2] == ["--device"] and len(args) == 3:
        args, device = args[:1], args[2]
    if len(args) != 1:
        print("usage: python -m helpers.workbook.environment STAMP_FILE [--device DEVICE]",
              file=sys.stderr)
        return 2
    from helpers.cifar.download import DataError

    try:
        content = stamp(device=device)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if write_if_changed(args[0], content):
        print(f"{args[0]}: the numeric stack, the data or DEVICE changed (or a first build): "
              "every notebook of this profile runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
