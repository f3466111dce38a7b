"""MetaSampler: Optuna sampler with meta-learned warm starts and an adapted ranker."""

from __future__ import annotations

import copy
import difflib
import functools
import json
import numbers
import os
import random
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, TypeGuard

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, PartialFixedSampler, TPESampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from metaopt._checks import check_int, check_seconds, check_seed, python_value
from metaopt._shipped_names import shipped_models
from metaopt._warnings import warn
from metaopt.data import TASK_TYPES, Dataset
from metaopt.data._dataset import as_dataset
from metaopt.data._ids import warn_id_columns
from metaopt.metafeatures import FEATURE_NAMES
from metaopt.ranker import MetaModel
from metaopt.ranker._metamodel import CandidatesExhausted, config_key
from metaopt.ranker._scaling import as_metafeature_frame
from metaopt.ranker._shipped import (
    as_meta_model,
    model_for_space,
    model_name,
    shipped_model_for,
    shipped_space,
    shipped_spaces,
)
from metaopt.spaces import CombinedSpace, SearchSpace, combine, get_space, list_spaces
from metaopt.spaces._combined import FAMILY
from metaopt.spaces._registry import ALL

_CLAIM = "metaopt:config"  # trial system attribute: the configuration chosen for the trial
_SOURCE = "metaopt:source"
_INTERRUPTED = "metaopt:interrupted"  # trial system attribute: what stopped it from outside
_CLAIM_ATTEMPTS = 5
_OUTSIDE = object()  # a value a distribution cannot take


def _contains(dist: BaseDistribution, value: Any) -> bool:
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _nearest_choice(choices: Sequence[float], value: float) -> Any:
    """The choice of a numeric grid nearest to ``value`` (on a log scale when all are
    positive: 40 is nearer 100 than 10), or ``_OUTSIDE`` beyond the grid's ends."""
    if not min(choices) <= value <= max(choices):
        return _OUTSIDE
    scale = np.log if value > 0 and min(choices) > 0 else (lambda x: x)
    return min(choices, key=lambda choice: abs(scale(choice) - scale(value)))


def _fitted(dist: BaseDistribution, value: Any) -> Any:
    """``value`` as ``dist`` takes it (a number inside its range rounded to its step or
    to an integer, or to the nearest choice of a grid of numbers), or ``_OUTSIDE``
    (another choice, out of range)."""
    value = python_value(value)
    numeric = _is_number(value)
    if isinstance(dist, (FloatDistribution, IntDistribution)) and numeric:
        if not dist.low <= value <= dist.high:  # (int() would pull 3.4 into [1, 3])
            return _OUTSIDE
        step = dist.step or (1 if isinstance(dist, IntDistribution) else None)
        if step:
            value = min(dist.low + round((value - dist.low) / step) * step, dist.high)
        value = type(dist.low)(value)
    elif isinstance(dist, CategoricalDistribution) and numeric:
        grid = [c for c in dist.choices if _is_number(c)]
        if len(grid) == len(dist.choices):  # suggest_categorical("C", [1, 10])
            value = _nearest_choice(grid, value)
    return value if _contains(dist, value) else _OUTSIDE


def _overlaps(asked: BaseDistribution, own: BaseDistribution) -> bool:
    """Whether a value of the space's distribution ``own`` fits the objective's ``asked``."""
    if isinstance(own, CategoricalDistribution):
        return any(_fitted(asked, choice) is not _OUTSIDE for choice in own.choices)
    if isinstance(asked, CategoricalDistribution):
        return any(_fitted(own, choice) is not _OUTSIDE for choice in asked.choices)
    numeric = (FloatDistribution, IntDistribution)  # Optuna's only other distributions
    return (isinstance(asked, numeric) and isinstance(own, numeric)
            and asked.low <= own.high and own.low <= asked.high)


def _offered(trial: FrozenTrial, own: Mapping[str, BaseDistribution]) -> tuple[str, ...]:
    """The parameters of a completed trial's claimed configuration when the objective ran
    that configuration (every value it asked for is the claim's, except where its
    distribution shares no value with the space's ``own``: the fallback's alone): the
    ones it did not ask for, it sets itself. Empty otherwise (a trial that failed before
    asking for everything, or one whose values the fallback changed, which may switch
    conditions)."""
    claim = _claim_of(trial)
    if not claim or trial.state != TrialState.COMPLETE or own.keys().isdisjoint(trial.params):
        return ()  # (one that set none of the space's parameters never ran its claim)
    ran = all(_fitted(trial.distributions[n], claim[n]) == v
              for n, v in trial.params.items()
              if n in claim and (n not in own or _overlaps(trial.distributions[n], own[n])))
    return tuple(claim) if ran else ()


def _branches(trial: FrozenTrial) -> dict[str, tuple[tuple[tuple[str, Any], ...],
                                                    BaseDistribution]]:
    """Each distribution a trial asked for, with its branch: the choices it had taken
    before asking for it (what a define-by-run objective's range for it can depend on,
    numbers aside)."""
    branches: dict[str, tuple[tuple[tuple[str, Any], ...], BaseDistribution]]
    before: tuple[tuple[str, Any], ...]
    branches, before = {}, ()
    for name, dist in trial.distributions.items():
        branches[name] = (before, dist)
        if isinstance(dist, CategoricalDistribution):
            before += ((name, trial.params[name]),)
    return branches


class _Folded:
    """What the study's finished trials asked for, were offered and had set by another
    sampler (:meth:`MetaSampler._allowed`), each trial folded in once: a finished trial
    never changes, so a suggestion walks only the trials that are still running.

    ``asked`` maps a name to its branches (:func:`_branches`), each to the number of the
    first trial that asked for it there, and the number and distribution of the last
    one: the trials' order, whatever the order they finished in (a trial still running
    when later ones finished is folded in after them)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.asked: dict[str, dict[tuple, tuple[int, int, BaseDistribution]]] = {}
        self.offered: set[str] = set()  # the parameters of claims the objective ran
        self.fixed: set[str] = set()  # those a wrapping sampler set (_overridden)
        self.ids: set[int] = set()  # the trials folded in
        self.scan = 0  # the trials before it are finished and folded in
        # the taken configurations as the objective takes them (_allowed's used), kept
        # while what it takes stays the same (``rule``): id of the dict (held, so that
        # the id is not reused) -> (the dict, its key). A finished trial's dict is the same
        # object on every suggestion (MetaSampler._finished), a running one's is new
        self.rule = ""
        self.keys: dict[int, tuple[dict[str, Any], str | None]] = {}

    def add(self, asked: dict[str, dict[tuple, tuple[int, int, BaseDistribution]]],
            number: int, branches: Mapping[str, tuple[tuple, BaseDistribution]]) -> None:
        """Fold trial ``number``'s ``branches`` into ``asked``."""
        for name, (branch, dist) in branches.items():
            by_branch = asked.setdefault(name, {})
            seen = by_branch.get(branch)
            if seen is None:
                by_branch[branch] = (number, number, dist)
            elif number > seen[1]:
                by_branch[branch] = (seen[0], number, dist)
            elif number < seen[0]:
                by_branch[branch] = (number, seen[1], seen[2])

    @staticmethod
    def in_order(asked: dict[str, dict[tuple, tuple[int, int, BaseDistribution]]],
                 ) -> dict[str, dict[tuple, BaseDistribution]]:
        """name -> branch -> distribution, the branches in the order the trials first
        asked for them there, each with the distribution the last of them asked for."""
        return {name: {b: d for b, (_, _, d) in sorted(by_branch.items(),
                                                          key=lambda item: item[1][0])}
                for name, by_branch in asked.items()}


def _fits(by_branch: dict[tuple, BaseDistribution | None], params: dict[str, Any],
          value: Any) -> list[Any] | None:
    """``value`` as the distributions asked for in the branch of ``params`` take it (those
    asked in any branch when no branch agrees with ``params``), where it is inside them;
    None when they share no value with the space's (None): the fallback's to choose."""
    dists = [d for branch, d in by_branch.items()
             if all(params.get(n, v) == v for n, v in branch)] or list(by_branch.values())
    fits = [f for d in dists if d is not None and (f := _fitted(d, value)) is not _OUTSIDE]
    return fits if fits or None not in dists else None


def _overridden(trial: FrozenTrial, served: set[str]) -> tuple[str, ...]:
    """The parameters a trial ran with another value than its claim's, though the claim's
    fitted the distribution asked for, without this sampler serving them (``served``): a
    sampler wrapping this one (``PartialFixedSampler``) set them."""
    claim = _claim_of(trial) or {}
    return tuple(n for n, v in trial.params.items() if n in claim and n not in served
                 and (fitted := _fitted(trial.distributions[n], claim[n])) is not _OUTSIDE
                 and fitted != v)


def _violation(trial: FrozenTrial) -> float:
    """The sum of a trial's positive constraint values (``trial.set_constraint``, or a
    ``constraints_func`` of the fallback); 0 when it is feasible or has none."""
    constraints = (trial.constraints.values() if hasattr(trial, "constraints")  # optuna 5
                   else trial.system_attrs.get("constraints") or ())
    return float(sum(v for v in constraints if v > 0))


