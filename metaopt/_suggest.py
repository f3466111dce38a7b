"""Zero-fit warm starts for a dataset (`metaopt.suggest`) and the `metaopt demo` job."""

from __future__ import annotations

import os
import time

import numpy as np
import optuna
import pandas as pd
from scipy import sparse
from sklearn.model_selection import cross_val_score

from metaopt import metafeatures
from metaopt._checks import check_int, check_seed
from metaopt._cli_options import DEMO_SEED_USE
from metaopt._shipped_names import DEMO_SPACE
from metaopt._threads import thread_pools
from metaopt._warnings import warn
from metaopt.data import from_arrays
from metaopt.data._dataset import as_dataset, validate_sparse
from metaopt.data._ids import warn_id_columns
from metaopt.ranker import MetaModel, load_meta_model, shipped_spaces
from metaopt.ranker._shipped import as_meta_model, model_for_space, shipped_model_for
from metaopt.spaces import SearchSpace
from metaopt.spaces._registry import check_family


def _model_for(space, task: str, meta_model: MetaModel | str | os.PathLike | None) -> MetaModel:
    """The meta-model to suggest from, as :class:`MetaSampler` takes it: ``meta_model``
    or the shipped one, checked to serve ``space`` (a combination of model families from
    a combined model) and trained on datasets of ``task``."""
    if meta_model is None:
        model, which = shipped_model_for(space, task), f"the shipped {space} meta-model"
    else:
        model, which = model_for_space(space, as_meta_model(meta_model)), "meta_model"
    model.check_task(task, which)
    return model


def suggest(X, y=None, *, space: str | SearchSpace, n: int = 5, task: str | None = None,
            meta_model: MetaModel | str | os.PathLike | None = None,
            random_state: int | None = 0) -> pd.DataFrame:
    """Warm-start configurations of ``space`` for a dataset, without fitting any model.

    Parameters
    ----------
    X : array-like, DataFrame or Dataset
        The features of the dataset to tune for (a Dataset holds its target too).
    y : array-like, optional
        Its target (not needed with a Dataset).
    space : str or SearchSpace
        A space with a shipped meta-model (see :func:`metaopt.ranker.shipped_spaces`), or
        a combination of model families (``"svm+knn"``) served by a combined one; with
        ``meta_model``, the space it was trained on, by name or as the object (one of
        your own).
    n : int, default=5
        Number of configurations.
    task : {"classification", "regression"}, optional
        Inferred from ``y`` when None: a target of text or of at most 20 whole values
        (and at most one per 5 rows) reads as classes; pass ``task="regression"`` for a
        regression on it, ``task="classification"`` for more classes.
    meta_model : MetaModel or path, optional
        Defaults to the shipped one for ``space``. A model (shipped or not) trained on
        no dataset of this task type is refused with a ``ValueError``.
    random_state : int or None, default=0
        Seed of the meta-features' subsamples and landmarker folds.

    Returns
    -------
    DataFrame
        One row per configuration, best first: ``config_id``, ``params``,
        ``expected_regret`` (mean best-so-far normalized regret over the knowledge base
        after this pick), ``mean_regret`` (this configuration's own mean regret there),
        ``best_on`` (known datasets where it was the best configuration) and
        ``reason``. ``.attrs["neighbors"]`` maps the nearest known datasets to their
        distances (nearest first; empty when the model's datasets have none) and
        ``.attrs["summary"]`` one line on the data, them and the picks' order. Fewer than
        ``n`` rows (with a warning) when the portfolio holds fewer.

    Warns
    -----
    UserWarning
        When a column of ``X`` looks like a row identifier (every value distinct, whole
        numbers or strings, named like an id, e.g. ``PassengerId``, or whole numbers
        over a range at most twice their count, such as 1 to n or what a train/test
        split keeps of it): it counts as a feature of the meta-features, so drop it first;
        or when a column of numbers holds a few text values (``"?"``), which make it
        text: make them missing (``X.replace(["?"], np.nan)``).
    """
    if not (isinstance(space, str) or isinstance(space, SearchSpace) and meta_model is not None):
        raise TypeError("space must be a str (a space name, or model families joined by "
                        f"'+', e.g. 'svm+knn'), or with meta_model= the space it was trained "
                        f"on, got {type(space).__name__}")
    n = check_int(n, "n")
    random_state = check_seed(random_state, "random_state",
                              "the seed of the meta-features' subsamples and landmarker folds")
    if sparse.issparse(X):
        # kept sparse: the meta-features make their row and column sample dense, not
        # the whole table (a TF-IDF matrix's can take many GB); no column of it is an id
        matrix, target, task = validate_sparse(X, y, task)
        model = _model_for(space, task, meta_model)
        name, (n_rows, n_columns) = "user-data", matrix.shape  # from_arrays's name
        mf = metafeatures._compute_validated(matrix, target, task,
                                             random_state=random_state).rename(name)
    else:
        ds = as_dataset(X, y, task)
        task, name, n_rows, n_columns = ds.task, ds.name, ds.n_samples, ds.n_features
        model = _model_for(space, task, meta_model)
        warn_id_columns(ds)
        mf = metafeatures.compute_dataset(ds, random_state=random_state)
    space = getattr(space, "name", space)
    size = len(model.portfolio.params_)
    if n > size:
        warn(f"n={n}: the {space} portfolio holds {size} configurations; "
             f"suggesting all {size}")
    picks = model.portfolio.suggest(min(n, size), mf)
    # a dict, not a DataFrame: pandas compares attrs in pd.concat and merge ("truth value
    # of a DataFrame is ambiguous") and writes them to parquet as JSON
    neighbors = {}
    if model.portfolio.has_metafeatures:
        neighbors = {d: float(dist) for d, dist in
                     model.portfolio.neighbors(mf, 3).itertuples(index=False)}
        near = ", ".join(f"{d} ({dist:.2f})" for d, dist in neighbors.items())
    else:  # e.g. YAHPO's instances: every known dataset is at the same distance
        near = "unknown (the model's training datasets have no meta-features)"
    order = ("the portfolio's order is the same for every dataset" if
             model.portfolio.n_neighbors is None else
             f"ordered for its {model.portfolio.n_neighbors} nearest known datasets")
    picks["reason"] = [
        (f"best on {len(b)} known dataset(s), e.g. {', '.join(b[:2])}; " if b else "")
        + f"expected regret {e:.3f} once added"
        for b, e in zip(picks["best_on"], picks["expected_regret"], strict=True)
    ]
    picks.attrs["neighbors"] = neighbors
    picks.attrs["summary"] = (f"{name}: {task}, {n_rows} x {n_columns}; "
                              f"nearest: {near}; {order}")
    return picks


