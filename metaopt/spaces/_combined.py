"""One search space over several model families: the family is a parameter too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.pipeline import Pipeline

from metaopt.spaces._base import Param, SearchSpace, cat_param

FAMILY = "space"  # the categorical parameter that picks the member space
SEP = "__"  # member parameters are named "<member>__<param>"


def _no_builder(params, task, random_state):  # CombinedSpace.build delegates instead
    raise NotImplementedError


@dataclass(frozen=True)
class CombinedSpace(SearchSpace):
    """Search space whose first parameter, ``"space"``, picks one of ``members``.

    Each member's parameters appear as ``"<member>__<param>"``, active only when
    ``space`` names that member (and their own conditions hold), so every
    :class:`SearchSpace` method (sampling, validation, encoding, defaults) works across
    model families unchanged; :meth:`build` builds the chosen member's pipeline.
    Made by :func:`combine` (and :func:`~metaopt.spaces.get_space` for ``"all"`` or
    names joined by ``+``), which fills every field.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"svm+knn"`` (:func:`combine`'s default: the members' names
        joined by ``+``).
    params : tuple of Param
        ``"space"`` (a categorical over the members' names, default the first), then
        each member's parameters as ``"<member>__<param>"``, conditional on ``space``.
    build_model : callable
        Not called: :meth:`build` builds the chosen member's pipeline.
    preprocessing : {"scaled", "ordinal", "native"}, default="scaled"
        Not used by :meth:`build`, which puts the chosen member's own before its model
        (:func:`combine` sets ``"native"``).
    tasks : tuple of str, default=("classification", "regression")
        Tasks the space supports (:func:`combine`: those all members support).
    description : str, default=""
        One line for docs and ``repr`` (:func:`combine`: ``"one of: "`` and the names).
    members : tuple of SearchSpace, default=()
        The single spaces ``"space"`` picks from, by name.
    """

    members: tuple[SearchSpace, ...] = ()

    def member(self, params: Mapping[str, Any]) -> tuple[SearchSpace, dict[str, Any]]:
        """The chosen member space and its parameters (prefix removed).

        Parameters
        ----------
        params : mapping
            A configuration of this space.

        Returns
        -------
        space : SearchSpace
        member_params : dict
        """
        name = params.get(FAMILY)
        by_name = {m.name: m for m in self.members}
        if name not in by_name:
            raise ValueError(f"{self.name}: parameter {FAMILY!r} must be one of "
                             f"{list(by_name)}, got {name!r}")
        prefix = f"{name}{SEP}"
        return by_name[name], {k[len(prefix):]: v for k, v in params.items()
                               if k.startswith(prefix)}

    def join(self, member: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Combined parameters of a member configuration (the inverse of :meth:`member`).

        Parameters
        ----------
        member : str
            Name of the member space.
        params : mapping
            A configuration of that member.

        Returns
        -------
        dict
        """
        return {FAMILY: member, **{f"{member}{SEP}{k}": v for k, v in params.items()}}

    def build(self, params: Mapping[str, Any], task: str,
              random_state: int | None = None) -> Pipeline:
        """Unfitted ``Pipeline(preprocess, model)`` of the chosen family.

        Parameters
        ----------
        params : mapping
            A combined configuration, checked with :meth:`check_params`.
        task : {"classification", "regression"}
        random_state : int or None, default=None
            Passed to the family's ``build_model`` (the model's seed).

        Returns
        -------
        sklearn.pipeline.Pipeline
            The family's own pipeline (see :meth:`member`).
        """
        checked = self.check_params(params, task)
        space, member_params = self.member(checked)
        return space.build(member_params, task, random_state)


def single_spaces(space: SearchSpace) -> tuple[SearchSpace, ...]:
    """The single spaces (model families) of ``space``: its members, or itself."""
    return space.members if isinstance(space, CombinedSpace) else (space,)


def combine(members: Sequence[SearchSpace | str], name: str | None = None) -> CombinedSpace:
    """A :class:`CombinedSpace` over single, distinct ``members`` (tasks: those all members
    support).

    Parameters
    ----------
    members : sequence of SearchSpace or str
        Spaces, or registered spaces' names.
    name : str, optional
        Default: the members' names joined by ``+``.

    Returns
    -------
    CombinedSpace
    """
    if not members:
        raise ValueError("combine needs at least one member space")
    from metaopt.spaces._registry import get_space

    spaces = [get_space(m) if isinstance(m, str) else m for m in members]
    names = [m.name for m in spaces]
    if len(set(names)) != len(names):
        raise ValueError(f"member spaces must be distinct, got {names}")
    nested = [m.name for m in spaces if isinstance(m, CombinedSpace)]
    if nested:
        raise ValueError(f"member spaces must be single spaces, got the combination(s) "
                         f"{nested}: list their members instead")
    params: list[Param] = [cat_param(FAMILY, tuple(names), names[0])]
    for space in spaces:
        for p in space.params:
            parent, values = p.condition or (FAMILY, (space.name,))
            if p.condition is not None:
                parent = f"{space.name}{SEP}{parent}"
            params.append(Param(f"{space.name}{SEP}{p.name}", p.distribution, p.default,
                                condition=(parent, values), tasks=p.tasks,
                                task_defaults=p.task_defaults))
    tasks = tuple(t for t in spaces[0].tasks if all(t in m.tasks for m in spaces))
    if not tasks:
        raise ValueError("member spaces share no task: " + ", ".join(
            f"{m.name} {m.tasks}" for m in spaces))
    return CombinedSpace(
        name=name or "+".join(names), params=tuple(params), build_model=_no_builder,
        preprocessing="native", tasks=tasks,
        description="one of: " + ", ".join(names), members=tuple(spaces),
    )
