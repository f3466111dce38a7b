"""Find the search space a meta-model was trained on, by name or from its saved JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

from metaopt.data import TASK_TYPES
from metaopt.spaces import CombinedSpace, Param, SearchSpace, combine, get_space, list_spaces
from metaopt.spaces._combined import FAMILY, SEP


def _known_spaces() -> dict[str, SearchSpace]:
    from metaopt.kb import TABREPO_SPACE

    spaces = {name: get_space(name) for name in list_spaces()}
    spaces[TABREPO_SPACE.name] = TABREPO_SPACE
    return spaces


def space_from_json(data: dict[str, Any],
                    description: str = "restored from a saved model") -> SearchSpace:
    """Rebuild an (external, model-less) space from :meth:`SearchSpace.to_json_dict`."""
    from metaopt.kb._spaces import external_space, first_value, parents_first
    from metaopt.kb._store import as_distribution

    tasks = tuple(data["tasks"])
    names: list[str] = []
    for task in tasks:
        names += [n for n in data["distributions"][task] if n not in names]
    params = []
    for name in names:
        having = tuple(t for t in tasks if name in data["distributions"][t])
        dist = as_distribution(data["distributions"][having[0]][name])
        cond = data["conditions"].get(name)
        # a parameter of every task of the space is not task-specific (no ':active' column
        # in its encoding), as when the space was declared
        params.append(Param(
            name, dist, data["defaults"][having[0]].get(name, first_value(dist)),
            condition=None if cond is None else (cond[0], tuple(cond[1])),
            tasks=TASK_TYPES if set(having) == set(tasks) else having,
        ))
    return external_space(data["name"], parents_first(params), tasks, description)


def combination_from_json(data: dict[str, Any],
                          described: dict[str, Any] | None = None) -> CombinedSpace:
    """Rebuild a combination holding spaces of one's own (``"my_gb+knn"``) from its
    :meth:`SearchSpace.to_json_dict`: registered members as registered, the others from
    their own descriptions in ``described`` (``{name: to_json_dict()}``), else (a model
    saved without them) from their parameters in ``data``, where a member other than the
    first has no defaults: each parameter's first choice or low end."""
    from optuna.distributions import CategoricalDistribution

    from metaopt.kb._store import as_distribution

    known = _known_spaces()
    family = as_distribution(data["distributions"][data["tasks"][0]][FAMILY])
    assert isinstance(family, CategoricalDistribution)  # a combination's choice of member
    described = described or {}
    members = []
    for name in family.choices:
        if name in known or name in described:
            members.append(known.get(name) or space_from_json(described[name]))
            continue
        prefix = f"{name}{SEP}"

        def own(mapping: dict[str, Any], prefix: str = prefix) -> dict[str, Any]:
            return {k.removeprefix(prefix): v for k, v in mapping.items() if k.startswith(prefix)}

        members.append(space_from_json({
            "name": name, "tasks": data["tasks"],
            "distributions": {t: own(d) for t, d in data["distributions"].items()},
            "conditions": {k: [parent.removeprefix(prefix), values]
                           for k, (parent, values) in own(data["conditions"]).items()
                           if parent != FAMILY},
            "defaults": {t: own(d) for t, d in data["defaults"].items()},
        }))
    return combine(members, name=data["name"])


def in_trained_order(space: SearchSpace, order: list[str] | None) -> SearchSpace:
    """``space`` with its parameters in ``order``, the order a model was trained on (its
    encoding's column order); None (a file from before models recorded it) leaves it.

    Raises ``ValueError`` when ``order`` names other parameters, or is another order of a
    combination of spaces (which cannot be reordered).
    """
    if order is None or [p.name for p in space.params] == order:
        return space
    by_name = {p.name: p for p in space.params}
    if sorted(by_name) != sorted(order):
        raise ValueError(f"the model was trained on parameters {order}, its space "
                         f"{space.name!r} has {list(by_name)}")
    if isinstance(space, CombinedSpace):  # each member in its trained order
        space = combine([in_trained_order(m, [n.removeprefix(f"{m.name}{SEP}") for n in order
                                              if n.startswith(f"{m.name}{SEP}")])
                         for m in space.members], name=space.name)
        if [p.name for p in space.params] != order:
            raise ValueError(f"the model was trained on space {space.name!r} with its "
                             "parameters in another order; retrain the model")
        return space
    return dataclasses.replace(space, params=tuple(by_name[n] for n in order))


def resolve_space(name: str, saved: dict[str, Any] | None = None,
                  members: dict[str, Any] | None = None) -> SearchSpace:
    """The space called ``name``; a saved description must match it, or stands in for it.

    Raises ``ValueError`` when a registered space no longer matches the saved one (the
    model was trained on another version of it) or when the space is unknown.

    Parameters
    ----------
    name : str
        A registered space, ``"all"`` or registered names joined by ``+``.
    saved : dict, optional
        The space's JSON description saved with a model (``SearchSpace.to_json_dict``).
    members : dict, optional
        For a combination, its members' descriptions saved with it (``{name: ...}``):
        the combination's own holds the defaults of its first member only.

    Returns
    -------
    SearchSpace
    """
    space = _known_spaces().get(name)
    if space is None and (name == "all" or "+" in name):
        try:
            space = get_space(name)  # a combination of registered spaces
        except ValueError:
            if saved is None:
                raise
            space = combination_from_json(saved, members)  # with spaces of one's own
    if space is None:
        if saved is not None:
            return space_from_json(saved)
        raise ValueError(f"unknown search space {name!r}; known: {sorted(_known_spaces())}, "
                         "'all' or registered names joined by '+'")
    if saved is not None and space.to_json_dict() != saved:
        raise ValueError(
            f"search space {name!r} changed since this model was trained "
            f"(saved version {saved.get('version')!r}); retrain the model"
        )
    return space
