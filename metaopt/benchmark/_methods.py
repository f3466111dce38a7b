"""Methods of the surrogate benchmarks: a small registry and the baselines."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import optuna

from metaopt.benchmark._problem import Problem
from metaopt.benchmark._samplers import get_sampler_factory, missing_package, register
from metaopt.ranker._matrix import PerformanceMatrix
from metaopt.ranker._metamodel import config_key
from metaopt.ranker._portfolio import Portfolio, greedy_order


class NotApplicable(Exception):
    """A method cannot run on this benchmark; the message says why (shown as n/a)."""


class Method(Protocol):
    """A hyperparameter optimizer, optionally meta-trained on the training tasks.

    A protocol: a method is any object with ``name``, :meth:`fit` and :meth:`run`,
    made by the factory given to :func:`register_method`.

    Parameters
    ----------
    *args, **kwargs
        None accepted: a protocol is not instantiated (``TypeError``).
    """

    name: str

    def fit(self, train: PerformanceMatrix) -> None:
        """Meta-train on the training side (no-op for methods that do not learn).

        Parameters
        ----------
        train : PerformanceMatrix
        """

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        """Spend ``budget`` calls of ``problem.evaluate``.

        Parameters
        ----------
        problem : Problem
        budget : int
        seed : int
            Seeds the method's random choices.

        Returns
        -------
        list of int or dict
            What was evaluated: candidate indices or parameter dicts.
        """


class OptunaMethod:
    """An Optuna sampler: ask, sample the space define-by-run, evaluate, tell.

    On a finite candidate set the problem snaps each proposal to the nearest
    not-yet-evaluated candidate, and the sampler is told that candidate's score at the
    point it proposed.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._make_sampler = get_sampler_factory(name)

    def fit(self, train: PerformanceMatrix) -> None:
        missing = missing_package(self.name)
        if missing:
            raise NotApplicable(missing)

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        study = optuna.create_study(direction="maximize",
                                    sampler=self._make_sampler(problem, seed))
        for _ in range(budget):
            trial = study.ask()
            study.tell(trial, problem.evaluate(problem.space.sample(trial, problem.task)))
        return problem.history


class RandomSearch(OptunaMethod):
    """Uniform random search: a seeded permutation of a finite candidate set."""

    def __init__(self) -> None:
        super().__init__("random")

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        if problem.candidates is None:
            return super().run(problem, budget, seed)
        order = np.random.default_rng(seed).permutation(len(problem.candidates))
        for index in order[:budget]:
            problem.evaluate(int(index))
        return problem.history


class _FromTraining:
    """Base of the meta-learned baselines: they propose training configurations, each
    at most once; past the last one a run stops and its curve keeps its best so far."""

    def fit(self, train: PerformanceMatrix) -> None:
        self.portfolio_ = Portfolio().fit(train)

    def _params(self, columns) -> list[dict]:
        return [self.portfolio_.params_[c] for c in columns]

    def _n_picks(self, budget: int) -> int:
        """How many configurations a run of ``budget`` evaluations proposes."""
        return min(budget, len(self.portfolio_.params_))


class GreedyPortfolio(_FromTraining):
    """The greedy portfolio of the training tasks, in order (Wistuba et al. 2015)."""

    name = "portfolio"

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        for params in self.portfolio_.suggest(self._n_picks(budget))["params"]:
            problem.evaluate(params)
        return problem.history


class NearestDatasets(_FromTraining):
    """auto-sklearn's warm start: the best configuration of each nearest training task.

    Training tasks are visited by distance in standardized meta-feature space; each
    contributes its best configuration not proposed yet. After a pass over all tasks,
    the next pass takes each one's next best.
    """

    name = "knn"

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        n_picks = self._n_picks(budget)
        p = self.portfolio_
        rows = [p.task_keys_.index(k) for k in p.neighbors(problem.meta_features)["dataset"]]
        # each task's configurations best first (ties: lower mean regret)
        ranking = np.lexsort((np.tile(p.regret_.mean(axis=0), (len(rows), 1)),
                              p.regret_[rows]), axis=1)
        chosen: list[int] = []
        for rank in range(ranking.shape[1]):
            for row in ranking[:, rank]:
                if len(chosen) < n_picks and int(row) not in chosen:
                    chosen.append(int(row))
        for params in self._params(chosen):
            problem.evaluate(params)
        return problem.history


