"""Which configurations to evaluate: a shared seeded design plus a per-dataset random part.

The shared part is the space default (``design-000``) followed by scrambled Sobol points
(``design-001`` ...) mapped through the space's distributions; it is the same on every
dataset of a task, which is what rankers need. The random part is drawn with Optuna's
``RandomSampler`` through ``space.sample`` (so conditions are respected), seeded by the
dataset key, the space and the seed.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from scipy.stats import qmc

from metaopt._shared import optuna_verbosity
from metaopt.kb._store import dumps


@dataclass(frozen=True)
class PlannedConfig:
    """One configuration to evaluate.

    Parameters
    ----------
    config_id : str
        Stable id (:func:`config_id`).
    design_id : str or None
        ``design-000``, ... for a configuration of the shared :func:`design`, else None.
    params : dict
        The configuration.
    """

    config_id: str
    design_id: str | None
    params: dict[str, Any]


def config_id(params: dict[str, Any]) -> str:
    """Stable id of a configuration: 16 hex chars of the SHA-256 of its canonical JSON.

    Parameters
    ----------
    params : dict
        The configuration.

    Returns
    -------
    str
    """
    return hashlib.sha256(dumps(params).encode()).hexdigest()[:16]


def stable_seed(*parts: Any) -> int:
    """A 32-bit seed derived deterministically from ``parts`` (not Python's salted hash)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def from_unit(dist: BaseDistribution, u: float) -> Any:
    """Map ``u`` in [0, 1) to a value of ``dist`` (log-uniform when ``dist.log``)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[min(int(u * len(dist.choices)), len(dist.choices) - 1)]
    if isinstance(dist, IntDistribution):
        if dist.log:
            low, high = math.log(dist.low - 0.5 + 1e-9), math.log(dist.high + 0.5)
            value = round(math.exp(low + u * (high - low)))
        else:
            n = (dist.high - dist.low) // dist.step + 1
            value = dist.low + min(int(u * n), n - 1) * dist.step
        return int(min(max(value, dist.low), dist.high))
    if isinstance(dist, FloatDistribution):
        if dist.log:
            low, high = math.log(dist.low), math.log(dist.high)
            return float(min(max(math.exp(low + u * (high - low)), dist.low), dist.high))
        if dist.step is not None:
            n = round((dist.high - dist.low) / dist.step) + 1
            return float(dist.low + min(int(u * n), n - 1) * dist.step)
        return float(dist.low + u * (dist.high - dist.low))
    raise TypeError(f"unsupported distribution {dist!r}")


def _space(space):
    """A space object from a registered name (or the object itself)."""
    from metaopt.kb._evaluate import resolve_space

    return resolve_space(space)


def design(space, task: str, n: int, *, seed: int = 0) -> list[PlannedConfig]:
    """The shared design of ``space`` for ``task``: its default then Sobol points.

    Ids are ``design-000`` (the default), ``design-001``, ...; duplicates (possible in
    small discrete spaces) are dropped, so fewer than ``n`` may be returned.

    Parameters
    ----------
    space : SearchSpace or str
        A space, or a registered space's name.
    task : {"classification", "regression"}
    n : int
        Number of points, the default included.
    seed : int, default=0
        Seeds the Sobol points (with the space's name and the task).

    Returns
    -------
    list of PlannedConfig
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return []
    space = _space(space)
    dists = space.distributions(task)
    points: list[dict[str, Any]] = [space.default(task)]
    if n > 1:
        unit = _sobol(n - 1, max(len(dists), 1), stable_seed(seed, space.name, task))
        for row in unit:
            values = {k: from_unit(d, u) for (k, d), u in zip(dists.items(), row, strict=False)}
            points.append(space.active(values))
    return _dedupe(points, [f"design-{i:03d}" for i in range(len(points))])


def random_configs(
    space, task: str, n: int, *, seed: int, exclude: AbstractSet[str] = frozenset()
) -> list[PlannedConfig]:
    """``n`` distinct random configurations (ids not in ``exclude``), seeded."""
    if n <= 0:
        return []
    with _quiet_optuna():
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    seen = set(exclude)
    out: list[PlannedConfig] = []
    for _ in range(20 * n):  # small discrete spaces may not have n new points
        params = space.sample(study.ask(), task)
        cid = config_id(params)
        if cid not in seen:
            seen.add(cid)
            out.append(PlannedConfig(cid, None, params))
            if len(out) == n:
                break
    return out


def plan_configs(
    space, task: str, dataset_key: str, *, n_configs: int, n_design: int, seed: int
) -> list[PlannedConfig]:
    """Design part (shared across datasets) + random part (per dataset) for one space.

    Parameters
    ----------
    space : SearchSpace or str
        A space, or a registered space's name.
    task : {"classification", "regression"}
    dataset_key : str
        Seeds the random part, with ``seed`` and the space's name.
    n_configs : int
        Total number of configurations (at least 1).
    n_design : int
        How many of them come from the shared :func:`design` (0 to ``n_configs``).
    seed : int
        Seeds the design and the random part.

    Returns
    -------
    list of PlannedConfig
    """
    if n_configs < 1:
        raise ValueError(f"n_configs must be >= 1, got {n_configs}")
    if not 0 <= n_design <= n_configs:
        raise ValueError(f"n_design must be in [0, n_configs={n_configs}], got {n_design}")
    space = _space(space)
    shared = design(space, task, n_design, seed=seed)
    rest = random_configs(
        space, task, n_configs - len(shared),
        seed=stable_seed(seed, dataset_key, space.name),
        exclude={c.config_id for c in shared},
    )
    return shared + rest


def _dedupe(points: list[dict[str, Any]], ids: list[str]) -> list[PlannedConfig]:
    seen: set[str] = set()
    out = []
    for params, did in zip(points, ids, strict=True):
        cid = config_id(params)
        if cid not in seen:
            seen.add(cid)
            out.append(PlannedConfig(cid, did, params))
    return out


def _sobol(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` scrambled Sobol points in ``[0, 1)^d``."""
    sobol = qmc.Sobol(d=d, scramble=True, seed=seed)
    with warnings.catch_warnings():  # n not a power of 2: balance warning
        warnings.simplefilter("ignore", UserWarning)
        return sobol.random(n)


def _quiet_optuna():
    """Optuna at WARNING inside, the caller's level after (:data:`optuna_verbosity`)."""
    return optuna_verbosity.holding(optuna.logging.WARNING)
