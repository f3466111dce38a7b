"""Benchmarks of hyperparameter optimizers.

Surrogate benchmarks (:func:`tabrepo_benchmark`, :func:`yahpo_benchmark`) replay
precomputed or surrogate objectives under the HPO-B protocol; :func:`run` tunes real
models on a dataset suite, one resumable job per (dataset, method, seed, fold), and
:func:`report` renders its results. Regret and ranks are computed the same way in both.
"""

from metaopt.benchmark._methods import (
    Method,
    NotApplicable,
    list_methods,
    make_method,
    register_method,
)
from metaopt.benchmark._metrics import (
    add_ranks,
    best_so_far,
    mean_ci,
    min_max_regret,
    paired_difference,
    paired_differences,
)
from metaopt.benchmark._problem import BudgetExhausted, Problem
from metaopt.benchmark._report import curves, final_table, report, win_tie_loss
from metaopt.benchmark._runner import load_results, run, suggest_config
from metaopt.benchmark._samplers import list_samplers, register_sampler
from metaopt.benchmark._surrogate import SurrogateResult, tabrepo_benchmark, yahpo_benchmark

__all__ = [
    "BudgetExhausted",
    "Method",
    "NotApplicable",
    "Problem",
    "SurrogateResult",
    "add_ranks",
    "curves",
    "final_table",
    "load_results",
    "report",
    "run",
    "suggest_config",
    "win_tie_loss",
    "best_so_far",
    "list_methods",
    "list_samplers",
    "make_method",
    "mean_ci",
    "paired_difference",
    "paired_differences",
    "min_max_regret",
    "register_method",
    "register_sampler",
    "tabrepo_benchmark",
    "yahpo_benchmark",
]
