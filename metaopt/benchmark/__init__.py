"""Benchmarks of hyperparameter optimizers.

Surrogate benchmarks (:func:`tabrepo_benchmark`, :func:`yahpo_benchmark`) replay
precomputed or surrogate objectives under the HPO-B protocol; :func:`run` tunes real
models on a dataset suite, one resumable job per (dataset, method, seed, fold), and
:func:`report` renders its results. Regret and ranks are computed the same way in both.
"""

from typing import TYPE_CHECKING

from metaopt._lazy import lazy_exports

if TYPE_CHECKING:  # the lazy names below, for type checkers (PEP 484 explicit re-exports)
    from metaopt.benchmark._methods import Method as Method
    from metaopt.benchmark._methods import NotApplicable as NotApplicable
    from metaopt.benchmark._methods import list_methods as list_methods
    from metaopt.benchmark._methods import make_method as make_method
    from metaopt.benchmark._methods import register_method as register_method
    from metaopt.benchmark._metrics import REGRET_RANGE as REGRET_RANGE
    from metaopt.benchmark._metrics import add_ranks as add_ranks
    from metaopt.benchmark._metrics import best_so_far as best_so_far
    from metaopt.benchmark._metrics import mean_ci as mean_ci
    from metaopt.benchmark._metrics import min_max_regret as min_max_regret
    from metaopt.benchmark._metrics import paired_difference as paired_difference
    from metaopt.benchmark._metrics import paired_differences as paired_differences
    from metaopt.benchmark._problem import BudgetExhausted as BudgetExhausted
    from metaopt.benchmark._problem import Problem as Problem
    from metaopt.benchmark._report import curves as curves
    from metaopt.benchmark._report import final_table as final_table
    from metaopt.benchmark._report import final_table_legend as final_table_legend
    from metaopt.benchmark._report import report as report
    from metaopt.benchmark._report import win_tie_loss as win_tie_loss
    from metaopt.benchmark._runner import load_results as load_results
    from metaopt.benchmark._runner import run as run
    from metaopt.benchmark._runner import suggest_config as suggest_config
    from metaopt.benchmark._samplers import list_samplers as list_samplers
    from metaopt.benchmark._samplers import register_sampler as register_sampler
    from metaopt.benchmark._surrogate import SurrogateResult as SurrogateResult
    from metaopt.benchmark._surrogate import tabrepo_benchmark as tabrepo_benchmark
    from metaopt.benchmark._surrogate import yahpo_benchmark as yahpo_benchmark

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
    "final_table_legend": "._report",
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
