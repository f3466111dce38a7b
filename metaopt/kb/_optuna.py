"""Exchange with Optuna: a user's past studies become evaluations, and back."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
)
from optuna.trial import TrialState

from metaopt._warnings import warn
from metaopt.data import TASK_TYPES
from metaopt.kb._design import config_id
from metaopt.kb._store import KnowledgeBase, as_distributions, merge_distributions

_STATES = {TrialState.COMPLETE: "ok", TrialState.FAIL: "failed"}


def from_optuna_study(
    study: optuna.Study,
    *,
    dataset_key: str,
    space: str,
    task: str,
    kb: KnowledgeBase | None = None,
    metafeatures: Mapping[str, float] | None = None,
    metric: str | None = None,
    dataset_name: str | None = None,
    seed: int = 0,
) -> KnowledgeBase:
    """Add the finished trials of a single-objective study to a knowledge base.

    Complete trials become ``ok`` evaluations, failed trials ``failed``; pruned and
    running trials are skipped (they are not full evaluations). Scores are stored
    higher-is-better: a minimised objective is negated and its metric named ``neg_...``.

    Parameters
    ----------
    study : optuna.Study
    dataset_key : str
        Identifier of the dataset the study tuned on (e.g. ``"openml/31"``).
    space : str
        Name of the search space. A metaopt space name (or alias) checks every trial's
        params against that space (stored canonically, under the space's own name; for a
        combination such as ``"all"`` or ``"svm+knn"``, under the chosen family's name
        with its own params, as a build stores them); give params of another space a
        name of their own: the trials' distributions are then stored with the
        evaluations, so meta-models can be trained on that space (every trial must give
        a parameter the same distribution).
    task : {"classification", "regression"}
    kb : KnowledgeBase, optional
        Store to add to; a new in-memory one by default.
    metafeatures : mapping, optional
        Meta-features of the dataset (e.g. ``metaopt.metafeatures.compute(...)``).
    metric : str, optional
        Name of the objective, default ``"objective"``.
    dataset_name : str, optional
    seed : int
        Seed recorded with the evaluations (part of their identity).

    Returns
    -------
    KnowledgeBase
        ``kb`` (or the new store) with the trials added.
    """
    if len(study.directions) != 1:
        raise ValueError(
            f"study {study.study_name!r} has {len(study.directions)} objectives; "
            "only single-objective studies can be imported"
        )
    if task not in TASK_TYPES:
        raise ValueError(f"task must be one of {TASK_TYPES}, got {task!r}")
    registered = _registered_space(space)
    every = study.get_trials(deepcopy=False)
    trials = [t for t in every if t.state in _STATES]
    if not trials:  # the dataset is still recorded, with its meta-features
        states = sorted({t.state.name.lower() for t in every})
        warn(f"study {study.study_name!r} has no complete or failed trial "
             + (f"(its {len(every)} trial(s) are {' or '.join(states)})" if every
                         else "(it has no trial)")
             + ": no evaluation imported; run it first (study.optimize)")
    kb = KnowledgeBase() if kb is None else kb
    if registered is None:  # before any evaluation is written
        kb.add_distributions(space, _distributions(space, trials, study.study_name))
    minimize = study.direction == optuna.study.StudyDirection.MINIMIZE
    name = metric or "objective"
    records = []
    for trial in trials:
        status = _STATES[trial.state]
        score = None
        if status == "ok" and trial.value is not None and math.isfinite(trial.value):
            score = -trial.value if minimize else trial.value
        elif status == "ok":
            status = "failed"  # an infinite objective is no score to learn from
        duration = trial.duration.total_seconds() if trial.duration is not None else None
        stored, params = (space, trial.params) if registered is None else _family_params(
            registered, _checked_params(registered, trial, task, study.study_name))
        records.append({
            "dataset_key": dataset_key, "space": stored,
            "config_id": config_id(params), "seed": seed, "config": params, "task": task,
            "metric": f"neg_{name}" if minimize else name, "cv_score": score,
            "eval_time": duration, "status": status, "origin": "optuna",
            "extra": {"study": study.study_name, "trial": trial.number},
        })
    repeats = len(records) - len({(r["space"], r["config_id"]) for r in records})
    if repeats:
        warn(f"{repeats} trial(s) of study {study.study_name!r} repeat the parameters "
             "of an earlier one: the knowledge base keeps one evaluation per "
             "configuration, the first")
    # a dataset already stored (e.g. by a build) keeps its name and source (None keeps)
    new = dataset_key not in set(kb.datasets()["dataset_key"])
    kb.add_dataset({"dataset_key": dataset_key,
                    "name": dataset_name or (dataset_key if new else None),
                    "source": "optuna" if new else None, "task": task, "status": "ok",
                    "metafeatures": dict(metafeatures) if metafeatures is not None else None})
    kb.add_evaluations(records)
    return kb


def _registered_space(name: str):
    """The metaopt space registered as ``name``, or None for a space of the user's own."""
    from metaopt.spaces import get_space

    try:
        return get_space(name)
    except ValueError:
        return None


