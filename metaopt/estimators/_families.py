"""The model families a search can use (with weights, with the scoring's predictions,
spaces of one's own), and the family of a configuration."""

from __future__ import annotations

import pickle

from sklearn.utils.validation import has_fit_parameter

from metaopt._warnings import warn
from metaopt.spaces import SearchSpace, get_space
from metaopt.spaces._combined import FAMILY, single_spaces


def _accepts_weights(space: SearchSpace, task: str) -> bool:
    model = space.build(space.default(task), task).named_steps["model"]
    # a target-transforming wrapper passes the weights on to its regressor
    return has_fit_parameter(getattr(model, "regressor", model), "sample_weight")


def _predicts_with(space: SearchSpace, methods: tuple[str, ...], task: str) -> bool:
    """Whether the family's model has one of ``methods`` (SVC has no ``predict_proba``)."""
    model = space.build(space.default(task), task)
    return any(hasattr(model, method) for method in methods)


def _families_that(spaces: list[SearchSpace], can, setting: str,
                   ability: str) -> list[SearchSpace]:
    """The family ``spaces`` that ``can(space)``: the others are left out with a warning
    (``setting`` needs ``ability``), and a ValueError says when none is left."""
    kept = [s for s in spaces if can(s)]
    names = [s.name for s in spaces]
    if not kept:
        raise ValueError(f"{setting}, but none of the families {names} {ability}")
    if len(kept) < len(spaces):
        warn(f"{setting}: searching {[s.name for s in kept]} only; "
             f"{sorted(set(names) - {s.name for s in kept})} do not {ability}")
    return kept


def _single_spaces(spaces: list[str | SearchSpace]) -> list[SearchSpace]:
    """The single spaces of ``spaces``, names or objects (a combination, ``"all"`` or
    ``"svm+knn"``, as its members)."""
    return [m for s in spaces for m in single_spaces(get_space(s) if isinstance(s, str) else s)]


def _check_own(space: SearchSpace, task: str) -> None:
    """A ValueError when a space of one's own cannot serve ``task`` or be pickled (the
    fitted estimator holds it: ``joblib.dump`` failed on it after the search)."""
    if task not in space.tasks:
        raise ValueError(f"spaces: {space.name!r} is a space of {' and '.join(space.tasks)} "
                         f"only, not {task}")
    try:
        pickle.dumps(space)
    except Exception as exc:  # PicklingError, AttributeError, TypeError: what pickle raises
        raise ValueError(
            f"spaces: {space.name!r} cannot be pickled ({exc}), and the fitted estimator "
            "holds it: make its build_model a module-level function (not a lambda or a "
            "function defined in another one)") from exc


def _member(space: SearchSpace, params: dict) -> tuple[SearchSpace, dict]:
    """(family space, its own params) of a configuration of a plain or combined space."""
    if FAMILY in params and hasattr(space, "member"):
        return space.member(params)
    return space, dict(params)
