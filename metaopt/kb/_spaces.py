"""Search spaces of external meta-datasets: distributions and encoding, no model."""

from __future__ import annotations

from typing import Any

from metaopt.spaces import Param, SearchSpace


def external_space(
    name: str, params: tuple[Param, ...], tasks: tuple[str, ...], description: str
) -> SearchSpace:
    """A :class:`~metaopt.spaces.SearchSpace` whose evaluations come from elsewhere.

    It has the same ``distributions`` / ``default`` / ``sample`` / ``encode`` contract
    as the metaopt spaces; ``build`` raises ``ValueError`` (there is no estimator).
    """

    def _no_model(params: dict[str, Any], task: str, random_state: int | None):
        raise ValueError(
            f"search space {name!r} describes an external meta-dataset: its evaluations are "
            "precomputed or surrogate-predicted, there is no estimator to build"
        )

    return SearchSpace(name=name, params=params, build_model=_no_model, tasks=tasks,
                       description=description)
