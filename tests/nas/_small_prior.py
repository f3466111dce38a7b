"""A prior for the tests of what any network of MetaMLP* does (the scikit-learn checks,
input handling, summaries): the shipped one, drawing among a few small networks that
learn in a few epochs.

``parametrize_with_checks`` fits each estimator a few hundred times on small tables; the
shipped prior's draws there (up to 3 layers of 960 units in batches of 20) made each
check's fit take seconds. The checks need a network that learns, not a good one. Tests of
the shipped prior's own draws keep ``prior="default"``.
"""

from __future__ import annotations

import functools

from metaopt.nas._prior import ArchitecturePrior

#: Native (LCBench) configurations: 1-2 layers of 64-80 units, batches of 32-48, an
#: AdamW step of 0.01-0.02 (``to_mlp_params``) and little dropout.
SMALL = [
    {"num_layers": layers, "max_units": units, "batch_size": batch, "learning_rate": lr,
     "momentum": 0.9, "max_dropout": 0.1, "weight_decay": 1e-5}
    for layers in (1, 2) for units in (64, 80) for batch, lr in ((32, 0.01), (48, 0.02))
]


class SmallPrior(ArchitecturePrior):
    """The shipped prior, drawing only among :data:`SMALL`."""

    def sample(self, meta_features, n=1, **kwargs):
        return super().sample(meta_features, n, candidates=SMALL, **kwargs)

    def __repr__(self) -> str:
        return "SmallPrior()"

    def __reduce__(self):
        # copies and pickles are this one cached prior: the estimator checks deep-copy
        # their parameters many times, and this prior's networks need not be copied
        return small_prior, ()


@functools.cache
def small_prior() -> SmallPrior:
    return SmallPrior.default()
