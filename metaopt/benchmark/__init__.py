"""Benchmarks of hyperparameter optimizers.

Surrogate benchmarks (:func:`tabrepo_benchmark`, :func:`yahpo_benchmark`) replay
precomputed or surrogate objectives under the HPO-B protocol; :func:`run` tunes real
models on a dataset suite, one resumable job per (dataset, method, seed, fold), and
:func:`report` renders its results. Regret and ranks are computed the same way in both.
"""

from metaopt._lazy import lazy_exports

_EXPORTS = {
    "Method": "._methods",
    "NotApplicable": "._methods",
    "list_methods": "._methods",
    "make_method": "._methods",
    "register_method": "._methods",
    "REGRET_RANGE": "._metrics",
    "add_ranks": "._metrics",
    "best_so_far": "._metrics",
    "mean_ci": "._metrics",
    "min_max_regret": "._metrics",
    "paired_difference": "._metrics",
    "paired_differences": "._metrics",
    "BudgetExhausted": "._problem",
    "Problem": "._problem",
    "curves": "._report",
    "final_table": "._report",
    "report": "._report",
    "win_tie_loss": "._report",
    "load_results": "._runner",
    "run": "._runner",
    "suggest_config": "._runner",
    "list_samplers": "._samplers",
    "register_sampler": "._samplers",
    "SurrogateResult": "._surrogate",
    "tabrepo_benchmark": "._surrogate",
    "yahpo_benchmark": "._surrogate",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
