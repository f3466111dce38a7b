"""ConfigRanker: a surrogate over (meta-features, configuration) adapted by Meta-SGD."""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from optuna.distributions import IntDistribution
from torch import nn

from metaopt._checks import check_int
from metaopt._mf_version import MF_VERSION_KEY
from metaopt._model_files import (
    file_pair,
    fitted_metafeatures_version,
    load_checked,
    member_state,
    read_metafeatures_version,
    save_checked,
    warn_metafeatures_version,
)
from metaopt._threads import thread_pools
from metaopt._version import __version__
from metaopt._warnings import warn
from metaopt.meta import (
    ANIL,
    MAML,
    Episodes,
    GradientLearner,
    MetaSGD,
    MetaTrainer,
    resolve_device,
)
from metaopt.meta._losses import seeded
from metaopt.meta.networks import mlp
from metaopt.ranker._matrix import PerformanceMatrix, check_matrix
from metaopt.ranker._scaling import MetaFeatureScaler
from metaopt.ranker._spaces import in_trained_order, resolve_space
from metaopt.spaces import SearchSpace
from metaopt.spaces._base import is_missing

RANKER_FORMAT = "metaopt-ranker/2"  # 2: checksummed files (metaopt._model_files)
ALGORITHMS = {"metasgd": MetaSGD, "maml": MAML, "anil": ANIL, "none": None}


def _row_config(row: Mapping[str, Any], space: SearchSpace | None) -> dict[str, Any]:
    """A table row as a configuration: missing values (inactive parameters) left out,
    numpy scalars as Python ones, an integer parameter's whole float (a column of
    integers with missing values reads as floats) as an int."""
    ints = set() if space is None else {
        p.name for p in space.params if isinstance(p.distribution, IntDistribution)}
    config = {}
    for name, value in row.items():
        if is_missing(value):
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if (name in ints and isinstance(value, float) and value.is_integer()):
            value = int(value)
        config[str(name)] = value
    return config


def as_configs(configs: Any, what: str, space: SearchSpace | None = None,
               ) -> list[Mapping[str, Any]]:
    """``configs`` as a list of configurations (parameter dicts). Also taken: a
    DataFrame, by its ``params`` column when it has one (as :meth:`Portfolio.suggest`
    and :meth:`ConfigRanker.rank` return) or else one configuration per row (missing
    values are inactive parameters), and any iterable of dicts. One dict alone, or
    anything else, is refused with a ``TypeError`` naming ``what``."""
    if isinstance(configs, pd.DataFrame):
        if "params" in configs.columns:
            return list(configs["params"])
        return [_row_config(row, space) for row in configs.to_dict("records")]
    if isinstance(configs, Mapping):
        raise TypeError(f"{what} must be a list of configurations (params dicts), got one "
                        f"dict: pass [{what}] for a single one")
    if isinstance(configs, (str, bytes)) or not hasattr(configs, "__iter__"):
        raise TypeError(f"{what} must be a list of configurations (params dicts) or a "
                        f"DataFrame of them, got {type(configs).__name__}")
    configs = list(configs)
    for i, config in enumerate(configs):
        if not isinstance(config, Mapping):
            raise TypeError(f"{what}[{i}] must be a configuration (a params dict), got "
                            f"{type(config).__name__} {config!r:.80}")
    return configs


def observed_scores(observed: Sequence[tuple[Mapping[str, Any], float]],
                    what: str = "observed", value: str = "score") -> np.ndarray:
    """The scores of ``observed`` (pairs of a configuration and its score), checked; errors
    call it ``what`` and the number ``value``. An iterator is refused: its pairs are read
    more than once."""
    pairs = f"a list of (params dict, {value} number) pairs"
    if isinstance(observed, (pd.DataFrame, Mapping)):
        raise ValueError(f"{what} must be {pairs}, got {type(observed).__name__}: e.g. "
                         f"list(zip(frame['params'], frame['{value}']))")
    if isinstance(observed, Iterator):
        raise ValueError(f"{what} must be {pairs}, got {type(observed).__name__} (an "
                         f"iterator, read once): pass list({what})")
    scores: list[float] = []
    for i, item in enumerate(observed):
        plain = (type(item) is tuple and len(item) == 2 and type(item[0]) is dict
                 and type(item[1]) in (float, int))  # the usual pair: no ABC checks
        if not plain and not (
                isinstance(item, Sequence) and len(item) == 2 and isinstance(item[0], Mapping)
                and isinstance(item[1], numbers.Real) and not isinstance(item[1], bool)):
            raise ValueError(f"{what}[{i}] must be a (params dict, {value} number) pair, "
                             f"got {item!r:.80}")
        scores.append(float(item[1]))
    return np.array(scores, dtype=float)


