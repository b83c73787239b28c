"""The experiments built on training: the search for lambda (`search`), Smith's learning-rate
range test, its rule and its run (`range_test`), the assignment's bonus with its ablation
(`bonus`), and the keep rule for its choices over paired seeds (`protocol`)."""
