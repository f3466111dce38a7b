"""Optuna samplers by name: the built-in optimizers and the ones registered later."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

import optuna

from metaopt._shared import optuna_verbosity

#: ``make_sampler(context, seed) -> optuna.samplers.BaseSampler``. ``context`` is the
#: :class:`~metaopt.data.Dataset` being tuned (``benchmark run``) or the
#: :class:`~metaopt.benchmark.Problem` (surrogate benchmarks); built-ins ignore it.
SamplerFactory = Callable[[Any, int], optuna.samplers.BaseSampler]


def _random(context: Any, seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _tpe(context: Any, seed: int) -> optuna.samplers.BaseSampler:
    # group=True: define-by-run spaces with conditions are modelled per sub-space
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed)


def _gp(context: Any, seed: int) -> optuna.samplers.BaseSampler:
    # conditional parameters go to the independent (random) sampler, as for CMA-ES
    return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)


def _cmaes(context: Any, seed: int) -> optuna.samplers.BaseSampler:
    # categorical and conditional parameters go to the independent (random) sampler
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def _metaopt(context: Any, seed: int, space: str | None = None) -> optuna.samplers.BaseSampler:
    from metaopt.data import Dataset
    from metaopt.samplers import MetaSampler

    # several model families come from the study's "space" parameter; one space is
    # named (``benchmark run`` passes it): inferred from the parameters' names, the first
    # trial went to the fallback in part, and random_forest got extra_trees' model, whose
    # parameter names are the same; the data comes from context
    return MetaSampler(space=space, dataset=context if isinstance(context, Dataset) else None,
                       seed=seed)


_SAMPLERS: dict[str, SamplerFactory] = {
    "random": _random, "tpe": _tpe, "gp": _gp, "cmaes": _cmaes, "metaopt": _metaopt,
}
#: Built-in samplers that need a package metaopt does not require (Optuna imports it only
#: at the sampler's first suggestion).
_PACKAGES: dict[SamplerFactory, str] = {_cmaes: "cmaes"}
#: Methods another part of metaopt provides once it is importable.
PLUGINS: dict[str, str] = {}
#: Methods of :func:`metaopt.benchmark.run` that are not Optuna samplers.
SPECIAL_METHODS = ("default", "flaml")
#: The names :func:`register_sampler` refuses: the built-in methods of ``run``.
_BUILTIN = frozenset(_SAMPLERS) | frozenset(SPECIAL_METHODS)


def register_sampler(name: str, make_sampler: SamplerFactory, *, replace: bool = False) -> None:
    """Make ``name`` usable as a method of :func:`metaopt.benchmark.run`.

    Parameters
    ----------
    name : str
        Not a built-in method's name (the results name each method by it).
    make_sampler : callable
        ``make_sampler(dataset, seed) -> optuna.samplers.BaseSampler``; the study then
        tunes the define-by-run choice of space and its parameters (see
        :func:`metaopt.benchmark.suggest_config`).
    replace : bool, default=False
        Replace the factory registered as ``name`` before; without it, registering
        another factory under a registered name is an error (the same one again does
        nothing).

    Raises
    ------
    ValueError
        ``name`` is a built-in method's, or is registered and ``replace`` is False, or
        has characters other than letters, digits and ``_ . + @ # -``.
    """
    register(_SAMPLERS, _BUILTIN, name, make_sampler, replace,
             kind="sampler", of="metaopt.benchmark.run")


# a name is one item of the command line's comma-separated --methods and part of the
# result files' names
_METHOD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+@#-]*")


def register(registry: dict[str, Any], builtin: frozenset[str], name: str, factory: Any,
             replace: bool, *, kind: str, of: str) -> None:
    """Put ``factory`` in ``registry`` as ``name`` (the rules of :func:`register_sampler`
    and :func:`~metaopt.benchmark.register_method`): a ``kind`` of ``of``."""
    if not callable(factory):
        raise TypeError(f"the {kind}'s factory must be callable, got {type(factory).__name__}")
    if not isinstance(name, str) or not _METHOD_NAME.fullmatch(name):
        raise ValueError(f"{kind} name {name!r}: letters, digits and _ . + @ # - only, "
                         "beginning with a letter or digit (it names result files and is "
                         "one item of the command line's comma-separated --methods)")
    if name in builtin:
        raise ValueError(f"{name!r} is a built-in method of {of}: register your {kind} "
                         "under another name")
    if registry.get(name, factory) is not factory and not replace:
        raise ValueError(f"a {kind} is already registered as {name!r}: pass replace=True "
                         "to replace it, or register yours under another name")
    registry[name] = factory


def list_samplers() -> list[str]:
    """The names of the Optuna methods of :func:`metaopt.benchmark.run` (real fits),
    built-in and registered with :func:`register_sampler`, in registration order.

    Returns
    -------
    list of str
        Names for :func:`metaopt.benchmark.run`'s ``methods``, besides ``default`` and
        ``flaml``.
    """
    return list(_SAMPLERS)


def get_sampler_factory(name: str) -> SamplerFactory:
    """The sampler factory registered as ``name``; a clear error for an absent plugin."""
    if name in _SAMPLERS:
        return _SAMPLERS[name]
    if name in PLUGINS:
        raise ValueError(
            f"method {name!r} is provided by {PLUGINS[name]} and is not registered yet; "
            f"register it with metaopt.benchmark.register_sampler({name!r}, make_sampler)"
        )
    raise ValueError(f"unknown optimizer {name!r}; accepted: {', '.join(_SAMPLERS)}")


def missing_package(name: str) -> str | None:
    """Why sampler ``name`` cannot run here (a package it needs is not installed), or None."""
    package = _PACKAGES.get(get_sampler_factory(name))
    if package is None:
        return None
    try:
        import_module(package)
    except ImportError:
        return (f"method {name!r} needs the {package} package, which is not installed: "
                f"pip install {package} (or 'metaopt[peers]')")
    return None


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial INFO logs and experimental warnings in benchmarks (a
    decorator too), and restore both after: a benchmark run from Python left the
    caller's own studies at WARNING and their experimental warnings hidden."""
    with optuna_verbosity.holding(optuna.logging.WARNING), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        yield
