"""How much the meta-features, and what they decide, depend on the order of the rows.

For each PMLB dataset, the meta-features (``metaopt.metafeatures.compute``,
``random_state=0``) of the table in its file's order are compared with those of
``--permutations`` random row orders, and, for scale, with those of the file's order under
``--seeds`` other ``random_state`` values. Per feature group it prints the largest
relative change ``|new - file| / |file|`` (``inf``: a feature that is 0 in the file's order
moved; ``-``: none moved). Downstream, per dataset, it counts the orders (of
``--permutations``) that change

- ``nbrs``: the 3 nearest known datasets of ``metaopt.suggest(X, y, space=..., n=5)``
  (``.attrs["neighbors"]``, as a set);
- ``picks``: that call's 5 configurations;
- ``rank1``: the configuration the space's ranker scores best among the meta-model's
  candidates with no trial observed (what the meta-features decide in ``MetaSampler``
  once the warm start is used up); ``top5`` is the smallest overlap of its 5 best with
  those of the file's order.

Usage::

    python benchmarks/metafeatures_row_order.py [--root ../shared/data/pmlb] [--space all]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import SHARED_DATA, run_main, single_threaded  # noqa: E402

import metaopt  # noqa: E402
from metaopt import metafeatures  # noqa: E402
from metaopt.data import LocalSource  # noqa: E402
from metaopt.ranker import load_meta_model  # noqa: E402

DATASETS = (
    # classification, 155 to 48,842 rows
    "hepatitis", "vote", "wdbc", "credit_g", "yeast", "mfeat_pixel", "dna", "churn",
    "satimage", "pendigits", "magic", "adult",
    # regression, 159 to 40,768 rows
    "195_auto_price", "560_bodyfat", "1027_ESL", "1028_SWD", "197_cpu_act", "201_pol",
    "537_houses", "564_fried",
)  # fmt: skip
GROUPS = {
    "simple": metafeatures.SIMPLE_FEATURES,
    "stat": metafeatures._STATISTICAL_FEATURES,
    "info": metafeatures._INFO_FEATURES,
    "landmark": metafeatures._LANDMARK_FEATURES,
}
MAX_ROWS = 2000  # compute's default


def describe(X: pd.DataFrame, y: pd.Series, task: str, space: str, seed: int) -> dict:
    """Meta-features, nearest known datasets, picks and the ranker's top 5 of one table."""
    mf = metafeatures.compute(X, y, task, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # id-like columns: they stay, as given
        picks = metaopt.suggest(X, y, space=space, n=5, task=task, random_state=seed)
    model = load_meta_model(space, task)
    ranked = model.ranker.rank(mf, [], model.candidates(task, seed=0))
    return {
        "mf": mf,
        "nbrs": frozenset(picks.attrs["neighbors"]),
        "picks": tuple(picks["config_id"]),
        "top5": list(ranked["candidate"][:5]),
    }


def relative_change(base: pd.Series, other: pd.Series) -> pd.Series:
    """``|other - base| / |base|``: 0 where equal, inf where only ``base`` is 0."""
    diff = (other - base).abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (diff / base.abs()).where(diff > 0, 0.0)


def compare(base: dict, others: list[dict]) -> dict:
    """Per group the largest relative change, and how many of ``others`` change each
    downstream choice."""
    rel = pd.concat([relative_change(base["mf"], o["mf"]) for o in others], axis=1).max(axis=1)
    row = {group: rel[list(names)].max() for group, names in GROUPS.items()}
    row["nbrs"] = sum(o["nbrs"] != base["nbrs"] for o in others)
    row["picks"] = sum(o["picks"] != base["picks"] for o in others)
    row["rank1"] = sum(o["top5"][0] != base["top5"][0] for o in others)
    row["top5"] = min(len(set(o["top5"]) & set(base["top5"])) for o in others)
    return row


def _fmt(value: float) -> str:
    return "-" if value == 0 else f"{value:.2g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DATA / "pmlb")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--space", default="all", help="the shipped meta-model suggested from")
    parser.add_argument("--permutations", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5,
                        help="other random_state values on the file's order (0: none)")
    args = parser.parse_args(argv)
    single_threaded(1)
    source = LocalSource(args.root)
    rng = np.random.default_rng(0)
    header = (f"{'dataset':<16}{'rows':>7} {'varied':<6}{'simple':>8}{'stat':>8}{'info':>8}"
              f"{'landmark':>9}{'nbrs':>5}{'picks':>6}{'rank1':>6}{'top5':>5}")
    print(f"relative change vs the file's order; nbrs/picks/rank1: orders (of n) that change "
          f"it; top5: smallest overlap; space={args.space}, max_rows={MAX_ROWS}")
    print(header)
    print("-" * len(header))
    for name in args.datasets:
        ds = source.load(name)
        X, y = ds.X.reset_index(drop=True), ds.y.reset_index(drop=True)
        base = describe(X, y, ds.task, args.space, 0)
        variants = {"order": [], "seed": []}
        for _ in range(args.permutations):
            perm = rng.permutation(len(y))
            variants["order"].append(describe(X.iloc[perm].reset_index(drop=True),
                                              y.iloc[perm].reset_index(drop=True),
                                              ds.task, args.space, 0))
        for seed in range(1, args.seeds + 1):
            variants["seed"].append(describe(X, y, ds.task, args.space, seed))
        for label, others in variants.items():
            if not others:
                continue
            row = compare(base, others)
            n = len(others)
            print(f"{name[:16]:<16}{len(y):>7} {label:<6}"
                  + "".join(f"{_fmt(row[g]):>{w}}" for g, w in
                            zip(GROUPS, (8, 8, 8, 9), strict=True))
                  + f"{row['nbrs']:>3}/{n}{row['picks']:>4}/{n}{row['rank1']:>4}/{n}"
                  f"{row['top5']:>5}", flush=True)


if __name__ == "__main__":
    run_main(main)
