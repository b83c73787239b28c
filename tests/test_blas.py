import numpy as np
import pytest
import torch

from helpers.model.blas import add_product


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_add_product_adds_in_place(dtype, layout):
    rng = np.random.default_rng(3)
    C = np.asarray(rng.standard_normal((40, 30)), dtype, order=layout)
    A, B = rng.standard_normal((40, 7)).astype(dtype), rng.standard_normal((7, 30)).astype(dtype)
    expected = C + A @ B
    same = C
    add_product(C, A, B, buffer=np.empty_like(C))
    assert C is same
    np.testing.assert_allclose(C, expected, rtol=1e-5, atol=1e-5)
    as_torch = torch.from_numpy(np.ascontiguousarray(same - A @ B))
    add_product(as_torch, torch.from_numpy(A), torch.from_numpy(B))
    np.testing.assert_allclose(as_torch.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_add_product_refuses_mismatched_shapes():
    C, A, B = (np.zeros(s, np.float32) for s in ((4, 5), (4, 3), (2, 5)))
    with pytest.raises(ValueError):
        add_product(C, A, B)
