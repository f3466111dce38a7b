"""How well a search's CV pick holds up on test rows, trial by trial, on the estimator
benchmark's development datasets.

Each search runs by trial count (``n_trials``, no time budget: the proposals of a timed
fit, without the clock deciding how many), and every complete trial's configuration is
refitted on the 70 % and scored on the 30 % (accuracy), as ``estimator_vs_peers.py``
splits. Methods: ``metaopt`` (``MetaOptClassifier(cv=3)``), ``random`` and ``tpe`` (the
same search with Optuna's sampler and one CV score per configuration, as that
benchmark's peers). The report replays selection rules on the traces: the incumbent's
test accuracy after k trials when a trial replaces it only if it beats its CV score by
more than a margin (0: the estimators' rule), and the oracle (the best test accuracy
among the first k trials). Traces are appended to ``selection_traces.csv`` in ``--out``
as each search finishes, so a rerun resumes; ``--report`` prints and plots the saved
ones without fitting (every method in the file unless ``--methods`` names some; the
published file keeps metaopt's traces before ``family_patience``'s counts started over
as ``metaopt-norestart``).

    python benchmarks/selection_traces.py --seeds 0,1,2 --methods metaopt,random,tpe
    python benchmarks/selection_traces.py --report --seeds 1,2
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from _common import run_main  # benchmarks/_common.py, beside this script
from estimator_vs_peers import held_out_datasets  # the benchmark's datasets, beside this script
from sklearn.model_selection import train_test_split

from metaopt.estimators import MetaOptClassifier
from metaopt.estimators._families import _member

RESULTS = Path(__file__).parent / "results"
MARGINS = (0.0, 0.005, 0.01, 0.02)
KS = (10, 20, 30, 45, 60)
METHODS = ("metaopt", "random", "tpe")


def make(method: str, seed: int, n_trials: int) -> MetaOptClassifier:
    if method == "metaopt":
        return MetaOptClassifier(n_trials=n_trials, cv=3, random_state=seed)
    sampler = (optuna.samplers.RandomSampler(seed=seed) if method == "random" else
               optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed))
    return MetaOptClassifier(n_trials=n_trials, cv=3, random_state=seed, sampler=sampler,
                             recheck=False)


def trace(data, seed: int, method: str, n_trials: int) -> pd.DataFrame:
    """One row per complete trial: family, params, CV score (and the recheck's two),
    source, and the test accuracy of its configuration refitted on the 70 %."""
    X_tr, X_te, y_tr, y_te = train_test_split(data.X, data.y, test_size=0.3,
                                              random_state=seed, stratify=data.y)
    model = make(method, seed, n_trials).fit(X_tr, y_tr)
    X_fit, X_test = model._fitted_X(X_tr), model._fitted_X(X_te)
    space, rows = model._space, []
    for t in model.study_.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        fitted = space.build(t.params, "classification", random_state=seed).fit(X_fit, y_tr)
        splits = t.user_attrs.get("cv_scores", [t.value, np.nan])
        rows.append({"dataset": data.name, "seed": seed, "method": method, "number": t.number,
                     "family": _member(space, t.params)[0].name,
                     "params": json.dumps(t.params, default=str), "value": t.value,
                     "cv1": splits[0], "cv2": splits[1],
                     "source": t.system_attrs.get("metaopt:source", ""),
                     "test": float(np.mean(fitted.predict(X_test) == np.asarray(y_te)))})
    frame = pd.DataFrame(rows)
    chosen = frame.loc[frame["number"] == model.study_.best_trial.number, "test"].iloc[0]
    # the reconstruction is the estimator's model: same configuration, same test score
    assert abs(chosen - model.score(X_te, y_te)) < 1e-12, (data.name, seed, method)
    return frame


def incumbent(values: np.ndarray, tests: np.ndarray, margin: float) -> float:
    """Test accuracy of the trial kept when each replaces the kept one only if its CV
    score is higher by more than ``margin`` (in trial order)."""
    best, kept = -np.inf, np.nan
    for value, test in zip(values, tests, strict=True):
        if value > best + margin:
            best, kept = value, test
    return kept


def replay(traces: pd.DataFrame) -> pd.DataFrame:
    runs = traces.sort_values("number").groupby(["dataset", "seed", "method"])
    shortest = int(runs.size().min())
    rows = []
    for (name, seed, method), g in runs:
        for k in [k for k in KS if k <= shortest] or [shortest]:
            head = g.iloc[:k]
            for margin in MARGINS:
                rows.append({"dataset": name, "seed": seed, "method": method, "k": k,
                             "margin": margin, "oracle": head["test"].max(),
                             "test": incumbent(head["value"].to_numpy(),
                                               head["test"].to_numpy(), margin)})
    return pd.DataFrame(rows)


def report(traces: pd.DataFrame, out: Path) -> None:
    r = replay(traces)
    runs = r[(r.k == KS[0]) & (r.margin == 0)].groupby("method").size()
    print("dataset x seed runs per method: " + ", ".join(f"{m} {n}" for m, n in runs.items()))
    print("\n== incumbent's test accuracy after k trials, by selection margin (mean) ==")
    print(r.pivot_table(index=["method", "margin"], columns="k", values="test").round(4)
          .to_string())
    print("\n== oracle: best test accuracy among the first k trials (mean) ==")
    print(r[r.margin == 0].pivot_table(index="method", columns="k", values="oracle").round(4)
          .to_string())
    base = r[r.margin == 0].set_index(["dataset", "seed", "method", "k"])["test"]
    for margin in MARGINS[1:]:
        diff = r[r.margin == margin].set_index(["dataset", "seed", "method", "k"])["test"] - base
        table = diff.groupby(["method", "k"]).agg(
            better=lambda x: int((x > 1e-12).sum()), equal=lambda x: int((x.abs() <= 1e-12).sum()),
            worse=lambda x: int((x < -1e-12).sum()), mean="mean")
        print(f"\n== margin {margin} against 0: splits better / equal / worse, mean change ==")
        print(table.round(4).unstack("k").to_string())
    plot(r, out / "selection_traces.png")


def plot(r: pd.DataFrame, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for i, (method, g) in enumerate(r[r.margin == 0].groupby("method")):
        means = g.groupby("k")[["test", "oracle"]].mean()
        colour = f"C{i}"
        ax.plot(means.index, means["test"], marker="o", color=colour,
                label=f"{method}: incumbent (best CV)")
        ax.plot(means.index, means["oracle"], linestyle="--", color=colour,
                label=f"{method}: best test so far")
    ax.set_xlabel("trials")
    ax.set_ylabel("test accuracy (mean over datasets x seeds)")
    ax.set_title("The CV pick against the best configuration found")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"\nplot: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="comma-separated, e.g. 0,1,2")
    parser.add_argument("--methods", help=f"comma-separated, of {', '.join(METHODS)} "
                        "(default: all; with --report, every method in the file)")
    parser.add_argument("--n-trials", type=int, default=60)
    parser.add_argument("--datasets", type=int, default=10)
    parser.add_argument("--offset", type=int, default=20,
                        help="skip this many of the benchmark's datasets (20: the "
                             "development split, never the 20 benchmark datasets)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true", help="no fits: report saved traces")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",") if args.methods else None
    unknown = sorted(set(methods or ()) - set(METHODS))
    if unknown and not args.report:
        parser.error(f"unknown method(s) {unknown}; choose among {list(METHODS)}")
    if args.offset < 20:
        parser.error("--offset below 20 reaches the benchmark's 20 datasets: tune and "
                     "investigate on the development split only")
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "selection_traces.csv"
    if not args.report:
        for data in held_out_datasets("classification", args.datasets, 5000, 50,
                                      offset=args.offset):
            for seed in seeds:
                for method in methods or METHODS:
                    done = (pd.read_csv(path, usecols=["dataset", "seed", "method"])
                            .drop_duplicates().itertuples(index=False, name=None)
                            if path.exists() else [])
                    if (data.name, seed, method) in set(done):
                        continue
                    start = time.perf_counter()
                    frame = trace(data, seed, method, args.n_trials)
                    frame.to_csv(path, mode="a", header=not path.exists(), index=False)
                    print(f"{data.name:<18} seed {seed} {method:<8} {len(frame)} trials "
                          f"{time.perf_counter() - start:.0f} s", flush=True)
    if not path.exists():
        raise SystemExit(f"no traces in {path}: run without --report first")
    traces = pd.read_csv(path)
    traces = traces[traces.seed.isin(seeds) & traces.method.isin(methods or traces.method)]
    if traces.empty:
        raise SystemExit(f"no traces of seeds {seeds} and methods {methods or 'any'} in {path}")
    report(traces, args.out)


if __name__ == "__main__":
    run_main(main)
