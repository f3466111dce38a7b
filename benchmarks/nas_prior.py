"""Architecture prior vs TPE vs random vs a fixed default: best validation score after
5 / 10 / 20 MLP architectures, and the cost of one training epoch.

1. **lcbench (surrogate)**: the ``valid`` instances of ``splits.json`` (never trained on),
   YAHPO's ``val_accuracy`` at the full 52 epochs, ``--repeats`` seeds. The search runs in
   the prior's native (LCBench) space. Also Hyperband on the surrogate's epoch
   fidelity: what 30 architectures cost in epochs with pruning.
2. **pmlb (real training)**: 8 classification datasets that neither the prior's training
   data (lcbench, its real runs) nor the knowledge base's ``mlp`` runs contain; at most
   ``--max-rows`` rows, per seed (``--pmlb-seeds``) a stratified 25 % test split; the
   search validates on the rest by stratified ``--cv``-fold CV (default 3, as
   ``MetaMLPClassifier``; ``--cv 1``: one 75/25 train/validation split), ``--max-epochs``
   epochs with early stopping, no pruning (each architecture is trained fully),
   accuracy. The search sees the validation scores; the test score of its incumbent at
   each budget (refitted on the non-test rows for its best epoch count) is reported
   beside them. The search runs in the ``mlp`` space (prior samples translated
   by ``to_mlp_params``).
3. Wall time of one epoch of the default MLP on a 10,000 x 50 dataset, CPU.

Methods: ``prior`` = the first 5 architectures drawn from the shipped
ArchitecturePrior for the dataset's size, then MetaSampler with the shipped meta-model
of the space (``yahpo_lcbench``; ``mlp@classification``, from the knowledge base's MLP
runs), adapted to the trials so far (what MetaMLPClassifier does); ``prior+tpe`` = the
same 5 draws, then TPE (ablation: what the meta-model adds after the prior);
``tpe`` = Optuna TPE (10 random start-up trials); ``random``; ``default`` = one fixed
configuration (3 x 256 ReLU, AdamW lr 1e-3, wd 1e-4, batch 128; on lcbench, which has
no AdamW: 3 x 256, no dropout, the usual SGD lr 0.01 + momentum 0.9, wd 1e-4, batch 128).

    python benchmarks/nas_prior.py                 # everything, ~15 min on 2 CPU cores
    python benchmarks/nas_prior.py --quick         # 3 pmlb datasets, fewer repeats
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch
from _common import SHARED_DATA, load_of_task, run_main  # benchmarks/_common.py, beside this script
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from metaopt import metafeatures
from metaopt._files import write_whole
from metaopt.benchmark import paired_difference
from metaopt.data import LocalSource
from metaopt.nas import LCBENCH_SPACE, ArchitecturePrior, MLPClassifier, task_metafeatures
from metaopt.nas._real_runs import load_table, size_features
from metaopt.nas._search import FoldTrainer, objective, suggest_mlp
from metaopt.samplers import MetaSampler

PMLB = ["balance_scale", "breast_w", "cmc", "tic_tac_toe", "tokyo1", "vowel", "yeast",
        "mfeat_zernike"]
BUDGETS = (5, 10, 20)
TEST_COLUMNS = [f"test@{k}" for k in BUDGETS]  # the incumbents' test scores
METHODS = ("prior", "prior+tpe", "tpe", "random", "default")
N_PRIOR = 5
DEFAULT_MLP = {"n_layers": 3, "width": 256, "activation": "relu", "dropout": 0.0,
               "norm": "none", "skip": False, "learning_rate": 1e-3, "weight_decay": 1e-4,
               "batch_size": 128}
DEFAULT_LCBENCH = {"num_layers": 3, "max_units": 256, "max_dropout": 0.0,
                   "learning_rate": 0.01, "momentum": 0.9, "weight_decay": 1e-4,
                   "batch_size": 128}
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sampler(method: str, seed: int, space: str, meta_features: pd.Series | None
             ) -> optuna.samplers.BaseSampler:
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    tpe = optuna.samplers.TPESampler(seed=seed, n_startup_trials=10 if method == "tpe"
                                     else N_PRIOR)
    if method == "prior":
        return MetaSampler(space=space, meta_features=meta_features, task="classification",
                           fallback=tpe, seed=seed)
    return tpe


def best_so_far(values: list[float]) -> dict[int, float]:
    """Best value after each budget of :data:`BUDGETS` (the last one if fewer trials)."""
    arr = np.maximum.accumulate(np.asarray(values, dtype=float))
    return {k: float(arr[min(k, len(arr)) - 1]) for k in BUDGETS}


# ---------------------------------------------------------------------------- lcbench
def suggest_lcbench(trial: optuna.trial.Trial) -> dict:
    out = {}
    for name, d in LCBENCH_SPACE.distributions("classification").items():
        if isinstance(d, optuna.distributions.IntDistribution):
            out[name] = trial.suggest_int(name, d.low, d.high, log=d.log)
        else:
            out[name] = trial.suggest_float(name, d.low, d.high, log=d.log)
    return out


def lcbench_run(bench, prior: ArchitecturePrior, instance: str, method: str, seed: int,
                n: int = 20, pruner: optuna.pruners.BasePruner | None = None
                ) -> tuple[list[float], int]:
    """Scores of ``n`` architectures on one instance (and epochs used, with a pruner)."""
    if method == "default":
        return [float(bench.evaluate(DEFAULT_LCBENCH, instance)["val_accuracy"].iloc[0])], 52
    # yahpo_lcbench was meta-trained without meta-features (YAHPO gives none)
    no_features = pd.Series(np.nan, index=list(metafeatures.FEATURE_NAMES))
    sampler = _sampler(method, seed, "yahpo_lcbench", no_features)
    study = optuna.create_study(direction="maximize", sampler=sampler,
                                pruner=pruner or optuna.pruners.NopPruner(),
                                study_name=f"lcbench-{instance}-{method}-{seed}")
    if method.startswith("prior"):
        for c in prior.sample(task_metafeatures(instance), N_PRIOR, seed=seed, native=True):
            study.enqueue_trial(c)
    epochs = 0

    def run(trial: optuna.trial.Trial) -> float:
        nonlocal epochs
        config = suggest_lcbench(trial)
        if pruner is None:
            epochs += 52
            return float(bench.evaluate(config, instance)["val_accuracy"].iloc[0])
        for epoch in range(1, 53):
            score = float(bench.evaluate(config, instance, {"epoch": epoch})
                          ["val_accuracy"].iloc[0])
            epochs += 1
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return score

    study.optimize(run, n_trials=n)
    values = [t.value if t.state == optuna.trial.TrialState.COMPLETE else -np.inf
              for t in study.trials]
    return values, epochs


def lcbench_benchmark(prior: ArchitecturePrior, repeats: int) -> pd.DataFrame:
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", SHARED_DATA / "yahpo", split="valid")
    rows = []
    for instance in bench.instances:
        for method in METHODS:
            for seed in range(1 if method == "default" else repeats):
                values, _ = lcbench_run(bench, prior, instance, method, seed)
                rows.append({"dataset": instance, "method": method, "seed": seed,
                             **best_so_far(values)})
    return pd.DataFrame(rows)


def lcbench_hyperband(prior: ArchitecturePrior, repeats: int, n: int = 30) -> pd.DataFrame:
    """``prior`` with Hyperband on the surrogate's epochs vs the same without pruning."""
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", SHARED_DATA / "yahpo", split="valid")
    rows = []
    for instance in bench.instances:
        for seed in range(repeats):
            for name, pruner in (("full", None), ("hyperband", optuna.pruners.HyperbandPruner(
                    min_resource=1, max_resource=52, reduction_factor=3))):
                values, epochs = lcbench_run(bench, prior, instance, "prior", seed, n, pruner)
                rows.append({"dataset": instance, "seed": seed, "mode": name,
                             "best": max(values), "epochs": epochs})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- pmlb
