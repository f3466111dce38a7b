"""Train, validate and write the shipped architecture prior from the YAHPO lcbench surrogate.

Run ``python -m metaopt.nas._build_prior --yahpo <data>/yahpo --out metaopt/_models/nas_prior``.
Meta-training uses only the ``train`` instances of ``splits.json``; the validation
figures of the card come from its ``valid`` instances.
"""

from __future__ import annotations

import argparse
import copy
import platform
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from metaopt._markdown import markdown_table
from metaopt._version import __version__
from metaopt.nas._lcbench import LCBENCH_SPACE, lcbench_tasks, task_metafeatures
from metaopt.nas._prior import ArchitecturePrior, random_configs

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


def select_sampling(mf: pd.DataFrame, configs: list[dict[str, Any]], scores: np.ndarray,
                    times: np.ndarray, settings: dict[str, Any], yahpo_path: str | Path,
                    temperatures: Sequence[float] = (2.0, 1.0, 0.5, 0.25, 0.1),
                    n_repeats: int = 5, seed: int = 0) -> pd.DataFrame:
    """2-fold cross-validation over the ``train`` instances of the sampling temperature,
    with and without the hedge (the unconditional half of the mixture).

    A hedged prior is fitted on each half; on every instance of the other half, 5 draws
    per setting are scored by the surrogate (the unhedged setting is the same prior
    with its unconditional part switched off). The figure is the share of the 4000
    random training configurations that beat the best of the 5 (lower is better),
    averaged; the table is indexed by (hedge, temperature).
    """
    from metaopt.kb import YahpoBenchmark

    bench = YahpoBenchmark("lcbench", yahpo_path, split="train")
    order = np.random.default_rng(seed).permutation(len(mf))
    rows = []
    for half in (order[: len(order) // 2], order[len(order) // 2:]):
        rest = np.setdiff1d(order, half)
        hedged = ArchitecturePrior(**{**settings, "hedge": True}).fit(
            mf.iloc[rest], configs, scores[rest], costs=times[rest])
        for hedge, prior in ((True, hedged), (False, unhedged(hedged))):
            for i in half:
                inst = str(mf.index[i])
                for t in temperatures:
                    for r in range(n_repeats):
                        picks = prior.sample(mf.iloc[i], 5, seed=r, temperature=t, native=True)
                        best = bench.evaluate(picks, inst)[TARGET].max()
                        rows.append({"hedge": hedge, "temperature": t, "instance": inst,
                                     "beaten_by": float(np.nanmean(scores[i] > best))})
    return pd.DataFrame(rows).groupby(["hedge", "temperature"])["beaten_by"].mean().to_frame()


def unhedged(prior: ArchitecturePrior) -> ArchitecturePrior:
    """The same prior without its unconditional part (the dataset's prior alone)."""
    plain = copy.copy(prior)
    plain.hedge, plain.flat_members_ = False, []
    return plain


def write_card(out: Path, prior: ArchitecturePrior, table: pd.DataFrame,
               ablations: dict[str, pd.DataFrame], seconds: float, command: str) -> None:
    """CARD.md: data, training, validation figures and the command that made the prior."""
    tasks = lcbench_tasks("train")
    t = prior.training_
    lines = [
        "# Model card: `metaopt.nas.ArchitecturePrior` (shipped default)",
        "",
        "A distribution over MLP configurations given a dataset's size (`n_instances`, "
        "`n_features`, `n_classes`), meta-learned from the YAHPO Gym `lcbench` surrogate "
        "(LCBench: Auto-PyTorch MLPs trained 50 epochs with SGD + momentum on OpenML tasks).",
        "",
        "## Training data",
        f"- {t['n_datasets']} lcbench **train** instances of `splits.json` (valid and "
        "reserved instances never seen): "
        + ", ".join(f"{i} ({tasks.loc[i, 'name']})" for i in t["datasets"]) + ".",
        f"- {t['n_configs']} configurations drawn at random (seed {t.get('seed')}) from the "
        f"lcbench space, scored by the surrogate's `{TARGET}` at the full fidelity "
        "(epoch 52).",
        "- Meta-features: OpenML sizes from `lcbench_tasks.json` beside this card "
        "(provenance per task there: TabRepo metadata, pmlb copies, or hand-entered "
        "from OpenML).",
        "",
        "## Training",
        f"- {prior.n_members} scoring MLPs {list(prior.hidden)}, {prior.iterations} AdamW "
        f"steps each (lr {prior.lr}, cosine), listwise loss: softmax of the score over "
        f"{prior.batch_configs} random configurations per dataset vs "
        f"exp(-regret quantile / {prior.target_temperature} - {prior.cost_weight} x "
        "standardised log surrogate training time) (the cost term makes it prefer the "
        "cheaper of equally good configurations).",
        f"- Final listwise losses: {[round(v, 3) for v in t['final_listwise_loss']]}"
        + (f"; unconditional (hedge) networks, the same training with every dataset's "
           f"meta-features at their mean: "
           f"{[round(v, 3) for v in t['final_listwise_loss_unconditional']]}"
           if prior.hedge else "") + ".",
        f"- Sampling: temperature {prior.temperature}, hedge {prior.hedge} (draws alternate "
        "between the dataset's prior and the unconditional one), chosen by 2-fold "
        "cross-validation over the train instances (a prior fitted on one half, 5 draws on "
        "each instance of the other half; share of 4000 random configurations beating the "
        f"best draw, lower is better; (hedge, temperature): figure): "
        f"{t.get('sampling_selection')}.",
        f"- Took {seconds:.0f} s on {platform.platform()} (Python "
        f"{platform.python_version()}), metaopt {__version__}, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--yahpo", required=True, help="YAHPO data directory")
    parser.add_argument("--out", required=True, help="directory to write the prior to")
    parser.add_argument("--n-configs", type=int, default=4000)
    parser.add_argument("--iterations", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cost-weight", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    mf, configs, scores, times = training_data(args.yahpo, n_configs=args.n_configs,
                                               seed=args.seed)
    info = {"source": "YAHPO Gym lcbench surrogate (train split)", "target": TARGET,
            "cost": "time", "seed": args.seed}
    settings = dict(iterations=args.iterations, cost_weight=args.cost_weight,
                    random_state=args.seed)
    selection = select_sampling(mf, configs, scores, times, settings, args.yahpo)
    hedge, temperature = selection["beaten_by"].idxmin()
    info["sampling_selection"] = {f"({h}, {t})": v for (h, t), v in
                                  selection["beaten_by"].round(4).items()}
    prior = ArchitecturePrior(**settings, hedge=bool(hedge), temperature=float(temperature)
                              ).fit(mf, configs, scores, costs=times, info=info)
    seconds = time.perf_counter() - start
    print("sampling selection (2-fold over train instances):")
    print(selection.round(4))
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
               f"{args.iterations} --seed {args.seed} --cost-weight {args.cost_weight}")
    write_card(out, prior, table, ablations, seconds, command)
    pd.set_option("display.width", 200)
    print(table.round(3))
    for title, frame in ablations.items():
        print(f"{title}:")
        print(frame.round(3))


if __name__ == "__main__":
    main()
