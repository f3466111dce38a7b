"""Optuna samplers of metaopt."""

from metaopt.samplers._meta_sampler import MetaSampler

__all__ = ["MetaSampler"]