def search_splits(X: np.ndarray, y: np.ndarray, seed: int, cv: int
                  ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]],
                             np.ndarray]:
    """A stratified 25 % test split, and on the rest the search's validation splits
    (``cv`` >= 2: stratified K-fold, as ``MetaMLPClassifier(cv=K)``; ``cv`` = 1: one
    75/25 split) and the rows the incumbent is refitted on (all of the rest with K-fold,
    the split's training rows otherwise). Returns ``(dev, test, splits, fit_rows)``."""
    splitter = StratifiedShuffleSplit(1, test_size=0.25, random_state=seed)
    dev, test = next(splitter.split(X, y))
    if cv == 1:
        train, valid = (dev[i] for i in next(splitter.split(X[dev], y[dev])))
        return dev, test, [(train, valid)], train
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed).split(X[dev], y[dev])
    return dev, test, [(dev[a], dev[b]) for a, b in folds], dev


def pmlb_run(X: np.ndarray, y: np.ndarray, prior: ArchitecturePrior, method: str,
             seed: int, max_epochs: int, patience: int, cv: int
             ) -> tuple[list[float], dict[int, float], float]:
    """One search: validation scores of its trials, the test score of its incumbent (best
    validation score so far) at each budget, and the search's seconds."""
    dev, test, splits, train = search_splits(X, y, seed, cv)
    trainer = FoldTrainer(X, y, "classification", splits, torch.device("cpu"), seed)
    start = time.perf_counter()
    if method == "default":
        result = trainer.evaluate(DEFAULT_MLP, max_epochs, patience)
        seconds = time.perf_counter() - start
        score = test_score(X, y, train, test, seed, DEFAULT_MLP, result.best_epoch)
        return [result.score], dict.fromkeys(BUDGETS, score), seconds
    meta_features = (metafeatures.compute(X[dev], y[dev], "classification", random_state=0)
                     if method == "prior" else None)
    study = optuna.create_study(direction="maximize",
                                sampler=_sampler(method, seed, "mlp", meta_features),
                                pruner=optuna.pruners.NopPruner())  # default: MedianPruner
    if method.startswith("prior"):
        for params in prior.sample(size_features(X[dev], y[dev]), N_PRIOR, seed=seed):
            params.pop("max_epochs")
            study.enqueue_trial(params)
    study.optimize(objective(trainer, "classification", max_epochs, patience),
                   n_trials=max(BUDGETS))
    seconds = time.perf_counter() - start
    values = [t.value for t in study.trials]
    incumbents = {budget: int(np.argmax(values[:budget])) for budget in BUDGETS}
    scores = {}  # one test training per incumbent, however many budgets it holds
    for i in set(incumbents.values()):
        params = suggest_mlp(optuna.trial.FixedTrial(study.trials[i].params), "classification")
        best_epoch = study.trials[i].user_attrs["best_epoch"]
        scores[i] = test_score(X, y, train, test, seed, params, best_epoch)
    return values, {budget: scores[i] for budget, i in incumbents.items()}, seconds


