"""CIFAR-10: where it is (`data.find_cifar10`, `make data`), its download (`download`: MD5-checked,
safely extracted, moved in atomically), reading its batch files without unpickling code
(`batches`), the report's splits normalised by their training part (`data.load_split`),
the bonus's augmentation of a mini-batch (`augment`: flips and shifts), and the rows
projected on their first principal components, fitted on the training part (`projection`)."""
