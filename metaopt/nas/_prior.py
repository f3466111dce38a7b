"""ArchitecturePrior: a meta-learned distribution over MLP configurations given a dataset."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from optuna.distributions import CategoricalDistribution, IntDistribution
from torch import nn

from metaopt._checks import check_int
from metaopt._model_files import load_checked, member_state, save_checked
from metaopt._version import __version__
from metaopt._warnings import warn
from metaopt.meta._losses import seeded
from metaopt.meta.networks import mlp
from metaopt.nas._lcbench import (
    LCBENCH_SPACE,
    PRIOR_FEATURES,
    describe_mlp,
    prior_features,
    to_mlp_params,
)
from metaopt.ranker._metamodel import config_key
from metaopt.spaces import SearchSpace, get_space

PRIOR_FORMAT = "metaopt-nas-prior/2"
_JSON, _WEIGHTS = "prior.json", "prior.safetensors"


def random_configs(space: SearchSpace | str, n: int,
                   rng: np.random.Generator | int | None,
                   task: str = "classification") -> list[dict[str, Any]]:
    """``n`` configurations drawn independently from the space's distributions.

    Uniform (log-uniform where ``log``) per parameter; conditional parameters are drawn
    only when active. This is the base distribution ``q`` of :class:`ArchitecturePrior`.

    Parameters
    ----------
    space : SearchSpace or str
        The space, or a registered space's name (``"mlp"``).
    n : int
    rng : numpy.random.Generator, int or None
        The generator to draw from, or the seed of a new one
        (``numpy.random.default_rng(rng)``).
    task : {"classification", "regression"}, default="classification"

    Returns
    -------
    list of dict
    """
    if isinstance(space, str):
        space = get_space(space)
    rng = np.random.default_rng(rng)  # a Generator is kept as it is
    dists = space.distributions(task)
    draws: dict[str, np.ndarray] = {}
    for name, d in dists.items():
        if isinstance(d, CategoricalDistribution):
            draws[name] = rng.integers(len(d.choices), size=n)
            continue
        lo, hi = float(d.low), float(d.high)
        if isinstance(d, IntDistribution):
            lo, hi = lo - 0.5, hi + 0.5
        u = rng.random(n)
        x = (np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if d.log
             else lo + u * (hi - lo))
        draws[name] = np.clip(np.rint(x), d.low, d.high) if isinstance(d, IntDistribution) else x
    # each column converted once to Python values (int, float or the category objects)
    columns: dict[str, list[Any]] = {}
    for name, d in dists.items():
        if isinstance(d, CategoricalDistribution):
            columns[name] = [d.choices[k] for k in draws[name].tolist()]
        elif isinstance(d, IntDistribution):
            columns[name] = draws[name].astype(np.int64).tolist()
        else:
            columns[name] = draws[name].tolist()
    names = list(columns)
    conditional = set(names) & set(space.conditions)
    if not names:
        return [{} for _ in range(n)]
    if not conditional:  # every parameter active in every row (e.g. LCBENCH_SPACE)
        return [dict(zip(names, row, strict=True))
                for row in zip(*columns.values(), strict=True)]
    out = []
    for i in range(n):
        config: dict[str, Any] = {}
        for name in names:  # parents come first; a parameter without a condition is active
            if name not in conditional or space.is_active(name, config):
                config[name] = columns[name][i]
        out.append(config)
    return out


def _encode_numeric(space: SearchSpace, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Vectorised :meth:`SearchSpace.encode` of checked configurations of a space whose
    parameters are all numeric and unconditional (such as :data:`LCBENCH_SPACE`)."""
    cols = []
    for p in space.params:
        d = p.distribution
        assert not isinstance(d, CategoricalDistribution)  # the prior's space: LCBench's
        v = np.array([c[p.name] for c in configs], dtype=float)
        lo, hi = float(d.low), float(d.high)
        if d.log:
            v, lo, hi = np.log(v), math.log(lo), math.log(hi)
        cols.append((v - lo) / (hi - lo))
    return np.stack(cols, axis=1).astype(np.float32)