def test_score(X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int,
               params: dict, epochs: int) -> float:
    """Test accuracy of the model the search selected, trained on ``train`` with the
    search's seed for its best validation epoch count (with one validation split, the
    same rows and so the same weights as in the search; with K folds, all of them, as
    the estimators refit)."""
    tester = FoldTrainer(X, y, "classification", [(train, test)], torch.device("cpu"), seed)
    return tester.evaluate(params, epochs, patience=epochs).curve[epochs - 1]


def check_datasets(root: Path, names: list[str]) -> None:
    """``SystemExit`` before any run when a dataset of ``names`` is not in ``root`` (or
    cannot be loaded) or is no classification dataset: a regression target was read as
    classes (one per distinct value), which failed deep in the split or, with few
    distinct values, ran as a classification."""
    if not names:
        raise SystemExit("--datasets names no dataset")
    source = LocalSource(root)
    for name in names:
        load_of_task(source, name, "classification", "--datasets",
                     " (the MLP searches here are classifiers)")


def pmlb_benchmark(prior: ArchitecturePrior, names: list[str], max_rows: int,
                   max_epochs: int, patience: int, seeds: list[int], cv: int) -> pd.DataFrame:
    """Every method on every dataset; each seed is a new split, search and prior draw."""
    rows = []
    data = {name: load_table(SHARED_DATA / "pmlb", name, max_rows) for name in names}
    for seed in seeds:
        for name, (X, y) in data.items():
            for method in METHODS:
                values, tests, seconds = pmlb_run(X, y, prior, method, seed, max_epochs,
                                                  patience, cv)
                best = best_so_far(values)
                rows.append({"dataset": name, "method": method, "seed": seed,
                             "seconds": seconds, **best,
                             **{f"test@{k}": v for k, v in tests.items()}})
                print(f"  {name:14s} seed {seed} {method:9s} "
                      + " ".join(f"@{k}={v:.3f}" for k, v in best.items())
                      + "  test " + " ".join(f"@{k}={v:.3f}" for k, v in tests.items())
                      + f"  {seconds:5.1f}s", flush=True)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- epoch time
