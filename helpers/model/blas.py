"""BLAS plumbing for speed: an in-place product-and-add, and one BLAS thread where it pays.

Nothing here changes a result beyond float rounding; helpers/network.py holds the math.
"""

import ctypes
from contextlib import nullcontext
from functools import cache

import numpy as np


def add_product(C, A, B, buffer=None) -> None:
    """C += A @ B in place, for 2-D C (r, c), A (r, k), B (k, c).

    One fused product-and-add, a single pass over C: torch's addmm_, or for float32
    C-contiguous numpy arrays sgemm (beta = 1) of the OpenBLAS inside numpy. Otherwise the
    product goes to `buffer` (like C, or None to allocate), then one add.
    """
    if not isinstance(C, np.ndarray):
        C.addmm_(A, B)
    elif _sgemm() and all(a.dtype == np.float32 and a.flags.c_contiguous for a in (A, B, C)):
        (r, k), c = A.shape, B.shape[1]
        if B.shape[0] != k or C.shape != (r, c) or not C.flags.writeable:
            raise ValueError(f"cannot add {A.shape} @ {B.shape} to {C.shape}")
        _sgemm()(101, 111, 111, r, c, k, 1.0, A.ctypes.data, k, B.ctypes.data, c, 1.0,
                 C.ctypes.data, c)  # row-major, no transposes: C = 1 A B + 1 C
    else:
        C += np.matmul(A, B, out=buffer)


@cache
def _sgemm():
    """cblas_sgemm (64-bit integers) of the OpenBLAS that numpy's wheel ships, or None."""
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        for name in ("scipy_cblas_sgemm64_", "cblas_sgemm64_"):
            if lib["internal_api"] == "openblas" and hasattr(ctypes.CDLL(lib["filepath"]), name):
                sgemm = getattr(ctypes.CDLL(lib["filepath"]), name)
                i, f, p = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
                sgemm.argtypes = [ctypes.c_int] * 3 + [i] * 3 + [f, p, i, p, i, f, p, i]
                return sgemm
    return None


WIDE_CHUNK = 1000  # columns of H above which W2 H keeps to one BLAS thread (see below)


def one_blas_thread(H):
    """Context: numpy's BLAS on one thread for the N products W2 H of a whole-set chunk (H
    numpy, over WIDE_CHUNK columns): they never wait for a second thread that another process holds
    (measured under load here: 16 ms instead of 1.6 s for 100 networks x 5000 images)."""
    if isinstance(H, np.ndarray) and H.shape[-1] > WIDE_CHUNK:
        return _controller().limit(limits=1, user_api="blas")
    return nullcontext()


@cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
