"""MetaSampler's proposals on one pmlb dataset, trial by trial, with the reason for each.

The objective is the pmlb part of ``sampler_quality.py`` (the knowledge base's
evaluation: 3-fold CV accuracy, at most 1000 rows), so a trace explains that
benchmark's curves. ``*`` marks a new best.

    python benchmarks/sampler_trace.py --dataset heart_statlog --space svm --trials 50
"""

from __future__ import annotations

import argparse
import warnings

import optuna
from _common import SHARED_DATA, load_of_task, run_main  # benchmarks/_common.py, beside this script
from sampler_quality import pmlb_score  # the benchmark's objective, beside this script

from metaopt.data import LocalSource
from metaopt.samplers import MetaSampler
from metaopt.spaces import get_space


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="pmlb classification dataset")
    parser.add_argument("--space", default="svm")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pmlb", default=str(SHARED_DATA / "pmlb"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    data = load_of_task(LocalSource(args.pmlb), args.dataset, "classification", "--dataset",
                        " (the trace tunes accuracy)").subsample(1000, random_state=0)
    space = get_space(args.space)

    def objective(trial: optuna.Trial) -> float:  # sampler_quality.py's defaults
        return pmlb_score(data, space, space.sample(trial, "classification"), cv_folds=3,
                          time_limit=30.0)

    sampler = MetaSampler(space=space.name, dataset=(data.X, data.y), seed=args.seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=args.trials)
    best = float("-inf")
    for trial in study.trials:
        value = trial.value if trial.value is not None else float("nan")
        mark = "*" if value > best else " "
        best = max(best, value)
        params = {k: round(v, 4) if isinstance(v, float) else v for k, v in trial.params.items()}
        reason = trial.system_attrs.get("metaopt:source", "")  # why MetaSampler chose it
        print(f"{trial.number:3d} {mark} {value:.4f} {params} | {reason}")


if __name__ == "__main__":
    run_main(main)