def _in_directory(path: str | Path) -> Path:
    """``path``, or ``path/ranker`` when ``path`` is a directory (a MetaModel's, or any)."""
    path = Path(path)
    return path / "ranker" if path.is_dir() else path


def rank_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Pairwise logistic (RankNet) loss, pairs weighted by their target gap.

    Only the order of the targets matters to the adaptation, so raw scores of a new
    dataset (on any scale) can be used as support targets; weighting pairs by
    ``|target_i - target_j| / max gap`` spends the model on differences that matter.

    Parameters
    ----------
    pred : Tensor
        Predicted scores, reshaped to ``target``'s shape.
    target : Tensor
        ``[n]`` true scores, higher is better.
    weight : Tensor
        ``[n]`` per-example weights.

    Returns
    -------
    Tensor
        A scalar.
    """
    pred = pred.reshape(target.shape)
    if target.numel() == 0:  # an empty support set (zero-shot training): nothing to rank
        return pred.sum() * 0.0
    gap = target[:, None] - target[None, :]
    gap = torch.where(gap > 0, gap, torch.zeros_like(gap))
    pair_weight = weight[:, None] * weight[None, :] * gap
    pair_weight = pair_weight / pair_weight.amax().clamp_min(1e-12)
    pair_loss = nn.functional.softplus(pred[None, :] - pred[:, None])
    return (pair_loss * pair_weight).sum() / pair_weight.sum().clamp_min(1e-12)


# Adaptation sees at most this many times the support sizes of meta-training: beyond
# that the pairwise loss costs O(n^2) per step and the model is out of its training regime.
ADAPT_FACTOR = 4


def _adaptation_subset(scores: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the observations to adapt on: all when few, else the best half of
    ``limit`` plus the most recent others (in their original order)."""
    n = len(scores)
    if n <= limit:
        return np.arange(n)
    best = np.argsort(-scores, kind="stable")[: limit // 2]
    chosen = set(best.tolist())
    recent = [i for i in range(n - 1, -1, -1) if i not in chosen][: limit - len(best)]
    return np.sort(np.concatenate([best, np.asarray(recent, dtype=int)]))


class _EpisodeSampler:
    """Episodes from a performance matrix: a few observed configurations of a task as
    support, others as query; targets are negated normalized regrets (higher = better)."""

    def __init__(self, features: np.ndarray, target: np.ndarray, valid: np.ndarray,
                 max_support: int, n_query: int, seed: int):
        self.features, self.target, self.valid = features, target, valid
        self.max_support, self.n_query = max_support, n_query
        self.rng = np.random.default_rng(seed)

    def sample(self, n_tasks: int) -> Episodes:
        T, C, D = self.features.shape
        ks, kq = self.max_support, self.n_query
        sx, qx = np.zeros((n_tasks, ks, D), np.float32), np.zeros((n_tasks, kq, D), np.float32)
        sy, qy = np.zeros((n_tasks, ks), np.float32), np.zeros((n_tasks, kq), np.float32)
        sw, qw = np.zeros((n_tasks, ks), np.float32), np.zeros((n_tasks, kq), np.float32)
        for i, t in enumerate(self.rng.integers(T, size=n_tasks)):
            cols = self.rng.permutation(np.flatnonzero(self.valid[t]))
            k = int(self.rng.integers(0, max(0, min(ks, len(cols) - 2)) + 1))
            sup, qry = cols[:k], cols[k:k + kq]
            sx[i, :k], sy[i, :k], sw[i, :k] = self.features[t, sup], self.target[t, sup], 1
            q = len(qry)
            qx[i, :q], qy[i, :q], qw[i, :q] = self.features[t, qry], self.target[t, qry], 1
        return Episodes(*(torch.from_numpy(a) for a in (sx, sy, qx, qy, sw, qw)))


class ConfigRanker:
    """Rank the configurations of a search space for a dataset from a few evaluations.

    A small MLP scores ``(scaled meta-features, encoded configuration)``. It is
    meta-trained across the datasets of a knowledge base so that a few gradient steps
    on a new dataset's observed evaluations, with learned per-parameter learning rates
    (Meta-SGD, default), adapt its ranking. The loss is a pairwise ranking loss, so only
    the order of scores matters. An ensemble of independently trained members gives an
    uncertainty for exploration.

    Parameters
    ----------
    algorithm : {"metasgd", "maml", "anil", "none"}
        Meta-learning algorithm of the adaptation; ``"none"`` trains the same network
        without adaptation (a zero-shot ranker, for ablations).
    hidden : tuple of int
        Hidden layer widths.
    inner_lr : float
        Inner learning rate (initial value of the learned ones for Meta-SGD).
    inner_steps : int
        Adaptation steps, at least 1 (unused with ``"none"``).
    n_ensemble : int
        Independently initialised and trained members.
    iterations, meta_batch_size, lr : int, int, float
        Outer loop: meta-iterations, tasks per meta-batch, Adam learning rate.
    max_support, n_query : int
        Episodes show 0..``max_support`` observed configurations and ``n_query`` others.
    use_metafeatures : bool
        Feed the dataset's meta-features to the network (else configurations only).
    device : str
        ``"auto"`` picks CUDA when available.
    random_state : int, optional
        Seeds meta-training (initialisation and episodes): an integer >= 0 (numpy ones
        too; not a RandomState); None: a fresh seed each fit.
    progress : bool
        Show a tqdm progress bar per ensemble member during meta-training, named by
        the space and the member (``"knn (classification): member 2/5"``), with its
        support and query losses. On by default, as for the library's other long
        work (``MetaTrainer``, ``build_kb``, ``train_meta_models``): meta-training
        the default size on a full knowledge base takes minutes.

    Attributes
    ----------
    members_ : list of meta-learners
        The trained ensemble (``metaopt.meta`` learners wrapping the MLP).
    histories_ : list of dict
        Each member's :attr:`MetaTrainer.history_` (inner/support and outer/query losses
        per meta-iteration), to plot and catch meta-overfitting.
    space_, scaler_ : the search space and the meta-feature scaling.
    metafeatures_version_ : int
        The ``metaopt.metafeatures.METAFEATURES_VERSION`` of the training datasets'
        meta-features (the knowledge base's; saved, and a :meth:`load` of another
        version than this metaopt's warns ``MetaFeaturesVersionWarning``).
    """

    def __init__(
        self,
        *,
        algorithm: str = "metasgd",
        hidden: tuple[int, ...] = (64, 64),
        inner_lr: float = 0.05,
        inner_steps: int = 2,
        n_ensemble: int = 5,
        iterations: int = 1000,
        meta_batch_size: int = 16,
        lr: float = 1e-3,
        max_support: int = 12,
        n_query: int = 48,
        use_metafeatures: bool = True,
        device: str = "auto",
        random_state: int | None = 0,
        progress: bool = True,
    ):
        self.algorithm = algorithm
        self.hidden = hidden
        self.inner_lr = inner_lr
        self.inner_steps = inner_steps
        self.n_ensemble = n_ensemble
        self.iterations = iterations
        self.meta_batch_size = meta_batch_size
        self.lr = lr
        self.max_support = max_support
        self.n_query = n_query
        self.use_metafeatures = use_metafeatures
        self.device = device
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ training
    def _learner(self, n_in: int) -> GradientLearner:
        net = mlp(n_in, self.hidden)
        cls = ALGORITHMS[self.algorithm]
        if cls is None:
            return MetaSGD(net, lr=self.inner_lr, steps=1, loss_fn=rank_loss)
        return cls(net, lr=self.inner_lr, steps=self.inner_steps, loss_fn=rank_loss)

    def _check_settings(self) -> None:
        """Refuse settings that cannot train or predict (before any meta-training)."""
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {self.algorithm!r}")
        for name, low in (("n_ensemble", 1), ("iterations", 0), ("inner_steps", 1),
                          ("meta_batch_size", 1), ("max_support", 0), ("n_query", 1)):
            check_int(getattr(self, name), name, minimum=low)
        if not (isinstance(self.hidden, Sequence) and len(self.hidden)
                and all(isinstance(h, numbers.Integral) and h >= 1 for h in self.hidden)):
            raise ValueError(f"hidden must be positive layer widths (a tuple such as (64, 64)), "
                             f"got {self.hidden!r}")
        for name in ("inner_lr", "lr"):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or value <= 0 or not value < np.inf):  # (typeshed's Real has no __gt__)
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        if self.random_state is not None:  # a seed: no RandomState (members need ints)
            check_int(self.random_state, "random_state", minimum=0)
        if not isinstance(self.use_metafeatures, (bool, np.bool_)):  # "no" would be true
            raise ValueError(f"use_metafeatures must be True or False, got "
                             f"{self.use_metafeatures!r}")

    def fit(self, matrix: PerformanceMatrix, space: SearchSpace | None = None) -> ConfigRanker:
        """Meta-train on every task of ``matrix``.

        Parameters
        ----------
        matrix : PerformanceMatrix
            From a knowledge base ``kb``: ``PerformanceMatrix.from_frame(kb.to_frame(),
            space)``.
        space : SearchSpace, optional
            The configurations' space (default: the matrix's, else resolved by name).

        Returns
        -------
        ConfigRanker
            The ranker itself, fitted.
        """
        check_matrix(matrix, "ConfigRanker.fit")
        self._check_settings()
        if matrix.n_tasks < 2:
            raise ValueError(f"need at least 2 training datasets, got {matrix.n_tasks}")
        if matrix.n_configs < 2:
            raise ValueError(
                f"need at least 2 configurations shared by the training datasets, got "
                f"{matrix.n_configs}: the ranker learns from their order on each dataset; "
                "evaluate more of them on every dataset (the shared design: "
                "kb.build(..., n_design=...), metaopt build-kb --n-design)")
        self.space_ = (space if space is not None else matrix.search_space
                       or resolve_space(matrix.space))
        self.scaler_ = MetaFeatureScaler().fit(matrix.metafeatures)
        self.metafeatures_version_ = fitted_metafeatures_version(matrix)
        configs = np.stack([self.space_.encode(p) for p in matrix.configs["params"]])
        features = self._features(self.scaler_.transform(matrix.metafeatures), configs)
        regret = matrix.regret()
        valid = ~np.isnan(regret)
        target = -np.nan_to_num(regret, nan=1.0).astype(np.float32)
        device = resolve_device(self.device)
        steps = 0 if self.algorithm == "none" else self.inner_steps
        if steps and self.max_support > 1 and valid.sum(axis=1).max() <= 3:
            # an episode keeps 2 configurations for its query: a support set of 1 or 0,
            # whose ranking loss is 0, so the adaptation gets no gradient
            warn(f"{matrix.space}: no training dataset has more than 3 evaluated "
                 "configurations, so a training episode adapts on at most one of them (it "
                 "keeps two for its query): the ranking loss of one is 0 and the ranker's "
                 f"adaptation ({self.algorithm}) is not meta-trained; evaluate more "
                 "configurations on every dataset (the shared design: kb.build(..., "
                 "n_design=...), metaopt build-kb --n-design)")
        self.members_: list[GradientLearner] = []
        self.histories_: list[dict] = []
        seed = (int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
                if self.random_state is None else self.random_state)
        tasks = matrix.tasks["task"].unique() if "task" in matrix.tasks else []
        what = f"{matrix.space} ({tasks[0]}): " if len(tasks) == 1 else f"{matrix.space}: "
        for m in range(self.n_ensemble):
            with seeded(seed * 1000 + m, device):  # the caller's torch stream stays its own
                learner = self._learner(features.shape[-1])
                sampler = _EpisodeSampler(features, target, valid,
                                          self.max_support if steps else 0, self.n_query,
                                          seed * 1000 + m)
                if self.iterations > 0:  # 0: no meta-training (an ablation)
                    trainer = MetaTrainer(
                        learner, iterations=self.iterations,
                        meta_batch_size=self.meta_batch_size, lr=self.lr,
                        eval_every=max(1, self.iterations // 10), device=str(device),
                        progress=self.progress and f"{what}member {m + 1}/{self.n_ensemble}",
                    )
                    trainer.fit(sampler)
                    self.histories_.append(trainer.history_)
            learner.eval()
            self.members_.append(learner.cpu())
        self.space_name_ = matrix.space
        self.task_keys_ = list(matrix.tasks.index)
        self.n_features_ = features.shape[-1]
        return self

    def _features(self, mf: np.ndarray, configs: np.ndarray) -> np.ndarray:
        """``[tasks, configs, features]`` network inputs."""
        mf = np.atleast_2d(mf).astype(np.float32)
        configs = configs.astype(np.float32)
        if not self.use_metafeatures:
            return np.broadcast_to(configs, (mf.shape[0], *configs.shape)).copy()
        left = np.broadcast_to(mf[:, None, :], (mf.shape[0], configs.shape[0], mf.shape[1]))
        right = np.broadcast_to(configs, (mf.shape[0], *configs.shape))
        return np.concatenate([left, right], axis=-1)

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise ValueError("this ConfigRanker is not fitted yet: call fit() or load()")

    def _encode(self, configs: Sequence[Mapping[str, Any]], what: str,
                index: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Encoded ``configs``; a bad one is named ``what[i]`` with ``i`` its position, or
        ``index[position]`` (its place in the caller's list when ``configs`` is a subset)."""
        rows = []
        for i, params in enumerate(configs):
            try:
                rows.append(self.space_.encode(params))
            except (ValueError, TypeError, KeyError) as exc:
                at = i if index is None else int(index[i])
                raise ValueError(f"{what}[{at}] is not a valid {self.space_name_} "
                                 f"configuration: {exc}") from exc
        return np.stack(rows) if rows else np.zeros((0, self.space_.n_encoded))

    def predict(
        self,
        meta_features: pd.Series | None,
        observed: Sequence[tuple[Mapping[str, Any], float]],
        candidates: Sequence[Mapping[str, Any]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Adapted scores of ``candidates`` (higher = better): ensemble mean and std.

        Parameters
        ----------
        meta_features : Series or None
            Output of :func:`metaopt.metafeatures.compute`; None uses the training mean.
        observed : sequence of (params, score)
            Evaluations on this dataset so far, higher score = better (any scale). The
            adaptation weighs pairs by their score gaps, so bound outliers first: one
            diverging fit at -1e29 makes every other gap look like zero (MetaSampler's
            ``worst_value``).
        candidates : sequence of params, or DataFrame
            A DataFrame gives its ``params`` column (as :meth:`rank` and
            :meth:`Portfolio.suggest` return), else one configuration per row.

        Returns
        -------
        mean : ndarray of shape (n_candidates,)
        std : ndarray of shape (n_candidates,)
        """
        self._check_fitted()
        candidates = as_configs(candidates, "candidates", self.space_)
        if len(candidates) == 0:
            raise ValueError("candidates is empty: nothing to rank")
        scores = observed_scores(observed)
        if not np.isfinite(scores).all():
            bad = [i for i, ok in enumerate(np.isfinite(scores)) if not ok]
            raise ValueError(
                f"observed scores must be finite, got {scores[bad]} at observed{bad[:5]}: "
                "leave out failed or unscored evaluations (MetaModel.propose takes -inf "
                "for a failed one and leaves it out of the adaptation itself)")
        keep = _adaptation_subset(scores, ADAPT_FACTOR * self.max_support)
        observed, scores = [observed[i] for i in keep], scores[keep]
        mf = (np.zeros((1, len(self.scaler_.mean_))) if meta_features is None
              else self.scaler_.transform(meta_features))
        cand = torch.from_numpy(self._features(mf, self._encode(candidates, "candidates")))
        obs = torch.from_numpy(self._features(mf, self._encode([p for p, _ in observed],
                                                                "observed", keep)))
        adapt = len(observed) >= 2 and self.algorithm != "none"
        if adapt:  # standardized: the ranking loss only sees their order and gaps
            y = torch.from_numpy(((scores - scores.mean()) / (scores.std() + 1e-12))
                                 .astype(np.float32))[None]
        outputs = []
        # one OpenMP thread (the calling thread's own setting: other threads keep theirs):
        # these networks are too small to gain from more, and with the cores busy (trials
        # in worker processes, other jobs) torch's threads waited on each other: a
        # MetaSampler suggestion took 0.86-1.05 s instead of 0.09-0.12 s at load 8
        with torch.no_grad(), thread_pools().limit(limits=1, user_api="openmp"):
            for learner in self.members_:
                if adapt:
                    params = learner.adapt(obs, y)
                    pred = learner.predict(params, cand)
                else:
                    pred = learner(cand[0])[None]
                outputs.append(pred.reshape(-1).numpy())
        outputs = np.stack(outputs)
        return outputs.mean(axis=0), outputs.std(axis=0)

    def adaptation(self, n_observed: int) -> str:
        """What :meth:`predict` does with some finite evaluations, in words (for a
        proposal's reason).

        Parameters
        ----------
        n_observed : int
            Number of finite evaluations.

        Returns
        -------
        str
            ``"adapted on 5 evaluation(s)"``, or why not.
        """
        if self.algorithm == "none":
            return "not adapted (a zero-shot ranker, algorithm='none')"
        if n_observed < 2:
            return (f"not adapted ({n_observed} successful evaluation(s); it adapts from 2 "
                    "on)")
        limit = ADAPT_FACTOR * self.max_support
        if n_observed > limit:
            return (f"adapted on {limit} evaluation(s) (the best and the latest of "
                    f"{n_observed})")
        return f"adapted on {n_observed} evaluation(s)"

    @property
    def reads_metafeatures(self) -> bool:
        """Whether :meth:`predict` depends on the dataset's meta-features: they are fed
        to the network (``use_metafeatures``) and one of them varied over the training
        datasets (a flat one is read as 0 whatever its value: YAHPO's instances have no
        meta-features). True for an unfitted ranker that would feed them."""
        if not self.use_metafeatures:
            return False
        scaler = getattr(self, "scaler_", None)  # (set by fit and load)
        return scaler is None or not bool(np.all(scaler.flat_))

    def rank(
        self,
        meta_features: pd.Series | None,
        observed: Sequence[tuple[Mapping[str, Any], float]],
        candidates: Sequence[Mapping[str, Any]],
    ) -> pd.DataFrame:
        """Candidates sorted best first.

        Parameters
        ----------
        meta_features : Series or None
            As in :meth:`predict`.
        observed : sequence of (params, score)
            As in :meth:`predict`.
        candidates : sequence of params, or DataFrame
            As in :meth:`predict`.

        Returns
        -------
        pandas.DataFrame
            Columns ``candidate`` (the position in ``candidates``), ``params``, ``score``
            (ensemble mean) and ``std``.
        """
        self._check_fitted()
        candidates = as_configs(candidates, "candidates", self.space_)
        mean, std = self.predict(meta_features, observed, candidates)
        order = np.argsort(-mean, kind="stable")
        return pd.DataFrame({"candidate": order, "params": [candidates[i] for i in order],
                             "score": mean[order], "std": std[order]})

    def suggest(
        self,
        meta_features: pd.Series | None,
        observed: Sequence[tuple[Mapping[str, Any], float]],
        candidates: Sequence[Mapping[str, Any]],
        *,
        exploration: float = 0.5,
    ) -> int:
        """Index of the candidate to evaluate next: the highest ``mean + exploration * std``.

        Parameters
        ----------
        meta_features : Series or None
            As in :meth:`predict`.
        observed : sequence of (params, score)
            As in :meth:`predict`.
        candidates : sequence of params, or DataFrame
            As in :meth:`predict`.
        exploration : float, default=0.5
            Weight (>= 0) of the ensemble's std.

        Returns
        -------
        int
        """
        if not (isinstance(exploration, numbers.Real) and 0 <= exploration < np.inf):
            raise ValueError(f"exploration must be a number >= 0 (the weight of the "
                             f"ensemble's std; finite), got {exploration!r}")
        mean, std = self.predict(meta_features, observed, candidates)
        return int(np.argmax(mean + exploration * std))

    def learning_rates(self) -> dict[str, np.ndarray]:
        """Meta-SGD's learned inner learning rates per parameter, averaged over members.

        Returns
        -------
        dict of str to ndarray
            ``{parameter name: array of the parameter's shape}``.
        """
        self._check_fitted()
        if self.algorithm != "metasgd":
            raise ValueError(f"learning rates are learned by metasgd only, not {self.algorithm!r}")
        rates = [m.learning_rates() for m in self.members_ if isinstance(m, MetaSGD)]
        return {k: np.mean([r[k].numpy() for r in rates], axis=0) for k in rates[0]}

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (everything else),
        each with the other's SHA-256, so :meth:`load` refuses files changed after saving.
        A ``.json`` or ``.safetensors`` suffix of ``path`` is dropped; others are kept. An
        existing directory gets ``ranker.json`` and ``ranker.safetensors`` inside it (as
        in a saved :class:`MetaModel`).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        Path
            The stem of the two files.
        """
        self._check_fitted()
        json_path, weights_path = file_pair(_in_directory(path))
        tensors = {f"member{i}.{k}": v
                   for i, m in enumerate(self.members_) for k, v in m.state_dict().items()}
        params = {k: getattr(self, k) for k in (
            "algorithm", "hidden", "inner_lr", "inner_steps", "n_ensemble", "iterations",
            "meta_batch_size", "lr", "max_support", "n_query", "use_metafeatures",
            "random_state")}
        body = {
            "format": RANKER_FORMAT, "metaopt_version": __version__, "params": params,
            "space": self.space_.to_json_dict(), "space_name": self.space_name_,
            "param_order": [p.name for p in self.space_.params],  # the encoding's order
            # a combination's description holds its first member's defaults only
            "space_members": {m.name: m.to_json_dict()
                              for m in getattr(self.space_, "members", ())},
            "scaler": self.scaler_.to_dict(), "task_keys": self.task_keys_,
            "n_features": self.n_features_, MF_VERSION_KEY: self.metafeatures_version_,
        }
        save_checked(json_path, weights_path, body, tensors)
        return json_path.with_suffix("")

    @classmethod
    def load(cls, path: str | Path) -> ConfigRanker:
        """Load a ranker written by :meth:`save` (no code is executed: JSON + safetensors).

        Raises ``ValueError`` for missing files, another format or metaopt version, and
        files changed after saving (checksums) or holding non-finite weights. A
        directory is read as ``<directory>/ranker`` (a saved :class:`MetaModel`'s ranker).
        Warns ``MetaFeaturesVersionWarning`` (``metaopt.kb``) when it was trained on
        meta-features of another ``METAFEATURES_VERSION`` than this metaopt's (a file
        that does not say is of version 1).

        Parameters
        ----------
        path : str or Path
            As given to :meth:`save` (or either file, or the directory).

        Returns
        -------
        ConfigRanker
        """
        self, json_path = cls._read(path)
        warn_metafeatures_version(self.metafeatures_version_, json_path, "ranker")
        return self

    @classmethod
    def _read(cls, path: str | Path) -> tuple[ConfigRanker, Path]:
        """:meth:`load` without its version warning (a MetaModel warns once for its
        parts), and the JSON file read."""
        json_path, weights_path = file_pair(_in_directory(path))
        body, tensors = load_checked(json_path, weights_path, RANKER_FORMAT, "ranker")
        try:
            params = dict(body["params"])
            params["hidden"] = tuple(params["hidden"])
            self = cls(**params)
            self._check_settings()
            self.space_ = in_trained_order(
                resolve_space(body["space_name"], body["space"], body.get("space_members")),
                body.get("param_order"))
            self.space_name_ = body["space_name"]
            self.scaler_ = MetaFeatureScaler.from_dict(body["scaler"])
            self.task_keys_ = body["task_keys"]
            self.n_features_ = body["n_features"]
            inputs = self.space_.n_encoded + len(self.scaler_.mean_) * self.use_metafeatures
            if self.n_features_ != inputs:
                raise ValueError(f"n_features is {self.n_features_!r}, its space and "
                                 f"meta-features make {inputs}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{json_path} holds settings this metaopt version cannot read: "
                             f"{exc!r}") from exc
        self.metafeatures_version_ = read_metafeatures_version(body, json_path, "ranker")
        self.members_ = []
        for state in member_state(tensors, "member", self.n_ensemble, weights_path):
            with seeded(None):  # initial weights, replaced: no draws from the caller's stream
                learner = self._learner(self.n_features_)
            try:
                learner.load_state_dict(state)
            except RuntimeError as exc:
                raise ValueError(f"ranker weights in {weights_path} do not match its "
                                 f"metadata: {exc}") from exc
            learner.eval()
            self.members_.append(learner)
        return self, json_path