def _claim_of(trial: FrozenTrial) -> dict[str, Any] | None:
    """The configuration a trial claimed; None when it claimed none, or its claim was
    withdrawn after clashes (stored as JSON ``null``)."""
    raw = trial.system_attrs.get(_CLAIM)
    return json.loads(raw) if raw else None


def mark_interrupted(study: Study, trial: FrozenTrial | optuna.Trial,
                     reason: str = "interrupted") -> None:
    """Mark a running trial as stopped from outside (a time budget, Ctrl-C) rather than
    by its configuration: once it has failed or been pruned without a score, a
    :class:`MetaSampler` of a later run no longer counts its configuration as taken (the
    warm start's picks come back in their order; the ranker may propose it again). The
    mark names the trial, so a copy of it (Optuna's retry of a trial copies its
    attributes) marks nothing. (The trials of a dead process: Optuna's
    ``RetryHeartbeatStaleTrialCallback`` as an RDB storage's
    ``heartbeat_stale_trial_callback`` runs them again.)

    Parameters
    ----------
    study : optuna.Study
    trial : optuna.Trial or optuna.trial.FrozenTrial
        The running trial.
    reason : str, default="interrupted"
        Stored with the mark.
    """
    study._storage.set_trial_system_attr(trial._trial_id, _INTERRUPTED,
                                         {"trial": trial.number, "reason": reason})


def _task_of(meta_features: pd.Series | None, task: str | None) -> str | None:
    """``task``, or when it is None, the one ``meta_features`` state
    (``is_classification``); a ValueError when the two disagree."""
    flag = None if meta_features is None else meta_features.get("is_classification")
    stated = {1.0: "classification", 0.0: "regression"}.get(flag) if flag is not None else None
    if task is not None and stated is not None and task != stated:
        raise ValueError(f"task={task!r}, but meta_features are of a {stated} dataset "
                         f"(is_classification={flag:g})")
    return task or stated


def _reads_meta_features(model: MetaModel) -> bool:
    """Whether a meta-model's proposals depend on a dataset's meta-features: its
    portfolio weights the nearest datasets, its cost model may skip configurations, or
    its ranker reads a meta-feature that varied over its training datasets (the YAHPO
    models' were all flat: YAHPO's instances have none)."""
    if model.portfolio.n_neighbors is not None or model.cost is not None:
        return True
    return model.ranker is not None and model.ranker.reads_metafeatures


@functools.cache
def _shipped_names() -> dict[str, frozenset[str]]:
    """The parameter names of each shipped space, in :func:`shipped_spaces`' order."""
    return {s: frozenset(p.name for p in shipped_space(s).params) for s in shipped_spaces()}


def _spaces_asking(names: Sequence[str]) -> list[str]:
    """The shipped spaces (``all`` aside) holding each of ``names`` that one of them holds
    (the others, such as ``"x"`` or ``"classifier"``, tell no space apart)."""
    spaces = {s: own for s, own in _shipped_names().items() if s != ALL}
    known = set(names) & frozenset().union(*spaces.values())
    return [s for s, own in spaces.items() if known <= own]


def _study_families(study: Study) -> list[str] | None:
    """Choices of the study's ``"space"`` parameter, when they are all registered spaces."""
    for t in study.get_trials(deepcopy=False):
        dist = t.distributions.get(FAMILY)
        if isinstance(dist, CategoricalDistribution):
            choices = [str(c) for c in dist.choices]
            return choices if set(choices) <= set(list_spaces()) else None
    return None


def check_sampler(sampler: Any, name: str) -> None:
    """A ``TypeError`` naming ``name`` when ``sampler`` is no Optuna sampler instance (a
    class, a name such as ``"tpe"``)."""
    if not isinstance(sampler, BaseSampler):
        what = (f"the class {sampler.__name__}" if isinstance(sampler, type)
                else f"{type(sampler).__name__} {sampler!r}")
        raise TypeError(f"{name} must be an Optuna sampler instance, e.g. "
                        f"optuna.samplers.RandomSampler(seed=0); got {what}")


class _Init(TypedDict):
    """What a MetaSampler was given, checked (each study starts from it)."""

    space: str | None
    task: str | None
    task_from: str  # where ``task`` came from, for a warning when the objective contradicts it
    meta_model: MetaModel | None


def serve_task(sampler: MetaSampler, task: str) -> None:
    """Make a user's ``sampler`` serve a search of ``task`` (for the estimators, which
    know the task; a sampler told no task takes its meta-model's first). A ValueError
    when the sampler was given another task, or a meta-model trained on no dataset of
    it."""
    given = sampler._init["task"]
    if given not in (None, task):
        raise ValueError(f"sampler is a MetaSampler of task={given!r}, this search is "
                         f"{task}: pass task={task!r} (or None)")
    if sampler._init["meta_model"] is not None:
        sampler._init["meta_model"].check_task(task, "the sampler's meta_model")
    if given is None:
        sampler._init["task_from"] = "the search's task"
    sampler._init["task"] = task
    if sampler._model is None:  # else its study's state is reset on the next study
        sampler._task = task


def serve_space(sampler: MetaSampler, space: SearchSpace) -> None:
    """A ValueError when a user's ``sampler``, given ``space=``, cannot serve a search of
    ``space`` (for the estimators): another single space (``space="svm"`` for a search of
    ``"linear"``, whose ``C`` it read as an SVM's), or a combination without one of a
    combined search's families. A combination holding them all serves a combined search
    (``"all"`` for ``"svm+knn"``), restricted as the objective's ``"space"`` choices ask."""
    given = sampler._init["space"]
    if given is None:
        return
    name = getattr(given, "name", given)
    if name == space.name:
        return
    if isinstance(space, CombinedSpace):
        held = list_spaces() if name == ALL else str(name).split("+")
        if all(member.name in held for member in space.members):
            return
        what = f"its families {[m.name for m in space.members]}, as '<family>__<parameter>'"
    else:
        what = "one family, under its own parameter names"
    raise ValueError(f"sampler is a MetaSampler of space={name!r}, this search is over "
                     f"{space.name!r} ({what}): pass space={space.name!r}, or None to "
                     "serve the search's space")


