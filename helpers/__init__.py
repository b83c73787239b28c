"""The workbook's code, in packages by job; arrows point down the list, never up.

- `paths`: where things are (the repository's folders), one definition each.
- `registry`: the report's sections (notebooks/sections.toml), standard library only.
- `clock`: a call and the seconds it took (standard library only).
- `digest`: a fast digest of an array's content, remembered for read-only arrays.
- `cifar/`: the data set: its files, download, safe reading, splits, normalisation, augmentation.
- `model/`: the two-layer network (forward, backward, evaluation, dropout, ensembles), the
  gradient check, the plain reference step, accuracies over seeds, the BLAS products.
- `training/`: settings, the learning-rate schedule, the fused SGD step, the training loop.
- `experiments/`: the lambda search, the learning-rate range test, the bonus and its ablation.
- `workbook/`: what a notebook calls: its section (which notebook, parameters, paths, split,
  settings, training through the cache, saving), parameter profiles, the cache, results files,
  timing.
- `report/`: the report's prose, tables, listings and figures, number formatting, the README.
"""

from helpers import loaded as _loaded

_loaded.install()  # from here on, the source each helpers module runs is recorded (cache keys)