def run_demo(*, space: str | None = None, n_trials: int = 8, cv: int = 3, seed: int = 0,
             echo=print) -> optuna.Study:
    """Tune a model on scikit-learn's bundled breast-cancer data with :class:`MetaSampler`,
    printing what the meta-learner chose and why, against the space's default."""
    from sklearn.datasets import load_breast_cancer

    from metaopt.samplers import MetaSampler
    from metaopt.samplers._meta_sampler import _SOURCE

    n_trials = check_int(n_trials, "n_trials")
    seed = check_seed(check_int(seed, "seed", minimum=0), "seed", DEMO_SEED_USE,
                      allow_none=False)
    available = shipped_spaces()
    if not available:
        raise RuntimeError("this installation ships no meta-model: reinstall metaopt")
    space = space or (DEMO_SPACE if DEMO_SPACE in available else available[0])
    space = check_family(space, "for the demo")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    ds = from_arrays(X, y, name="breast_cancer (scikit-learn)")
    model = load_meta_model(space, ds.task)
    searched = model.space
    echo(f"metaopt demo: tuning {space} on {ds.name}: {ds.n_samples} rows x {ds.n_features} "
         f"features, {cv}-fold CV accuracy, {n_trials} trials")
    started = time.perf_counter()
    picks = suggest(ds, space=space, n=3, meta_model=model, random_state=seed)
    echo(f"meta-features -> {picks.attrs['summary']}")
    echo(f"meta-model trained on {len(model.portfolio.task_keys_)} datasets of the knowledge base")

    def score(params) -> float:
        estimator = searched.build(params, ds.task, random_state=seed)
        # one OpenMP/BLAS thread: with a core busy elsewhere, HistGradientBoosting's
        # threads waited on each other, and 4 trials took 84-111 s instead of 4
        with thread_pools().limit(limits=1):
            return float(np.mean(cross_val_score(estimator, ds.X, ds.y, cv=cv)))

    default = score(searched.default(ds.task))
    echo(f"default configuration: {default:.4f}")
    sampler = MetaSampler(space=space, dataset=ds, meta_model=model, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for _ in range(n_trials):
        trial = study.ask()
        params = searched.sample(trial, ds.task)
        value = score(params)
        study.tell(trial, value)
        frozen = study.trials[-1]
        echo(f"trial {trial.number}: {value:.4f}  <- {frozen.system_attrs.get(_SOURCE)}")
    best = study.best_trial
    echo(f"best: {best.value:.4f} (trial {best.number}) vs default {default:.4f}, "
         f"in {time.perf_counter() - started:.0f} s")
    echo(f"best configuration: {best.params}")
    return study