class SourceWeighting(_FromTraining):
    """RGPE/TST-R-style transfer: weight training tasks by agreement with observations.

    A training task's weight is an Epanechnikov kernel of its pairwise ranking loss
    ``l`` on the configurations evaluated so far (``0.75 (1 - (l / bandwidth)^2)`` for
    ``l < bandwidth``, else 0; uniform until two evaluations or when every weight is 0).
    The next configuration is the one with the lowest weighted mean regret. With
    ``n_warmup`` (``rgpe-warm``: 3, as metaopt), the first picks are the greedy
    portfolio's.
    """

    name = "rgpe"

    def __init__(self, bandwidth: float = 0.5, n_warmup: int = 0) -> None:
        if not 0 < bandwidth <= 1:
            raise ValueError(f"bandwidth must be in (0, 1], got {bandwidth!r}")
        if n_warmup < 0:
            raise ValueError(f"n_warmup must be >= 0, got {n_warmup!r}")
        self.bandwidth = bandwidth
        self.n_warmup = n_warmup

    def weights(self, columns: list[int], observed: list[float]) -> np.ndarray:
        """Weight of each training task given ``observed`` scores of ``columns``."""
        n_tasks = len(self.portfolio_.task_keys_)
        if len(columns) < 2:
            return np.ones(n_tasks)
        i, j = np.triu_indices(len(columns), k=1)
        scores = np.asarray(observed, dtype=float)
        with np.errstate(invalid="ignore"):  # two failures (-inf): a tie, not NaN
            obs = np.nan_to_num(np.sign(scores[i] - scores[j]), nan=0.0)
        # regret is lower-better: flip its sign to compare with higher-better scores
        reg = self.portfolio_.regret_[:, columns]
        pred = np.sign(reg[:, j] - reg[:, i])
        loss = (pred != obs[None, :]).mean(axis=1)
        w = np.where(loss < self.bandwidth, 0.75 * (1 - (loss / self.bandwidth) ** 2), 0.0)
        return w if w.sum() > 0 else np.ones(n_tasks)

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        n_picks = self._n_picks(budget)
        regret = self.portfolio_.regret_
        warm = greedy_order(regret, min(self.n_warmup, n_picks))
        columns: list[int] = []
        observed: list[float] = []
        for step in range(n_picks):
            if step < len(warm):
                c = warm[step]
            else:
                w = self.weights(columns, observed)
                value = w @ regret / w.sum()
                value[columns] = np.inf
                c = int(np.argmin(value))
            columns.append(c)
            observed.append(problem.evaluate(self.portfolio_.params_[c]))
        return problem.history