class MetaSampler(BaseSampler):
    """Optuna sampler that starts from meta-learned configurations and adapts.

    1. The first ``n_warmup`` trials take the meta-model's portfolio: configurations that
       are good together across the datasets it was trained on (of the nearest
       datasets when meta-features are known and the portfolio has ``n_neighbors``;
       the shipped portfolios are global, the same for every dataset).
    2. After that, the meta-model's ranker is adapted to the completed trials of this
       study and the next trial takes its best-ranked untried candidate (with an
       exploration bonus from the ensemble's disagreement). Candidates are the
       portfolio, random configurations and neighbours of the best trials so far.
       Every ``meta_model.random_every``-th trial (default 4th) is instead a random
       untried portfolio or random candidate.
    3. Parameters the meta-model does not know, or values outside the study's
       distributions, go to ``fallback``. Where the study's distributions are narrower
       than the meta-model's space (as seen in its trials so far), only configurations
       inside them are proposed; parameters the objective never asks for do not make
       a configuration new.
    4. With ``meta_model.handoff_after = n`` (off by default), every trial after the
       first ``n`` goes to ``fallback`` whole: the meta-learned trials become its
       start-up history.

    Every trial's chosen configuration is written to its system attributes, so several
    workers sharing one storage (RDB or journal) never take the same configuration.

    Parameters
    ----------
    space : str or SearchSpace, optional
        A metaopt search-space name (see :func:`metaopt.spaces.list_spaces`), or a
        combination of model families (``"all"``, ``"svm+knn"``; the objective then
        samples with ``get_space(space).sample(trial, task)``: the family is the
        parameter ``"space"``, the others are named ``"<family>__<param>"``); with
        ``meta_model``, the space it was trained on, by name or as a
        :class:`~metaopt.spaces.SearchSpace` of your own. ``None`` infers it: the space
        of a ``meta_model`` of one space, else from the choices of a ``"space"``
        parameter as soon as the objective asks for it, else from the parameters' names:
        before a trial has completed, once the names a trial asked for fit one shipped
        space only (the ones before go to ``fallback``), then from the completed trials'
        parameters (spaces that match equally are named in a warning).
    dataset : (X, y), [X, y] or Dataset, optional
        The data being tuned; its meta-features condition the ranker (and a portfolio
        with ``n_neighbors``; a meta-model trained without meta-features, such as the
        YAHPO ones, ignores them, with a warning). Computed at
        the first proposal, after which the sampler lets go of the data. A column of
        ``X`` that looks like a row identifier (every value distinct, named like an id
        or whole numbers over a range at most twice their count, such as 1 to n) is
        warned about, as by :func:`metaopt.suggest`:
        it would skew the meta-features; drop it from ``X`` before passing it.
    meta_features : Series or dict, optional
        Precomputed :func:`metaopt.metafeatures.compute` output (instead of ``dataset``),
        a dict of its names, or knowledge-base columns ``mf_*``.
    task : {"classification", "regression"}, optional
        Which of the space's meta-models serves the study. Inferred when None: from
        ``dataset`` (a target of text or of at most 20 whole values, and at most one
        per 5 rows, reads as classes: pass ``task="regression"`` to tune a regressor on
        it, ``task="classification"`` for more classes), or from ``meta_features``'
        ``is_classification`` (a ``task`` that contradicts it is refused), else from
        the objective: the classification model serves until it asks for a parameter
        of regression only (the svm space's ``epsilon``), then the regression model,
        with a warning (the knn, mlp, tree and boosting spaces have none: pass
        ``task="regression"``). A task taken so, by default, for a space with a
        shipped model of each task is said in a warning, once. With a task, a
        parameter of the other task only that the objective asks for is named in a
        warning: it goes to ``fallback``.
    meta_model : MetaModel, str or path, optional
        Default: the model shipped for ``space``; a path loads a saved one (at
        construction, so a wrong path fails there). With ``space``, a model of that
        space, or of a combination of model families holding each of ``space``'s
        (restricted to them); a model of another space, or one trained on no dataset
        of the study's task (when it is known), is refused.
    source_studies : sequence of optuna.Study, or one Study, optional
        The user's past studies on other datasets with the same space: the best trial
        of each is tried first, before the portfolio's picks (a warning names a study
        whose best trial is no configuration of the space, or that has no completed
        trial).
    n_warmup : int, optional
        Distinct configurations evaluated or claimed before the ranker takes over
        (default: the meta-model's); the portfolio's picks fill what other trials of the
        study (enqueued ones, source studies' best) leave of it.
    fallback : BaseSampler, optional
        Default ``TPESampler(multivariate=True, group=True, seed=seed)`` (``group``:
        each model family of a combined space is its own multivariate group).
    worst_value : float, optional
        A finite number: objective values worse than this, infinite ones too, count as
        this for the meta-model (the study keeps the real ones). For metrics without a
        lower bound, such as R², where one diverging fit can score -1e29: the ranker
        adapts on the gaps between scores, and one such value makes every other gap
        look like zero. The shipped regression meta-models were trained on R² floored
        at 0, so ``worst_value=0.0`` matches them (``MetaOptRegressor`` sets it when it
        scores by R²).
    time_budget : float, optional
        Seconds the study has (a finite number > 0; None: no limit), counted from this
        sampler's first proposal. With it, a meta-model with a cost model (the shipped
        knowledge-base ones have one) and ``meta_model.time_fraction > 0`` (default 0,
        off) skips configurations predicted to take more than that fraction of the
        time left, calibrating its predictions on how long this study's completed
        trials took.
        ``MetaOptClassifier`` / ``MetaOptRegressor`` set it from their ``time_budget``.
    seed : int, optional
        An int in [0, 2**32 - 1]: the same seed, the same suggestions (and a seeded
        default ``fallback``); None: unseeded.
    """

    def __init__(
        self,
        *,
        space: str | SearchSpace | None = None,
        dataset: Dataset | tuple | None = None,
        meta_features: pd.Series | Mapping[str, Any] | None = None,
        task: str | None = None,
        meta_model: MetaModel | str | os.PathLike | None = None,
        source_studies: Sequence[Study] | Study | None = None,
        n_warmup: int | None = None,
        fallback: BaseSampler | None = None,
        worst_value: float | None = None,
        time_budget: float | None = None,
        seed: int | None = None,
    ) -> None:
        if dataset is not None and meta_features is not None:
            raise ValueError("pass dataset or meta_features, not both")
        if task not in (None, *TASK_TYPES):
            raise ValueError(f"task must be one of {TASK_TYPES} or None, got {task!r}")
        if not isinstance(space, (str, type(None))) and not (
                isinstance(space, SearchSpace) and meta_model is not None):
            raise TypeError("space must be the name of a space with a meta-model (a str, "
                            f"e.g. 'svm' or 'svm+knn'), None, or with meta_model= the space "
                            f"it was trained on, got {type(space).__name__}"
                            + (": a space object goes with meta_model= only (a model "
                               "trained on it: docs/spaces.md, 'Your own space'), a metaopt "
                               "space by its name" if isinstance(space, SearchSpace) else ""))
        if isinstance(space, str) and meta_model is None:
            shipped_space(space)  # a ValueError naming the known spaces
        if meta_model is not None:
            meta_model = as_meta_model(meta_model)
        if space is not None and meta_model is not None:
            meta_model = model_for_space(space, meta_model)
        elif meta_model is not None and not isinstance(meta_model.space, CombinedSpace):
            space = meta_model.space.name  # nothing to infer: the model's own space
        if isinstance(space, SearchSpace):
            space = space.name
        self._meta_features = None if meta_features is None else self._as_meta_features(
            meta_features)
        task_from = f"task={task!r}" if task is not None else "meta_features' is_classification"
        task = _task_of(self._meta_features, task)
        # kept until its meta-features are computed (at the first proposal), then dropped:
        # the sampler held a validated copy of the data for as long as it lived
        self._dataset = self._as_dataset(dataset, task)
        if self._dataset is not None:
            if task is None:
                task_from = ("the Dataset's task" if isinstance(dataset, Dataset) else
                             "dataset's y, read as classes" if self._dataset.task ==
                             "classification" else "dataset's y, read as numbers")
            task = self._dataset.task
            warn_id_columns(self._dataset,
                            drop="X.drop(columns={columns}) before passing X to MetaSampler")
        if meta_model is not None and task is not None:
            meta_model.check_task(task)
        elif isinstance(space, str) and task is not None \
                and task not in (tasks := shipped_space(space).tasks):
            # (its meta-model serves any task asked; every trial then failed at its first
            # proposal with "yahpo_lcbench: task must be one of ('classification',)")
            raise ValueError(f"space {space!r} has a meta-model of {' and '.join(tasks)} "
                             f"only; this study is {task} (from {task_from})")
        self._init: _Init = {"space": space, "task": task, "task_from": task_from,
                             "meta_model": meta_model}
        if isinstance(source_studies, Study):  # one study: "'Study' object is not iterable"
            source_studies = [source_studies]
        elif isinstance(source_studies, (str, bytes)):  # a study's name, its letters read
            raise TypeError("source_studies must be a list of optuna.Study objects, got "
                            f"the {type(source_studies).__name__} {source_studies!r}: load "
                            "a stored study with optuna.load_study(study_name=..., "
                            "storage=...)")
        self._source_studies = list(source_studies or [])
        for i, source in enumerate(self._source_studies):
            if not isinstance(source, Study):
                raise TypeError(f"source_studies[{i}] must be an optuna.Study, got "
                                f"{type(source).__name__}" + (
                                    ": load a stored study with optuna.load_study("
                                    "study_name=..., storage=...)"
                                    if isinstance(source, str) else ""))
            if len(source.directions) > 1:
                raise ValueError(f"source_studies[{i}] ({source.study_name!r}) is "
                                 "multi-objective: its best trial is undefined")
        # the meta-model checks its own n_warmup; this one replaces it on a copy
        self._n_warmup = None if n_warmup is None else check_int(n_warmup, "n_warmup", 0)
        self._seed = check_seed(seed, "seed", "a RandomState is not a seed")
        if fallback is not None:
            check_sampler(fallback, "fallback")
        self._fallback_arg = fallback
        self._fallback = fallback or self._default_fallback()
        if worst_value is not None and (  # "0" failed in numpy's isfinite; True was 1.0
                not isinstance(worst_value, numbers.Real) or isinstance(worst_value, bool)
                or not np.isfinite(worst_value)):
            raise ValueError("worst_value must be a finite number or None, got "
                             f"{worst_value!r}")
        self._worst_value = worst_value
        check_seconds(time_budget, "time_budget")
        self._time_budget = time_budget
        self._lock = threading.Lock()
        self._setup_lock = threading.Lock()
        self._bound: Study | None = None  # the study the per-study state belongs to
        self._reset_study_state()

    def _reset_study_state(self) -> None:
        """What the sampler learns about one study, as before its first trial."""
        self._space_name: str | None = self._init["space"]
        self._task = self._init["task"]
        self._meta_model_arg = self._init["meta_model"]
        self._started: float | None = None  # time.monotonic() of the first proposal
        self._model: MetaModel | None = None
        self._known: set[str] = set()  # the names of the meta-model's parameters
        # the meta-model's fixed candidates (MetaModel.candidates) and their config_keys
        self._candidates: tuple[list[dict[str, Any]], list[str]] | None = None
        self._disabled = False
        # (study name, params) of the source studies' best trials, tried first
        self._priority: list[tuple[str, dict[str, Any]]] = []
        self._families: list[str] | None = None  # read from a "space" parameter
        # space=None: the one shipped space holding what the first trials asked for
        # (_guess_space), served until a trial completes; then inferred as without it
        self._guess: str | None = None
        self._guessed = False  # the meta-model is the guess's
        # trial id -> (observation (kind, value, the claim it ran: _observation), the
        # config_key of its configuration) of a finished trial
        self._finished: dict[int, tuple[tuple[str, Any, Any] | None, str | None]] = {}
        # the distributions the finished trials asked for, with their branches
        # (_branches), the parameters claimed, those set by another sampler (_allowed)
        self._asked = _Folded()
        # trial id -> config_key of a finished trial's claim, or None (_claims)
        self._claim_keys: dict[int, str | None] = {}
        self._handed_off: set[int] = set()  # ids of trials given whole to the fallback
        self._run_here: set[int] = set()  # ids of trials this sampler started
        self._served: dict[int, set[str]] = {}  # trial id -> parameters served from its claim
        self._overlap_checked = False  # a completed trial used the meta-model's parameters
        self._foreign_warned = False  # warned that the objective sets none of them
        self._names_warned = False  # warned of a name like one it never asks for (_warn_names)
        self._unread_warned = False  # warned that the meta-model ignores the meta-features
        self._task_warned = False  # warned that the task was taken by default
        self._task_settled = False  # the task given, or read from a parameter of one task
        self._task_scan = 0  # the trials before it are finished and told no task (_match_task)
        # Optuna's one-study cache of the relative search space (a second study's trials
        # were read as new trials of the first one, or refused on an RDB storage)
        self._intersection = IntersectionSearchSpace(include_pruned=True)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_setup_lock"]  # locks do not pickle; fresh ones are right
        state["_bound"] = None  # a study holds a storage, which need not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock, self._setup_lock = threading.Lock(), threading.Lock()

    def _bind(self, study: Study) -> None:
        """Start afresh on a Study object other than the last one: trial ids restart in
        every storage, and a study deleted and created again (a notebook cell run again on
        an SQLite file; or another in-memory ``"sqlite://"`` database) has the same URL and
        id, so a sampler reused for a second study read the first one's trials from its
        cache (and its direction, its time-budget clock, its handed-off trials). The
        object is held, not its ``id()``, which is reused once a finished study is freed."""
        study = getattr(study, "_study", study)
        if study is self._bound:
            return
        with self._setup_lock:
            if study is self._bound:
                return
            if self._bound is not None and self._fallback_arg is None:
                self._fallback = self._default_fallback()  # grouped TPE: one study's too
            self._reset_study_state()
            self._bound = study

    def _default_fallback(self) -> BaseSampler:
        """Grouped multivariate TPE, new for each study (its search space is one study's)."""
        with warnings.catch_warnings():  # Optuna marks multivariate and group experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return TPESampler(multivariate=True, group=True, seed=self._seed)

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _as_meta_features(meta_features: pd.Series | Mapping[str, Any]) -> pd.Series:
        """``meta_features`` with every name of ``metafeatures.compute`` (a missing one is
        NaN, which the meta-model reads as unknown; its ranker refused the Series, and
        every trial after the warm start silently went to the fallback). Knowledge-base
        columns (``mf_*``, a ``PerformanceMatrix`` row) are read by their bare names, as
        the meta-model reads them."""
        if not isinstance(meta_features, (pd.Series, Mapping)):  # a dict: as the ranker's
            raise TypeError("meta_features must be a pandas Series (the output of "
                            "metaopt.metafeatures.compute) or a dict of its names, got "
                            f"{type(meta_features).__name__}")
        meta_features = as_metafeature_frame(meta_features).iloc[0]
        missing = [name for name in FEATURE_NAMES if name not in meta_features.index]
        if len(missing) == len(FEATURE_NAMES):
            warn("meta_features holds none of the names metaopt.metafeatures."
                 "compute gives: the warm start cannot use them")
        elif missing:
            warn(f"meta_features lacks {len(missing)} of the names metaopt."
                 f"metafeatures.compute gives ({', '.join(missing[:5])}"
                 f"{', ...' if len(missing) > 5 else ''}): the meta-model reads "
                 "them as unknown")
        return meta_features.reindex([*meta_features.index, *missing])

    @staticmethod
    def _as_dataset(dataset, task: str | None) -> Dataset | None:
        """``dataset`` as a Dataset of ``task`` (inferred from ``y`` when None)."""
        if dataset is None:
            return None
        if isinstance(dataset, Dataset):
            return as_dataset(dataset, task=task)
        if not isinstance(dataset, (tuple, list)) or len(dataset) != 2:  # [X, y] too
            raise ValueError(
                f"dataset must be (X, y) or a metaopt.data.Dataset, got {type(dataset).__name__}"
            )
        X, y = dataset
        return as_dataset(X, y, task=task)

    def _setup(self, study: Study) -> bool:
        """Load the meta-model for ``study`` once the space is known; False while it is not."""
        self._bind(study)
        if self._guessed:
            self._settle(study)
        return self._loaded(study)

    def _guess_space(self, study: Study, trial: FrozenTrial, name: str) -> bool:
        """With ``space=None``, before a trial has completed: guess the space once the
        parameters ``trial`` asked for, ``name`` last, fit one shipped space only (so
        its warm start serves the first trial). False when ``name`` takes the guessed
        space's trial elsewhere (``n_neighbors``, then ``C``): the trial's claim is
        withdrawn and the fallback sets the rest of it."""
        if self._init["space"] is not None or self._init["meta_model"] is not None \
                or self._families:
            return True
        if self._guessed:
            self._settle(study)
        if self._disabled or self._model is not None and not self._guessed:
            return True
        spaces = _spaces_asking([*trial.distributions, name])
        if self._model is None:
            if len(spaces) == 1:
                self._guess = spaces[0]
            return True
        # under the lock of the reloads (_settle, _match_task): the space is None while
        # one infers it, and another than the guess's once it has settled
        with self._lock:
            if not self._guessed or self._space_name in spaces:
                return True
            if study._storage.get_trial(trial._trial_id).system_attrs.get(_CLAIM) not in (
                    None, "null"):
                study._storage.set_trial_system_attr(trial._trial_id, _CLAIM, "null")
                study._storage.set_trial_system_attr(
                    trial._trial_id, _SOURCE, f"fallback: {name!r} is no parameter of the "
                    f"guessed space {self._space_name!r}")
        return False

    def _settle(self, study: Study) -> None:
        """Once a trial has completed, infer the space from the completed trials, as
        without a guess, and serve that space's meta-model from then on."""
        if not any(t.params for t in study.get_trials(deepcopy=False,
                                                       states=(TrialState.COMPLETE,))):
            return
        with self._lock, self._setup_lock:  # no proposal in between
            if not self._guessed:
                return
            self._guessed = False
            space = self._infer_space(study)
            if space in (None, self._space_name):  # (None: disabled, with a warning)
                return
            self._space_name, self._task = space, self._init["task"]
            self._task_settled, self._task_scan = False, 0
            self._finished.clear()
            self._asked.clear()
            self._candidates = None
            self._load(study)  # the guess's model serves other threads until replaced

    def _loaded(self, study: Study | None) -> bool:
        """Load the meta-model once the space is known (``study``: where to infer it)."""
        if self._model is not None or self._disabled:
            return not self._disabled
        with self._setup_lock:  # threads of one study: one setup, published whole
            if self._model is not None or self._disabled:
                return not self._disabled
            return self._load(study)

    def _load(self, study: Study | None) -> bool:
        if self._space_name is None and self._families:
            self._space_name = "+".join(self._families)
            if self._meta_model_arg is None:
                members = combine([get_space(f) for f in self._families])
                self._meta_model_arg = shipped_model_for(ALL, self._task).restrict(members)
            else:  # a combined model of the user's, as the shipped one (or refused)
                self._meta_model_arg = model_for_space(self._space_name, self._meta_model_arg)
        if self._space_name is None:
            self._space_name = None if study is None else self._infer_space(study)
            if self._space_name is None:
                return False
        model = self._meta_model_arg
        model = model if model is not None else shipped_model_for(self._space_name, self._task)
        if self._n_warmup is not None:  # on a copy: the MetaModel a caller passed stays as it was
            model = copy.copy(model)
            model.n_warmup = self._n_warmup
        if (self._meta_features is not None or self._dataset is not None) \
                and not self._unread_warned and not _reads_meta_features(model):
            self._unread_warned = True
            given = "dataset" if self._dataset is not None else "meta_features"
            warn(f"MetaSampler: the {self._space_name!r} meta-model was trained on datasets "
                 f"without meta-features (every one reads as 0): {given}= changes none of "
                 "its proposals")
        if self._meta_features is None and self._dataset is not None:
            from metaopt import metafeatures

            self._meta_features = metafeatures.compute_dataset(self._dataset)
            self._dataset = None
        if self._task is None:
            self._task = model.portfolio.task_types_[0]
            self._warn_default_task(model)
        self._priority = self._source_warm_starts(model)
        self._known = {p.name for p in model.space.params}
        self._model = model  # last: other threads use the sampler once this is set
        return True

    def _warn_default_task(self, model: MetaModel) -> None:
        """Warn, once, that the sampler took the task of its meta-model's first dataset,
        when nothing said which (no ``task``, ``dataset``, ``meta_features`` nor
        ``meta_model``) and the space has a shipped model of each task: a regression
        study of knn, mlp or the tree ensembles was served the classification model
        without a word."""
        if self._task_warned or self._init["meta_model"] is not None or self._space_name is None:
            return
        base = self._space_name if self._space_name in shipped_spaces() else ALL
        available = shipped_models()
        if not all(model_name(base, task) in available for task in TASK_TYPES):
            return
        self._task_warned = True
        other = next(task for task in TASK_TYPES if task != self._task)
        switch = sorted(p.name for p in (model.sampling_space or model.space).params
                        if p.tasks == (other,))
        how = (f"; an objective that asks for {switch[0]!r}, a parameter of {other} only, "
               f"switches it" if switch else "")
        warn(f"MetaSampler: no task given (task=, dataset= or meta_features=): the "
             f"{self._task} meta-model of space {self._space_name!r} serves this study"
             f"{how}. Pass task={other!r} for a {other} study, or task={self._task!r}")

    def _objective_uses_space(self, study: Study) -> bool:
        """False while the completed trials it proposed for set none of the meta-model's
        parameters, and no completed trial set one (with a warning, once): the objective
        tunes something else, and the trial goes to the fallback (labelled as its own,
        not as a portfolio pick). True for good once a completed trial sets one: a
        conditional objective (``suggest_categorical("classifier", ["svm", "knn"])``)
        whose first trial took the other branch gets the meta-model's proposals
        once a trial has taken its branch."""
        if self._overlap_checked:
            return True
        known = self._known
        proposed_for = None
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if not known.isdisjoint(t.params):
                self._overlap_checked = True
                return True
            # a trial this sampler proposed for (foreign or enqueued ones prove nothing)
            if proposed_for is None and t.params and _claim_of(t):
                proposed_for = t
        if proposed_for is None:
            return True
        if not self._foreign_warned:
            self._foreign_warned = True
            asked = set(proposed_for.params)
            # another shipped space's names ('C', 'kernel' for space='all': 'svm__C', ...)
            fits = [name for name, own in _shipped_names().items()
                    if name != ALL and asked <= own]
            hint = (f" (those of space {' or '.join(map(repr, fits[:3]))}: pass "
                    f"space={fits[0]!r})" if fits else "")
            warn(
                f"MetaSampler: the objective's parameters {sorted(asked)}{hint} are "
                f"none of space {self._space_name!r}'s {sorted(known)}; trials use the "
                "fallback sampler until one sets a parameter of the space (the meta-model "
                "knows parameters by these names only: metaopt.spaces.get_space("
                f"{self._space_name!r}).sample(trial, task) asks for them)")
        return False

    def _match_task(self, study: Study) -> None:
        """Without a task (no ``task``, ``dataset`` nor ``meta_features``) the sampler
        serves its meta-model's first, classification: once the objective asks for a
        parameter of the other task only (``epsilon`` of an SVR, ``alpha`` of a ridge),
        serve that task's meta-model instead, with a warning. A regression study got the
        classification warm start and ranker silently (its ``epsilon`` or ``alpha`` always
        the fallback's). Each call reads only the trials it has not yet seen finished (a
        suggestion stays O(1) here, at any number of trials).

        With a task (given, or read from ``dataset`` or ``meta_features``), a parameter
        of the other task only is named in a warning, once: it goes to the fallback, as
        the meta-model of the task served does not know it (a regression dataset whose
        ``y`` of few whole values read as classes served the classification meta-model,
        and its ``epsilon`` or ``alpha`` were the fallback's, silently)."""
        if self._task_settled:
            return
        exclusive = {p.name: p.tasks[0] for p in self._active.space.params if len(p.tasks) == 1}
        if not exclusive:  # (random forests: nothing tells the tasks apart)
            self._task_settled = True
            return
        trials = study.get_trials(deepcopy=False)
        for i in range(self._task_scan, len(trials)):
            t = trials[i]
            asked = [n for n in t.distributions if n in exclusive]
            if not asked:
                if i == self._task_scan and t.state.is_finished():  # it asks for no more
                    self._task_scan += 1
                continue
            self._task_settled = True
            task = exclusive[asked[0]]
            if task == self._task:
                return
            if self._init["task"] is not None:
                warn(f"MetaSampler: the objective asks for {asked[0]!r}, a parameter of "
                     f"{task} only, but the sampler serves the {self._task} meta-model "
                     f"(task from {self._init['task_from']}), which does not know it: "
                     f"{asked[0]!r} goes to the fallback. Pass task={task!r} to "
                     f"MetaSampler for a {task} study")
                return
            given = self._init["meta_model"]
            try:
                if given is not None:
                    given.check_task(task, "the sampler's meta_model")
            except ValueError as error:
                warn(f"MetaSampler: the objective asks for {asked[0]!r}, a "
                     f"parameter of {task}, but {error}")
                return
            warn(f"MetaSampler: the objective asks for {asked[0]!r}, a parameter "
                 f"of {task}: the sampler serves the {task} meta-model from now on "
                 f"(pass task={task!r} to start with it)")
            with self._setup_lock:  # the old model serves other threads until replaced
                self._task = task
                self._meta_model_arg = given
                if self._init["space"] is None:
                    self._space_name = None  # inferred again (the families' model, of task)
                self._finished.clear()  # observations read with the other task's defaults
                self._asked.clear()
                self._candidates = None
                self._load(study)
            return

    def _infer_space(self, study: Study) -> str | None:
        names = set()
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            names |= set(t.params)
        if not names:  # the guess, read once: another thread's claim may set it
            guess = self._guess
            self._guessed = guess is not None
            return guess
        overlap = {s: len(names & own) for s, own in _shipped_names().items()}
        best = max(overlap, key=overlap.__getitem__, default=None)
        if best is None or overlap[best] == 0:
            warn(
                f"MetaSampler: the study's parameters {sorted(names)} match no shipped "
                f"meta-model {shipped_spaces()}; every trial uses the fallback sampler (a "
                "meta-model knows parameters by its space's names only: metaopt.spaces."
                "get_space(name).sample(trial, task) asks for them)")
            self._disabled = True
            return None
        tied = sorted(s for s, n in overlap.items() if n == overlap[best])
        if len(tied) > 1:  # e.g. extra_trees and random_forest share every parameter
            warn(f"MetaSampler: the study's parameters match the shipped meta-models "
                 f"{tied} equally; using {best!r}: pass space= to choose")
        if best == ALL:  # the model families this study chooses among
            families = _study_families(study)
            return "+".join(families) if families else ALL
        return best

    def _source_warm_starts(self, model: MetaModel) -> list[tuple[str, dict[str, Any]]]:
        """Name and best configuration of each source study (as the space knows it,
        restricted to the families the model samples from), in their order."""
        found = []
        for source in self._source_studies:
            try:
                best = source.best_trial
            except ValueError:  # no completed trial (a mistyped name loads an empty study)
                warn(f"MetaSampler: source study {source.study_name!r} has no "
                     "completed trial: nothing of it is tried")
                continue
            params = self._as_config(best.params, model.sampling_space or model.space)
            # another space's study, its parameters renamed, or of a family left out of
            # a combination ("svm" for "knn+linear": claimed, it ran the fallback's values)
            if params is None:
                warn(f"MetaSampler: the best trial of source study "
                     f"{source.study_name!r} ({best.params}) is no configuration of "
                     f"space {self._space_name!r}: it is not tried")
            else:
                found.append((source.study_name, params))
        return found

    def _in_space(self, trial_params: dict[str, Any]) -> dict[str, Any]:
        """The parameters whose values the model's space can take (a fallback's value
        outside it made a claimed trial unreadable: neither observed nor taken)."""
        own = {p.name: p.distribution for p in self._active.space.params}
        return {n: v for n, v in trial_params.items() if n not in own or _contains(own[n], v)}

    def _as_config(self, trial_params: dict[str, Any],
                   space: SearchSpace | None = None) -> dict[str, Any] | None:
        """A trial's parameters as a complete configuration of ``space`` (default: the
        model's; missing ones at their defaults), or None when the space cannot encode it
        or the trial set none of its parameters (a foreign trial is not "the default
        configuration")."""
        space = space or self._active.space
        known = {p.name for p in space.params}
        own = {k: v for k, v in trial_params.items() if k in known}
        if not own:
            return None
        params = space.active({**space.default(self._active_task), **own})
        try:
            space.encode(params)
        except ValueError:
            return None
        return params

    # ------------------------------------------------------------------ choosing
    def _observed(self, study: Study) -> tuple[list, list]:
        """(params, score) of finished trials (higher = better) and configs claimed. Under
        the lock the reloads of the meta-model hold (:meth:`_settle`, :meth:`_match_task`):
        read meanwhile, the trials were read with no task, or the old model kept in
        ``_finished``."""
        with self._lock:
            observed, claimed, *_ = self._history(study)
        return observed, claimed

    def _history(self, study: Study, skip: int | None = None,
                 ) -> tuple[list, list, list, list, set[str], list[str]]:
        """:meth:`_observed` (without trial id ``skip``: the trial being chosen for), the
        (params, seconds) of the completed trials, the claims the trials ran as another
        configuration, as (claim, names: :meth:`_observation`), and the keys
        (:func:`config_key`) of the observed configurations (a set) and of the claimed
        ones (in their order): a finished trial's is computed once."""
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        observed: list[Any]
        claimed: list[Any]
        infeasible: list[Any]
        ran: list[Any]
        observed, claimed, timed, infeasible, ran = [], [], [], [], []
        observed_keys: set[str] = set()
        claimed_keys: list[str] = []
        for t in study.get_trials(deepcopy=False):
            if t._trial_id == skip:
                continue
            if t.state.is_finished() and t._trial_id in self._finished:
                entry, key = self._finished[t._trial_id]  # a finished trial never changes
            else:
                entry = self._observation(t, sign)
                key = None if entry is None else config_key(
                    entry[1] if entry[0] == "claimed" else entry[1][0])
                if t.state.is_finished():
                    self._finished[t._trial_id] = entry, key
            if entry is None or key is None:
                continue
            kind, value, ran_as = entry
            {"observed": observed, "infeasible": infeasible}.get(kind, claimed).append(value)
            if kind == "claimed":
                claimed_keys.append(key)
            else:
                observed_keys.add(key)
            if ran_as is not None:
                ran.append(ran_as)
            if kind != "claimed" and t.state == TrialState.COMPLETE and t.datetime_complete:
                # (optuna sets datetime_start on every trial but a waiting one)
                timed.append((value[0], (t.datetime_complete  # type: ignore[operator]
                                         - t.datetime_start).total_seconds()))
        # an infeasible trial scores below every trial by their range (before any
        # feasible one, by how far from feasible it is): its value is no result to keep
        if infeasible and observed:
            scores = [score for _, score in observed] + [score for _, score, _ in infeasible]
            below = min(scores) - (max(scores) - min(scores) or 1.0)
            observed += [(config, below) for config, _, _ in infeasible]
        else:
            observed += [(config, -violation) for config, _, violation in infeasible]
        return observed, claimed, timed, ran, observed_keys, claimed_keys

    def _observation(self, t: FrozenTrial, sign: float) -> tuple[str, Any, Any] | None:
        """(kind, value, ran) of a trial: observed (config, score), infeasible (config,
        score, violation) or claimed (config), or None (nothing to learn or take). ``ran``
        is None, or (claim, names) when the trial took its claim but the configuration
        it is read as differs: the objective set a parameter of the claim itself (the
        svm's kernel), or the fallback set one the claim lacks (``gamma`` beside a linear
        claim). Proposed again, such a claim would run as the trial did. ``names``: the
        parameters asked before the first of the claim's, which a guess's claim
        (``_guess_space``) leaves to the fallback: with other values there, the
        configuration it was chosen as ran too."""
        entry = self._read(t, sign)
        claim = _claim_of(t)
        if entry is None or claim is None or not claim.keys() <= self._known:
            return None if entry is None else (*entry, None)
        kind, value = entry
        config = value if kind == "claimed" else value[0]
        if config == claim:
            return kind, value, None
        asked = list(t.distributions)
        first = next((i for i, name in enumerate(asked) if name in claim), len(asked))
        return kind, value, (claim, frozenset(self._known.intersection(asked[:first])))

    def _read(self, t: FrozenTrial, sign: float) -> tuple[str, Any] | None:
        params = _claim_of(t)
        value = None
        if t.state == TrialState.COMPLETE:
            value = t.value
        elif t.state == TrialState.PRUNED and t.intermediate_values:
            # its last reported value, at the fidelity where it was stopped
            value = t.intermediate_values[max(t.intermediate_values)]
        score = None if value is None or np.isnan(value) else sign * value  # higher = better
        if self._released(t):
            return None
        if params is not None and self._unread(t):
            return None
        if score is not None and self._worst_value is not None:
            score = max(score, sign * self._worst_value)  # a diverged fit's -inf too
        if score is not None and np.isfinite(score):
            # what the objective used (the whole trial when another sampler or
            # enqueue_trial produced it); the claim's value where the space cannot take
            # it; the space's default for a parameter never asked for, which the
            # objective set itself (the claim's value never ran)
            ran = t.params if params is None else {
                **{n: v for n, v in params.items() if n in t.params}, **self._in_space(t.params)}
            config = self._as_config(ran)
            if config is None:
                return None
            violation = _violation(t)
            return ("infeasible", (config, score, violation)) if violation \
                else ("observed", (config, score))
        if params is not None and not params.keys() <= self._known:
            # the claim of a guess another space replaced (_settle), of a trial running
            # meanwhile: no configuration of this space, the trial is read as unclaimed
            params = None
        if params is not None and (self._known & t.params.keys()) - params.keys():
            # a guess's claim (_guess_space) holds what the trial had not asked for yet:
            # taken whole, with the fallback's values asked for before it
            params = self._as_config({**self._in_space(t.params), **params})
        elif params is None and t.state.is_finished():
            # enqueued, added or another sampler's: a failed one must not be proposed again
            params = self._as_config(t.params)
        elif params is None and (fixed := t.system_attrs.get("fixed_params")):
            # enqueued, waiting or running: taken once known whole (a parallel worker ran
            # it a second time); what it leaves open, the fallback sets as it runs
            given = {**fixed, **t.params}
            config = self._as_config(given)
            params = config if config is not None and set(config) <= set(given) else None
        if params is not None:  # running, waiting, failed, not finite: taken, not informative
            return "claimed", params
        return None

    def _config_for(self, study: Study, trial: FrozenTrial) -> dict[str, Any] | None:
        if trial.system_attrs.get("fixed_params"):
            # enqueued by the user: not claimed; what it leaves open goes to the fallback
            return None
        # Optuna's HyperbandPruner shows samplers only the trials of one bracket; the
        # ranker learns from all of them, and claims must be unique across the study
        study = getattr(study, "_study", study) if hasattr(study, "_bracket_id") else study
        raw = trial.system_attrs.get(_CLAIM)
        if raw is not None:
            return json.loads(raw)
        if (trial._trial_id in self._handed_off or not self._setup(study)
                or not self._objective_uses_space(study)):
            return None
        with self._lock:
            stored = study._storage.get_trial(trial._trial_id).system_attrs.get(_CLAIM)
            if stored is not None:
                return json.loads(stored)
            self._match_task(study)
            lost: list[tuple[dict[str, Any], str]] = []
            for _ in range(_CLAIM_ATTEMPTS):
                chosen, reason = self._choose(study, trial, lost)
                if chosen is None:
                    if lost:  # withdraw the claim it lost (else served, and taken)
                        study._storage.set_trial_system_attr(trial._trial_id, _CLAIM, "null")
                        reason = reason or "fallback: handed off after a lost clash"
                    if reason:
                        study._storage.set_trial_system_attr(trial._trial_id, _SOURCE, reason)
                    return None
                # a guess (_guess_space) comes after the fallback set what the trial
                # asked for before it: the claim is the rest
                params = {n: v for n, v in chosen.items()
                          if not self._guessed or n not in trial.distributions}
                self._claim(study, trial, params, reason)
                # another process may have claimed the same configuration meanwhile:
                # whoever sees the clash after writing moves on (never both keep it)
                if not self._clashes(study, trial, params):
                    return params
                lost.append((chosen, reason))
                # workers with the same seed choose alike and would clash again in
                # lockstep: an unseeded pause of up to 50 ms breaks the symmetry
                time.sleep(random.SystemRandom().uniform(0.0, 0.05))
            # persistent clashes: withdraw the last claim (its values would otherwise mix
            # with the fallback's) and let the fallback explore
            study._storage.set_trial_system_attr(trial._trial_id, _CLAIM, "null")
            study._storage.set_trial_system_attr(trial._trial_id, _SOURCE,
                                                 f"fallback: {_CLAIM_ATTEMPTS} claims clashed")
            return None

    def _time_left(self) -> float | None:
        """Seconds of ``time_budget`` left (0 once it is overrun), or None."""
        if self._time_budget is None:
            return None
        if self._started is None:
            self._started = time.monotonic()
        return max(self._time_budget - (time.monotonic() - self._started), 0.0)

    def _allowed(self, study: Study, taken: list[dict[str, Any]]):
        """What the study's trials say a new configuration must be, as a
        predicate (None: anything): inside the distributions the objective asks for
        where they are narrower than the meta-model's space (in its branch, when they
        depend on choices asked before them), and not the same, on the
        parameters it asks for and rounded to their steps, as one of ``taken`` (a
        parameter it was offered but never asked for, it sets itself, and one a wrapping
        sampler fixed, that sampler sets: configurations differing only there are one)."""
        model = self._active
        space = model.sampling_space or model.space
        own = {p.name: p.distribution for p in space.params}
        folded = self._asked
        running = []  # (asked in a batch, another worker's)
        trials = study.get_trials(deepcopy=False)
        for i in range(folded.scan, len(trials)):
            t = trials[i]
            if not t.state.is_finished():
                running.append(t)
                continue
            if t._trial_id not in folded.ids:  # a finished trial never changes
                # (a trial another process sampled for: not known to be overridden)
                served = self._served.pop(t._trial_id, None)
                folded.fixed.update(() if served is None else _overridden(t, served))
                folded.offered.update(_offered(t, own))
                folded.add(folded.asked, t.number, _branches(t))
                folded.ids.add(t._trial_id)
            if i == folded.scan:  # (none running before it)
                folded.scan += 1
        by_number = folded.asked
        if running:  # the running trials' distributions, in the trials' order too
            by_number = {name: dict(by_branch) for name, by_branch in by_number.items()}
            for t in running:
                folded.add(by_number, t.number, _branches(t))
        # name -> branch -> asked
        asked: dict[str, dict[tuple, BaseDistribution]] = folded.in_order(by_number)
        offered, fixed = set(folded.offered), set(folded.fixed)
        if not self._names_warned and offered - set(asked):
            self._warn_names(offered - set(asked), set(asked) - own.keys())
        # a range or choices sharing no value with the space's (None): the fallback's
        narrowed = {n: {b: d if _overlaps(d, own[n]) else None for b, d in by_branch.items()}
                    for n, by_branch in asked.items()
                    if n in own and any(d != own[n] for d in by_branch.values())}
        for name, value in self._pinned(study).items():
            if name in own and isinstance(own[name], CategoricalDistribution) \
                    and _contains(own[name], value):  # its conditional parameters follow
                narrowed[name] = {(): CategoricalDistribution([value])}
                fixed.discard(name)
            else:  # a number: configurations differing only there run as one
                fixed.add(name)
        unused = (offered - set(asked)) | fixed
        if not narrowed and not unused:
            return None

        def used(params: dict[str, Any], inside: bool) -> str | None:
            """The key of the configuration as the objective takes it (rounded to its
            steps, without the parameters it sets itself); None when ``inside`` and a
            value is outside the objective's distributions (kept as it is otherwise)."""
            taken_as = {}
            for name, value in params.items():
                if name in unused:
                    continue
                fits = _fits(narrowed[name], params, value) if name in narrowed else [value]
                if fits is None:  # the fallback's in this branch
                    continue
                if not fits:
                    if inside:
                        return None
                    fits = [value]
                taken_as[name] = fits[0]
            return config_key(taken_as)

        # computed once per configuration while narrowed and unused stay as they are (a
        # trial asking a new distribution, a new pin: all again); repr tells 1 from True
        rule = repr((narrowed, sorted(unused)))
        kept = folded.keys if folded.rule == rule else {}
        keys: dict[int, tuple[dict[str, Any], str | None]] = {}
        for p in taken:
            seen = kept.get(id(p))
            keys[id(p)] = seen if seen is not None and seen[0] is p \
                else (p, used(p, inside=False))
        folded.rule, folded.keys = rule, keys  # (the dicts no longer taken are let go)
        copies = {key for _, key in keys.values()}
        return lambda params: (key := used(params, inside=True)) is not None and key not in copies

    def _warn_names(self, never: set[str], unknown: set[str]) -> None:
        """Warn, once, when one of ``unknown`` (the objective's names the space does not
        have) looks like one of ``never`` (the space's parameters the claims held and no
        trial asked for): ``c`` for ``C``, ``n_neighbours``, ``svc_C``. Its values were
        the fallback's and the meta-model read the space's parameter at its default,
        under labels of portfolio picks, without a word. (A parameter the objective sets
        itself, with no look-alike, is documented and not warned about: MetaMLP's search
        never asks for ``max_epochs``.)"""
        lowered = {n.lower(): n for n in never}

        def like(name: str) -> str | None:
            key = name.lower()
            near = [n for low, n in lowered.items() if key == low or key.endswith("_" + low)]
            near = near or [lowered[low] for low in difflib.get_close_matches(
                key, list(lowered), n=1, cutoff=0.8)]
            return near[0] if near else None

        typos = {name: match for name in sorted(unknown) if (match := like(name))}
        if not typos:
            return
        self._names_warned = True
        space = self._space_name
        defaults = self._active.space.default(self._active_task)
        parts = [f"the objective asks for {name!r}, which space {space!r} does not have, "
                 f"and never for its {match!r} (a typo?): {name!r} goes to the fallback, "
                 f"and the meta-model reads {match!r} as set by the objective itself, at "
                 f"the space's default {defaults.get(match)!r}"
                 for name, match in typos.items()]
        how = (f" (metaopt.spaces.get_space({space!r}).sample(trial, task) asks for each)"
               if space is not None and (space == ALL or all(
                   f in list_spaces() for f in space.split("+"))) else "")
        warn(f"MetaSampler: {'; '.join(parts)}. Ask for the parameters by the space's "
             f"names{how}")

    def _pinned(self, study: Study) -> dict[str, Any]:
        """The values the ``PartialFixedSampler``s wrapping this sampler set (read from the
        study's sampler: Optuna gives the wrapped sampler no other sign of them); of
        nested ones, the outer wins a name both fix, as it answers first."""
        pinned: dict[str, Any] = {}
        sampler = study.sampler
        while isinstance(sampler, PartialFixedSampler):
            pinned = {**sampler._fixed_params, **pinned}
            sampler = sampler._base_sampler
        return pinned if sampler is self else {}

    def _choose(self, study: Study, trial: FrozenTrial,
                lost: list) -> tuple[dict[str, Any] | None, str]:
        observed, claimed, timed, ran, observed_keys, claimed_keys = self._history(
            study, skip=trial._trial_id)
        # the claims of other threads since the trial started (infer_relative_search_space)
        if self._active.hands_off(len(observed) + len(claimed)):
            self._handed_off.add(trial._trial_id)
            return None, ""
        # the configurations this trial lost in clashes count for no one, not even for
        # the other trial of the clash, which may be moving on too: counted, they used up
        # the warm start though nobody ran them (two workers: a portfolio pick never run,
        # a proposal of the ranker on 0 evaluations). One is not proposed again while
        # another trial's claim holds it; once every trial of the clash left it, it is
        # free again (never proposed again, it was skipped when both moved on)
        lost_keys = {config_key(p) for p, _ in lost}
        # a claim a trial ran as another configuration is taken too (as the objective
        # takes it), without counting twice: proposed again, it ran as that trial did,
        # and only the clash check caught it (an attempt lost, a pause)
        own_allowed = self._not_ran(ran, self._allowed(
            study, [p for p, _ in observed] + claimed + [c for c, _ in ran]))
        held: set[str] = set()
        if lost:  # (the claims as _clashes reads them: a finished trial's too)
            held = self._claims(study, trial) | set(claimed_keys)
            for params, reason in lost:  # left by every trial of the clash: retaken
                key = config_key(params)
                if (key not in held and key not in observed_keys
                        and (own_allowed is None or own_allowed(params))):
                    return params, reason
            held &= lost_keys
        kept = [(p, k) for p, k in zip(claimed, claimed_keys, strict=True)
                if k not in lost_keys]
        claimed = [p for p, _ in kept]
        allowed = own_allowed if not held else (
            lambda params: config_key(params) not in held
            and (own_allowed is None or own_allowed(params)))
        taken = observed_keys | {k for _, k in kept}  # propose's too (taken_keys)
        if self._priority:  # source studies' best trials first, those not taken yet
            priority = [p for _, p in self._priority if config_key(p) not in taken
                        and (allowed is None or allowed(p))]
            if priority:
                return priority[0], "best trial of a source study"
        # distinct configurations: a clash between workers, a retried trial or a duplicate
        # claim must not use up the warm start
        n_seen = len(taken)
        model, task = self._active, self._active_task
        if self._candidates is None:
            fixed = model.candidates(task, seed=self._seed)
            self._candidates = fixed, [config_key(c) for c in fixed]
        fixed, fixed_keys = self._candidates
        # (in the warm start, the ranker's candidates once no portfolio pick is left)
        candidates = model.refined(task, fixed, observed, n_seen, seed=self._seed)
        # refined: the fixed candidates first, then the neighbours of this proposal
        keys = fixed_keys + [config_key(c) for c in candidates[len(fixed):]]
        try:
            proposal = model.propose(self._meta_features, observed,
                                     candidates=candidates, exclude=claimed,
                                     seed=self._seed, time_left=self._time_left(),
                                     timed=timed, allowed=allowed, taken_keys=taken,
                                     candidate_keys=keys)
        except CandidatesExhausted:  # let the fallback explore (labelled: it was unlabelled)
            return None, ("fallback: every configuration of the meta-model's candidates "
                          "that the objective can take is evaluated or claimed")
        return proposal.params, proposal.reason

    @staticmethod
    def _not_ran(ran: list[tuple[dict[str, Any], frozenset[str]]], allowed):
        """``allowed`` (None: anything) without the claims of ``ran`` (:meth:`_observation`):
        the configurations that are one, but for its names (a guess's first parameters,
        the fallback's)."""
        if not ran:
            return allowed
        ran_keys: dict[frozenset[str], set[str]] = {}
        for claim, names in ran:
            ran_keys.setdefault(names, set()).add(config_key(claim))

        def fresh(params: dict[str, Any]) -> bool:
            return all(config_key({n: v for n, v in params.items() if n not in names})
                       not in keys for names, keys in ran_keys.items()) and (
                allowed is None or allowed(params))
        return fresh

    def _released(self, t: FrozenTrial) -> bool:
        """Whether trial ``t`` was stopped from outside, without a score, in an earlier
        run (:func:`mark_interrupted`): its configuration is free to be tried again. In
        the run that stopped it, it stays taken."""
        mark = t.system_attrs.get(_INTERRUPTED)
        return (isinstance(mark, dict) and mark.get("trial") == t.number
                and t._trial_id not in self._run_here
                and (t.state == TrialState.FAIL
                     or t.state == TrialState.PRUNED and not t.intermediate_values))

    def _unread(self, t: FrozenTrial) -> bool:
        """Whether trial ``t`` finished without setting any of the space's parameters (a
        conditional objective's other branch, a failure before its first suggestion): its
        claim never ran, so it is neither scored (its value went to the claim) nor taken."""
        return t.state.is_finished() and self._known.isdisjoint(t.params)

    def _claims(self, study: Study, trial: FrozenTrial) -> set[str]:
        """The keys of the configurations the other trials claim (a released or unread
        trial's claim holds none)."""
        return {key for other in study.get_trials(deepcopy=False)
                if other._trial_id != trial._trial_id and (key := self._claim_key(other))
                and not self._released(other) and not self._unread(other)}

    def _claim_key(self, t: FrozenTrial) -> str | None:
        """The :func:`config_key` of trial ``t``'s claim (None: it has none), kept once
        ``t`` is finished (its claim no longer changes)."""
        if t._trial_id in self._claim_keys:
            return self._claim_keys[t._trial_id]
        claim = _claim_of(t)
        key = config_key(claim) if claim else None
        if t.state.is_finished():
            self._claim_keys[t._trial_id] = key
        return key

    def _clashes(self, study: Study, trial: FrozenTrial, params: dict[str, Any]) -> bool:
        return config_key(params) in self._claims(study, trial)

    @staticmethod
    def _claim(study: Study, trial: FrozenTrial, params: dict, reason: str) -> dict[str, Any]:
        study._storage.set_trial_system_attr(trial._trial_id, _CLAIM,
                                             json.dumps(params, default=python_value))
        study._storage.set_trial_system_attr(trial._trial_id, _SOURCE, reason)
        return params

    # ------------------------------------------------------------------ BaseSampler
    def reseed_rng(self) -> None:
        self._fallback.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if study._is_multi_objective():
            raise ValueError(
                f"MetaSampler cannot be used for a multi-objective study "
                f"({len(study.directions)} directions): its meta-models rank configurations "
                "by one score. Use a sampler of several objectives (optuna.samplers."
                "TPESampler or NSGAIISampler), or optimize one objective (a single "
                "direction=), with the others in trial.set_user_attr")
        self._bind(study)
        if self._hands_off(study):
            self._handed_off.add(trial._trial_id)
            return self._fallback.infer_relative_search_space(study, trial)
        return {n: d for n, d in self._intersection.calculate(study).items() if not d.single()}

    def _hands_off(self, study: Study) -> bool:
        """Whether the next trial goes whole to the fallback (``handoff_after``)."""
        if not self._setup(study) or not self._active.handoff_after:
            return False
        observed, claimed = self._observed(study)
        return self._active.hands_off(len(observed) + len(claimed))

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if trial._trial_id in self._handed_off:
            return self._fallback.sample_relative(study, trial, search_space)
        if not search_space:
            return {}
        config = self._config_for(study, trial) or {}
        fitted = {n: _fitted(d, config[n]) for n, d in search_space.items() if n in config}
        out = {n: v for n, v in fitted.items() if v is not _OUTSIDE}
        self._served.setdefault(trial._trial_id, set()).update(out)
        rest = {n: d for n, d in search_space.items() if n not in out}
        if rest:
            # a stateful fallback (grouped TPE) infers its own space first, then samples
            # its groups: keep only what is left
            relative = self._fallback.infer_relative_search_space(study, trial)
            out.update({n: v for n, v in self._fallback.sample_relative(study, trial, rest).items()
                        if n in rest})
            # one that samples nothing relatively (BruteForceSampler, RandomSampler) takes
            # each parameter as the objective asks for it, after the ones asked before:
            # BruteForceSampler's grid is a tree in that order
            for name, dist in rest.items() if relative else ():
                if name not in out:
                    out[name] = self._fallback.sample_independent(study, trial, name, dist)
        return out

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._bind(study)
        if (self._space_name is None and param_name == FAMILY
                and isinstance(param_distribution, CategoricalDistribution)):
            choices = [str(c) for c in param_distribution.choices]
            if set(choices) <= set(list_spaces()):  # the model families of a combination
                self._families = choices
        if not self._guess_space(study, trial, param_name):
            return self._fallback.sample_independent(study, trial, param_name,
                                                     param_distribution)
        config = self._config_for(study, trial) or {}
        value = _fitted(param_distribution, config[param_name]) if param_name in config \
            else _OUTSIDE
        if value is not _OUTSIDE:
            self._served.setdefault(trial._trial_id, set()).add(param_name)
            return value
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._bind(study)
        self._run_here.add(trial._trial_id)
        self._fallback.before_trial(study, trial)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        source = trial.system_attrs.get(_SOURCE)
        if source and _claim_of(trial) and self._known and self._known.isdisjoint(trial.params):
            # another branch of a conditional objective: the label said it ran the claim
            study._storage.set_trial_system_attr(
                trial._trial_id, _SOURCE, f"not run (the trial set none of the space's "
                f"parameters): {source}")
        self._fallback.after_trial(study, trial, state, values)

    def _adapts_next(self, study: Study) -> bool:
        """Whether the next proposal for ``study`` adapts the ranker (its warm start is
        over: :meth:`MetaModel.adapts`); False while the space is not known. For the
        estimators' time budget."""
        return self._setup(study) and self._active.adapts(*self._observed(study))

    @property
    def _active(self) -> MetaModel:
        """The meta-model serving the study, once :meth:`_setup` has loaded it."""
        if self._model is None:
            raise RuntimeError("MetaSampler: no meta-model is loaded yet")
        return self._model

    @property
    def _active_task(self) -> str:
        """The task the meta-model serves, known once :meth:`_load` has run."""
        if self._task is None:
            raise RuntimeError("MetaSampler: no meta-model is loaded yet")
        return self._task

    @property
    def meta_model(self) -> MetaModel | None:
        """The meta-model in use (``None`` until the space is known: with ``space=None``
        and no ``meta_model``, from the study's parameters)."""
        if self._model is None and (self._space_name is not None or self._families):
            self._loaded(None)  # as warm_start: else None until the first proposal
        return self._model

    def warm_start(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` configurations the sampler tries: the best trial of each of
        ``source_studies`` (a configuration once), then the meta-model's portfolio picks
        (those that are no source study's best), with why each is tried; a study's own
        trials are not looked at. Fewer when the portfolio holds fewer.

        Parameters
        ----------
        n : int, default=5
            Number of picks.

        Returns
        -------
        pandas.DataFrame
            As :meth:`metaopt.ranker.Portfolio.suggest` (``config_id``, ``params``,
            ``expected_regret``, ``mean_regret``, ``best_on``: None, NaN, NaN and ``[]``
            for a source study's best), and ``reason``: "best trial of source study
            '<name>'" or "portfolio pick k".
        """
        n = check_int(n, "n")
        if self._space_name is None:
            raise ValueError("warm_start needs space= (or a study to infer it from)")
        # not bound to a study of its own: the study being run would start afresh after it
        self._loaded(None)
        sources: dict[str, tuple[dict[str, Any], str]] = {}
        for study_name, params in self._priority:
            sources.setdefault(config_key(params), (params, study_name))
        picks = self._active.portfolio.suggest(n + len(sources), self._meta_features)
        picks["reason"] = [f"portfolio pick {k}" for k in range(1, len(picks) + 1)]
        picks = picks[[config_key(p) not in sources for p in picks["params"]]]
        first = pd.DataFrame([{"config_id": None, "params": params, "expected_regret": np.nan,
                               "mean_regret": np.nan, "best_on": [],
                               "reason": f"best trial of source study {name!r}"}
                              for params, name in sources.values()], columns=picks.columns)
        rows = pd.concat([first, picks], ignore_index=True) if len(first) else picks
        return rows.head(n).reset_index(drop=True)


