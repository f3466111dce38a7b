"""The methods a surrogate benchmark compares by default (kept light: the CLI's help
shows them without importing the benchmarks)."""

DEFAULT_METHODS = ("random", "tpe", "gp", "cmaes", "portfolio", "knn", "rgpe", "flaml", "metaopt")
