"""Training N networks side by side: typed settings (`settings`), the triangular cyclical
learning rate (`schedule`), the fused in-place SGD step (`step`), the same step written
plainly for a student to read beside it (`reference`), the loop with its mini-batches, arrays
and recorded curves (`loop.train`), its seams in one object (`seams.Seams`), trainings as
jobs one per core at a time, on one BLAS thread each (`workers`), and make's progress lines
(`progress`)."""
