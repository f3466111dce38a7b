"""The search-space record: parameters as Optuna distributions, conditions, encoding."""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
)
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from metaopt.data import TASK_TYPES
from metaopt.spaces._preprocessing import PREPROCESSING_KINDS, make_preprocessor

# Bumped whenever a space's parameters, ranges, defaults or encoding change: knowledge
# bases and meta-models record it, since encoded vectors are only comparable within one.
SPACES_VERSION = 1

ModelBuilder = Callable[[dict[str, Any], str, "int | None"], BaseEstimator]
# the distributions a Param takes (Optuna's deprecated ones are subclasses of these)
Distribution = FloatDistribution | IntDistribution | CategoricalDistribution


class _Suggester(Protocol):
    """What :meth:`SearchSpace.sample` draws from: an Optuna trial's ``suggest_*`` calls."""

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *,
                      step: float | None = None, log: bool = False) -> float: ...


@dataclass(frozen=True)
class Param:
    """One hyperparameter of a search space.

    Parameters
    ----------
    name : str
    distribution : optuna.distributions.BaseDistribution
        Float, Int or Categorical distribution. A ``step`` is honoured by :meth:`SearchSpace.sample`
        and :meth:`SearchSpace.check_params` (the registered spaces use none).
    default : Any
        Default value, normally the library default of the model.
    condition : (parent, values) or None
        The parameter is active only when ``params[parent] in values``.
    tasks : tuple of str
        Tasks the parameter exists for (e.g. SVR's ``epsilon`` is regression only).
    task_defaults : mapping
        Per-task overrides of ``default``.
    """

    name: str
    distribution: Distribution
    default: Any
    condition: tuple[str, tuple[Any, ...]] | None = None
    tasks: tuple[str, ...] = TASK_TYPES
    task_defaults: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def is_conditional(self) -> bool:
        """True when the parameter can be inactive: it has a condition or is task-specific."""
        return self.condition is not None or set(self.tasks) != set(TASK_TYPES)

    def default_for(self, task: str) -> Any:
        """The default for a task: its entry in ``task_defaults``, else ``default``.

        Parameters
        ----------
        task : {"classification", "regression"}

        Returns
        -------
        Any
        """
        return self.task_defaults.get(task, self.default)

    def __hash__(self) -> int:
        # the generated hash failed on the task_defaults dict (so did a space's, and a
        # space as a dict key or an lru_cache argument); equal records share these fields
        return hash((self.name, self.distribution, self.condition, self.tasks))


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _choice_key(value: Any) -> tuple[bool, Any] | None:
    """``value`` as a set member that keeps booleans apart from numbers (as
    :func:`_same_choice`); None for an unhashable value, which matches no choice."""
    try:
        hash(value)
    except TypeError:
        return None
    return _is_bool(value), value


def _switched_on(parent: str | None, values: frozenset, flags: Mapping[str, bool],
                 keys: Mapping[str, Any]) -> bool:
    """Whether a parameter with this ``parent`` and activating ``values`` is active,
    given its parent's activity in ``flags`` and the set values as ``keys``
    (:func:`_choice_key`)."""
    return parent is None or (flags[parent] and keys.get(parent) in values)


def _same_choice(value: Any, choice: Any) -> bool:
    # ``True == 1 == 1.0`` in Python: keep booleans apart from numbers; a missing value
    # (``pd.NA == choice`` is neither True nor False) is no choice, unless None is one
    return value is choice or (_is_bool(value) == _is_bool(choice) and not is_missing(value)
                               and value == choice)


def _takes_none(dist: Distribution) -> bool:
    """Whether None is a choice of ``dist`` (``max_depth=None``): a missing value (NaN, as
    ``trials_dataframe()`` shows it) is then that choice, not a parameter left out."""
    return isinstance(dist, CategoricalDistribution) and any(c is None for c in dist.choices)


def _describe(dist: Distribution) -> str:
    if isinstance(dist, CategoricalDistribution):
        return f"one of {list(dist.choices)}"
    kind = "int" if isinstance(dist, IntDistribution) else "float"
    scale = " (log scale)" if dist.log else ""
    step = f" in steps of {dist.step}" if dist.step not in (None, 1) else ""
    return f"{kind} in [{dist.low}, {dist.high}]{step}{scale}"