def _weights(net: nn.Module) -> dict[str, np.ndarray]:
    """A scoring network's state dict as numpy arrays (what the prior pickles)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def _network(weights: Mapping[str, np.ndarray]) -> nn.Module:
    """The scoring network (:func:`mlp` with SiLU, in eval mode) holding ``weights``,
    its shape read from theirs."""
    shapes = [np.shape(v) for k, v in weights.items() if k.endswith(".weight")]
    with seeded(None):  # initial weights, replaced: not the caller's draws
        net = mlp(shapes[0][1], [s[0] for s in shapes[:-1]], shapes[-1][0],
                  activation=nn.SiLU)
    net.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    return net.eval()


def _as_frame(meta_features: Any) -> list[Mapping[str, Any]]:
    if isinstance(meta_features, pd.DataFrame):
        return [row for _, row in meta_features.iterrows()]
    return [meta_features]


class ArchitecturePrior:
    """Distribution over MLP configurations conditioned on a dataset's meta-features.

    An energy model over the LCBench parameterisation (:data:`LCBENCH_SPACE`: layers,
    widest layer, dropout, SGD learning rate, momentum, weight decay, batch size):

    ``p(c | d) = q(c) exp(s(d, c) / T) / Z(d)``

    where ``q`` is the space's uniform / log-uniform sampling distribution, ``s`` a small
    network of the dataset's meta-features ``d`` (:data:`PRIOR_FEATURES`) and the encoded
    configuration, and ``T`` a temperature. ``s`` is meta-trained listwise: on each
    training dataset, the softmax of ``s`` over random configurations is fitted to
    ``exp(-regret quantile / target_temperature)``, so ``T = 1`` concentrates on about
    the best ``target_temperature`` share of the space. ``Z`` is estimated on a seeded
    pool of ``n_pool`` draws from ``q``; sampling is sampling-importance-resampling
    from a fresh pool (without replacement: Gumbel top-k). Samples are returned as
    ``mlp``-space configurations (:func:`to_mlp_params`) unless ``native=True``.

    With ``hedge`` (the default) a second, unconditional score ``s0(c)`` is meta-trained
    on the same data with every dataset's meta-features at their mean, and the prior is
    the even mixture of ``p(c | d)`` and ``p0(c)``: draws alternate between the two,
    starting with the dataset's. When the meta-features mislead (few training datasets
    of that size), half of the draws still follow what is good across all datasets.

    Parameters
    ----------
    hidden : tuple of int, default=(64, 64)
        Hidden widths of the scoring network.
    n_members : int, default=3
        Independently initialised scoring networks, averaged.
    target_temperature : float, default=0.05
        Sharpness of the training target (share of the best configurations).
    temperature : float, default=1.0
        Sampling temperature ``T``; larger is closer to ``q``.
    n_pool : int, default=4096
        Size of the pools that estimate ``Z`` and that sampling resamples.
    iterations : int, default=800
        Adam steps per member.
    batch_configs : int, default=256
        Configurations per dataset in one listwise step.
    hedge : bool, default=True
        Mix in the unconditional prior (above).
    cost_weight : float, default=0.0
        With training ``costs``: the target's logits lose ``cost_weight`` times the
        per-dataset standardised log cost, trading a little accuracy for cheaper
        configurations (e.g. LCBench's training time).
    lr, weight_decay : float, default=3e-3, 1e-4
        AdamW settings of the meta-training.
    random_state : int, default=0
        Seeds the networks and their training draws, and the pool: an integer >= 0
        (numpy ones too).

    Attributes
    ----------
    members_ : list of torch.nn.Module
    flat_members_ : list of torch.nn.Module
        The unconditional score's networks (empty without ``hedge``).
    feature_mean_, feature_scale_ : ndarray
        Standardisation of the ``log1p`` meta-features.
    training_ : dict
        What the prior was trained on (datasets, sizes, losses), saved with it.
    """

    def __init__(self, *, hidden: tuple[int, ...] = (64, 64), n_members: int = 3,
                 target_temperature: float = 0.05, temperature: float = 1.0,
                 n_pool: int = 4096, iterations: int = 800, batch_configs: int = 256,
                 hedge: bool = True, cost_weight: float = 0.0, lr: float = 3e-3,
                 weight_decay: float = 1e-4, random_state: int = 0) -> None:
        self.hidden = hidden
        self.n_members = n_members
        self.target_temperature = target_temperature
        self.temperature = temperature
        self.n_pool = n_pool
        self.iterations = iterations
        self.batch_configs = batch_configs
        self.hedge = hedge
        self.cost_weight = cost_weight
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state

    @property
    def space(self) -> SearchSpace:
        """The native space of the prior (:data:`LCBENCH_SPACE`)."""
        return LCBENCH_SPACE

    # ------------------------------------------------------------------ training
    def fit(self, meta_features: pd.DataFrame, configs: Sequence[Mapping[str, Any]],
            scores: np.ndarray, *, costs: np.ndarray | None = None,
            info: Mapping[str, Any] | None = None) -> ArchitecturePrior:
        """Meta-train on the scores of shared configurations across datasets.

        Parameters
        ----------
        meta_features : DataFrame
            One row per training dataset with the :data:`PRIOR_FEATURES` columns.
        configs : sequence of dict
            Native (LCBench) configurations, shared by every dataset; they should be
            draws from ``q`` (:func:`random_configs`) for ``s`` to be a density ratio.
        scores : array of shape (n_datasets, n_configs)
            Higher is better; NaN where not evaluated. A dataset without any score is
            left out, with a warning.
        costs : array of shape (n_datasets, n_configs), optional
            Positive costs (e.g. training seconds), used with ``cost_weight``.
        info : mapping, optional
            Provenance saved with the prior (e.g. instance ids, surrogate target).

        Returns
        -------
        ArchitecturePrior
            self.
        """
        if not isinstance(meta_features, pd.DataFrame):
            raise TypeError("meta_features must be a DataFrame (one row per dataset), got "
                            f"{type(meta_features).__name__}")
        scores = np.asarray(scores, dtype=float)
        if scores.shape != (len(meta_features), len(configs)):
            raise ValueError(f"scores must have shape (n_datasets, n_configs) = "
                             f"({len(meta_features)}, {len(configs)}), got {scores.shape}")
        scored = np.isfinite(scores).any(axis=1)
        if not scored.all():  # nothing to learn from (its loss was NaN)
            warn(f"{int((~scored).sum())} dataset(s) without any score left out: "
                 f"{[str(i) for i in meta_features.index[~scored]][:10]}",
                 UserWarning)
            meta_features, scores = meta_features[scored], scores[scored]
            if costs is not None:
                costs = np.asarray(costs, dtype=float)
                costs = costs[scored] if costs.shape[:1] == scored.shape else costs
        if len(meta_features) < 2 or len(configs) < 2:
            raise ValueError("need at least 2 datasets with scores and 2 configurations, got "
                             f"{len(meta_features)} and {len(configs)}")
        if self.target_temperature <= 0 or self.temperature <= 0:
            raise ValueError("target_temperature and temperature must be > 0, got "
                             f"{self.target_temperature!r} and {self.temperature!r}")
        for name in ("n_members", "n_pool", "iterations", "batch_configs"):
            check_int(getattr(self, name), name)
        seed = check_int(self.random_state, "random_state", minimum=0) * 1000
        feats = np.stack([prior_features(r) for r in _as_frame(meta_features)])
        self.feature_mean_ = feats.mean(axis=0)
        self.feature_scale_ = np.where(feats.std(axis=0) > 1e-9, feats.std(axis=0), 1.0)
        x_mf = torch.tensor((feats - self.feature_mean_) / self.feature_scale_,
                            dtype=torch.float32)
        x_cfg = torch.tensor(self._encode(configs))
        # per-dataset regret quantile: 0 = the dataset's best configuration, 1 = its worst
        ranks = pd.DataFrame(scores).rank(axis=1, ascending=False, pct=True).to_numpy()
        logits_target = -np.nan_to_num(ranks, nan=np.inf) / self.target_temperature
        if costs is not None and self.cost_weight:
            costs = np.log(np.asarray(costs, dtype=float))
            if costs.shape != scores.shape or not np.isfinite(costs[np.isfinite(scores)]).all():
                raise ValueError(f"costs must be positive with the shape of scores "
                                 f"{scores.shape}, got {costs.shape}")
            z = (costs - np.nanmean(costs, axis=1, keepdims=True)) / np.nanstd(
                costs, axis=1, keepdims=True).clip(1e-9)
            logits_target = logits_target - self.cost_weight * np.nan_to_num(z)
        target_logits = torch.tensor(logits_target, dtype=torch.float32)
        valid = torch.tensor(np.isfinite(scores))
        self.members_, losses = self._train(x_mf, x_cfg, target_logits, valid, seed)
        self.flat_members_, flat_losses = (
            self._train(torch.zeros_like(x_mf), x_cfg, target_logits, valid, seed + 100)
            if self.hedge else ([], []))
        self.training_ = {"n_datasets": len(meta_features), "n_configs": len(configs),
                          "datasets": [str(i) for i in meta_features.index],
                          "final_listwise_loss": losses,
                          "final_listwise_loss_unconditional": flat_losses, **dict(info or {})}
        self._reset_pool()
        return self

    def _train(self, x_mf: torch.Tensor, x_cfg: torch.Tensor, target_logits: torch.Tensor,
               valid: torch.Tensor, seed: int) -> tuple[list[nn.Module], list[float]]:
        """``n_members`` scoring networks fitted listwise (seeded ``seed + m``); their
        final losses."""
        members: list[nn.Module]
        members, losses = [], []
        for m in range(self.n_members):
            gen = torch.Generator().manual_seed(seed + m)
            with seeded(seed + m):  # not the caller's stream
                net = mlp(x_mf.shape[1] + x_cfg.shape[1], self.hidden, activation=nn.SiLU)
            opt = torch.optim.AdamW(net.parameters(), lr=self.lr,
                                    weight_decay=self.weight_decay)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(self.iterations, 1))
            k = min(self.batch_configs, x_cfg.shape[0])
            # per dataset, k configurations drawn without replacement, evaluated ones
            # first (datasets with fewer than k evaluations fill up with masked ones)
            draw_weights = valid.float() + 1e-6
            for _ in range(self.iterations):
                idx = torch.multinomial(draw_weights, k, generator=gen)
                inputs = torch.cat([x_mf[:, None, :].expand(-1, k, -1), x_cfg[idx]], dim=-1)
                logits = net(inputs)[..., 0]
                ok = torch.gather(valid, 1, idx)
                target = torch.softmax(torch.where(ok, torch.gather(target_logits, 1, idx),
                                                   torch.tensor(-math.inf)), dim=1)
                logp = torch.log_softmax(logits.masked_fill(~ok, -1e9), dim=1)
                loss = -(target * logp.masked_fill(~ok, 0.0)).sum(dim=1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            losses.append(float(loss.detach()))
            members.append(net.eval())
        return members, losses

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise ValueError("this ArchitecturePrior is not fitted: call fit() or load(), or "
                             "use ArchitecturePrior.default() for the shipped one")

    def _reset_pool(self) -> None:
        rng = np.random.default_rng(self.random_state)
        self._pool = random_configs(self.space, self.n_pool, rng)
        self._pool_x = torch.tensor(_encode_numeric(self.space, self._pool))

    def _encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if isinstance(configs, (Mapping, str)):
            raise TypeError("configs must be a list of configurations (dicts), got one "
                            f"{type(configs).__name__}: wrap it in a list")
        checked = []
        for i, c in enumerate(configs):
            if not isinstance(c, Mapping):
                raise TypeError(f"configs[{i}] must be a dict, got {type(c).__name__}")
            try:
                checked.append(self.space.check_params(c, "classification"))
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"configs[{i}] is not a native (LCBench) configuration: {exc}. "
                    "The prior scores configurations of its native space; mlp-space "
                    "configurations come out of sample() and cannot be mapped back") from exc
        if not checked:
            raise ValueError("configs is empty: nothing to score")
        return _encode_numeric(self.space, checked)

    def _features(self, meta_features: Any) -> torch.Tensor:
        feats = (prior_features(meta_features) - self.feature_mean_) / self.feature_scale_
        return torch.tensor(feats, dtype=torch.float32)

    def _scores(self, meta_features: Any, x_cfg: torch.Tensor, *,
                unconditional: bool = False) -> np.ndarray:
        """``s(d, c)``, or ``s0(c)`` (the hedge's networks, fed the mean meta-features)."""
        mf = self._features(meta_features)
        members = self.members_
        if unconditional:
            mf, members = torch.zeros_like(mf), self.flat_members_
        inputs = torch.cat([mf[None, :].expand(len(x_cfg), -1), x_cfg], dim=1)
        with torch.no_grad():
            out = torch.stack([net(inputs)[:, 0] for net in members]).mean(dim=0)
        return out.numpy().astype(np.float64)

    def _log_parts(self, meta_features: Any, x_cfg: torch.Tensor, t: float) -> np.ndarray:
        """Per part of the mixture (the dataset's prior, then the unconditional one when
        hedged) and configuration, ``log p(c | d) - log q(c)`` of that part alone, each
        normalised on the prior's pool: shape (n_parts, n_configs)."""
        def normalised(unconditional: bool) -> np.ndarray:
            pool = self._scores(meta_features, self._pool_x, unconditional=unconditional) / t
            own = pool if x_cfg is self._pool_x else self._scores(
                meta_features, x_cfg, unconditional=unconditional) / t
            return own - (np.logaddexp.reduce(pool) - math.log(len(pool)))

        return np.stack([normalised(False)] + ([normalised(True)] if self._hedged else []))

    def _log_weights(self, meta_features: Any, x_cfg: torch.Tensor, t: float) -> np.ndarray:
        """Per configuration, ``log p(c | d) - log q(c)`` up to one constant: the
        mixture's when hedged."""
        parts = self._log_parts(meta_features, x_cfg, t)
        return np.logaddexp.reduce(parts, axis=0) - math.log(len(parts))

    @property
    def _hedged(self) -> bool:
        """Whether draws and densities mix in the unconditional networks: ``hedge`` may be
        switched off on a fitted prior (a prior fitted without them cannot switch on)."""
        return bool(self.hedge and self.flat_members_)

    def _temperature(self, temperature: float | None) -> float:
        t = self.temperature if temperature is None else temperature
        if not isinstance(t, numbers.Real) or isinstance(t, bool) or not t > 0:
            raise ValueError(f"temperature must be a float > 0, got {t!r}")
        return float(t)

    def score(self, meta_features: Mapping[str, Any] | pd.Series,
              configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The network's score ``s(d, c)`` of native configurations (higher = better).

        Parameters
        ----------
        meta_features : Series or mapping
            As in :meth:`sample`.
        configs : sequence of dict
            Native (LCBench) configurations.

        Returns
        -------
        ndarray of shape (n_configs,)
        """
        self._check_fitted()
        return self._scores(meta_features, torch.tensor(self._encode(configs)))

    def log_prob(self, meta_features: Mapping[str, Any] | pd.Series,
                 configs: Sequence[Mapping[str, Any]], *,
                 temperature: float | None = None) -> np.ndarray:
        """``log p(c | d) - log q(c)`` of native (LCBench) configurations (of the
        mixture when hedged).

        The log density relative to the space's uniform / log-uniform sampling
        distribution ``q``: 0 means "as likely as under random search", +2 means
        ``e**2`` times as likely. ``Z`` is estimated on the prior's fixed pool of
        ``n_pool`` draws; at low temperatures a few of the pool's best configurations
        dominate that estimate, which shifts every value by one constant: with the
        shipped prior at its T = 0.25, the mean of ``exp(log_prob)`` over five batches of
        20,000 fresh draws from ``q`` was 0.67-1.05 (not 1); 0.97-0.99 at T = 1.
        Compare values within a dataset and temperature.

        Parameters
        ----------
        meta_features : Series or mapping
            As in :meth:`sample`.
        configs : sequence of dict
            Native (LCBench) configurations.
        temperature : float, optional
            Overrides :attr:`temperature`.

        Returns
        -------
        ndarray of shape (n_configs,)
        """
        self._check_fitted()
        t = self._temperature(temperature)
        return self._log_weights(meta_features, torch.tensor(self._encode(configs)), t)

    def sample(self, meta_features: Mapping[str, Any] | pd.Series, n: int = 1, *,
               seed: int | None = None, temperature: float | None = None,
               native: bool = False,
               candidates: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """``n`` distinct configurations drawn from the prior for a dataset.

        Parameters
        ----------
        meta_features : Series or mapping
            E.g. :func:`metaopt.metafeatures.compute` of the dataset (the
            :data:`PRIOR_FEATURES` are used).
        n : int
            Number of configurations, at most ``n_pool``.
        seed : int, optional
            Seeds the pool and the draw; same seed, same configurations.
        temperature : float, optional
            Overrides :attr:`temperature` (-> 0: the best-scored of the pool).
        native : bool
            Return LCBench configurations instead of ``mlp``-space ones.
        candidates : sequence of dict, optional
            Native configurations to draw from instead of a fresh pool of ``n_pool``
            random ones (e.g. the ones already evaluated); they should be draws from
            ``q`` for the draw to follow the prior.

        Returns
        -------
        list of dict
        """
        self._check_fitted()
        size = self.n_pool if candidates is None else len(candidates)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= size:
            raise ValueError(f"n must be an int in [1, {size}] (the pool or the candidates), "
                             f"got {n!r}")
        t = self._temperature(temperature)
        rng = np.random.default_rng(seed)
        if candidates is None:
            pool = random_configs(self.space, self.n_pool, rng)
            x = torch.tensor(_encode_numeric(self.space, pool))
        else:
            # a configuration given twice is one candidate: the draws are distinct
            unique = {config_key(c): dict(c) for c in candidates}
            pool = list(unique.values())
            if n > len(pool):
                raise ValueError(f"n={n} is more than the {len(pool)} distinct candidates")
            x = torch.tensor(self._encode(pool))
        # one Gumbel top-k order per distribution; draws alternate between them
        orders = [np.argsort(-(self._scores(meta_features, x) / t
                               + rng.gumbel(size=len(pool))), kind="stable")]
        if self._hedged:
            orders.append(np.argsort(-(self._scores(meta_features, x, unconditional=True) / t
                                       + rng.gumbel(size=len(pool))), kind="stable"))
        chosen: list[int] = []
        positions = [0] * len(orders)
        while len(chosen) < n:
            which = len(chosen) % len(orders)
            while orders[which][positions[which]] in chosen:
                positions[which] += 1
            chosen.append(int(orders[which][positions[which]]))
        picked = [pool[i] for i in chosen]
        return picked if native else [to_mlp_params(c) for c in picked]

    def describe(self, meta_features: Mapping[str, Any] | pd.Series, n: int = 5, *,
                 temperature: float | None = None) -> pd.DataFrame:
        """The ``n`` most likely configurations of the prior's pool for a dataset.

        Parameters
        ----------
        meta_features : Series or mapping
            As in :meth:`sample`.
        n : int, default=5
            At most ``n_pool``.
        temperature : float, optional
            Overrides :attr:`temperature`.

        Returns
        -------
        DataFrame
            ``probability`` (share of the pool's mass at the temperature; at low
            temperatures one configuration of the pool may hold much of it),
            ``log_ratio`` (:meth:`log_prob`), ``dataset_share`` (the share of the
            entry's probability that the dataset's own prior gives, the rest coming from
            the unconditional part of a hedged prior; 1 unhedged), ``architecture`` (one
            readable line), ``params`` (``mlp`` space) and ``lcbench`` (native) per row,
            best first.
        """
        self._check_fitted()
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= self.n_pool:
            raise ValueError(f"n must be an int in [1, {self.n_pool}] (the pool), got {n!r}")
        t = self._temperature(temperature)
        parts = self._log_parts(meta_features, self._pool_x, t)
        logits = np.logaddexp.reduce(parts, axis=0)
        log_z = np.logaddexp.reduce(logits)
        order = np.argsort(-logits, kind="stable")[:n]
        as_mlp = [to_mlp_params(self._pool[i]) for i in order]
        return pd.DataFrame({
            "probability": np.exp(logits[order] - log_z),
            "log_ratio": logits[order] - log_z + math.log(len(logits)),
            "dataset_share": np.exp(parts[0, order] - logits[order]),
            "architecture": [describe_mlp(p) for p in as_mlp],
            "params": as_mlp,
            "lcbench": [self._pool[i] for i in order],
        })

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        # torch pickles a tensor's storage with its memory address: equal priors (a deep
        # copy) pickled to different bytes, and joblib.hash, which scikit-learn's
        # check_estimators_overwrite_params compares, took a copy for a changed prior.
        # The networks go as their weights and the pool's encoding as numpy arrays.
        state = dict(self.__dict__)
        for key in ("members_", "flat_members_"):
            if key in state:
                state[key] = [_weights(net) for net in state[key]]
        if "_pool_x" in state:
            state["_pool_x"] = state["_pool_x"].numpy()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        for key in ("members_", "flat_members_"):
            if key in state:  # networks themselves when pickled by an earlier metaopt
                state[key] = [net if isinstance(net, nn.Module) else _network(net)
                              for net in state[key]]
        if isinstance(state.get("_pool_x"), np.ndarray):
            state["_pool_x"] = torch.tensor(state["_pool_x"])
        self.__dict__.update(state)

    # ------------------------------------------------------------------ persistence
    def _params(self) -> dict[str, Any]:
        """The settings (numpy numbers among them are written as plain ones)."""
        return {k: getattr(self, k) for k in (
            "hidden", "n_members", "target_temperature", "temperature", "n_pool",
            "iterations", "batch_configs", "hedge", "cost_weight", "lr", "weight_decay",
            "random_state")}

    def save(self, directory: str | Path) -> Path:
        """Write ``prior.json`` (settings, scaling, provenance) and ``prior.safetensors``.

        The JSON records the SHA-256 of the weights and the weights' metadata the
        SHA-256 of the JSON body, so :meth:`load` refuses files changed after saving.

        Parameters
        ----------
        directory : str or Path
            Created if missing.

        Returns
        -------
        Path
        """
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        body = {
            "format": PRIOR_FORMAT, "metaopt_version": __version__,
            "params": self._params(), "space": self.space.to_json_dict(),
            "features": list(PRIOR_FEATURES),
            "feature_mean": self.feature_mean_.tolist(),
            "feature_scale": self.feature_scale_.tolist(), "training": self.training_,
            # the hedge's networks, kept when ``hedge`` was switched off after fitting
            "n_unconditional": len(self.flat_members_),
        }
        tensors = {f"{prefix}{i}.{k}": v
                   for prefix, members in (("member", self.members_), ("flat", self.flat_members_))
                   for i, net in enumerate(members) for k, v in net.state_dict().items()}
        save_checked(directory / _JSON, directory / _WEIGHTS, body, tensors)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ArchitecturePrior:
        """Load a prior written by :meth:`save` (JSON + safetensors; no code is run).

        Raises ``ValueError`` for a directory without a prior, a file of another format,
        or files whose checksums no longer match (edited or truncated after saving).

        Parameters
        ----------
        directory : str or Path

        Returns
        -------
        ArchitecturePrior
        """
        directory = Path(directory)
        path, weights = directory / _JSON, directory / _WEIGHTS
        body, tensors = load_checked(path, weights, PRIOR_FORMAT, "architecture prior")
        # distributions only: other fields of to_json_dict may grow with metaopt versions
        saved_space = body.get("space", {}).get("distributions")
        if saved_space != LCBENCH_SPACE.to_json_dict()["distributions"] or body.get(
                "features") != list(PRIOR_FEATURES):
            raise ValueError(f"{path} was trained on another space or meta-feature set; "
                             "retrain the prior")
        try:
            params = dict(body["params"])
            params["hidden"] = tuple(params["hidden"])
            self = cls(**params)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} holds settings this metaopt version does not know: "
                             f"{exc}") from exc
        self.feature_mean_ = np.asarray(body["feature_mean"], dtype=float)
        self.feature_scale_ = np.asarray(body["feature_scale"], dtype=float)
        self.training_ = body["training"]
        n_in = len(PRIOR_FEATURES) + LCBENCH_SPACE.n_encoded

        def networks(prefix: str, n: int) -> list[nn.Module]:
            members: list[nn.Module] = []
            for state in member_state(tensors, prefix, n, weights):
                with seeded(None):  # initial weights, replaced: not the caller's draws
                    net = mlp(n_in, self.hidden, activation=nn.SiLU)
                try:
                    net.load_state_dict(state)
                except RuntimeError as exc:
                    raise ValueError(f"prior weights in {weights} do not match {path}: "
                                     f"{exc}") from exc
                members.append(net.eval())
            return members

        self.members_ = networks("member", self.n_members)
        self.flat_members_ = networks("flat", body.get(
            "n_unconditional", self.n_members if self.hedge else 0))
        self._reset_pool()
        return self

    @classmethod
    def default(cls) -> ArchitecturePrior:
        """The prior shipped in ``metaopt/_models/nas_prior`` (see its CARD.md)."""
        root = resources.files("metaopt").joinpath("_models", "nas_prior")
        return cls.load(Path(str(root)))

    def __repr__(self) -> str:
        fitted = (f"fitted on {self.training_.get('n_datasets')} datasets"
                  if hasattr(self, "members_") else "not fitted")
        return f"ArchitecturePrior(temperature={self.temperature}, hedge={self.hedge}, {fitted})"
