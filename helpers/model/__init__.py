"""The two-layer network, N of them side by side (`network`: init, forward, backward, cost,
evaluation), with inverted dropout (`dropout`), averaged into ensembles (`ensemble`), its
gradients checked against autograd and finite differences (`gradcheck`), its accuracies and
their spread over seeds (`accuracy`), the BLAS products it needs (`blas`), and its
elementwise passes fused by numba with numpy's digits (`fused`). Knows nothing of training,
notebooks or the report."""
