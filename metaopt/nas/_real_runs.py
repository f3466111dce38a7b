"""Real training runs of LCBench-space configurations on local datasets: the
architecture prior's second source of training data, next to the lcbench surrogate.

Each configuration is translated to the ``mlp`` space (:func:`to_mlp_params`) and
trained by :class:`~metaopt.nas._search.FoldTrainer` (AdamW, early stopping) on one
stratified 75/25 hold-out split of the dataset (at most ``max_rows`` rows); the score is
the best hold-out accuracy. The CSV is rewritten (a temporary file renamed over it) after
each dataset, so an interrupted build keeps every finished dataset and resumes where it
stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedShuffleSplit

from metaopt._model_files import write_files
from metaopt._progress import progress_bar
from metaopt.data import LocalSource
from metaopt.nas._lcbench import LCBENCH_SPACE, to_mlp_params
from metaopt.nas._prior import random_configs
from metaopt.nas._search import FoldTrainer

#: The default knowledge base's pmlb classification datasets with at least 150 rows
#: (smaller hold-out splits rank configurations mostly by noise), without
#: ``prnn_fglass`` (the same table as ``glass``), then the pmlb copies of lcbench
#: ``train`` tasks (mid-sized tables the knowledge base lacks), then, in name order,
#: the other pmlb classification datasets with at least 150 rows that no shipped
#: meta-model was trained on and neither ``benchmarks/nas_prior.py`` nor
#: ``benchmarks/estimator_vs_peers.py`` (its 20 and its 10 development ones) uses,
#: except ``shuttle`` (an lcbench task outside its train and valid splits, so possibly a
#: reserved one) and the three largest (``fars``, ``kddcup``, ``sleep``: over 100,000
#: rows to load for 1000). None of them is a dataset of ``benchmarks/nas_prior.py`` or
#: an lcbench ``valid`` task.
REAL_RUN_DATASETS: tuple[str, ...] = (
    "tae", "hayes_roth", "corral", "glass2", "prnn_crabs", "glass", "biomed",
    "new_thyroid", "prnn_synth", "analcatdata_lawsuit", "cleveland_nominal", "haberman",
    "ecoli", "analcatdata_germangss", "Hill_Valley_with_noise", "Hill_Valley_without_noise",
    "GAMETES_Epistasis_3_Way_20atts_0.2H_EDM_1_1", "GAMETES_Epistasis_2_Way_20atts_0.4H_EDM_1_1",
    "GAMETES_Heterogeneity_20atts_1600_Het_0.4_0.2_50_EDM_2_001",
    "GAMETES_Heterogeneity_20atts_1600_Het_0.4_0.2_75_EDM_2_001",
    "allhypo", "allhyper", "allrep", "allbp", "agaricus_lepiota", "adult",
    "australian", "vehicle", "credit_g", "mfeat_factors", "segmentation", "phoneme",
    "analcatdata_authorship", "auto", "backache", "breast_cancer", "cars1", "churn",
    "clean1", "clean2", "cleve", "cleveland", "dis", "dna", "flags", "heart_c", "heart_h",
    "heart_statlog", "hepatitis", "hypothyroid", "irish", "led24", "magic", "mfeat_fourier",
    "mfeat_pixel", "monk1", "monk2", "monk3", "nursery", "optdigits", "pendigits", "profb",
    "ring", "saheart", "satimage", "schizo", "solar_flare_1", "spambase", "spect", "splice",
    "texture", "threeOf9", "waveform_21", "waveform_40", "wine_recognition")
RUN_COLUMNS = ("dataset", "config_index", "config_sha", "score", "seconds", "n_instances",
               "n_features", "n_classes")


def load_table(root: str | Path, name: str, max_rows: int, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """A local classification dataset as a one-hot float matrix and class indices,
    stratified-subsampled to at most ``max_rows`` rows."""
    data = LocalSource(root).load(name)
    X = pd.get_dummies(data.X, dtype=float).to_numpy(dtype=float)
    y = pd.factorize(data.y)[0]
    if len(y) > max_rows:
        keep = next(StratifiedShuffleSplit(1, train_size=max_rows, random_state=seed)
                    .split(X, y))[0]
        X, y = X[keep], y[keep]
    return X, y


def config_sha(config: dict[str, Any]) -> str:
    """Short fingerprint of a configuration (which draw a run trained)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def size_features(X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The prior's meta-features (:data:`PRIOR_FEATURES`) of an encoded table."""
    return {"n_instances": float(len(y)), "n_features": float(X.shape[1]),
            "n_classes": float(y.max() + 1)}


def run_dataset(root: str | Path, name: str, configs: Sequence[dict[str, Any]],
                indices: Sequence[int], *, max_rows: int, max_epochs: int, patience: int,
                seed: int) -> pd.DataFrame:
    """Train ``configs[i]`` for ``i`` in ``indices`` on one dataset; one row per run."""
    torch.set_num_threads(1)
    X, y = load_table(root, name, max_rows)
    split = next(StratifiedShuffleSplit(1, test_size=0.25, random_state=seed).split(X, y))
    trainer = FoldTrainer(X, y, "classification", [split], torch.device("cpu"), seed)
    sizes = size_features(X, y)
    rows = []
    for i in indices:
        start = time.perf_counter()
        score = trainer.evaluate(to_mlp_params(configs[i], max_epochs=max_epochs),
                                 max_epochs, patience).score
        rows.append({"dataset": name, "config_index": int(i),
                     "config_sha": config_sha(configs[i]), "score": score,
                     "seconds": round(time.perf_counter() - start, 3),
                     **sizes})
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def build_runs(root: str | Path, names: Sequence[str], configs: Sequence[dict[str, Any]],
               out: str | Path, *, n_configs: int, max_rows: int = 1000,
               max_epochs: int = 20, patience: int = 5, seed: int = 0, n_jobs: int = 1
               ) -> pd.DataFrame:
    """Run the first ``n_configs`` of ``configs`` on every dataset of ``names``, adding
    each dataset's runs to the CSV ``out`` (replaced whole, never left half-written);
    runs already in it are skipped (resumable). The training settings go to
    ``<out stem>.settings.json``: resuming with others, or with other ``configs``, raises
    ``ValueError``. Returns all runs."""
    out = Path(out)
    done = read_runs(out) if out.is_file() else pd.DataFrame(columns=list(RUN_COLUMNS))
    if len(done):
        runs_matrix(done, configs)  # the same draws
    _check_settings(out, bool(len(done)), {"max_rows": max_rows, "max_epochs": max_epochs,
                                           "patience": patience, "seed": seed})
    todo = []
    for name in names:
        have = set(done.loc[done["dataset"] == name, "config_index"])
        missing = [i for i in range(n_configs) if i not in have]
        if missing:
            todo.append((name, missing))
    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_dataset)(root, name, configs, missing, max_rows=max_rows,
                             max_epochs=max_epochs, patience=patience, seed=seed)
        for name, missing in todo)
    for frame in progress_bar(jobs, total=len(todo), desc="real runs (datasets)"):
        done = pd.concat([done, frame], ignore_index=True) if len(done) else frame
        write_files({out: done.to_csv(index=False).encode()})
    return read_runs(out)


