"""Time metaopt's meta-features against pymfe on PMLB datasets, on one CPU core.

Times are CPU seconds of the process (``time.process_time``), with every BLAS/OpenMP
pool limited to one thread and the process pinned to one core, so that other work on a
shared machine does not inflate them. For each dataset it prints the seconds taken by
``metaopt.metafeatures.compute`` (best of ``--repeats``) and by pymfe extracting the
closest equivalent features (general, statistical, information theory, landmarking
with 3 folds) on the full data and on the same <= 2000-row subsample that metaopt
uses. pymfe runs in a child process that is stopped after ``--pymfe-timeout`` seconds
of wall-clock time. The last rows time a synthetic 100,000 x 100 dataset.

Usage::

    python benchmarks/metafeatures.py [--root ../shared/data/pmlb] [--pymfe-timeout 120]
"""

from __future__ import annotations

import os

# one core: set before numpy/scipy load their thread pools
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import multiprocessing as mp  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import SHARED_DATA, run_main  # noqa: E402  (benchmarks/_common.py, beside this script)

from metaopt import metafeatures  # noqa: E402
from metaopt.data import from_arrays  # noqa: E402

DATASETS = (
    "hepatitis",
    "vote",
    "yeast",
    "mfeat_pixel",
    "dna",
    "satimage",
    "pendigits",
    "magic",
    "adult",
    "fars",
)
PYMFE_FEATURES = (
    # general                  statistical                      info-theory / landmarking
    "nr_inst", "nr_attr", "attr_to_inst", "nr_class", "freq_class", "nr_cat", "nr_num",
    "skewness", "kurtosis", "cor", "eigenvalues",
    "class_ent", "attr_ent", "mut_inf",
    "one_nn", "best_node", "naive_bayes", "linear_discr",
)  # fmt: skip


def _pymfe_child(X: np.ndarray, y: np.ndarray, queue) -> None:
    from pymfe.mfe import MFE

    warnings.filterwarnings("ignore")
    start = time.process_time()
    mfe = MFE(
        groups=["general", "statistical", "info-theory", "landmarking"],
        features=list(PYMFE_FEATURES),
        summary=["mean", "sd"],
        num_cv_folds=3,
        random_state=0,
    )
    mfe.fit(X, y, suppress_warnings=True)
    mfe.extract(suppress_warnings=True)
    queue.put(time.process_time() - start)


def time_pymfe(X: np.ndarray, y: np.ndarray, timeout: float) -> float:
    """CPU seconds pymfe takes, or inf when it runs longer than ``timeout`` (wall clock)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_pymfe_child, args=(X, y, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return float("inf")
    return queue.get() if proc.exitcode == 0 else float("nan")


def time_ours(X, y, task: str, repeats: int) -> float:
    """Best of ``repeats`` CPU seconds of ``metafeatures.compute`` (input checks included)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        metafeatures.compute(X, y, task, random_state=0)
        times.append(time.process_time() - start)
    return min(times)


def _fmt(seconds: float, timeout: float) -> str:
    if seconds == float("inf"):
        return f">{timeout:.0f}"
    return "failed" if np.isnan(seconds) else f"{seconds:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DATA / "pmlb")
    parser.add_argument("--pymfe-timeout", type=float, default=120.0)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours; the best is shown")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    # warm up imports and caches so the first row is not charged for them
    metafeatures.compute(np.random.default_rng(0).normal(size=(50, 3)), np.arange(50) % 2)
    header = f"{'dataset':<14}{'rows':>8}{'cols':>6}{'ours s':>9}{'pymfe s':>10}{'pymfe 2k s':>12}"
    print(header)
    print("-" * len(header))
    for name in args.datasets:
        frame = pd.read_csv(args.root / name / f"{name}.tsv.gz", sep="\t")
        ds = from_arrays(frame.drop(columns="target"), frame["target"], name=name)
        ours = time_ours(ds.X, ds.y, ds.task, args.repeats)
        X, y = ds.X.to_numpy(dtype=float), ds.y.to_numpy()
        full = time_pymfe(X, y, args.pymfe_timeout)
        small = ds.subsample(2000, random_state=0)
        sub = time_pymfe(small.X.to_numpy(dtype=float), small.y.to_numpy(), args.pymfe_timeout)
        print(
            f"{name:<14}{ds.n_samples:>8}{ds.n_features:>6}{ours:>9.2f}"
            f"{_fmt(full, args.pymfe_timeout):>10}{_fmt(sub, args.pymfe_timeout):>12}"
        )

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 100))
    y_reg = X[:, :5].sum(axis=1) + rng.normal(size=len(X))
    y_clf = (y_reg > 0).astype(int)
    ours = time_ours(X, y_clf, "classification", args.repeats)
    full = _fmt(time_pymfe(X, y_clf, args.pymfe_timeout), args.pymfe_timeout)
    print(f"{'synthetic-clf':<14}{len(X):>8}{X.shape[1]:>6}{ours:>9.2f}{full:>10}")
    ours = time_ours(X, y_reg, "regression", args.repeats)
    print(f"{'synthetic-reg':<14}{len(X):>8}{X.shape[1]:>6}{ours:>9.2f}{'n/a':>10}")
    print("pymfe has no regression task (it treats any target as class labels): n/a.")


if __name__ == "__main__":
    run_main(main)
