"""MetaModel: a warm-start portfolio and an adapted ranker for one search space, and the
policy that turns them into the next configuration to evaluate."""

from __future__ import annotations

import copy
import difflib
import inspect
import json
import math
import numbers
import os
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from metaopt._checks import check_int, check_seed
from metaopt._model_files import dumps, read_json, warn_metafeatures_version
from metaopt._shipped_names import shipped_models, shipped_spaces
from metaopt.ranker._cost import CostModel
from metaopt.ranker._covariance import ConfigCovariance
from metaopt.ranker._matrix import PerformanceMatrix, check_matrix
from metaopt.ranker._portfolio import Portfolio
from metaopt.ranker._ranker import ConfigRanker, as_configs, observed_scores
from metaopt.ranker._spaces import resolve_space
from metaopt.spaces import CombinedSpace, SearchSpace, get_space
from metaopt.spaces._combined import FAMILY, single_spaces

Observation = tuple[Mapping[str, Any], float]


class CandidatesExhausted(ValueError):
    """Every candidate configuration was evaluated, claimed or not allowed."""


@dataclass(frozen=True)
class Proposal:
    """A configuration to evaluate next, and why.

    Parameters
    ----------
    params : dict
        The configuration.
    source : {"portfolio", "ranker", "random"}
        What chose it.
    reason : str
        Why, in words.
    predicted : float or None, default=None
        The ranker's score of a ranker pick: higher is better, on the ranker's own scale
        (not the objective's).
    """

    params: dict[str, Any]
    source: str  # "portfolio", "ranker" or "random"
    reason: str
    predicted: float | None = None


_KEY_ENCODER = json.JSONEncoder(sort_keys=True, default=str)
_N_REFINED = 3  # incumbents whose neighbours join the candidates (MetaModel.refined)
# the files of a saved MetaModel, in the order a save moves them in (portfolio.json,
# whose presence marks a model, last)
_MODEL_FILES = ("ranker.safetensors", "ranker.json", "cost.json", "policy.json",
                "portfolio.json")


