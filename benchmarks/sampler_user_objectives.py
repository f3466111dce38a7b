"""MetaSampler on objectives people write: narrower ranges, step grids, a few parameters.

A user's objective rarely asks for exactly metaopt's distributions. Three random-forest
objectives, each the 3-fold CV accuracy on a pmlb classification dataset that no shipped
meta-model was trained on (at most ``--max-rows`` rows):

* ``narrow``: ``n_estimators`` 10-100 (log), ``max_features`` in {sqrt, log2, 0.5},
  ``min_samples_leaf`` 1-10 (the space: 16-512, six choices, 1-64);
* ``grid``: ``n_estimators`` 20-300 in steps of 20, ``min_samples_leaf`` 1-31 in steps
  of 2, ``max_features`` a float 0.1-1.0 in steps of 0.1;
* ``subset``: ``max_features`` and ``min_samples_leaf`` with the space's own
  distributions, the rest fixed by the user (``n_estimators=100``).

Methods: ``metasampler`` (``MetaSampler(space="random_forest", dataset=...)``, the
shipped model), ``tpe`` (multivariate), ``random``. Printed: mean best CV accuracy after
3 / 5 / 10 trials (per objective, over datasets and seeds), and for MetaSampler the share
of its trials that ran the configuration it chose whole (every value the objective asked
for is the chosen one, up to the grid's rounding) and the share repeating an earlier
trial's values.

    python benchmarks/sampler_user_objectives.py --datasets 5 --seeds 2
    python benchmarks/sampler_user_objectives.py --methods metasampler --out OTHER.csv
    python benchmarks/sampler_user_objectives.py --report-only   # tables of the saved CSV

Writes ``benchmarks/results/sampler_user_objectives.csv`` (one row per trial).
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from _common import (  # benchmarks/_common.py, beside this script
    SHARED_DATA,
    check_out,
    manifest_with_sizes,
    run_main,
    single_threaded,
)
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

from metaopt.data import LocalSource
from metaopt.ranker import training_datasets
from metaopt.samplers import MetaSampler
from metaopt.spaces import get_space, make_preprocessor

RESULTS = Path(__file__).resolve().parent / "results"
OBJECTIVES = ("narrow", "grid", "subset")
BUDGETS = (3, 5, 10)


def ask(trial: optuna.Trial, objective: str) -> dict:
    """The random forest's parameters as the user's objective asks for them."""
    if objective == "narrow":
        return {"n_estimators": trial.suggest_int("n_estimators", 10, 100, log=True),
                "max_features": trial.suggest_categorical("max_features", ["sqrt", "log2", 0.5]),
                "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 10)}
    if objective == "grid":
        return {"n_estimators": trial.suggest_int("n_estimators", 20, 300, step=20),
                "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 31, step=2),
                "max_features": trial.suggest_float("max_features", 0.1, 1.0, step=0.1)}
    own = get_space("random_forest").distributions("classification")
    return {"n_estimators": 100,
            "max_features": trial._suggest("max_features", own["max_features"]),
            "min_samples_leaf": trial._suggest("min_samples_leaf", own["min_samples_leaf"])}


def ran_its_claim(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether every value the objective asked for is the sampler's chosen one (numbers
    within half a step of it: a grid rounds)."""
    claim = json.loads(trial.system_attrs.get("metaopt:config") or "null")
    if not claim:
        return False
    for name, value in trial.params.items():
        if name not in claim:
            return False
        dist, chosen = trial.distributions[name], claim[name]
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            if value != chosen:
                return False
        elif isinstance(chosen, str) or abs(value - chosen) > (dist.step or 0) / 2 + 1e-9:
            return False
    return True


def datasets(root: Path, n: int) -> list[str]:
    """The ``n`` smallest classification datasets (>= 200 rows) no shipped model saw
    (rows: from the manifest, else the tables)."""
    manifest = manifest_with_sizes(root, "classification")
    seen = {k.split("/", 1)[1] for k in training_datasets() if k.startswith("pmlb/")}
    eligible = manifest[(manifest["n_instances"] >= 200) & ~manifest["name"].isin(seen)]
    return eligible.sort_values(["n_instances", "name"])["name"].head(n).tolist()


def sampler(method: str, data, seed: int) -> optuna.samplers.BaseSampler:
    if method == "metasampler":
        return MetaSampler(space="random_forest", dataset=data, seed=seed)
    if method == "tpe":
        return optuna.samplers.TPESampler(multivariate=True, seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def run(data, objective: str, method: str, seed: int, trials: int) -> list[dict]:
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    X = make_preprocessor("ordinal").fit_transform(data.X)

    def score(trial: optuna.Trial) -> float:
        model = RandomForestClassifier(**ask(trial, objective), random_state=0, n_jobs=1)
        return float(np.mean(cross_val_score(model, X, data.y, cv=cv)))

    study = optuna.create_study(direction="maximize", sampler=sampler(method, data, seed))
    study.optimize(score, n_trials=trials)
    seen: set[str] = set()
    rows = []
    for t in study.trials:
        key = json.dumps(t.params, sort_keys=True, default=str)
        rows.append({"dataset": data.name, "objective": objective, "method": method,
                     "seed": seed, "trial": t.number + 1, "value": t.value,
                     "ran_claim": ran_its_claim(t), "repeat": key in seen})
        seen.add(key)
    return rows


def report(frame: pd.DataFrame) -> None:
    frame = frame.sort_values("trial")
    frame["best"] = frame.groupby(["dataset", "objective", "method", "seed"])["value"].cummax()
    at = frame[frame["trial"].isin(BUDGETS)]
    table = (at.groupby(["objective", "method", "dataset", "trial"])["best"].mean()
             .groupby(["objective", "method", "trial"]).mean().unstack("trial"))
    print("mean best CV accuracy after 3 / 5 / 10 trials (datasets x seeds)")
    print(table.round(4).to_string())
    meta = frame[frame["method"].str.startswith("metasampler")]  # and earlier versions
    if not meta.empty:
        shares = meta.groupby(["objective", "method"])[["ran_claim", "repeat"]].mean()
        print("\nMetaSampler: share of trials that ran its chosen configuration whole, and "
              "that repeat an earlier trial's values")
        print(shares.round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pmlb", default=str(SHARED_DATA / "pmlb"))
    parser.add_argument("--datasets", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--trials", type=int, default=max(BUDGETS))
    parser.add_argument("--max-rows", type=int, default=1000)
    parser.add_argument("--methods", default="metasampler,tpe,random")
    parser.add_argument("--out", default=str(RESULTS / "sampler_user_objectives.csv"))
    parser.add_argument("--report-only", action="store_true",
                        help="print the tables of --out without running anything")
    args = parser.parse_args()
    if args.report_only:
        report(pd.read_csv(args.out))
        return
    check_out(args.out, pmlb=(args.pmlb, SHARED_DATA / "pmlb"))
    single_threaded(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning)
    source = LocalSource(args.pmlb)
    rows = []
    for name in datasets(Path(args.pmlb), args.datasets):
        data = source.load(name, "classification").subsample(args.max_rows, random_state=0)
        for objective in OBJECTIVES:
            for method in args.methods.split(","):
                for seed in range(args.seeds):
                    rows += run(data, objective, method, seed, args.trials)
        print(f"done {name}", flush=True)
    frame = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    report(frame)


if __name__ == "__main__":
    run_main(main)