def epoch_time(n: int = 10_000, d: int = 50, repeats: int = 3) -> dict[str, float]:
    """Seconds per epoch of the default MLP (3 x 256, batch 128) on ``n x d``, CPU."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X[:, :5].sum(axis=1) > 0).astype(int)
    out = {}
    cold = time.perf_counter()  # the first fit pays torch's one-off start-up: untimed
    MLPClassifier(**{**DEFAULT_MLP, "max_epochs": 1, "device": "cpu"}).fit(X[:256], y[:256])
    out["cold"] = time.perf_counter() - cold
    for epochs in (1, 1 + repeats):
        params = {**DEFAULT_MLP, "max_epochs": epochs, "validation_fraction": 0.0,
                  "device": "cpu", "random_state": 0}
        start = time.perf_counter()
        MLPClassifier(**params).fit(X, y)
        out[epochs] = time.perf_counter() - start
    return {"seconds_per_epoch": (out[1 + repeats] - out[1]) / repeats,
            "fit_1_epoch": out[1], "cold_start_fit": out["cold"],
            "torch_threads": torch.get_num_threads()}


# ---------------------------------------------------------------------------- report
def summary(frame: pd.DataFrame, columns: tuple = BUDGETS) -> pd.DataFrame:
    """Mean best score per method and budget, and mean rank across datasets (``columns``:
    the validation scores by default, or the incumbents' ``test@k``)."""
    per = frame.groupby(["dataset", "method"])[list(columns)].mean()
    mean = per.groupby("method").mean()
    # the default is one configuration: the same value at every budget
    ranks = per.groupby("dataset").rank(ascending=False).groupby("method").mean()
    table = pd.concat({"mean best": mean, "mean rank": ranks}, axis=1)
    return table.loc[[m for m in METHODS if m in table.index]]


def goal_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: ``prior`` at its first budget against ``tpe`` at the last one."""
    per = frame.groupby(["dataset", "method"])[list(BUDGETS)].mean()
    table = pd.DataFrame({f"prior @{BUDGETS[0]}": per.xs("prior", level="method")[BUDGETS[0]],
                          f"tpe @{BUDGETS[-1]}": per.xs("tpe", level="method")[BUDGETS[-1]]})
    wins = table.iloc[:, 0] >= table.iloc[:, 1]
    table["prior >= tpe"] = wins.map({True: "yes", False: "no"})
    table.loc["mean"] = [table.iloc[:, 0].mean(), table.iloc[:, 1].mean(),
                         f"{int(wins.sum())}/{len(wins)}"]
    return table


def _read_rows(path: Path) -> pd.DataFrame:
    """Saved benchmark rows, with the budget columns ("5", "10", ...) back as integers."""
    return pd.read_csv(path).rename(columns=lambda c: int(c) if c.isdigit() else c)


def plot(lc: pd.DataFrame | None, pm: pd.DataFrame | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [(t, f, c) for t, f, c in (("lcbench valid (surrogate)", lc, list(BUDGETS)),
                                       ("pmlb (real), validation", pm, list(BUDGETS)),
                                       ("pmlb (real), test: incumbent", pm, TEST_COLUMNS))
             if f is not None and set(c) <= set(f.columns)]
    fig, axes = plt.subplots(1, len(parts), figsize=(5.5 * len(parts), 4), squeeze=False)
    for ax, (title, frame, columns) in zip(axes[0], parts, strict=True):
        # regret relative to each dataset's best seen value, averaged
        per = frame.groupby(["dataset", "method"])[columns].mean()
        best = per.groupby("dataset").transform("max").max(axis=1)
        rel = per.rsub(best, axis=0).groupby("method").mean()
        for method in rel.index:
            ax.plot(BUDGETS, rel.loc[method], marker="o", label=method)
        ax.set(title=title, xlabel="architectures evaluated", ylabel="mean gap to best (score)",
               xticks=BUDGETS)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    # whole or not at all: a crash or Ctrl-C mid-save keeps the published PNG
    write_whole(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=10, help="lcbench seeds")
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--max-rows", type=int, default=1000)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--pmlb-seeds", default="0",
                        help="comma-separated pmlb seeds (split, search and prior draws)")
    parser.add_argument("--cv", type=int, default=3,
                        help="pmlb validation: K-fold CV of the non-test rows (K >= 2, "
                             "MetaMLPClassifier's default 3) or 1: one 75/25 split")
    parser.add_argument("--skip", nargs="*", default=[], choices=["lcbench", "pmlb", "epoch"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--prior", default=None,
                        help="directory of another ArchitecturePrior (default: the shipped one)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = (PMLB[:3] if args.quick else PMLB) if args.datasets is None else args.datasets
    if "pmlb" not in args.skip:
        check_datasets(SHARED_DATA / "pmlb", names)
    repeats = 3 if args.quick else args.repeats
    prior = ArchitecturePrior.load(args.prior) if args.prior else ArchitecturePrior.default()
    pd.set_option("display.width", 160)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lc = pm = None
    start = time.perf_counter()
    if "lcbench" not in args.skip:
        lc = lcbench_benchmark(prior, repeats)
        print(f"\n## lcbench valid instances (surrogate val_accuracy %, {repeats} seeds)")
        print(summary(lc).round(3).to_string())
        hb = lcbench_hyperband(prior, min(repeats, 3))
        agg = hb.groupby("mode")[["best", "epochs"]].mean()
        print("\nprior (+ MetaSampler), 30 architectures, with and without Hyperband on epochs:")
        print(agg.round(2).to_string())
        print(f"[lcbench done in {time.perf_counter() - start:.0f} s]", flush=True)
    if "pmlb" not in args.skip:
        print(f"\n## pmlb (real training, <= {args.max_rows} rows, <= {args.max_epochs} "
              "epochs, hold-out accuracy)")
        seeds = [int(s) for s in args.pmlb_seeds.split(",")]
        pm = pmlb_benchmark(prior, names, args.max_rows, args.max_epochs, args.patience, seeds,
                            args.cv)
        print(summary(pm).round(3).to_string())
        print("\ntest accuracy of the incumbent (best validation score so far):")
        print(summary(pm, TEST_COLUMNS).round(3).to_string())
        print(f"\nprior @{BUDGETS[0]} against tpe @{BUDGETS[-1]} "
              f"(mean over {len(seeds)} seeds):")
        print(goal_table(pm).round(3).to_string())
        rows = pm.set_index(["dataset", "seed"])
        for first, last in ((BUDGETS[0], BUDGETS[-1]),
                            (f"test@{BUDGETS[0]}", f"test@{BUDGETS[-1]}")):
            paired = paired_difference(rows[rows["method"] == "prior"][first],
                                       rows[rows["method"] == "tpe"][last], unit="dataset",
                                       higher_is_better=True)
            print(f"paired, prior {first} minus tpe {last}: {paired['difference']}, 95 % "
                  f"interval over datasets {paired['95% interval']}")
        print("seconds per method:", pm.groupby("method")["seconds"].sum().round(0).to_dict())
    if "epoch" not in args.skip:
        print("\n## one epoch, 10,000 x 50, 3 x 256 MLP, batch 128, CPU")
        print({k: round(v, 3) for k, v in epoch_time().items()})
    if lc is not None or pm is not None:
        saved = [out / f"nas_prior_{name}.csv" for name in ("lcbench", f"pmlb_cv{args.cv}")]
        for path, frame in zip(saved, (lc, pm), strict=True):
            if frame is not None:
                frame.to_csv(path, index=False)
        # a skipped part is plotted from its saved rows, so one part can be re-run alone
        lc, pm = (_read_rows(path) if path.is_file() else None for path in saved)
        plot(lc, pm, out / "nas_prior.png")
        print(f"\nwrote {out / 'nas_prior.png'} and the CSVs beside it")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    run_main(main)