def _check_value(space: str, name: str, dist: Distribution, value: Any) -> Any:
    """Return ``value`` with its canonical type, or raise ValueError naming the range."""
    if isinstance(dist, CategoricalDistribution):
        if is_missing(value) and _takes_none(dist):
            return None
        for choice in dist.choices:
            if _same_choice(value, choice):
                return choice
        ok = False
    elif _is_bool(value) or not isinstance(value, numbers.Real):
        ok = False
    elif isinstance(dist, IntDistribution):
        # typeshed's numbers.Real has no __int__ (int, float, numpy's numbers, Fraction do)
        integer = int(value) if float(value).is_integer() else None  # type: ignore[call-overload]
        ok = (integer is not None and dist.low <= integer <= dist.high
              and (integer - dist.low) % dist.step == 0)
        value = integer if ok else value
    else:
        value = float(value)
        ok = math.isfinite(value) and dist.low <= value <= dist.high and _on_step(dist, value)
    if not ok:
        raise ValueError(f"{space}: parameter {name!r} got {value!r}; accepted: {_describe(dist)}")
    return value


def _on_step(dist: FloatDistribution, value: float) -> bool:
    """Whether ``value`` is ``low + k * step`` (up to rounding, as Optuna's own grid)."""
    if dist.step is None:
        return True
    k = (value - dist.low) / dist.step
    return math.isclose(k, round(k), rel_tol=0, abs_tol=1e-8)


def is_missing(value: Any) -> bool:
    """None, NaN (a numpy float's too) or ``pd.NA``: how tables of configurations (YAHPO's,
    TabRepo's, a ``trials_dataframe()`` after ``convert_dtypes()``) leave out an inactive
    parameter."""
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def _check_tasks(space: str, what: str, tasks: Any) -> None:
    if not (isinstance(tasks, (tuple, list)) and tasks and set(tasks) <= set(TASK_TYPES)):
        raise ValueError(f"{space}: {what} must be a non-empty tuple (or list) of "
                         f"{TASK_TYPES}, got {tasks!r}")


def _unit(dist: FloatDistribution | IntDistribution, value: float) -> float:
    """Map a numeric value to [0, 1], on a log scale when ``dist.log``."""
    low, high, v = float(dist.low), float(dist.high), float(value)
    if dist.log:
        low, high, v = math.log(low), math.log(high), math.log(v)
    return 0.0 if high == low else (v - low) / (high - low)