class MetaOpt:
    """metaopt: greedy portfolio warm start, then the Meta-SGD-adapted ConfigRanker,
    blended on finite candidate sets with the portfolio's configuration covariance (the
    shipped TabRepo model's policy); on continuous spaces the candidates include
    neighbours of the incumbents, and near copies of evaluated configurations are left
    out (the shipped YAHPO models' policy).

    ``algorithm`` selects the ranker's adaptation (``"metasgd"``, ``"maml"``,
    ``"anil"``, or ``"none"`` for a zero-shot ranker); ``iterations=0`` skips
    meta-training (the ablation "no meta-training"); ``n_warmup``, ``exploration``,
    ``n_random`` (0: continuous spaces are searched on the training design only),
    ``random_after_tie``, ``covariance_weight`` (0: the ranker alone) and
    ``min_distance`` are the :class:`~metaopt.ranker.MetaModel`'s. ``refine``: on
    continuous spaces, neighbours of the incumbents join the candidates
    (:meth:`~metaopt.ranker.MetaModel.refined`, as in
    :class:`~metaopt.samplers.MetaSampler`); ``min_distance`` too applies only there.
    Other options go to :class:`~metaopt.ranker.ConfigRanker`.
    """

    def __init__(self, *, n_warmup: int = 3, exploration: float = 0.5, n_random: int = 256,
                 random_after_tie: bool = False, covariance_weight: float = 3.0,
                 min_distance: float = 0.05, refine: bool = True, name: str = "metaopt",
                 **ranker_options: Any) -> None:
        self.name = name
        self.n_warmup, self.exploration, self.n_random = n_warmup, exploration, n_random
        self.random_after_tie = random_after_tie
        self.covariance_weight = covariance_weight
        self.min_distance = min_distance
        self.refine = refine
        self.ranker_options = ranker_options

    def fit(self, train: PerformanceMatrix) -> None:
        from metaopt.ranker import ConfigRanker, MetaModel

        # the runner's bar counts the jobs: no bar per ranker member inside it
        ranker = ConfigRanker(**{"progress": False, **self.ranker_options})
        self.model_ = MetaModel.fit(train, ranker=ranker,
                                    n_warmup=self.n_warmup, exploration=self.exploration,
                                    n_random=self.n_random, random_after_tie=self.random_after_tie,
                                    covariance_weight=self.covariance_weight)

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        fixed = problem.candidates
        # neighbours and min_distance act on drawn candidates only: a finite set (TabRepo)
        # keeps every candidate, as the shipped TabRepo model does
        model = self.model_ if fixed is not None else copy.copy(self.model_)
        if fixed is None:
            model.min_distance = self.min_distance
        candidates = fixed if fixed is not None else model.candidates(problem.task, seed)
        observed: list[tuple[dict, float]] = []
        failed: list[dict] = []  # tried, never proposed again, but no score to learn from
        for _ in range(budget):
            step: Sequence[Mapping[str, Any]] = candidates
            if self.refine and fixed is None:
                step = model.refined(problem.task, candidates, observed,
                                     len(observed) + len(failed), seed=seed)
            proposal = model.propose(problem.meta_features, observed,
                                     candidates=step, exclude=failed, seed=seed)
            score = problem.evaluate(proposal.params)
            # the candidate evaluated: a portfolio pick the task lacks snaps to another,
            # and is never proposed again (as a failed one)
            if fixed is None:
                params = proposal.params
            else:
                index = problem.history[-1]
                assert isinstance(index, int)  # a finite set's history: candidate indices
                params = fixed[index]
            if config_key(params) != config_key(proposal.params):
                failed.append(proposal.params)
            if np.isfinite(score):
                observed.append((params, score))
            else:
                failed.append(params)
        return problem.history


class FlamlZeroShot:
    """FLAML's zero-shot LightGBM portfolio (``flaml.default``), mapped onto TabRepo's space.

    FLAML picks the portfolio of the training task nearest in its four meta-features
    (instances, features, classes, share of numeric features; one a task's metadata
    lacks is put at FLAML's centre, where it moves no distance, and a missing share of
    categorical features counts as none). Its LightGBM
    hyperparameters are renamed to TabRepo's (``min_child_samples`` ->
    ``min_data_in_leaf``, ``colsample_bytree`` -> ``feature_fraction``; clipped to the
    space, LightGBM's defaults where an entry omits one; ``n_estimators``,
    ``log_max_bin`` and regularization dropped) and snapped to the candidates. It proposes only as many configurations as its portfolio holds.
    """

    name = "flaml"
    _RENAME = {"learning_rate": "learning_rate", "num_leaves": "num_leaves",
               "min_child_samples": "min_data_in_leaf", "colsample_bytree": "feature_fraction"}
    # what FLAML's estimator gets for a hyperparameter a portfolio entry omits
    _LIGHTGBM_DEFAULTS = {"learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
                          "colsample_bytree": 1.0}

    def fit(self, train: PerformanceMatrix) -> None:
        if train.space != "tabrepo_lightgbm":
            raise NotApplicable(f"flaml.default has portfolios for its own LightGBM, XGBoost, "
                                f"RF and extra-trees spaces only, not {train.space!r}")
        try:
            from flaml.default.suggest import load_config_predictor, suggest_config
        except ImportError as exc:
            raise NotApplicable("FLAML is not installed (pip install 'flaml[automl]')") from exc
        self._suggest, self._predictor = suggest_config, load_config_predictor

    def _flaml_task(self, problem: Problem) -> str:
        if problem.task == "regression":
            return "regression"
        return "binary" if problem.meta_features.get("n_classes") == 2 else "multiclass"

    def _features(self, problem: Problem) -> dict[str, float]:
        """FLAML's meta-features of the task by name (NaN where its metadata lacks one)."""
        mf = problem.meta_features
        pct_cat = mf.get("pct_categorical_features", np.nan)
        return {"NumberOfInstances": mf.get("n_instances", np.nan),
                "NumberOfFeatures": mf.get("n_features", np.nan),
                "NumberOfClasses": mf.get("n_classes", np.nan)
                if problem.task == "classification" else 0,
                "PercentageOfNumericFeatures": 1.0 - (0.0 if np.isnan(pct_cat) else pct_cat)}

    def run(self, problem: Problem, budget: int, seed: int) -> list[int | dict]:
        predictor = self._predictor("lgbm", self._flaml_task(problem))
        names = predictor["meta_feature_names"]
        known = self._features(problem)
        # FLAML scales by (value - center) / scale: an unknown value at the center is neutral
        values = [c if np.isnan(known[n]) else known[n]
                  for n, c in zip(names, predictor["preprocessing"]["center"], strict=True)]
        configs = self._suggest(self._flaml_task(problem), None, None, predictor,
                                meta_feature_fn=lambda *a, **k: values)
        dists = problem.space.distributions(problem.task)
        default = problem.space.default(problem.task)
        for config in configs[:budget]:
            params = dict(default)
            for theirs, ours in self._RENAME.items():
                dist = dists[ours]
                # (the renamed LightGBM parameters are numeric)
                assert not isinstance(dist, optuna.distributions.CategoricalDistribution)
                low, high = dist.low, dist.high
                value = config["hyperparameters"].get(theirs, self._LIGHTGBM_DEFAULTS[theirs])
                value = min(max(value, low), high)
                params[ours] = type(default[ours])(value)
            problem.evaluate(params)
        return problem.history


