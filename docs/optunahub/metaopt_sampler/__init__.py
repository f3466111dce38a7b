"""OptunaHub entry point of metaopt's MetaSampler.

Nothing is vendored here: the sampler and the meta-models it loads (small JSON +
safetensors files shipped inside the ``metaopt`` package) come from an installed metaopt.
"""

from metaopt.samplers import MetaSampler


__all__ = ["MetaSampler"]