@dataclass(frozen=True)
class SearchSpace:
    """A named hyperparameter search space and the estimator it configures.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"svm"``.
    params : tuple of Param
        Parameters in a fixed order; a conditional parameter comes after its parent.
    build_model : callable
        ``build_model(params, task, random_state)`` -> unfitted model for the checked,
        active ``params``.
    preprocessing : {"scaled", "ordinal", "native"}
        Which shared preprocessor (:func:`make_preprocessor`) goes before the model.
    tasks : tuple of str
        Tasks the space supports.
    description : str
        One line for docs and ``repr``.
    """

    name: str
    params: tuple[Param, ...]
    build_model: ModelBuilder = field(repr=False)
    preprocessing: str = "scaled"
    tasks: tuple[str, ...] = TASK_TYPES
    description: str = ""

    def __post_init__(self) -> None:
        # (a mistyped preprocessing failed only in build; tasks=("clf",) or a str, and a
        # condition's values as a str, whose letters were taken for its values, were used)
        if self.preprocessing not in PREPROCESSING_KINDS:
            raise ValueError(f"{self.name}: preprocessing must be one of "
                             f"{PREPROCESSING_KINDS}, got {self.preprocessing!r}")
        _check_tasks(self.name, "tasks", self.tasks)
        object.__setattr__(self, "tasks", tuple(self.tasks))  # a list as written, kept as one
        seen: dict[str, Param] = {}
        for p in self.params:
            if p.name in seen:
                raise ValueError(f"{self.name}: parameter {p.name!r} is defined twice")
            _check_tasks(self.name, f"tasks of {p.name!r}", p.tasks)
            object.__setattr__(p, "tasks", tuple(p.tasks))  # hashed with the parameter
            if not isinstance(p.distribution, Distribution):
                raise TypeError(f"{self.name}: the distribution of {p.name!r} must be an "
                                "optuna.distributions one (FloatDistribution(low, high, "
                                "log=...), IntDistribution, CategoricalDistribution), got "
                                f"{type(p.distribution).__name__} {p.distribution!r}")
            if p.condition is not None and not (
                    isinstance(p.condition, tuple) and len(p.condition) == 2
                    and isinstance(p.condition[1], (tuple, list))):
                raise ValueError(f"{self.name}: condition of {p.name!r} must be (parent, tuple "
                                 f"of the parent's values), got {p.condition!r}")
            for task in p.tasks:
                _check_value(self.name, p.name, p.distribution, p.default_for(task))
            if p.condition is not None:
                parent, values = p.condition
                if parent not in seen:
                    raise ValueError(
                        f"{self.name}: condition of {p.name!r} names parent {parent!r}, which "
                        f"must be defined before it; defined so far: {list(seen)}"
                    )
                for v in values:
                    _check_value(self.name, parent, seen[parent].distribution, v)
            seen[p.name] = p

    def __reduce_ex__(self, protocol):
        # registered spaces (and their combinations) pickle by name: their model
        # builders may be closures, and the registry is the one source of truth
        if is_registered(self):
            from metaopt.spaces._registry import get_space

            return get_space, (self.name,)
        return super().__reduce_ex__(protocol)

    # ------------------------------------------------------------------ structure
    def _check_task(self, task: str) -> None:
        if task not in self.tasks:
            raise ValueError(f"{self.name}: task must be one of {self.tasks}, got {task!r}")

    def _params_for(self, task: str) -> list[Param]:
        self._check_task(task)
        return [p for p in self.params if task in p.tasks]

    def distributions(self, task: str) -> dict[str, Distribution]:
        """All parameters of ``task`` (active or not) as a flat dict of distributions.

        Parameters
        ----------
        task : {"classification", "regression"}

        Returns
        -------
        dict of str to optuna.distributions.BaseDistribution
        """
        return {p.name: p.distribution for p in self._params_for(task)}

    @property
    def conditions(self) -> dict[str, tuple[str, tuple[Any, ...]]]:
        """``param -> (parent, parent values that activate it)``."""
        return {p.name: p.condition for p in self.params if p.condition is not None}

    @cached_property
    def _by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def is_active(self, name: str, params: Mapping[str, Any]) -> bool:
        """Whether ``name`` is active given the (parent) values in ``params``.

        A parameter whose parent is inactive or missing is inactive. Task membership is
        not considered here (see :meth:`distributions`).

        Parameters
        ----------
        name : str
            A parameter of the space.
        params : mapping
            A (partial) configuration.

        Returns
        -------
        bool
        """
        if name not in self._by_name:
            raise ValueError(f"{self.name}: unknown parameter {name!r}; "
                             f"accepted: {list(self._by_name)}")
        return self._activity(params)[name]

    @cached_property
    def _activating(self) -> tuple[tuple[str, str | None, frozenset], ...]:
        """``(name, parent, values of the parent that activate it)`` per parameter, in
        order; values as :func:`_choice_key`."""
        return tuple((p.name, None, frozenset()) if p.condition is None else
                     (p.name, p.condition[0], frozenset(map(_choice_key, p.condition[1])))
                     for p in self.params)

    def _activity(self, params: Mapping[str, Any]) -> dict[str, bool]:
        """:meth:`is_active` of every parameter, in one pass (parents come first)."""
        flags: dict[str, bool] = {}
        keys = {k: _choice_key(v) for k, v in params.items()}
        for name, parent, values in self._activating:
            flags[name] = _switched_on(parent, values, flags, keys)
        return flags

    def active(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` without the inactive (and unknown) parameters.

        Parameters
        ----------
        params : mapping
            A configuration.

        Returns
        -------
        dict
        """
        flags = self._activity(params)
        return {p.name: params[p.name] for p in self.params
                if p.name in params and flags[p.name]}

    def default(self, task: str) -> dict[str, Any]:
        """Default configuration for ``task``: every active parameter, library defaults.

        Parameters
        ----------
        task : {"classification", "regression"}

        Returns
        -------
        dict
        """
        values = {p.name: p.default_for(task) for p in self._params_for(task)}
        return self.active(values)

    # ----------------------------------------------------------------- validation
    def check_params(self, params: Mapping[str, Any], task: str) -> dict[str, Any]:
        """Validate ``params`` for ``task`` and return the active ones, canonically typed.

        Raises ``ValueError`` for unknown names, values outside their distribution and
        missing active parameters. Missing values are *not* filled in: use
        ``{**space.default(task), **params}`` to start from the defaults. Inactive
        parameters are validated and then dropped; None, NaN or pd.NA is accepted for them (how
        ``study.trials_dataframe()`` shows a parameter a trial did not suggest).

        Parameters
        ----------
        params : mapping
            A configuration.
        task : {"classification", "regression"}

        Returns
        -------
        dict
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"{self.name}: params must be a mapping, got {type(params).__name__}")
        dists = self.distributions(task)
        unknown = [k for k in params if k not in dists]
        if unknown:
            raise ValueError(
                f"{self.name}: unknown parameter(s) {unknown} for task={task!r}; "
                f"accepted: {list(dists)}"
            )
        # None or NaN leaves a parameter out (as in Optuna's trials_dataframe() and other
        # tables of configurations): fine when inactive, refused when active
        left_out = [k for k in dists if k in params and is_missing(params[k])
                    and not _takes_none(dists[k])]
        checked = {k: _check_value(self.name, k, dists[k], params[k])
                   for k in dists if k in params and k not in left_out}
        flags = self._activity(checked)
        for k in left_out:
            if flags[k]:
                _check_value(self.name, k, dists[k], params[k])  # raises, naming the range
        missing = [k for k in dists if k not in checked and k not in left_out and flags[k]]
        if missing:
            raise ValueError(
                f"{self.name}: missing active parameter(s) {missing} for task={task!r}; "
                f"accepted ranges: { {k: _describe(dists[k]) for k in missing} }; "
                "start from space.default(task) to fill them"
            )
        return self.active(checked)

    # ------------------------------------------------------------------- sampling
    def sample(self, trial: _Suggester, task: str) -> dict[str, Any]:
        """Sample an active configuration define-by-run with ``trial.suggest_*``.

        Parameters
        ----------
        trial : optuna.trial.BaseTrial
            Or any object with its ``suggest_categorical``, ``suggest_int`` and
            ``suggest_float``.
        task : {"classification", "regression"}
            Parameters of other tasks are not sampled.

        Returns
        -------
        dict
        """
        self._check_task(task)
        values: dict[str, Any] = {}
        flags: dict[str, bool] = {}  # as _activity, as the values come (parents first)
        keys: dict[str, Any] = {}
        for p, (name, parent, choices) in zip(self.params, self._activating, strict=True):
            flags[name] = task in p.tasks and _switched_on(parent, choices, flags, keys)
            if not flags[name]:
                continue
            d = p.distribution
            if isinstance(d, CategoricalDistribution):
                values[p.name] = trial.suggest_categorical(p.name, d.choices)
            elif isinstance(d, IntDistribution):
                values[p.name] = trial.suggest_int(p.name, d.low, d.high, step=d.step, log=d.log)
            else:
                values[p.name] = trial.suggest_float(p.name, d.low, d.high, step=d.step,
                                                     log=d.log)
            keys[name] = _choice_key(values[name])
        return values

    # ------------------------------------------------------------------- building
    def build(
        self, params: Mapping[str, Any], task: str, random_state: int | None = None
    ) -> Pipeline:
        """Unfitted ``Pipeline(preprocess, model)`` for a complete configuration.

        Parameters
        ----------
        params : mapping
            The configuration, checked with :meth:`check_params`.
        task : {"classification", "regression"}
        random_state : int or None, default=None
            Passed to ``build_model`` (the model's seed).

        Returns
        -------
        sklearn.pipeline.Pipeline
        """
        checked = self.check_params(params, task)
        return Pipeline(
            [
                ("preprocess", make_preprocessor(self.preprocessing)),
                ("model", self.build_model(checked, task, random_state)),
            ]
        )

    # ------------------------------------------------------------------- encoding
    @property
    def encoded_names(self) -> list[str]:
        """Names of the :meth:`encode` columns, in order."""
        names: list[str] = []
        for p in self.params:
            d = p.distribution
            if isinstance(d, CategoricalDistribution):
                names += [f"{p.name}={c}" for c in d.choices]
            else:
                names.append(p.name)
            if p.is_conditional:
                names.append(f"{p.name}:active")
        return names

    @cached_property
    def n_encoded(self) -> int:
        return len(self.encoded_names)

    @cached_property
    def _layout(self) -> tuple[tuple[int, int], ...]:
        """``(start column, value width)`` of each parameter in :meth:`encode`; a
        conditional parameter's active flag follows its values."""
        layout, at = [], 0
        for p in self.params:
            d = p.distribution
            width = len(d.choices) if isinstance(d, CategoricalDistribution) else 1
            layout.append((at, width))
            at += width + p.is_conditional
        return tuple(layout)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """Fixed-length float32 vector of a configuration (task-independent layout).

        For each parameter in order: numeric -> one value in [0, 1] (``(v - low) /
        (high - low)``, on logs when the distribution is log-scaled); categorical ->
        one-hot over its choices; then, for conditional or task-specific parameters,
        an ``":active"`` indicator. Inactive or absent conditional parameters encode as
        zeros. Raises ``ValueError`` for unknown names, invalid values (of an inactive
        parameter too, unless None or NaN) or a missing unconditional parameter.

        Parameters
        ----------
        params : mapping
            The configuration.

        Returns
        -------
        ndarray of shape (n_encoded,)
        """
        unknown = [k for k in params if k not in self._by_name]
        if unknown:
            raise ValueError(
                f"{self.name}: unknown parameter(s) {unknown}; accepted: {list(self._by_name)}"
            )
        flags = self._activity(params)
        out = np.zeros(self.n_encoded, dtype=np.float32)
        for p, (start, width) in zip(self.params, self._layout, strict=True):
            d = p.distribution
            if not (p.name in params and flags[p.name]):
                if not p.is_conditional:
                    raise ValueError(
                        f"{self.name}: parameter {p.name!r} is required to encode; "
                        f"accepted: {_describe(d)}"
                    )
                if p.name in params and not is_missing(params[p.name]):
                    _check_value(self.name, p.name, d, params[p.name])  # unused, yet valid
                continue  # inactive: zeros, its active flag too
            value = _check_value(self.name, p.name, d, params[p.name])
            if isinstance(d, CategoricalDistribution):
                out[start + next(i for i, c in enumerate(d.choices) if _same_choice(value, c))] = 1
            else:
                out[start] = _unit(d, value)
            if p.is_conditional:
                out[start + width] = 1.0
        return out

    # ---------------------------------------------------------------- serialising
    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready description: per-task distributions, conditions and defaults.

        Each distribution is ``json.loads(optuna.distributions.distribution_to_json(d))``;
        rebuild it with ``json_to_distribution(json.dumps(entry))``.

        Returns
        -------
        dict
            Keys ``name``, ``version``, ``tasks``, ``distributions`` and ``defaults``
            (``{task: {param: ...}}``), ``conditions`` (``{param: [parent, values]}``).
        """
        return {
            "name": self.name,
            "version": SPACES_VERSION,
            "tasks": list(self.tasks),
            "distributions": {
                task: {
                    k: json.loads(distribution_to_json(d))
                    for k, d in self.distributions(task).items()
                }
                for task in self.tasks
            },
            "conditions": {k: [parent, list(v)] for k, (parent, v) in self.conditions.items()},
            "defaults": {task: self.default(task) for task in self.tasks},
        }


def is_registered(space: SearchSpace) -> bool:
    """Whether ``space`` is the registered space (or combination of them) of its name."""
    from metaopt.spaces._registry import get_space

    try:
        return get_space(space.name) == space
    except (ValueError, TypeError):
        return False


def float_param(
    name: str, low: float, high: float, default: float, *, log: bool = False, **kwargs: Any
) -> Param:
    """Shorthand for a :class:`Param` over a ``FloatDistribution``."""
    return Param(name, FloatDistribution(low, high, log=log), default, **kwargs)


def int_param(
    name: str, low: int, high: int, default: int, *, log: bool = False, **kwargs: Any
) -> Param:
    """Shorthand for a :class:`Param` over an ``IntDistribution``."""
    return Param(name, IntDistribution(low, high, log=log), default, **kwargs)


def cat_param(name: str, choices: tuple[Any, ...], default: Any, **kwargs: Any) -> Param:
    """Shorthand for a :class:`Param` over a ``CategoricalDistribution``."""
    return Param(name, CategoricalDistribution(choices), default, **kwargs)
