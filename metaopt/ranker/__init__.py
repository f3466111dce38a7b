"""Meta-models over a knowledge base: warm-start portfolios and the adapted ConfigRanker."""

from typing import TYPE_CHECKING

from metaopt._lazy import lazy_exports

if TYPE_CHECKING:  # the lazy names below, for type checkers (PEP 484 explicit re-exports)
    from metaopt.ranker._matrix import PerformanceMatrix as PerformanceMatrix
    from metaopt.ranker._matrix import normalized_regret as normalized_regret
    from metaopt.ranker._metamodel import MetaModel as MetaModel
    from metaopt.ranker._metamodel import Proposal as Proposal
    from metaopt.ranker._portfolio import Portfolio as Portfolio
    from metaopt.ranker._portfolio import greedy_order as greedy_order
    from metaopt.ranker._ranker import ALGORITHMS as ALGORITHMS
    from metaopt.ranker._ranker import ConfigRanker as ConfigRanker
    from metaopt.ranker._ranker import rank_loss as rank_loss
    from metaopt.ranker._scaling import MetaFeatureScaler as MetaFeatureScaler
    from metaopt.ranker._shipped import load_meta_model as load_meta_model
    from metaopt.ranker._shipped import shipped_spaces as shipped_spaces
    from metaopt.ranker._shipped import training_datasets as training_datasets
    from metaopt.ranker._spaces import resolve_space as resolve_space

_EXPORTS = {
    "PerformanceMatrix": "._matrix",
    "normalized_regret": "._matrix",
    "MetaModel": "._metamodel",
    "Proposal": "._metamodel",
    "Portfolio": "._portfolio",
    "greedy_order": "._portfolio",
    "ALGORITHMS": "._ranker",
    "ConfigRanker": "._ranker",
    "rank_loss": "._ranker",
    "MetaFeatureScaler": "._scaling",
    "load_meta_model": "._shipped",
    "shipped_spaces": "._shipped",
    "training_datasets": "._shipped",
    "resolve_space": "._spaces",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
