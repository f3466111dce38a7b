"""MetaOptClassifier / MetaOptRegressor vs peers under the same wall-clock budgets, on
held-out pmlb data.

For each dataset (of ``--task``, not used to train the shipped meta-models) and seed, a
70/30 split (stratified for classification; the seed picks the split and seeds every
method); each method gets ``B`` seconds to fit on the 70 % and is scored on the 30 %
(accuracy; R^2 for regression). Methods:
metaopt (MetaOptClassifier / MetaOptRegressor, their defaults: the regressor ensembles
since 2026-12-03, so its earlier ``metaopt`` rows are the best configuration alone;
``metaopt-ensemble``: with ``ensemble_size=20``; ``metaopt-single``: with
``ensemble_size=1``; ``metaopt-norecheck``: with ``recheck=False``; ``metaopt-njobs2``:
with ``n_jobs=2``; ``metaopt-allrows``: with ``search_rows=None``; ``metaopt-nofloor``: R^2 as a callable
scorer, so MetaSampler sees diverging fits' R^2 unfloored; ``metaopt@DIR``: the meta-model
saved in DIR), Optuna TPE and random search run by the same search
(``MetaOptClassifier(sampler=...)``: the combined space, 3-fold CV, single-threaded
trials killed at the budget, refit included; one score per configuration, as in a plain
Optuna study; ``tpe-recheck``: TPE with ``recheck=True``), FLAML ``AutoML`` (when
installed) and scikit-learn's default HistGradientBoosting. Fits by earlier versions
of this script, whose TPE and random search finished the trial in flight after the
budget, are kept in the fits file as ``tpe-overrun`` and ``random-overrun``. A
``#LABEL`` suffix (``tpe#warm``) runs the method as it is now under a new name, next to
the rows of an earlier version. Prints the mean test score and mean rank per budget
(ranks within each dataset, seed and budget; a failed fit, without a model, ranks
last and is counted), the first method against each other one
(paired differences with intervals over datasets), and each method's shortest budget
against FLAML's longest; writes a CSV and a plot to ``--out`` (default
``benchmarks/results/``, the published results: a ``--pmlb`` other than the shared data
needs another folder). A run whose selection lacks fits of the CSV already there (one
method, a labelled variant, fewer seeds) keeps it and its plot, and writes its own as
``estimator_vs_peers_run.csv`` and ``.png`` (``--publish``: replace them). Every finished fit is appended to ``estimator_vs_peers_fits.csv`` there
(regression: ``estimator_vs_peers_regression_fits.csv``) at once, so an interrupted run
resumes where it stopped, and processes running different ``--methods`` can share the
file.

    python benchmarks/estimator_vs_peers.py --datasets 20 --budgets 10,30,60 --seeds 0,1,2
    python benchmarks/estimator_vs_peers.py --task regression --datasets 10 --budgets 10,30
    python benchmarks/estimator_vs_peers.py --pmlb OTHER/pmlb --names a,b,c --budgets 10 \
        --out OTHER/results
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from _common import (  # benchmarks/_common.py, beside this script
    SHARED_DATA,
    check_out,
    load_of_task,
    manifest_with_sizes,
    run_main,
)
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, make_scorer, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from metaopt import MetaOptClassifier, MetaOptRegressor
from metaopt._files import write_whole
from metaopt.benchmark import paired_difference, paired_differences
from metaopt.data import LocalSource, get_suite
from metaopt.kb import DEFAULT_SCORING
from metaopt.ranker import training_datasets
from metaopt.spaces import make_preprocessor

RESULTS = Path(__file__).resolve().parent / "results"
PMLB = SHARED_DATA / "pmlb"
#: per task: the estimator, scikit-learn's default model, the test score
TASKS = {"classification": (MetaOptClassifier, HistGradientBoostingClassifier, accuracy_score),
         "regression": (MetaOptRegressor, HistGradientBoostingRegressor, r2_score)}


def result_path(task: str, kind: str = "", out: Path = RESULTS) -> Path:
    """``estimator_vs_peers[_<task>][_<kind>]`` in ``out`` (``benchmarks/results/`` by
    default; the classification files keep their old names); ``kind`` includes the
    extension."""
    suffix = "" if task == "classification" else f"_{task}"
    return Path(out) / f"estimator_vs_peers{suffix}{kind}"


def held_out_datasets(task: str, n: int, max_rows: int, after: int, offset: int = 0,
                      pmlb: Path = PMLB, names: list[str] | None = None) -> list:
    """``n`` pmlb datasets of ``task`` (smallest first: rows x columns, from the manifest
    or else the tables) after the ``after`` smallest
    ones (the knowledge base's reach, which may grow past the shipped models' training
    data) that the shipped meta-models never saw, skipping the first ``offset`` such
    datasets; or exactly the datasets ``names`` (refused when a shipped meta-model was
    trained on one, or one is missing or of the other task); larger ones are subsampled
    to ``max_rows`` rows."""
    seen = training_datasets()
    if names:
        trained = [n for n in names if f"pmlb/{n}" in seen]
        if trained:
            raise SystemExit(f"the shipped meta-models were trained on {trained}: "
                             "pick datasets they never saw")
        source = LocalSource(pmlb)
        return [load_of_task(source, n, task, "--names", " (--task)").subsample(
            max_rows, random_state=0) for n in names]
    suite = get_suite(f"pmlb-{task}", root=pmlb)
    if any(ref.size is None for ref in suite):  # a manifest without n_instances, n_features
        suite = _measured(suite, pmlb, task)
    suite = suite.select(smallest_first=True)
    picked = []
    for ref in list(suite)[after:]:
        if ref.key in seen:
            continue
        data = ref.load().subsample(max_rows, random_state=0)
        if data.n_samples >= 200 and (task == "regression" or data.y.value_counts().min() >= 5):
            picked.append(data)
        if len(picked) == offset + n:
            break
    if not picked[offset:]:
        raise SystemExit(f"no held-out {task} dataset in {pmlb} past the {after} smallest "
                         f"(--after) and {offset} more (--offset): {len(suite)} {task} "
                         "dataset(s) in all; one needs 200 rows or more"
                         f"{' and 5 per class' if task == 'classification' else ''}, unseen "
                         "by the shipped meta-models. Lower --after or give --names")
    return picked[offset:]


def _measured(suite, pmlb: Path, task: str):
    """``suite`` with each dataset's size (rows x columns) read from its table: without
    sizes in the manifest, smallest first kept the name order."""
    shapes = manifest_with_sizes(pmlb, task).set_index("name")
    sizes = (shapes["n_instances"] * shapes["n_features"]).dropna().astype(int)
    return dataclasses.replace(suite, refs=tuple(dataclasses.replace(ref, size=sizes.get(ref.name))
                                                 for ref in suite))


def fit_method(method: str, task: str, X, y, budget: float, seed: int):
    estimator, default_model, _ = TASKS[task]
    method = method.partition("#")[0]  # "tpe#LABEL": a rerun of tpe, kept as its own rows
    if method.startswith("metaopt"):
        # "metaopt@DIR": a meta-model saved in DIR; "metaopt-ensemble": ensemble_size=20;
        # "metaopt-single": ensemble_size=1 (the regressor's default before 2026-12-03);
        # "metaopt-norecheck": recheck=False (the policy before 2026-12-02);
        # "metaopt-nofloor": R^2 as a callable scorer, which MetaSampler does not floor
        # at 0 (the behaviour before MetaSampler had worst_value); "metaopt-njobs2": n_jobs=2
        # (parallel folds; every other method fits with n_jobs=1); "metaopt-allrows":
        # search_rows=None, trials on every row (the behaviour before 2026-12-05)
        name, _, meta_model = method.partition("@")
        options = {"metaopt-ensemble": {"ensemble_size": 20},
                   "metaopt-single": {"ensemble_size": 1},
                   "metaopt-norecheck": {"recheck": False},
                   "metaopt-nofloor": {"scoring": make_scorer(r2_score)},
                   "metaopt-njobs2": {"n_jobs": 2},
                   "metaopt-allrows": {"search_rows": None}}.get(name, {})
        return estimator(n_trials=None, time_budget=budget, cv=3, random_state=seed,
                         meta_model=meta_model or None, **options).fit(X, y)
    if method in ("tpe", "random", "tpe-recheck"):
        # the same search as metaopt's (space, CV, killed trials, refit) with Optuna's
        # sampler; a new best is confirmed on a second split only in "tpe-recheck"
        sampler = (optuna.samplers.RandomSampler(seed=seed) if method == "random" else
                   optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed))
        return estimator(n_trials=None, time_budget=budget, cv=3, random_state=seed,
                         sampler=sampler, recheck=method == "tpe-recheck").fit(X, y)
    if method == "flaml":
        from flaml import AutoML

        automl = AutoML()
        automl.fit(X, y, task=task, metric=DEFAULT_SCORING[task], time_budget=budget,
                   seed=seed, n_jobs=1, verbose=0)
        return automl
    if method == "default":
        with threadpool_limits(1):
            return make_pipeline(make_preprocessor("native"),
                                 default_model(random_state=seed)).fit(X, y)
    raise ValueError(f"unknown method {method!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=tuple(TASKS), default="classification")
    parser.add_argument("--datasets", type=int, default=20,
                        help="the DATASETS smallest held-out datasets (rows x columns, from "
                             "the manifest or else the tables) past --after")
    parser.add_argument("--budgets", default="10,30,60")
    parser.add_argument("--methods", default="metaopt,tpe,random,flaml,default",
                        help="comma-separated; metaopt@DIR uses the meta-model saved in DIR")
    parser.add_argument("--max-rows", type=int, default=5000)
    parser.add_argument("--after", type=int, default=50,
                        help="skip the AFTER smallest datasets (the knowledge base's reach)")
    parser.add_argument("--seeds", default="0", help="comma-separated split/search seeds")
    parser.add_argument("--offset", type=int, default=0,
                        help="skip the first OFFSET held-out datasets: --offset 20 is a "
                             "development split, disjoint from the benchmark's 20, for "
                             "choosing settings")
    parser.add_argument("--pmlb", type=Path, default=PMLB,
                        help="a pmlb-layout directory (<name>/<name>.tsv.gz and a manifest)")
    parser.add_argument("--names", default=None,
                        help="comma-separated dataset names to run instead of the selection "
                             "above (none may be a shipped meta-model's training data)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder of the fits (resumed), CSV and plot (default: "
                             "benchmarks/results, the published results)")
    parser.add_argument("--publish", action="store_true",
                        help="write the summary as estimator_vs_peers[_TASK].csv and .png "
                             "in --out even when it lacks fits of the summary there (by "
                             "default such a run keeps it and writes "
                             "estimator_vs_peers[_TASK]_run.csv and .png)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    budgets = [float(b) for b in args.budgets.split(",")]
    methods = args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    if "flaml" in methods:
        try:
            import flaml  # noqa: F401
        except ImportError:
            print("FLAML not installed (pip install 'flaml[automl]'): skipping it")
            methods.remove("flaml")
    check_out(args.out, pmlb=(args.pmlb, PMLB))
    datasets = held_out_datasets(args.task, args.datasets, args.max_rows, args.after,
                                 args.offset, args.pmlb,
                                 args.names.split(",") if args.names else None)
    print(f"{len(datasets)} held-out datasets: {', '.join(d.name for d in datasets)}")
    if args.out.exists() and not args.out.is_dir():
        raise SystemExit(f"--out {args.out} is a file, not a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    fits = result_path(args.task, "_fits.csv", args.out)
    done = _finished_fits(fits)  # a rerun resumes: finished fits are kept, never redone
    for seed in seeds:
        for data in datasets:
            _run_dataset(data, args.task, seed, budgets, methods, done, fits)
    frame = summary_frame(pd.read_csv(fits), [d.name for d in datasets], seeds, budgets,
                          methods)
    name = write_summary(frame, args.task, args.out, publish=args.publish)
    table = frame.groupby(["budget", "method"]).agg(
        score=("score", "mean"), rank=("rank", "mean"), seconds=("seconds", "mean"),
        failed=("score", lambda s: int(s.isna().sum())))
    print(f"{len(seeds)} seed(s); mean test {DEFAULT_SCORING[args.task]} over datasets and "
          "seeds of the fits with a model, mean rank over all (a fit that failed (no model) "
          "ranks last), fits failed")
    print(table.round(4).to_string())
    if len(methods) > 1:
        print(f"{methods[0]} against each other method at the same budget (difference of "
              "the per-dataset means over seeds, 95 % t-interval over datasets; splits "
              "won/tied/lost)")
        scored = set(frame.loc[frame["score"].notna(), "method"])
        if methods[0] in scored and len(scored) > 1:
            print(paired_differences(frame, methods[0], value="score", unit="dataset",
                                     higher_is_better=True).to_string())
        for method in methods:
            if method not in scored:
                print(f"no paired comparison with {method}: every fit of it failed")
    if "flaml" in methods:
        print(_against_flaml(frame, min(budgets), max(budgets)))
    _plot(table.reset_index(), args.task, args.out, f"{name}.png")
    if name:
        print(f"{result_path(args.task, '.csv').name} in {args.out} holds fits this run did "
              f"not select: kept; this run's summary is {result_path(args.task, name).name}"
              ".csv and .png (--publish replaces the other)")


def summary_frame(fits: pd.DataFrame, datasets: list[str], seeds: list[int],
                  budgets: list[float], methods: list[str]) -> pd.DataFrame:
    """The selected ``fits`` (datasets, seeds, budgets, methods), the default model's
    budget-free fit repeated at each budget, with each fit's rank within its dataset,
    seed and budget (a fit that failed, without a model, ranks last)."""
    frame = fits[fits["dataset"].isin(datasets) & fits["seed"].isin(seeds)
                 & fits["budget"].isin(budgets) & fits["method"].isin(methods)]
    default = frame[frame["method"] == "default"].drop(columns="budget")
    frame = pd.concat([frame[frame["method"] != "default"]]
                      + [default.assign(budget=b) for b in budgets], ignore_index=True)
    # a fit that failed (no model) ranks last: left out, its method looked better
    frame["rank"] = frame.groupby(["dataset", "seed", "budget"])["score"].rank(
        ascending=False, na_option="bottom")
    return frame


def write_summary(frame: pd.DataFrame, task: str, out: Path, publish: bool = False) -> str:
    """Write the summary ``frame`` (:func:`summary_frame`) to
    ``estimator_vs_peers[_<task>].csv`` in ``out`` when it holds every fit (dataset, seed,
    budget, method) of the summary there, or ``publish``; else to
    ``estimator_vs_peers[_<task>]_run.csv``, keeping the other: a run of some methods
    (one, or a labelled variant) shares the fits file, not the published table. Returns
    the part of the name written before its extension, ``""`` or ``"_run"``."""
    name = ""
    path = result_path(task, ".csv", out)
    if path.exists() and not publish:
        key = ["dataset", "seed", "budget", "method"]
        kept = pd.read_csv(path)
        if not set(kept[key].itertuples(index=False, name=None)) <= set(
                frame[key].itertuples(index=False, name=None)):
            name = "_run"
    frame.to_csv(result_path(task, f"{name}.csv", out), index=False)
    return name


def _against_flaml(frame: pd.DataFrame, short: float, long: float) -> str:
    """Each method at the ``short`` budget against FLAML at the ``long`` one: mean test
    score of both and the paired difference
    (:func:`metaopt.benchmark.paired_difference`), as printed; a method without a scored
    fit at its budget is named instead."""
    score = frame.pivot_table(index=["dataset", "seed"], columns=["method", "budget"],
                              values="score")  # a method whose every fit failed: no column
    if ("flaml", long) not in score:
        return f"no comparison with flaml at {long:g} s: every fit of it failed"
    flaml = score[("flaml", long)]
    others = [m for m in frame["method"].unique() if m != "flaml"]
    rows = {m: {f"score @{short:.0f}s": f"{score[(m, short)].mean():.4f}",
                f"flaml @{long:.0f}s": f"{flaml.mean():.4f}",
                **paired_difference(score[(m, short)], flaml, unit="dataset",
                                    higher_is_better=True)}
            for m in others if (m, short) in score}
    lines = [pd.DataFrame(rows).T.to_string()] if rows else []
    return "\n".join(lines + [f"no comparison of {m} at {short:g} s with flaml: every fit of "
                              "it failed" for m in others if m not in rows])


def _run_dataset(data, task: str, seed: int, budgets: list, methods: list, done: set,
                 fits: Path) -> None:
    """Fit every method at every budget on one split of ``data``, appending each result
    to ``fits``."""
    stratify = data.y if task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(data.X, data.y, test_size=0.3,
                                              random_state=seed, stratify=stratify)
    test_score = TASKS[task][2]
    for budget in budgets:
        for method in methods:
            if (method == "default" and budget != budgets[0]) or (
                    data.name, seed, budget, method) in done:
                continue  # no budget to use, or measured by an earlier run
            start = time.perf_counter()
            try:
                model = fit_method(method, task, X_tr, y_tr, budget, seed)
                score = float(test_score(np.asarray(y_te), model.predict(X_te)))
            except Exception as exc:  # a method failing on a dataset is a result too
                print(f"  {data.name} {method} {budget:.0f}s failed: {exc}")
                score = np.nan
            seconds = time.perf_counter() - start
            pd.DataFrame([{"dataset": data.name, "seed": seed, "budget": budget,
                           "method": method, "score": score, "seconds": seconds}]).to_csv(
                fits, mode="a", header=not fits.exists(), index=False)
            print(f"  {data.name:<28} seed {seed} {budget:>4.0f}s {method:<8} {score:.4f} "
                  f"({seconds:.1f} s)", flush=True)


def _finished_fits(path: Path) -> set[tuple[str, float, str]]:
    if not path.exists():
        return set()
    fits = pd.read_csv(path)
    return set(zip(fits["dataset"], fits["seed"], fits["budget"].astype(float), fits["method"],
                   strict=True))


def _plot(table: pd.DataFrame, task: str, out: Path = RESULTS, kind: str = ".png") -> None:
    """The mean rank per method against the budget, written whole to
    ``estimator_vs_peers[_<task>]<kind>`` in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method, rows in table.groupby("method"):
        ax.plot(rows["budget"], rows["rank"], marker="o", label=method)
    ax.set_xlabel("time budget (s)")
    ax.set_ylabel("mean rank (1 = best)")
    ax.set_xscale("log")
    budgets = sorted(table["budget"].unique())
    ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
    ax.minorticks_off()
    ax.legend(ncol=5, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax.set_title(f"held-out {DEFAULT_SCORING[task]} rank\npmlb {task} datasets unseen by the "
                 "meta-models")
    fig.tight_layout()
    # whole or not at all: a crash or Ctrl-C mid-save keeps the published PNG
    write_whole(result_path(task, kind, out),
                lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)  # run in a process that goes on (tests, a notebook): not left open


if __name__ == "__main__":
    run_main(main)
