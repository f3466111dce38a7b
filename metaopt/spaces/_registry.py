"""The registry of named search spaces."""

from __future__ import annotations

import difflib
from functools import lru_cache

from metaopt.data import TASK_TYPES
from metaopt.spaces._base import SearchSpace
from metaopt.spaces._combined import combine
from metaopt.spaces._knn import KNN
from metaopt.spaces._linear import LINEAR
from metaopt.spaces._mlp import MLP
from metaopt.spaces._svm import SVM
from metaopt.spaces._trees import EXTRA_TREES, HIST_GRADIENT_BOOSTING, RANDOM_FOREST

SPACES: dict[str, SearchSpace] = {
    s.name: s for s in (HIST_GRADIENT_BOOSTING, RANDOM_FOREST, EXTRA_TREES, LINEAR, SVM, KNN, MLP)
}
# Other names a space answers to in get_space (not listed by list_spaces).
ALIASES: dict[str, str] = {"logistic_regression": "linear"}


def list_spaces(task: str | None = None) -> list[str]:
    """Names of the registered spaces.

    Parameters
    ----------
    task : {"classification", "regression"} or None, default=None
        Only the spaces supporting it (None: all).

    Returns
    -------
    list of str
    """
    if task is not None and task not in TASK_TYPES:
        raise ValueError(f"task must be None or one of {TASK_TYPES}, got {task!r}")
    return [name for name, s in SPACES.items() if task is None or task in s.tasks]


ALL = "all"  # every registered space, combined


def get_space(name: str) -> SearchSpace:
    """The search space registered under a name.

    Parameters
    ----------
    name : str
        A registered name or alias. ``"all"`` and ``"a+b+..."`` (registered names, each
        once; spaces around them are ignored) name a
        :class:`~metaopt.spaces.CombinedSpace` whose parameter ``"space"`` chooses the
        model family.

    Returns
    -------
    SearchSpace
    """
    if not isinstance(name, str):  # a list failed with "unhashable type: 'list'"
        hint = (f" (a list of names: {'+'.join(map(str, name))!r})"
                if isinstance(name, (list, tuple)) else
                "; a SearchSpace is used as it is" if isinstance(name, SearchSpace) else "")
        raise TypeError(f"get_space takes a space's name, a str, got "
                        f"{type(name).__name__}{hint}")
    # "svm + knn" as "svm+knn" (the same cached object)
    return _get_space("+".join(part.strip() for part in name.split("+")))


@lru_cache(maxsize=64)
def _get_space(name: str) -> SearchSpace:
    if name == ALL:
        return combine(list(SPACES.values()), name=ALL)
    if "+" in name:
        return combine([_registered(part.strip(), joined=name) for part in name.split("+")])
    return _registered(name)


def _registered(name: str, joined: str | None = None) -> SearchSpace:
    """The one registered space ``name`` or its alias (a part of ``joined``, if given)."""
    key = ALIASES.get(name, name)
    if key in SPACES:
        return SPACES[key]
    if joined is not None and name == ALL:
        raise ValueError(f"{joined!r}: 'all' already holds every space; use 'all' alone or "
                         f"join the names of single spaces with '+'")
    raise ValueError(
        f"unknown search space {name!r}; accepted: {', '.join(map(repr, SPACES))}, 'all' or "
        f"names joined by '+' (also {', '.join(f'{a!r} for {b!r}' for a, b in ALIASES.items())})"
        + did_you_mean(name, [*SPACES, ALL, *ALIASES])
    )


def did_you_mean(name: str, accepted: list[str]) -> str:
    """``"; did you mean 'knn'?"`` for the name of ``accepted`` closest to ``name`` (an
    alias, or a name close to one, suggests the accepted space it names), else ``""``."""
    aliases = {a: s for a, s in ALIASES.items() if a not in accepted and s in accepted}
    close = difflib.get_close_matches(name.lower(), [*accepted, *aliases], n=1)
    return f"; did you mean {aliases.get(close[0], close[0])!r}?" if close else ""


def check_family(name: str, purpose: str) -> str:
    """``name`` when it is one registered model family; a ValueError naming them, and
    the closest, otherwise (``purpose`` says what needs one, e.g. ``"for the demo"``)."""
    if name not in SPACES:
        raise ValueError(f"space must be one model family ({', '.join(SPACES)}) {purpose}, "
                         f"got {name!r}" + did_you_mean(name, list(SPACES)))
    return name