def _check_settings(out: Path, resuming: bool, settings: dict[str, int]) -> None:
    """``ValueError`` if the runs already in ``out`` were trained with other
    ``settings``; else record them beside ``out`` (a file older than this record is
    taken as trained with them)."""
    path = out.with_suffix(".settings.json")
    if resuming and path.is_file():
        previous = json.loads(path.read_text())
        changed = {k: (previous.get(k), v) for k, v in settings.items() if previous.get(k) != v}
        if changed:
            raise ValueError(f"{out} holds runs trained with other settings (previous, now): "
                             f"{changed}; resume with those, or use another file")
    write_files({path: json.dumps(settings, indent=1).encode()})


def read_runs(path: str | Path) -> pd.DataFrame:
    """The runs CSV written by :func:`build_runs`, checked: ``ValueError`` for a file that
    is not one, or whose rows are cut short or garbled."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable real-runs file: {exc}") from exc
    missing = set(RUN_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"{path} is not a real-runs file: missing columns {sorted(missing)}")
    cut = frame[list(RUN_COLUMNS)].isna().any(axis=1)
    if cut.any():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(cut)[:5])
        raise ValueError(f"{path} has incomplete runs (line(s) {lines}: a write that was cut "
                         "short?); delete those lines and run again to redo them")
    return frame


def runs_matrix(runs: pd.DataFrame, configs: Sequence[dict[str, Any]]
                ) -> tuple[pd.DataFrame, np.ndarray]:
    """Meta-features (one row per dataset) and scores ``(n_datasets, len(configs))``
    (NaN where not run) of the runs, aligned with ``configs``.

    Raises ``ValueError`` if a run's configuration is not ``configs[config_index]``
    (runs made from another draw of configurations).
    """
    names = sorted(runs["dataset"].unique())
    scores = np.full((len(names), len(configs)), np.nan)
    for row, name in enumerate(names):
        part = runs[runs["dataset"] == name]
        for i, sha, score in zip(part["config_index"], part["config_sha"], part["score"],
                                 strict=True):
            if i >= len(configs) or sha != config_sha(configs[i]):
                raise ValueError(f"run of {name!r} config {i} does not match the training "
                                 "configurations (another seed or number of draws?)")
            scores[row, i] = score
    mf = runs.groupby("dataset")[["n_instances", "n_features", "n_classes"]].first().loc[names]
    return mf, scores


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m metaopt.nas._real_runs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--pmlb", metavar="DIR", required=True, help="pmlb data directory")
    parser.add_argument("--out", metavar="CSV", required=True,
                        help="runs CSV (added to; resumable)")
    parser.add_argument("--n-configs", metavar="N", type=int, default=200,
                        help="configurations trained on each dataset: the first N of the "
                        "draws (default 200)")
    parser.add_argument("--pool", metavar="N", type=int, default=4000,
                        help="the prior's training draws (the runs use the first n; "
                        "default 4000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the draws, the splits and the trainings (default 0)")
    parser.add_argument("--n-jobs", metavar="N", type=int, default=1,
                        help="datasets trained in parallel (default 1)")
    args = parser.parse_args(argv)
    if not Path(args.pmlb).is_dir():  # before the runs' settings file is written
        parser.error(f"--pmlb {args.pmlb!r} is no directory: give the pmlb data directory "
                     "(a folder NAME/ with NAME.tsv.gz per dataset)")
    try:
        configs = random_configs(LCBENCH_SPACE, args.pool, np.random.default_rng(args.seed))
        runs = build_runs(args.pmlb, REAL_RUN_DATASETS, configs, args.out,
                          n_configs=args.n_configs, seed=args.seed, n_jobs=args.n_jobs)
    except ValueError as error:  # a resume with other settings or draws, a bad file
        parser.error(str(error))
    print(runs.groupby("dataset")["score"].describe().round(3).to_string())


if __name__ == "__main__":
    main()