def _plain(value: Any) -> Any:
    """``value`` as the Python scalar it stands for: numpy scalars unwrapped, an
    integral float as an int (the spaces encode 181.0 and 181 alike)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def config_key(params: Mapping[str, Any]) -> str:
    """Canonical text of a configuration, to compare configurations."""
    return _KEY_ENCODER.encode({name: _plain(value) for name, value in params.items()})


def _taken(observed: Sequence[Observation],
           exclude: Sequence[Mapping[str, Any]]) -> set[str]:
    """The distinct configurations (:func:`config_key`) evaluated or claimed."""
    return {config_key(p) for p, _ in observed} | {config_key(p) for p in exclude}


class _RandomTrial:
    """Uniform (log-uniform where asked) draws through the ``suggest_*`` calls that
    :meth:`SearchSpace.sample` makes: random candidates without an Optuna study."""

    def __init__(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)

    def suggest_categorical(self, name: str, choices):
        return choices[int(self._rng.integers(len(choices)))]

    def suggest_float(self, name: str, low: float, high: float, *,
                      step: float | None = None, log: bool = False) -> float:
        if log:
            return float(np.exp(self._rng.uniform(np.log(low), np.log(high))))
        return _on_grid(float(self._rng.uniform(low, high)), low, high, step)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        if log:
            value = np.exp(self._rng.uniform(np.log(low), np.log(high + 1)))
            return int(min(max(np.floor(value), low), high))
        return int(_on_grid(int(self._rng.integers(low, high + 1)), low, high, step))


def _on_grid(value: float, low: float, high: float, step: float | None) -> float:
    """``value`` moved to the nearest ``low + k * step`` within ``[low, high]`` (a
    distribution's ``step``; None or 1 for an int: as it is)."""
    if step is None or step == 1:
        return value
    k = min(round((value - low) / step), int((high - low) // step))
    return type(low)(low + k * step)


class _LocalTrial(_RandomTrial):
    """Draws near ``center``: numbers move by a Gaussian step of ``scale`` times their
    (log) range, categories change with probability ``p_change``; parameters that
    ``center`` lacks (newly active ones) are drawn uniformly."""

    def __init__(self, center: Mapping[str, Any], seed: int | None, *,
                 scale: float = 0.1, p_change: float = 0.2) -> None:
        super().__init__(seed)
        self._center, self._scale, self._p_change = center, scale, p_change

    def suggest_categorical(self, name: str, choices):
        if name in self._center and self._rng.random() > self._p_change:
            return self._center[name]
        return super().suggest_categorical(name, choices)

    def _step(self, name: str, low: float, high: float, log: bool) -> float | None:
        if name not in self._center:
            return None
        to, back = (np.log, np.exp) if log else (float, float)
        lo, hi = to(low), to(high)
        moved = to(self._center[name]) + self._rng.normal(0.0, self._scale * (hi - lo))
        # clipped after the back-transform: exp(log(high)) may exceed high by a rounding error
        return float(np.clip(back(moved), low, high))

    def suggest_float(self, name: str, low: float, high: float, *,
                      step: float | None = None, log: bool = False) -> float:
        value = self._step(name, low, high, log)
        if value is None:
            return super().suggest_float(name, low, high, step=step, log=log)
        return _on_grid(value, low, high, step)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        value = self._step(name, low, high, log)
        if value is None:
            return super().suggest_int(name, low, high, step=step, log=log)
        return int(_on_grid(min(max(round(value), low), high), low, high, step))


def _standardized(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-12)



def _no_model(directory: Path) -> str:
    """Why ``directory`` holds no saved model, and what to pass instead: a missing path,
    or a folder of models such as ``metaopt train-meta-model --out`` writes."""
    if not directory.is_dir():
        shipped = str(directory) in shipped_models() or str(directory) in shipped_spaces()
        space, _, task = str(directory).partition("@")
        return (f"meta-model directory {str(directory)!r} "
                + ("is a file" if directory.exists() else "does not exist")
                # a shipped model's name is no directory: say how to load it
                + (f" (the shipped model of {space!r} is metaopt.ranker.load_meta_model("
                   f"{space!r}, {repr(task) if task else 'task'}), and meta_model=None serves it)"
                   if shipped and not directory.exists() else ""))
    inside = sorted(p.name for p in directory.iterdir() if (p / "portfolio.json").is_file())
    if inside:
        return (f"{directory} holds one meta-model per space, not one model: pass one of "
                f"its folders, e.g. {str(directory / inside[0])!r} (spaces: {inside})")
    ranker = (directory / "ranker.json").is_file() and (
        directory / "ranker.safetensors").is_file()
    return (f"{directory} holds no metaopt meta-model (no portfolio.json; a saved MetaModel "
            "is portfolio.json, policy.json and, when it has them, ranker.json + "
            "ranker.safetensors and cost.json)"
            + (f"; its ranker.json and ranker.safetensors are a ConfigRanker's alone: "
               f"ConfigRanker.load({str(directory)!r})" if ranker else ""))


def _check_fit_settings(settings: Mapping[str, Any]) -> None:
    """A ``TypeError`` for a keyword of :meth:`MetaModel.fit` that is no setting of
    :class:`MetaModel`, before any meta-training: a ranker's (``iterations``) says where
    it goes, another gets the closest name."""
    known = [name for name in inspect.signature(MetaModel).parameters
             if name not in ("portfolio", "ranker")]
    unknown = [name for name in settings if name not in known]
    if not unknown:
        return
    of_ranker = [name for name in unknown if name in inspect.signature(ConfigRanker).parameters]
    if of_ranker:
        raise TypeError(
            f"MetaModel.fit got {', '.join(f'{name}=' for name in of_ranker)}: settings of "
            "the ranker, which go to it: MetaModel.fit(matrix, ranker=ConfigRanker("
            f"{', '.join(f'{name}=...' for name in of_ranker)}))")
    close = difflib.get_close_matches(unknown[0], known, n=1)
    raise TypeError(f"MetaModel.fit got an unknown setting {unknown[0]!r}"
                    + (f" (did you mean {close[0]!r}?)" if close else "")
                    + f"; MetaModel's are {', '.join(known)}")


class MetaModel:
    """Portfolio + ConfigRanker of one search space.

    The first ``n_warmup`` proposals come from the greedy portfolio (configurations that
    are good together across the knowledge base); after that the ranker, adapted to the
    evaluations observed so far, picks the candidate with the highest
    ``mean + exploration * std`` of its ensemble, except that every ``random_every``-th
    proposal after the warm start is a random untried candidate (interleaved random
    search as in SMAC: a ranker that is confidently wrong about a region, e.g. a whole
    model family, still gets to see it). In a combined space, ``family_patience`` sets
    aside the model families that stopped improving the best score.

    Parameters
    ----------
    portfolio : Portfolio
    ranker : ConfigRanker, optional
        Without it the portfolio order continues (then random candidates).
    n_warmup : int
        Portfolio proposals before the ranker takes over.
    exploration : float
        Weight of the ensemble's standard deviation.
    n_random : int
        Random configurations of the space added to the portfolio's as ranker
        candidates in continuous spaces.
    random_every : int
        Every ``random_every``-th proposal after the warm start is random (0: never).
    random_after_tie : bool
        After the warm start, when the latest evaluation scored exactly as an earlier one
        (the mark of a plateau of equivalent configurations, e.g. a linear model's ``C``
        past saturation), the next proposal is random. Off by default: it helps on real
        fits but did nothing on the estimator benchmark's development datasets
        (``docs/ranker.md``).
    covariance_weight : float
        When the candidates are the portfolio's configurations (a finite set, e.g.
        TabRepo's) and two or more were evaluated, the ranker's standardized
        ``mean + exploration * std`` is blended with ``covariance_weight`` times the
        standardized prediction of :class:`ConfigCovariance` (how the portfolio's
        configurations co-vary across the training datasets); 0 turns it off. Off by
        default; the shipped TabRepo model uses 3 (``docs/ranker.md``).
    family_patience : int
        In a combined space (configurations carry their model family), a family whose
        latest ``family_patience`` evaluations all failed to beat the best score seen
        before them is set aside: the ranker chooses among the other families'
        candidates while any are left (a search stuck refining one family on a dataset
        where it is near chance then moves on). Once every candidates' family is set
        aside, the counts start over, each family getting ``family_patience`` more
        evaluations (rather than the rule stopping and the ranker refining one
        family to the end). 0: off. Configurations of a single
        space carry no family, so it acts only in combined spaces
        (``docs/estimators.md``).
    handoff_after : int
        After this many configurations evaluated or claimed, the model proposes no
        more: :class:`~metaopt.samplers.MetaSampler` hands every later trial to its
        fallback sampler (e.g. TPE), which then learns from all trials so far, the
        meta-learned ones included (auto-sklearn's meta-learned warm start of SMAC,
        with the adapted ranker in the middle). 0: never.
    min_distance : float
        After the warm start, candidates closer than this to a configuration already
        evaluated or claimed are left out while farther ones remain. Closeness is the
        largest coordinate difference of :meth:`SearchSpace.encode` (numbers on their
        unit, log where log-scaled, range; a different category is 1), so it binds only
        where every number is close: near copies that tell little new, such as a
        linear model's ``C`` past saturation. 0: off (the default; ``docs/sampler.md``).
    cost : CostModel, optional
        Predicts how long a configuration's trial takes. With it and ``time_fraction``
        > 0, a proposal made with ``time_left`` skips configurations predicted to take
        more than ``time_fraction`` of it while others remain (portfolio, ranker and
        random picks alike).
    time_fraction : float
        See ``cost``. 0: off (the default: on the estimator benchmark, 0.5 doubled the
        trials per fit but lowered the test scores; ``docs/estimators.md``).
    """

    def __init__(self, portfolio: Portfolio, ranker: ConfigRanker | None = None, *,
                 n_warmup: int = 3, exploration: float = 0.5, n_random: int = 256,
                 random_every: int = 4, random_after_tie: bool = False,
                 covariance_weight: float = 0.0, family_patience: int = 3,
                 handoff_after: int = 0, min_distance: float = 0.0,
                 cost: CostModel | None = None, time_fraction: float = 0.0):
        self._check_policy(n_warmup=n_warmup, exploration=exploration, n_random=n_random,
                           random_every=random_every, random_after_tie=random_after_tie,
                           family_patience=family_patience,
                           handoff_after=handoff_after, min_distance=min_distance,
                           covariance_weight=covariance_weight, time_fraction=time_fraction)
        self._check_parts(portfolio, ranker)
        self.portfolio = portfolio
        self.ranker = ranker
        self.n_warmup = n_warmup
        self.exploration = exploration
        self.n_random = n_random
        self.random_every = random_every
        self.random_after_tie = random_after_tie
        self.covariance_weight = covariance_weight
        self.family_patience = family_patience
        self.handoff_after = handoff_after
        self.min_distance = min_distance
        self.cost = cost
        self.time_fraction = time_fraction
        self.sampling_space: SearchSpace | None = None  # set by restrict()
        # the portfolio's {config key: column} and ConfigCovariance, built on first use
        self._covariance: tuple[dict[str, int], ConfigCovariance] | None = None

    @staticmethod
    def _check_policy(*, n_warmup: int = 3, exploration: float = 0.5, n_random: int = 256,
                      random_every: int = 4, random_after_tie: bool = False,
                      family_patience: int = 3, handoff_after: int = 0,
                      min_distance: float = 0.0, covariance_weight: float = 0.0,
                      time_fraction: float = 0.0, **_) -> None:
        """Refuse proposal settings that make no sense (constructor keywords)."""
        if not isinstance(random_after_tie, (bool, np.bool_)):  # "no" in a policy.json is true
            raise ValueError(f"random_after_tie must be True or False, got {random_after_tie!r}")
        for name, value in (("n_warmup", n_warmup), ("n_random", n_random),
                            ("random_every", random_every),
                            ("family_patience", family_patience),
                            ("handoff_after", handoff_after)):
            check_int(value, name, minimum=0)
        for name, value, high in (("exploration", exploration, math.inf),
                                  ("min_distance", min_distance, 1),
                                  ("covariance_weight", covariance_weight, math.inf),
                                  ("time_fraction", time_fraction, 1)):
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or not 0 <= value <= high or value == math.inf):
                bounds = ">= 0" if high == math.inf else f"in [0, {high}]"
                raise ValueError(f"{name} must be {bounds} (a finite number), got {value!r}")

    @staticmethod
    def _check_parts(portfolio: Portfolio, ranker: ConfigRanker | None) -> None:
        """Refuse a portfolio or ranker that is not fitted, and parts of two spaces."""
        if not isinstance(portfolio, Portfolio):
            raise TypeError("portfolio must be a fitted Portfolio (Portfolio().fit(matrix) or "
                            f"Portfolio.load(path)), got {type(portfolio).__name__}")
        portfolio._check_fitted()
        if ranker is None:
            return
        if not isinstance(ranker, ConfigRanker):
            raise TypeError("ranker must be a fitted ConfigRanker or None, got "
                            f"{type(ranker).__name__}")
        ranker._check_fitted()
        if ranker.space_name_ != portfolio.space_:
            raise ValueError(f"the ranker was trained on space {ranker.space_name_!r}, the "
                             f"portfolio on {portfolio.space_!r}: they do not belong together")

    @property
    def metafeatures_version(self) -> int:
        """The ``metaopt.metafeatures.METAFEATURES_VERSION`` of the meta-features the
        model was trained on (its knowledge base's)."""
        return self.portfolio.metafeatures_version_

    @property
    def space(self) -> SearchSpace:
        """The space the model was trained on (its ranker encodes configurations in it)."""
        return self.ranker.space_ if self.ranker is not None else resolve_space(
            self.portfolio.space_)

    def check_task(self, task: str, which: str = "meta_model") -> None:
        """A ValueError when the model was trained on no dataset of ``task``.

        Parameters
        ----------
        task : {"classification", "regression"}
        which : str, default="meta_model"
            The model's name in the error.
        """
        trained_on = sorted(set(self.portfolio.task_types_))
        if task not in trained_on:
            raise ValueError(f"{which} was trained on {' and '.join(trained_on)} datasets, "
                             f"this one is {task}: pass a {task} model")

    def restrict(self, space: CombinedSpace | str) -> MetaModel:
        """This model choosing only among the model families of ``space``.

        The model must be trained on a combination (e.g. ``"all"``) that contains every
        member of ``space``; its portfolio keeps their configurations and random
        candidates are drawn from ``space``.

        Parameters
        ----------
        space : CombinedSpace or str
            A combination, or its name (``"svm+knn"``).

        Returns
        -------
        MetaModel
            A copy.
        """
        own = self.space
        if isinstance(space, str):
            space = get_space(space)
        if not isinstance(space, CombinedSpace):
            raise ValueError(f"restrict takes a combination of model families (e.g. "
                             f"get_space('svm+knn')), got {space.name!r}; a single family's "
                             "own shipped model is load_meta_model(name, task)")
        names = {m.name for m in space.members}
        if not isinstance(own, CombinedSpace) or not names <= {m.name for m in own.members}:
            raise ValueError(f"cannot restrict a model of space {own.name!r} to {space.name!r}: "
                             "it must be trained on a combination containing every member")
        model = copy.copy(self)
        model.portfolio = self.portfolio.restrict(lambda p: p.get(FAMILY) in names)
        model.sampling_space = space
        model._covariance = None
        return model

    @classmethod
    def fit(cls, matrix: PerformanceMatrix, *, ranker: ConfigRanker | None = None,
            **kwargs) -> MetaModel:
        """Fit the portfolio and a ranker on ``matrix``.

        The settings are checked before any meta-training.

        Parameters
        ----------
        matrix : PerformanceMatrix
            From a knowledge base ``kb``: ``PerformanceMatrix.from_frame(kb.to_frame(),
            space)``.
        ranker : ConfigRanker, optional
            A copy of it is fitted (default: ``ConfigRanker()``, which shows progress
            bars; pass ``ranker=ConfigRanker(progress=False)`` for none).
        **kwargs
            The other parameters of :class:`MetaModel`.

        Returns
        -------
        MetaModel
        """
        check_matrix(matrix, "MetaModel.fit")
        _check_fit_settings(kwargs)
        cls._check_policy(**kwargs)
        if not isinstance(ranker, (ConfigRanker, type(None))):
            raise TypeError("ranker must be a ConfigRanker (its settings; a copy is fitted) "
                            f"or None, got {type(ranker).__name__}")
        ranker = copy.deepcopy(ranker) if ranker is not None else ConfigRanker()
        ranker._check_settings()
        portfolio = Portfolio().fit(matrix)
        return cls(portfolio, ranker.fit(matrix), **kwargs)

    def candidates(self, task: str, seed: int | None = None) -> list[dict[str, Any]]:
        """The portfolio's configurations plus ``n_random`` seeded random ones.

        Parameters
        ----------
        task : {"classification", "regression"}
        seed : int, optional
            Seeds the random ones.

        Returns
        -------
        list of dict
        """
        space = self.sampling_space or self.space
        trial = _RandomTrial(check_seed(seed, "seed", "the random candidates"))
        return list(self.portfolio.params_) + [space.sample(trial, task)
                                                for _ in range(self.n_random)]

    def neighbours(self, task: str, around: Sequence[Mapping[str, Any]], n: int = 32,
                   seed: int | None = None) -> list[dict[str, Any]]:
        """Seeded perturbations of configurations: candidates that refine the best
        configurations seen so far.

        Parameters
        ----------
        task : {"classification", "regression"}
        around : sequence of params
            The configurations perturbed.
        n : int, default=32
            Perturbations of each.
        seed : int, optional

        Returns
        -------
        list of dict
        """
        space = self.sampling_space or self.space
        rng = np.random.default_rng(seed)
        return [space.sample(_LocalTrial(center, int(rng.integers(2**32))), task)
                for center in around for _ in range(n)]

    def refined(self, task: str, candidates: Sequence[Mapping[str, Any]],
                observed: Sequence[Observation], n_seen: int,
                seed: int | None = None) -> list[Mapping[str, Any]]:
        """``candidates`` plus 32 neighbours of each of the 3 best ``observed``
        configurations with a finite score (a failed one has none to refine), unless the
        proposal after ``n_seen`` is a warm-start or random one: the ranker can refine its
        incumbents and never runs out of candidates.

        Parameters
        ----------
        task : {"classification", "regression"}
        candidates : sequence of params, or DataFrame
        observed : sequence of (params, score)
        n_seen : int
            Configurations evaluated or claimed so far.
        seed : int, optional
            Seeds the neighbours, with the number observed.

        Returns
        -------
        list of params
            ``candidates`` in their order, then the neighbours.
        """
        candidates = as_configs(candidates, "candidates", self.sampling_space or self.space)
        if n_seen < self.n_warmup or self.explores(n_seen):
            return list(candidates)
        scored = [o for o in observed if np.isfinite(o[1])]
        best = sorted(scored, key=lambda o: o[1], reverse=True)[:_N_REFINED]
        seed = None if seed is None else seed * 100_003 + len(observed)
        return list(candidates) + self.neighbours(task, [p for p, _ in best], seed=seed)

    def hands_off(self, n_seen: int) -> bool:
        """Whether the next proposal belongs to the fallback sampler (see
        ``handoff_after``).

        Parameters
        ----------
        n_seen : int
            Configurations evaluated or claimed so far.

        Returns
        -------
        bool
        """
        return 0 < self.handoff_after <= n_seen

    def adapts(self, observed: Sequence[Observation],
               exclude: Sequence[Mapping[str, Any]] = ()) -> bool:
        """Whether :meth:`propose`'s warm start is over, so that it adapts the ranker.

        It is once ``n_warmup`` distinct configurations are evaluated (``observed``) or
        claimed (``exclude``), and the model has a ranker.

        Parameters
        ----------
        observed : sequence of (params, score)
        exclude : sequence of params

        Returns
        -------
        bool
        """
        return self.ranker is not None and len(_taken(observed, exclude)) >= self.n_warmup

    def explores(self, n_seen: int) -> bool:
        """Whether the next proposal is a random one (see ``random_every``).

        Parameters
        ----------
        n_seen : int
            Configurations evaluated or claimed so far.

        Returns
        -------
        bool
        """
        after = n_seen - self.n_warmup
        return (self.ranker is not None and self.random_every > 0 and after >= 0
                and after % self.random_every == self.random_every - 1)

    def propose(
        self,
        meta_features: pd.Series | None,
        observed: Sequence[Observation],
        *,
        candidates: Sequence[Mapping[str, Any]],
        exclude: Sequence[Mapping[str, Any]] = (),
        seed: int | None = None,
        time_left: float | None = None,
        timed: Sequence[tuple[Mapping[str, Any], float]] = (),
        allowed: Callable[[Mapping[str, Any]], bool] | None = None,
        taken_keys: Collection[str] | None = None,
        candidate_keys: Sequence[str] | None = None,
    ) -> Proposal:
        """The next configuration: never one of ``observed`` or ``exclude``.

        Parameters
        ----------
        meta_features : Series or None
        observed : sequence of (params, score)
            Higher score is better; ``-inf`` marks a configuration that failed (never
            proposed again, not used to adapt the ranker). NaN is refused.
        candidates : sequence of params, or DataFrame
            Where the ranker chooses (e.g. :meth:`candidates`, or a fixed set). A
            DataFrame gives its ``params`` column, else one configuration per row
            (missing values are inactive parameters).
        exclude : sequence of params, or DataFrame
            Configurations claimed by other workers but not finished.
        seed : int, optional
            Seeds the random proposals (with the number of configurations seen).
        time_left : float, optional
            Seconds left for the search (>= 0): with a ``cost`` model and
            ``time_fraction`` > 0, configurations predicted to take more than
            ``time_fraction`` of it are skipped while others remain.
        timed : sequence of (params, seconds)
            How long the trials of this dataset took, to calibrate the ``cost`` model.
        allowed : callable, optional
            ``allowed(params) -> bool``: only configurations it accepts are proposed, portfolio picks included (e.g.
            :class:`~metaopt.samplers.MetaSampler`'s: those inside a study's narrowed
            distributions).
        taken_keys : collection of str, optional
            The canonical text (``metaopt.ranker._metamodel.config_key``) of every
            configuration of ``observed`` and ``exclude``, when the caller has it (as
            :class:`~metaopt.samplers.MetaSampler` does): spares a second pass over them.
            They must be exactly those keys.
        candidate_keys : sequence of str, optional
            The canonical text of each of ``candidates``, in their order, when the caller
            keeps them (as :class:`~metaopt.samplers.MetaSampler` keeps those of its fixed
            candidates): spares computing them on every proposal. They must be exactly
            those keys.

        Returns
        -------
        Proposal

        Raises
        ------
        CandidatesExhausted
            A ``ValueError``, when every candidate is observed, excluded or not allowed.
        ValueError
            When ``candidates`` is empty once the warm start is over (the warm start does
            not use them).
        """
        self._check_observed(observed)
        seed = check_seed(seed, "seed", "the random proposals")
        if time_left is not None and (isinstance(time_left, bool) or not isinstance(
                time_left, numbers.Real) or not time_left >= 0):
            raise ValueError(f"time_left must be None or a number of seconds >= 0, got "
                             f"{time_left!r}")
        if allowed is not None and not callable(allowed):
            raise ValueError("allowed must be None or a function of a configuration (params "
                             f"dict) saying whether it may be proposed, got {allowed!r}")
        observed_scores(timed, "timed", "seconds")
        space = self.sampling_space or self.space
        candidates = as_configs(candidates, "candidates", space)
        exclude = as_configs(exclude, "exclude", space)
        if candidate_keys is not None and len(candidate_keys) != len(candidates):
            raise ValueError(f"candidate_keys must hold one key per candidate: got "
                             f"{len(candidate_keys)} for {len(candidates)} candidates")
        taken = _taken(observed, exclude) if taken_keys is None else set(taken_keys)
        n_seen = len(taken)  # distinct configurations: duplicates must not end the warm start

        def affordable(configs: list[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], str]:
            return self._affordable(configs, meta_features, time_left, timed)

        if n_seen < self.n_warmup or self.ranker is None:
            self._check_values(observed)  # after the warm start, the ranker encodes them
            size = len(self.portfolio.params_)
            # the whole order when a time limit or ``allowed`` may skip the next picks
            needed = (size if self._limits(time_left) or allowed is not None
                      else min(size, n_seen + 1 + len(taken)))
            order = self.portfolio.suggest(needed, meta_features)
            rows = [r for r in order.itertuples() if config_key(r.params) not in taken
                    and (allowed is None or allowed(r.params))]
            keep, skipped = affordable([r.params for r in rows])
            keys = {config_key(p) for p in keep}
            for row in rows:
                if config_key(row.params) in keys:
                    return Proposal(dict(row.params), "portfolio",
                                    f"portfolio pick {row.Index + 1}: "
                                    f"{self._pick_regret(row.params, taken, meta_features)}"
                                    f"{skipped}")
        if not candidates:
            raise ValueError(
                f"candidates is empty: this proposal is no portfolio pick (the warm start's "
                f"{self.n_warmup} are over, or the picks are taken), so it is one of the "
                "candidates: pass the configurations to choose among, e.g. "
                "model.candidates(task)")
        keys = map(config_key, candidates) if candidate_keys is None else candidate_keys
        free = [c for c, key in zip(candidates, keys, strict=True) if key not in taken
                and (allowed is None or allowed(c))]
        if not free:
            raise CandidatesExhausted("every candidate configuration was already evaluated or "
                                      "claimed" + ("" if allowed is None else
                                                   ", or is not allowed"))
        if self.ranker is not None and self.min_distance:
            try:
                free = self._apart(free, [p for p, _ in observed] + list(exclude)) or free
            except ValueError as exc:
                self._name_invalid(exc, observed, exclude, candidates)
        free, skipped = affordable(free)
        if self.ranker is None:  # the portfolio is used up: the candidates in their order
            return Proposal(dict(free[0]), "random", f"next candidate (no ranker){skipped}")
        explore = self.explores(n_seen)
        if explore or self._after_tie(observed):
            rng = np.random.default_rng(None if seed is None else [seed, n_seen])
            pick = free[int(rng.integers(len(free)))]
            why = (f"every {self.random_every}th proposal after the warm start" if explore
                   else "the latest score ties an earlier one")
            return Proposal(dict(pick), "random", f"random untried candidate (exploration: "
                                                  f"{why}){skipped}")
        stale = self.stale_families(observed, {c[FAMILY] for c in free if FAMILY in c})
        fresh = [c for c in free if c.get(FAMILY) not in stale]
        set_aside = ""
        if stale and fresh:
            free = fresh
            set_aside = (f"; set aside after {self.family_patience} evaluations without "
                         f"improvement: {', '.join(sorted(stale))}")
        succeeded = [(p, s) for p, s in observed if s != -np.inf]
        try:
            mean, std = self.ranker.predict(meta_features, succeeded, free)
        except ValueError as exc:  # named by its place among the free or successful ones
            self._name_invalid(exc, observed, exclude, candidates)
        value = mean + self.exploration * std
        prior = self._covariance_scores(succeeded, free) if self.covariance_weight else None
        blend = ""
        if prior is not None:
            value = _standardized(value) + self.covariance_weight * _standardized(prior)
            blend = ", blended with the portfolio's covariance across training datasets"
        best = int(np.argmax(value))
        failed = len(observed) - len(succeeded)
        failed = f", {failed} failed one(s) left out" if failed else ""
        return Proposal(dict(free[best]), "ranker",
                        f"ranker {self.ranker.adaptation(len(succeeded))}{failed}: predicted "
                        f"{mean[best]:+.2f} ± {std[best]:.2f} on its relative scale (best of "
                        f"{len(free)}){blend}{set_aside}{skipped}",
                        predicted=float(mean[best]))

    def _pick_regret(self, params: Mapping[str, Any], taken: set[str],
                     meta_features: pd.Series | None) -> str:
        """The reason's figure for a portfolio pick: the expected best-so-far regret of
        the portfolio's configurations tried (``taken``) and this one (the portfolio's
        own figure for its n-th pick assumes the n - 1 before it ran; picks skipped as too
        slow or not allowed did not)."""
        key = config_key(params)
        columns = {config_key(p): i for i, p in reversed(list(enumerate(self.portfolio.params_)))}
        tried = [i for k, i in columns.items() if k in taken or k == key]
        regret = self.portfolio.expected_regret(tried, meta_features)
        after = ("this pick" if len(tried) == 1
                 else f"the {len(tried)} portfolio picks tried, this one included")
        return f"expected best-so-far regret {regret:.3f} over the knowledge base after {after}"

    def _check_observed(self, observed: Sequence[Observation]) -> None:
        """Refuse malformed evaluations, NaN or +inf scores and parameters the model's
        space does not have, at every proposal (the warm start included; the ranker
        checks the values of those it adapts on)."""
        scores = observed_scores(observed)
        bad = np.isnan(scores) | (scores == np.inf)
        if bad.any():
            raise ValueError(f"observed scores must be finite or -inf (a failed "
                             f"configuration), got {scores[bad]}")
        known = {p.name for p in self.space.params}
        for i, (params, _) in enumerate(observed):
            unknown = [k for k in params if k not in known]
            if unknown:
                raise ValueError(f"observed[{i}] is not a valid {self.space.name} "
                                 f"configuration: unknown parameter(s) {unknown}")

    def _check_values(self, observed: Sequence[Observation]) -> None:
        """Refuse a successful evaluation whose values the space cannot take (out of
        range, an unknown choice), as the ranker does with those it adapts on."""
        for i, (params, score) in enumerate(observed):
            if score == -np.inf:
                continue
            try:
                self.space.encode(params)
            except (ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"observed[{i}] is not a valid {self.space.name} "
                                 f"configuration: {exc}") from exc

    def _name_invalid(self, exc: ValueError, observed: Sequence[Observation],
                      exclude: Sequence[Mapping[str, Any]],
                      candidates: Sequence[Mapping[str, Any]]) -> NoReturn:
        """Raise ``exc`` again, or a ValueError naming the first configuration the space
        cannot encode by its place in the caller's ``observed``, ``exclude`` or
        ``candidates`` (the proposal works on filtered lists, whose positions are not the
        caller's)."""
        for what, configs in (("observed", [p for p, _ in observed]), ("exclude", exclude),
                              ("candidates", candidates)):
            for i, params in enumerate(configs):
                try:
                    self.space.encode(params)
                except (ValueError, TypeError, KeyError) as bad:
                    raise ValueError(f"{what}[{i}] is not a valid {self.space.name} "
                                     f"configuration: {bad}") from exc
        raise exc

    def _covariance_scores(self, observed: Sequence[Observation],
                           free: Sequence[Mapping[str, Any]]) -> np.ndarray | None:
        """Minus the expected regret of the free candidates given the observed portfolio
        configurations. None unless every free candidate is a portfolio configuration
        (a finite candidate set such as TabRepo's: the covariance knows nothing of other
        configurations, and ranking known against unknown ones would pull the search
        onto the portfolio) and at least two portfolio configurations were observed."""
        if len(self.portfolio.regret_) < 2:
            return None  # a covariance needs two training datasets
        if self._covariance is None:  # the portfolio is fixed: its keys and covariance too
            self._covariance = ({config_key(p): i for i, p in enumerate(self.portfolio.params_)},
                                ConfigCovariance(self.portfolio.regret_))
        column, covariance = self._covariance
        keys = [config_key(c) for c in free]
        seen = [(column[k], s) for p, s in observed if (k := config_key(p)) in column]
        if len(seen) < 2 or any(k not in column for k in keys):
            return None
        regret = covariance.posterior_regret([c for c, _ in seen],
                                             np.array([s for _, s in seen]))
        return -regret[[column[k] for k in keys]]

    def _limits(self, time_left: float | None) -> bool:
        """Whether proposals made with ``time_left`` keep to a time limit."""
        return time_left is not None and self.cost is not None and self.time_fraction > 0

    def _affordable(self, configs: list[Mapping[str, Any]], meta_features: pd.Series | None,
                    time_left: float | None, timed: Sequence[tuple[Mapping[str, Any], float]],
                    ) -> tuple[list[Mapping[str, Any]], str]:
        """The ``configs`` predicted to take at most ``time_fraction * time_left`` seconds
        (all of them without a time limit, a cost model or a prediction; the cheapest
        one when none fits), and a note for the reason when some were skipped."""
        if not self._limits(time_left) or not configs:
            return configs, ""
        assert self.cost is not None and time_left is not None  # as _limits checked
        seconds = self.cost.predict(meta_features, self.sampling_space or self.space,
                                    configs, timed)
        limit = self.time_fraction * time_left
        fits = ~(seconds > limit)  # NaN (no prediction) fits
        if fits.all():
            return configs, ""
        keep = [c for c, f in zip(configs, fits, strict=True) if f]
        if not keep:
            return [configs[int(np.nanargmin(seconds))]], (
                f"; the quickest of {len(configs)}: none predicted to take under {limit:.1f} s "
                f"of the {time_left:.1f} s left")
        return keep, (f"; {len(configs) - len(keep)} of {len(configs)} skipped as predicted "
                      f"to take over {limit:.1f} s of the {time_left:.1f} s left")

    def _apart(self, candidates: Sequence[Mapping[str, Any]],
               seen: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The ``candidates`` at least ``min_distance`` from every ``seen`` configuration
        (largest encoded coordinate difference)."""
        if not seen:
            return list(candidates)
        encode = self.space.encode
        tree = cKDTree(np.stack([encode(c) for c in seen]))
        nearest, _ = tree.query(np.stack([encode(c) for c in candidates]), p=np.inf,
                                distance_upper_bound=self.min_distance)
        return [c for c, d in zip(candidates, nearest, strict=True) if d >= self.min_distance]

    def stale_families(self, observed: Sequence[Observation],
                       families: Collection[str] = ()) -> set[str]:
        """Model families whose latest ``family_patience`` evaluations each scored no
        better than the best before them; empty when off or the configurations carry no
        family. Each time every one of ``families`` is stale, the counts start over from
        that evaluation.

        Parameters
        ----------
        observed : sequence of (params, score)
            In the order observed.
        families : collection of str, optional
            The families still to choose among (the candidates').

        Returns
        -------
        set of str
        """
        if not self.family_patience:
            return set()
        misses: dict[str, int]
        best, misses = -np.inf, {}
        for params, score in observed:
            family = params.get(FAMILY)
            if family is None:
                return set()
            misses[family] = 0 if score > best else misses.get(family, 0) + 1
            best = max(best, score)
            if families and all(misses.get(f, 0) >= self.family_patience for f in families):
                misses = dict.fromkeys(misses, 0)
        return {f for f, n in misses.items() if n >= self.family_patience}

    def _after_tie(self, observed: Sequence[Observation]) -> bool:
        return (self.random_after_tie and len(observed) > self.n_warmup
                and any(observed[-1][1] == score for _, score in observed[:-1]))

    @property
    def policy(self) -> dict[str, Any]:
        """The proposal settings (constructor keywords), as saved in ``policy.json``."""
        return {"n_warmup": self.n_warmup, "exploration": self.exploration,
                "n_random": self.n_random, "random_every": self.random_every,
                "random_after_tie": self.random_after_tie,
                "covariance_weight": self.covariance_weight,
                "family_patience": self.family_patience,
                "handoff_after": self.handoff_after, "min_distance": self.min_distance,
                "time_fraction": self.time_fraction}

    def save(self, directory: str | Path) -> Path:
        """Write ``portfolio.json``, ``ranker.json`` + ``ranker.safetensors``,
        ``cost.json``, ``policy.json``; files of a part this model lacks are removed from
        ``directory`` (an earlier model's ranker would otherwise be loaded with this
        portfolio).

        Parameters
        ----------
        directory : str or Path
            Created if missing.

        Returns
        -------
        Path
        """
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"a MetaModel is saved as a directory of files, and "
                             f"{str(directory)!r} is a file: pass a directory path")
        directory.mkdir(parents=True, exist_ok=True)
        # every part is written first to a folder beside it, then moved in: an
        # interrupted save leaves the earlier model whole, not its ranker with this
        # model's portfolio
        with tempfile.TemporaryDirectory(dir=directory, prefix=".saving-") as staging:
            staged = Path(staging)
            self.portfolio.save(staged / "portfolio.json")
            if self.ranker is not None:
                self.ranker.save(staged / "ranker")
            if self.cost is not None:
                self.cost.save(staged / "cost.json")
            (staged / "policy.json").write_text(dumps(self.policy, indent=1))
            for name in _MODEL_FILES:
                if (staged / name).is_file():
                    os.replace(staged / name, directory / name)
                else:
                    (directory / name).unlink(missing_ok=True)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> MetaModel:
        """Load a model written by :meth:`save` (JSON + safetensors; no code is run).

        Raises ``ValueError`` for a directory without a model, files of another metaopt
        version, parts that do not belong together (trained on other spaces or on
        meta-features of other versions) and portfolio configurations outside the space.
        Warns ``MetaFeaturesVersionWarning`` (``metaopt.kb``) when it was trained on
        meta-features of another ``METAFEATURES_VERSION`` than this metaopt's (files that
        do not say, the shipped models' among them, are of version 1), and again for a
        ``cost.json`` of yet another version.

        Parameters
        ----------
        directory : str or Path

        Returns
        -------
        MetaModel
        """
        directory = Path(directory)
        if not (directory / "portfolio.json").is_file():
            raise ValueError(_no_model(directory))
        portfolio, _ = Portfolio._read(directory / "portfolio.json")
        # either file of the pair means a ranker: one without the other is damage
        has_ranker = any((directory / f"ranker.{ext}").is_file() for ext in ("json", "safetensors"))
        ranker = ConfigRanker._read(directory / "ranker")[0] if has_ranker else None
        cost = (CostModel._read(directory / "cost.json")
                if (directory / "cost.json").is_file() else None)
        if ranker is not None and ranker.space_name_ != portfolio.space_:
            raise ValueError(f"{directory}: the ranker was trained on space "
                             f"{ranker.space_name_!r}, the portfolio on {portfolio.space_!r}; "
                             "the files do not belong together")
        if ranker is not None and not set(ranker.task_keys_) & set(portfolio.task_keys_):
            raise ValueError(f"{directory}: the ranker and the portfolio were trained on no "
                             f"common dataset (e.g. {ranker.task_keys_[:1]} and "
                             f"{portfolio.task_keys_[:1]}): the files do not belong together")
        if ranker is not None and ranker.metafeatures_version_ != portfolio.metafeatures_version_:
            raise ValueError(f"{directory}: the ranker was trained on meta-features of version "
                             f"{ranker.metafeatures_version_}, the portfolio on version "
                             f"{portfolio.metafeatures_version_}; the files do not belong "
                             "together")
        path = directory / "policy.json"
        if not path.is_file():
            raise ValueError(f"{path} is missing: a saved MetaModel is portfolio.json, "
                             "policy.json (its proposal settings) and, when it has them, "
                             "ranker.json + ranker.safetensors and cost.json: copy every file "
                             "of the model, or save it again (MetaModel.save)")
        policy = read_json(path, "policy")
        try:
            model = cls(portfolio, ranker, cost=cost, **policy)
        except TypeError as exc:  # a key that is no MetaModel parameter
            raise ValueError(f"{path} is not a policy this metaopt version knows: " + str(exc)
                             .replace("MetaModel.__init__() got an unexpected keyword argument",
                                      "unknown setting")) from exc
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        model._check_portfolio(directory / "portfolio.json")
        space = model.space
        families = [m.name for m in single_spaces(space)]
        if cost is not None and not set(cost.families) & set(families):
            # it would predict no configuration's time: a time limit would skip nothing
            raise ValueError(f"{directory / 'cost.json'}: the cost model is of model families "
                             f"{sorted(cost.families)}, the meta-model's space "
                             f"{space.name!r} of {families}: the files do not belong together")
        warn_metafeatures_version(model.metafeatures_version, directory, "meta-model")
        if cost is not None and cost.metafeatures_version != model.metafeatures_version:
            # fitted apart (add_cost_models): warned of on its own
            warn_metafeatures_version(cost.metafeatures_version, directory / "cost.json",
                                      "cost model")
        return model

    def _check_portfolio(self, path: Path) -> None:
        """A ValueError when a portfolio configuration is none of the space's (a
        portfolio.json edited after saving: it would be proposed as it is)."""
        space = self.space
        for i, params in enumerate(self.portfolio.params_):
            try:
                space.encode(params)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise ValueError(f"{path}: configuration {i} ({self.portfolio.config_ids_[i]}) "
                                 f"is not a valid {space.name} configuration ({exc}); the file "
                                 "was changed after saving") from exc
