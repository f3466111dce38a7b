"""Knowledge base throughput: evaluations/second (1 and 2 workers) and storage cost.

Storage: the same evaluation records written one transaction each (what the runner
does) into (a) metaopt's table with a UNIQUE key and (b) Optuna's RDB storage, one
study per dataset x space, trial = configuration, metadata in user attributes; then
read back as a frame. Both on SQLite files.

    python benchmarks/kb_throughput.py [--n-store 300] [--n-datasets 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna

from metaopt.data import from_arrays
from metaopt.kb import KnowledgeBase, build


def _records(n: int):
    return [
        {
            "dataset_key": f"d/{i % 10}",
            "space": "svm",
            "config_id": f"c{i}",
            "seed": 0,
            "config": {"C": float(i), "kernel": "rbf"},
            "status": "ok",
            "origin": "metaopt",
            "cv_score": 0.5,
            "fit_time": 0.1,
            "task": "classification",
            "versions": {"numpy": np.__version__},
        }
        for i in range(n)
    ]


def bench_metaopt_store(path: Path, records) -> tuple[float, float]:
    kb = KnowledgeBase(path)
    t0 = time.perf_counter()
    for r in records:
        kb.add_evaluation(r)
    write = (time.perf_counter() - t0) / len(records)
    t0 = time.perf_counter()
    assert len(kb.to_frame()) == len(records)
    return write, (time.perf_counter() - t0) / len(records)


def bench_optuna_storage(path: Path, records) -> tuple[float, float]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    dists = {
        "C": optuna.distributions.FloatDistribution(0, 1e6),
        "kernel": optuna.distributions.CategoricalDistribution(["rbf"]),
    }
    studies = {}
    t0 = time.perf_counter()
    for r in records:
        name = f"{r['dataset_key']}::{r['space']}"
        if name not in studies:
            studies[name] = optuna.create_study(
                storage=storage, study_name=name, direction="maximize", load_if_exists=True
            )
        studies[name].add_trial(
            optuna.trial.create_trial(
                params=r["config"],
                distributions=dists,
                value=r["cv_score"],
                user_attrs={
                    k: r[k] for k in ("config_id", "seed", "status", "fit_time", "versions")
                },
            )
        )
    write = (time.perf_counter() - t0) / len(records)
    t0 = time.perf_counter()
    n = sum(
        len(s.trials_dataframe())
        for s in (
            optuna.load_study(study_name=s.study_name, storage=storage)
            for s in storage.get_all_studies()
        )
    )
    assert n == len(records)
    return write, (time.perf_counter() - t0) / len(records)


def bench_build(n_jobs: int, n_datasets: int, tmp: Path) -> float:
    rng = np.random.default_rng(0)
    suite = []
    for i in range(n_datasets):
        X = rng.normal(size=(300, 8))
        suite.append(
            from_arrays(X, (X[:, 0] + rng.normal(size=300) > 0).astype(int), name=f"synthetic-{i}")
        )
    report = build(
        suite,
        tmp / f"build-{n_jobs}.sqlite",
        spaces="knn,linear",
        n_configs=8,
        cv_folds=3,
        n_jobs=n_jobs,
        progress=False,
        time_limit=60,
    )
    return report.n_new / report.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-store", type=int, default=300)
    parser.add_argument("--n-datasets", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        records = _records(args.n_store)
        mw, mr = bench_metaopt_store(tmp / "kb.sqlite", records)
        ow, orr = bench_optuna_storage(tmp / "optuna.sqlite", records)
        print(f"storage, {args.n_store} evaluations, one transaction each (SQLite file):")
        print(
            f"  metaopt table (UNIQUE key): write {mw * 1e3:7.2f} ms/eval, "
            f"read {mr * 1e6:7.1f} us/eval, exactly-once: yes (insert ignored on conflict)"
        )
        print(
            f"  Optuna RDB storage:         write {ow * 1e3:7.2f} ms/eval, "
            f"read {orr * 1e6:7.1f} us/eval, exactly-once: no unique key on user attrs"
        )
        for n_jobs in (1, 2):
            rate = bench_build(n_jobs, args.n_datasets, tmp)
            print(
                f"build, knn+linear on {args.n_datasets} synthetic 300x8 datasets, 3-fold CV, "
                f"n_jobs={n_jobs}: {rate:6.2f} evaluations/s "
                f"(storage share {mw * rate * 100:.1f}% of the time)"
            )


if __name__ == "__main__":
    main()
