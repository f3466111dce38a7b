"""Optuna samplers of metaopt."""

from metaopt.samplers._meta_sampler import MetaSampler, mark_interrupted

__all__ = ["MetaSampler", "mark_interrupted"]
