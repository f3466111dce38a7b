"""Search spaces of external meta-datasets and of users' Optuna studies: distributions
and encoding, no model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from optuna.distributions import CategoricalDistribution

from metaopt.data import TASK_TYPES
from metaopt.kb._store import as_distributions
from metaopt.spaces import Param, SearchSpace
from metaopt.spaces._base import Distribution, _choice_key


def external_space(
    name: str, params: tuple[Param, ...], tasks: tuple[str, ...], description: str
) -> SearchSpace:
    """A :class:`~metaopt.spaces.SearchSpace` whose evaluations come from elsewhere.

    It has the same ``distributions`` / ``default`` / ``sample`` / ``encode`` contract
    as the metaopt spaces; ``build`` raises ``ValueError`` (there is no estimator).
    """
    # a partial of a module-level function: the space (and a MetaSampler, or a fitted
    # estimator, holding its meta-model) pickles
    return SearchSpace(name=name, params=params, build_model=partial(_no_model, name),
                       tasks=tasks, description=description)


def _no_model(name: str, params: dict[str, Any], task: str, random_state: int | None):
    raise ValueError(
        f"search space {name!r} describes an external meta-dataset: its evaluations are "
        "precomputed or surrogate-predicted, there is no estimator to build"
    )


def parents_first(params: Iterable[Param], *, by_name: bool = False) -> tuple[Param, ...]:
    """``params`` (sorted by name with ``by_name``), each conditional one moved after its
    parent. A saved model's JSON sorts the names: ``by_name`` is the order a space of
    one's own is restored in, and trained in, so that both encode a configuration alike."""
    params = sorted(params, key=lambda p: p.name) if by_name else list(params)
    named = {p.name: p for p in params}
    order: dict[str, Param] = {}

    def add(param: Param) -> None:
        if param.name not in order:
            if param.condition is not None:
                add(named[param.condition[0]])
            order[param.name] = param

    for param in params:
        add(param)
    return tuple(order.values())


def first_value(dist: Distribution) -> Any:
    """A distribution's first choice or its low end (the default of a restored parameter)."""
    return dist.choices[0] if isinstance(dist, CategoricalDistribution) else dist.low


def custom_space(name: str, distributions: Mapping[str, Mapping[str, Any]],
                 configs: Iterable[Mapping[str, Any]]) -> SearchSpace:
    """The space of a user's own parameters (imported Optuna studies): their stored
    distributions (JSON, as ``optuna.distributions.distribution_to_json``); a parameter
    missing from some of ``configs`` (the successful ones) is conditional on the earlier
    categorical parameter whose values tell when it is set (ValueError if none does)."""
    dists = as_distributions(distributions)
    configs = list(configs)
    counts = {k: sum(k in c for c in configs) for k in dists}
    params: list[Param] = []
    for k in sorted(dists, key=lambda k: -counts[k]):  # a parent is set at least as often
        condition = None if counts[k] == len(configs) else _condition(name, k, params, configs)
        params.append(Param(k, dists[k], first_value(dists[k]), condition=condition))
    return external_space(name, parents_first(params, by_name=True), TASK_TYPES,
                          "the parameters of imported Optuna studies")


def _condition(space: str, name: str, earlier: list[Param],
               configs: list[Mapping[str, Any]]) -> tuple[str, tuple[Any, ...]]:
    """``(parent, values)``: the first categorical parameter of ``earlier`` that is set
    wherever ``name`` is and whose values with ``name`` never occur without it."""
    having = [c for c in configs if name in c]
    for parent in earlier:
        if not isinstance(parent.distribution, CategoricalDistribution) or any(
                parent.name not in c for c in having):
            continue
        on = {_choice_key(c[parent.name]) for c in having}
        off = {_choice_key(c[parent.name]) for c in configs
               if parent.name in c and name not in c}
        if not on & off:
            return parent.name, tuple(v for v in parent.distribution.choices
                                      if _choice_key(v) in on)
    raise ValueError(
        f"space {space!r}: parameter {name!r} is set in {len(having)} of {len(configs)} "
        "successful evaluations, and no categorical parameter's value tells when: a "
        "parameter that some trials leave out must depend on a categorical one "
        "(`if trial.suggest_categorical(...) == ...`)")