def _distributions(space: str, trials, study_name: str) -> dict[str, Any]:
    """The trials' distributions of a space of the user's own, as JSON objects;
    ValueError if two trials disagree on one or the name reads as a combination."""
    if "+" in space or "@" in space:
        raise ValueError(f"space name {space!r}: '+' joins metaopt spaces and '@' names a "
                         "meta-model's task type; give a space of your own a name without them")
    known: dict[str, Any] = {}
    for trial in trials:
        new = {k: json.loads(distribution_to_json(d)) for k, d in trial.distributions.items()}
        known = merge_distributions(known, new, f"trial {trial.number} of study "
                                    f"{study_name!r}", "earlier trials give")
    return known


def _family_params(space, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The space name and params to store: those of the chosen model family for a
    combination (the knowledge base stores evaluations per family, and training reads a
    combination from its members' rows), else ``space``'s own."""
    from metaopt.spaces import CombinedSpace
    from metaopt.spaces._combined import FAMILY

    if isinstance(space, CombinedSpace) and FAMILY in params:
        member, own = space.member(params)
        return member.name, own
    return space.name, params


def _checked_params(space, trial: optuna.trial.FrozenTrial, task: str,
                    study_name: str) -> dict[str, Any]:
    """``trial``'s params as a configuration of ``space`` (a failed trial may lack some);
    ValueError if they are not one."""
    try:
        if trial.state == TrialState.COMPLETE:
            return space.check_params(trial.params, task)
        unknown = sorted(set(trial.params) - set(space.distributions(task)))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}")
        return dict(trial.params)
    except ValueError as exc:
        raise ValueError(
            f"trial {trial.number} of study {study_name!r} is not a configuration of the "
            f"metaopt search space {space.name!r}: {exc}. Import a study of other "
            "parameters under a space name of its own"
        ) from None


def to_optuna(
    kb: KnowledgeBase,
    storage: str | optuna.storages.BaseStorage,
    *,
    distributions: Mapping[str, Mapping[str, BaseDistribution]] | None = None,
) -> list[str]:
    """Write each (dataset, space) of ``kb`` as an Optuna study (maximised ``cv_score``).

    Studies are named ``"<dataset_key>::<space>"`` and their user attributes hold the
    dataset's meta-features; ``failed``/``timeout`` evaluations become failed trials.
    An existing study of that name gets only the evaluations it does not hold yet (by
    ``config_id``), so writing twice adds nothing.
    Useful for optuna-dashboard.

    Parameters
    ----------
    kb : KnowledgeBase
    storage : str or optuna storage
        E.g. ``"sqlite:///studies.db"``; existing studies of the same name are extended.
    distributions : mapping space -> {param: distribution}, optional
        Distributions of each space's params; else those stored with an imported study's
        space, or inferred from the observed values (numbers: their observed range;
        anything else: categorical).

    Returns
    -------
    list of str
        The study names.
    """
    frame = kb.to_frame()
    mf_cols = [c for c in frame.columns if c.startswith("mf_")]
    stored = {space: as_distributions(dists)
              for space, dists in frame.attrs.get("distributions", {}).items()}
    names = []
    for (dataset_key, space), group in frame.groupby(["dataset_key", "space"], sort=True):
        configs = [json.loads(c) for c in group["config"]]
        dists = dict((distributions or {}).get(space) or stored.get(space)
                     or _infer_distributions(configs))
        study = optuna.create_study(storage=storage, study_name=f"{dataset_key}::{space}",
                                    direction="maximize", load_if_exists=True)
        for col in mf_cols:
            value = group[col].iloc[0]
            study.set_user_attr(col, None if math.isnan(value) else float(value))
        study.set_user_attr("task", group["task"].iloc[0])
        held = {t.user_attrs.get("config_id") for t in study.get_trials(deepcopy=False)}
        study.add_trials([
            optuna.trial.create_trial(
                params=params, distributions={k: dists[k] for k in params},
                value=row.cv_score if row.status == "ok" else None,
                state=TrialState.COMPLETE if row.status == "ok" else TrialState.FAIL,
                user_attrs={"config_id": row.config_id, "status": row.status,
                            "test_score": row.test_score, "fit_time": row.fit_time},
            )
            for params, row in zip(configs, group.itertuples(), strict=True)
            if row.config_id not in held
        ])
        names.append(study.study_name)
    return names


def _infer_distributions(configs: list[dict[str, Any]]) -> dict[str, BaseDistribution]:
    values: dict[str, list[Any]] = {}
    for params in configs:
        for k, v in params.items():
            values.setdefault(k, []).append(v)
    out: dict[str, BaseDistribution] = {}
    for k, vs in values.items():
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in vs)
        if numeric and all(isinstance(v, int) for v in vs):
            out[k] = IntDistribution(min(vs), max(vs))
        elif numeric:
            out[k] = FloatDistribution(min(vs), max(vs))
        else:
            out[k] = CategoricalDistribution(sorted(set(vs), key=repr))
    return out