MethodFactory = Callable[..., Method]
_METHODS: dict[str, MethodFactory] = {
    "random": RandomSearch,
    "tpe": lambda: OptunaMethod("tpe"),
    "gp": lambda: OptunaMethod("gp"),
    "cmaes": lambda: OptunaMethod("cmaes"),
    "portfolio": GreedyPortfolio,
    "knn": NearestDatasets,
    "rgpe": SourceWeighting,
    "rgpe-warm": lambda: SourceWeighting(n_warmup=3),
    "flaml": FlamlZeroShot,
    "metaopt": MetaOpt,
    # ablations of metaopt's ranker
    "metaopt-maml": lambda: MetaOpt(name="metaopt-maml", algorithm="maml"),
    "metaopt-anil": lambda: MetaOpt(name="metaopt-anil", algorithm="anil"),
    "metaopt-zeroshot": lambda: MetaOpt(name="metaopt-zeroshot", algorithm="none"),
    "metaopt-untrained": lambda: MetaOpt(name="metaopt-untrained", iterations=0),
    "metaopt-tie": lambda: MetaOpt(name="metaopt-tie", random_after_tie=True),
    "metaopt-ranker-only": lambda: MetaOpt(name="metaopt-ranker-only", covariance_weight=0.0),
    "metaopt-design": lambda: MetaOpt(name="metaopt-design", n_random=0),
    # the policy before 2026-12-02: no neighbours of the incumbents, near copies allowed
    "metaopt-norefine": lambda: MetaOpt(name="metaopt-norefine", refine=False,
                                        min_distance=0.0),
}


#: The names :func:`register_method` refuses: the built-in methods.
_BUILTIN = frozenset(_METHODS)


def register_method(name: str, factory: MethodFactory, *, replace: bool = False) -> None:
    """Make ``name`` a method of the surrogate benchmarks.

    Parameters
    ----------
    name : str
        Not a built-in method's name (the results name each method by it).
    factory : callable
        ``factory(**options) -> Method``.
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
    register(_METHODS, _BUILTIN, name, factory, replace, kind="method",
             of="the surrogate benchmarks")


def list_methods() -> list[str]:
    """The names of the surrogate benchmarks' methods, built-in and registered with
    :func:`register_method`, in registration order.

    Returns
    -------
    list of str
        The names :func:`make_method` accepts.
    """
    return list(_METHODS)


def make_method(name: str, **options: Any) -> Method:
    """A new instance of the method registered as ``name``.

    Parameters
    ----------
    name : str
        One of :func:`list_methods`.
    **options
        Passed to the method's factory.

    Returns
    -------
    Method
    """
    if name not in _METHODS:
        close = difflib.get_close_matches(str(name).lower(), _METHODS, n=1)  # 'TPE', 'protfolio'
        raise ValueError(f"unknown method {name!r}; accepted: {', '.join(_METHODS)}"
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    method = _METHODS[name](**options)
    method.name = name
    return method
