"""Train, validate and write the shipped architecture prior from the YAHPO lcbench
surrogate and real training runs (:mod:`metaopt.nas._real_runs`).

Run ``python -m metaopt.nas._build_prior --yahpo <data>/yahpo --out metaopt/_models/nas_prior
--real-runs metaopt/_models/nas_prior/real_runs.csv``. Meta-training uses only the
``train`` instances of ``splits.json``; the validation figures of the card come from its
``valid`` instances.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.special import gammaln
from scipy.stats import spearmanr

from metaopt._markdown import markdown_table
from metaopt._model_files import describe_machine, training_machine
from metaopt._version import __version__
from metaopt.nas._lcbench import LCBENCH_SPACE, lcbench_tasks, task_metafeatures
from metaopt.nas._prior import ArchitecturePrior, random_configs
from metaopt.nas._real_runs import config_sha, read_runs, runs_matrix

TARGET = "val_accuracy"


def surrogate_matrix(benchmark, configs: Sequence[dict[str, Any]], target: str = TARGET
                     ) -> pd.DataFrame:
    """Surrogate ``target`` of ``configs`` (columns) on every instance (rows)."""
    return pd.DataFrame({inst: benchmark.evaluate(configs, inst)[target].to_numpy()
                         for inst in benchmark.instances}).T


def training_data(yahpo_path: str | Path, *, n_configs: int = 4000, seed: int = 0
                  ) -> tuple[pd.DataFrame, list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Meta-features, shared random configurations, their surrogate scores and training
    times (seconds) on the lcbench ``train`` instances."""
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", yahpo_path, split="train")
    configs = random_configs(LCBENCH_SPACE, n_configs, np.random.default_rng(seed))
    scores = surrogate_matrix(bench, configs)
    times = surrogate_matrix(bench, configs, "time").clip(lower=1e-3)
    mf = pd.DataFrame([task_metafeatures(i) for i in scores.index], index=scores.index)
    return mf, configs, scores.to_numpy(), times.to_numpy()


def validate(prior: ArchitecturePrior, yahpo_path: str | Path, *, n_repeats: int = 20,
             n_random: int = 2000) -> pd.DataFrame:
    """Per ``valid`` instance: Spearman of the prior's score with the surrogate on random
    configurations, and mean best-of-5 ``val_accuracy`` of prior samples vs random ones."""
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", yahpo_path, split="valid")
    rng = np.random.default_rng(12345)
    rows = []
    for inst in bench.instances:
        mf = task_metafeatures(inst)
        rand = random_configs(LCBENCH_SPACE, n_random, rng)
        acc = bench.evaluate(rand, inst)[TARGET].to_numpy()
        rho = spearmanr(prior.score(mf, rand), acc).statistic
        times = bench.evaluate(rand, inst)["time"].to_numpy()
        best_prior, best_random, time_prior = [], [], []
        for r in range(n_repeats):
            picks = bench.evaluate(prior.sample(mf, 5, seed=r, native=True), inst)
            best_prior.append(picks[TARGET].max())
            time_prior.append(picks["time"].mean())
            best_random.append(acc[rng.choice(n_random, 5, replace=False)].max())
        top = prior.describe(mf, 1)["lcbench"].iloc[0]
        top_acc = float(bench.evaluate(top, inst)[TARGET].iloc[0])
        rows.append({"instance": inst, "name": lcbench_tasks().loc[inst, "name"],
                     "spearman": rho, "prior_best_of_5": np.mean(best_prior),
                     "random_best_of_5": np.mean(best_random), "prior_top1": top_acc,
                     "random_best_of_2000": acc.max(),
                     "top1_quantile": float((acc > top_acc).mean()),
                     "time_ratio": np.mean(time_prior) / times.mean()})
    return pd.DataFrame(rows).set_index("instance")


