"""Training N networks side by side: typed settings (`settings`), the triangular cyclical
learning rate (`schedule`), the fused in-place SGD step (`step`), the same step written
plainly for a student to read beside it (`reference`), and the loop with its seams,
mini-batches, arrays and recorded curves (`loop.train`)."""