def real_runs_data(runs: pd.DataFrame, configs: list[dict[str, Any]]
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The real runs as training rows (``pmlb/<name>``): meta-features, scores (NaN where
    a dataset's runs did not train a configuration) and costs.

    The costs are constant, so no cost preference: the runs' training seconds (a
    fraction of a second to a few seconds, measured on a shared machine) are recorded
    but not worth trading accuracy for.
    """
    real_mf, real_scores = runs_matrix(runs, configs)
    real_mf.index = [f"pmlb/{name}" for name in real_mf.index]
    return real_mf, real_scores, np.ones_like(real_scores)


def with_real_runs(mf: pd.DataFrame, configs: list[dict[str, Any]], scores: np.ndarray,
                   times: np.ndarray, runs: pd.DataFrame
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The lcbench training data with the real runs' rows (:func:`real_runs_data`)
    appended."""
    real_mf, real_scores, real_costs = real_runs_data(runs, configs)
    return (pd.concat([mf, real_mf]), np.vstack([scores, real_scores]),
            np.vstack([times, real_costs]))


def random_beaten_by(values: np.ndarray, k: int) -> float:
    """Expected share of ``values`` beating random search's best of ``k`` of them
    (drawn without replacement), exactly."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    # P(the j-th smallest is the maximum) = C(j-1, k-1) / C(n, k), j = k..n
    j = np.arange(k, n + 1)
    p = np.exp(gammaln(j) - gammaln(k) - gammaln(j - k + 1)
               - (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)))
    beaten = np.array([np.mean(v > x) for x in v[k - 1:]])
    return float(np.sum(p * beaten))


def select_training(mf: pd.DataFrame, configs: list[dict[str, Any]], scores: np.ndarray,
                    times: np.ndarray, runs: pd.DataFrame | None, settings: dict[str, Any],
                    temperatures: Sequence[float] = (1.0, 0.5, 0.25, 0.1),
                    n_folds: int = 3, n_repeats: int = 10, seed: int = 0) -> pd.DataFrame:
    """Cross-validation of the training data (lcbench alone, or with the real runs) and
    of the sampling (hedge, temperature).

    The lcbench train instances and the real-run datasets are each split into
    ``n_folds`` folds; fold ``f`` of both is held out together. Hedged priors are fitted
    on the other folds of the lcbench data alone and of both; every setting takes 5
    draws (``n_repeats`` seeds) among the configurations a held-out dataset has scores
    for (``sample(candidates=...)``; the unhedged setting switches the unconditional
    part off). ``beaten_by``: the share of those configurations that beat the best draw
    (lower is better), averaged per source; ``mean`` averages the sources and selects.
    Random search's expected best of 5 and of 20 come last.
    """
    sources = {"lcbench": (mf, scores, times)}
    if runs is not None:
        sources["real runs"] = real_runs_data(runs, configs)
    rng = np.random.default_rng(seed)
    folds = {name: np.array_split(rng.permutation(len(part[0])), n_folds)
             for name, part in sources.items()}
    # per dataset, once: the configurations it has scores for, and each one's place
    # among them by fingerprint (sample() returns copies of the candidates)
    evaluated = {name: [np.flatnonzero(np.isfinite(row)) for row in part[1]]
                 for name, part in sources.items()}
    position = {name: [{config_sha(configs[j]): k for k, j in enumerate(idx)} for idx in per_row]
                for name, per_row in evaluated.items()}
    rows = []
    for f in range(n_folds):
        train = {name: (part[0].drop(part[0].index[folds[name][f]]),
                        *(np.delete(x, folds[name][f], axis=0) for x in part[1:]))
                 for name, part in sources.items()}
        options = {"lcbench": ["lcbench"]}
        if runs is not None:
            options["lcbench + real runs"] = ["lcbench", "real runs"]
        for data, parts in options.items():
            fit_mf = pd.concat([train[p][0] for p in parts])
            fit_scores = np.vstack([train[p][1] for p in parts])
            fit_times = np.vstack([train[p][2] for p in parts])
            prior = ArchitecturePrior(**{**settings, "hedge": True}).fit(
                fit_mf, configs, fit_scores, costs=fit_times)
            for source, (src_mf, src_scores, _) in sources.items():
                for i in folds[source][f]:
                    idx = evaluated[source][i]
                    values = src_scores[i, idx]
                    candidates = [configs[j] for j in idx]
                    for hedge, variant in ((True, prior), (False, unhedged(prior))):
                        for t in temperatures:
                            for r in range(n_repeats):
                                picks = variant.sample(src_mf.iloc[i], 5, seed=r,
                                                       temperature=t, native=True,
                                                       candidates=candidates)
                                best = max(values[position[source][i][config_sha(c)]]
                                           for c in picks)
                                rows.append({"data": data, "hedge": hedge, "temperature": t,
                                             "source": source,
                                             "beaten_by": float(np.mean(values > best))})
    table = (pd.DataFrame(rows).groupby(["data", "hedge", "temperature", "source"])
             ["beaten_by"].mean().unstack("source"))
    for k in (5, 20):
        table.loc[(f"random, best of {k}", "-", "-"), :] = np.nan
        for source, (_, src_scores, _) in sources.items():
            table.loc[(f"random, best of {k}", "-", "-"), source] = np.mean(
                [random_beaten_by(v[np.isfinite(v)], k) for v in src_scores])
    table["mean"] = table[list(sources)].mean(axis=1)
    return table


def unhedged(prior: ArchitecturePrior) -> ArchitecturePrior:
    """The same prior without its unconditional part (the dataset's prior alone)."""
    plain = copy.copy(prior)
    plain.hedge, plain.flat_members_ = False, []
    return plain


def write_card(out: Path, prior: ArchitecturePrior, table: pd.DataFrame,
               ablations: dict[str, pd.DataFrame], selection: pd.DataFrame,
               seconds: float, command: str) -> None:
    """CARD.md: data, training, validation figures and the command that made the prior."""
    tasks = lcbench_tasks("train")
    t = prior.training_
    lcbench = [i for i in t["datasets"] if i in tasks.index]
    real = t.get("real_runs")
    lines = [
        "# Model card: `metaopt.nas.ArchitecturePrior` (shipped default)",
        "",
        "A distribution over MLP configurations given a dataset's size (`n_instances`, "
        "`n_features`, `n_classes`), meta-learned from the YAHPO Gym `lcbench` surrogate "
        "(LCBench: Auto-PyTorch MLPs trained 50 epochs with SGD + momentum on OpenML tasks)"
        + (" and from real training runs of its draws by metaopt's MLP trainer" if real
           else "") + ".",
        "",
        "## Training data",
        f"- {len(lcbench)} lcbench **train** instances of `splits.json` (valid and "
        "reserved instances never seen): "
        + ", ".join(f"{i} ({tasks.loc[i, 'name']})" for i in lcbench) + ".",
        f"- {t['n_configs']} configurations drawn at random (seed {t.get('seed')}) from the "
        f"lcbench space, scored by the surrogate's `{TARGET}` at the full fidelity "
        "(epoch 52).",
        "- Meta-features: OpenML sizes from `lcbench_tasks.json` beside this card "
        "(provenance per task there: TabRepo metadata, pmlb copies, or hand-entered "
        "from OpenML).",
        *([] if not real else [
            f"- Real training runs (`{real['file']}` beside this card, {real['runs']} runs): "
            f"the first configurations of the same draws, translated to the `mlp` space "
            "(`to_mlp_params`) and trained by metaopt's MLP trainer (AdamW, at most 20 "
            "epochs, early stopping after 5) on one stratified 75/25 hold-out split of "
            "at most 1000 rows of each of "
            f"{len(real['datasets'])} pmlb datasets (knowledge-base classification "
            "datasets, pmlb copies of lcbench train tasks and pmlb datasets no benchmark "
            "uses; `REAL_RUN_DATASETS` of `metaopt.nas._real_runs`): "
            + ", ".join(real["datasets"]) + ". Score: best hold-out accuracy (no cost "
            "term: seconds are recorded, not used). Meta-features of these rows: the "
            "encoded table's size."]),
        "",
        "## Training",
        f"- {prior.n_members} scoring MLPs {list(prior.hidden)}, {prior.iterations} AdamW "
        f"steps each (lr {prior.lr}, cosine), listwise loss: softmax of the score over "
        f"{prior.batch_configs} random configurations per dataset vs "
        f"exp(-regret quantile / {prior.target_temperature} - {prior.cost_weight} x "
        "standardised log surrogate training time; none for the real runs) (the "
        "cost term makes it prefer the "
        "cheaper of equally good configurations).",
        f"- Final listwise losses: {[round(v, 3) for v in t['final_listwise_loss']]}"
        + (f"; unconditional (hedge) networks, the same training with every dataset's "
           f"meta-features at their mean: "
           f"{[round(v, 3) for v in t['final_listwise_loss_unconditional']]}"
           if prior.hedge else "") + ".",
        f"- Training data ({'lcbench and the real runs' if real else 'lcbench alone'}) "
        f"and sampling (temperature {prior.temperature}, hedge {prior.hedge}"
        + (": draws alternate between the dataset's prior and the unconditional one"
           if prior.hedge else "") + ") chosen by cross-validation, below.",
        f"- Took {seconds:.0f} s on {describe_machine(training_machine())}, metaopt "
        f"{__version__}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "## Selection (3-fold cross-validation over the training datasets)",
        "The lcbench train instances and the real-run datasets are each split into 3 "
        "folds, held out together; hedged priors are fitted on the other folds of the "
        "lcbench data alone and of both. Each setting draws 5 configurations (10 seeds) "
        "among those a held-out dataset has scores for (4000 on lcbench, 200 for a real "
        "run); the figure is the share of them that beat the best draw (lower is better), "
        "averaged per source; `mean` averages the sources and selects. The last rows are "
        "random search's best of 5 and of 20 among the same configurations.",
        "",
        markdown_table(selection, ".4f"),
        "",
        "## Validation (lcbench **valid** instances, surrogate `val_accuracy`, %)",
        "`spearman`: rank correlation of the prior's score with the surrogate on 2000 random "
        "configurations; `*_best_of_5`: mean over 20 seeds of the best of 5 prior samples "
        f"(T = {prior.temperature}, hedge {prior.hedge}) or 5 random configurations; "
        "`prior_top1`: the prior's most likely "
        "configuration, `top1_quantile`: share of the 2000 random configurations that beat it; "
        "`time_ratio`: mean surrogate training time of the prior's samples / that of random "
        "configurations.",
        "",
        markdown_table(table, ".3f"),
        "",
        *[line for title, frame in ablations.items()
          for line in (f"Ablation, {title}:", "", markdown_table(frame, ".3f"), "")],
        "## Limits",
        "- Conditioned on dataset size only; trained on classification; a regression "
        "dataset is read as one-output (extrapolation).",
        "- Its native space is LCBench's (SGD + momentum, funnel-shaped MLPs); samples are "
        "translated to the `mlp` space (AdamW, constant width) by "
        "`metaopt.nas.to_mlp_params`, a heuristic mapping (its learning-rate factor was "
        "chosen by real training on pmlb copies of lcbench train datasets). Real-data "
        "results of the translated configurations: `docs/nas.md` / "
        "`benchmarks/nas_prior.py`.",
        "",
        "## Reproduce",
        f"`{command}`",
        "",
    ]
    (out / "CARD.md").write_text("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m metaopt.nas._build_prior",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--yahpo", metavar="DIR", required=True,
                        help="YAHPO data directory")
    parser.add_argument("--out", metavar="DIR", required=True,
                        help="directory to write the prior to")
    parser.add_argument("--n-configs", metavar="N", type=int, default=4000,
                        help="lcbench configurations drawn for training (default 4000)")
    parser.add_argument("--iterations", metavar="N", type=int, default=800,
                        help="training iterations of each network (default 800)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the draws and the training (default 0)")
    parser.add_argument("--cost-weight", metavar="W", type=float, default=1.0,
                        help="weight of the surrogate's training time in the target "
                        "(default 1)")
    parser.add_argument("--threads", metavar="N", type=int, default=1,
                        help="torch CPU threads (default 1)")
    parser.add_argument("--real-runs", metavar="CSV",
                        help="CSV of real training runs of the same draws "
                        "(python -m metaopt.nas._real_runs): used when cross-validation "
                        "over its datasets shows they help, and then to choose the sampling")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    try:  # a user error in one line, before the training where it can be told
        runs = read_runs(args.real_runs) if args.real_runs else None
        mf, configs, scores, times = training_data(args.yahpo, n_configs=args.n_configs,
                                                   seed=args.seed)
    except (ValueError, OSError) as error:
        parser.error(str(error))
    info = {"source": "YAHPO Gym lcbench surrogate (train split)", "target": TARGET,
            "cost": "time", "seed": args.seed}
    settings = dict(iterations=args.iterations, cost_weight=args.cost_weight,
                    random_state=args.seed)
    selection = select_training(mf, configs, scores, times, runs, settings)
    print("training data and sampling (3-fold cross-validation):")
    print(selection.round(4))
    data, hedge, temperature = selection.iloc[:-2]["mean"].idxmin()
    if data != "lcbench":
        assert runs is not None  # select_training tries them when given only
        mf, scores, times = with_real_runs(mf, configs, scores, times, runs)
        info["real_runs"] = {"file": Path(args.real_runs).name,
                             "datasets": sorted(runs["dataset"].unique()), "runs": len(runs)}
    prior = ArchitecturePrior(**settings, hedge=bool(hedge), temperature=float(temperature)
                              ).fit(mf, configs, scores, costs=times, info=info)
    seconds = time.perf_counter() - start
    table = validate(prior, args.yahpo)
    flat = pd.DataFrame([mf.mean()] * len(mf), index=mf.index)
    ablations = {"the same training without meta-features (every dataset gets the same "
                 "features, so the prior is one distribution for all)": validate(
                     ArchitecturePrior(**settings, hedge=False, temperature=prior.temperature
                                       ).fit(flat, configs, scores, costs=times), args.yahpo)}
    if prior.hedge:
        ablations["the dataset's prior alone (no hedge)"] = validate(unhedged(prior),
                                                                     args.yahpo)
    out = Path(args.out)
    prior.save(out)
    command = ("python -m metaopt.nas._build_prior --yahpo <shared>/data/yahpo --out "
               f"metaopt/_models/nas_prior --n-configs {args.n_configs} --iterations "
               f"{args.iterations} --seed {args.seed} --cost-weight {args.cost_weight}"
               + (f" --real-runs metaopt/_models/nas_prior/{Path(args.real_runs).name}"
                  if args.real_runs else ""))
    write_card(out, prior, table, ablations, selection, seconds, command)
    pd.set_option("display.width", 200)
    print(table.round(3))
    for title, frame in ablations.items():
        print(f"{title}:")
        print(frame.round(3))


if __name__ == "__main__":
    main()
