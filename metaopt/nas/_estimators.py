"""MetaMLPClassifier / MetaMLPRegressor: MLP architecture search with a meta-learned prior."""

from __future__ import annotations

import difflib
import functools
import numbers
import os
import time
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import optuna
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from metaopt import metafeatures
from metaopt._checks import (
    check_class_labels,
    check_label_types,
    check_numeric_target,
    check_one_target,
    check_seconds,
)
from metaopt._fitted import (
    as_fitted_frame,
    check_target_given,
    check_target_not_scalar,
    checkable_array,
    checked_frame,
    checked_sample_weight,
    densified,
    fitted_on_frame,
    refuse_text_array,
    text_refused,
    unfitted_on_error,
    unpickled_state,
)
from metaopt._rows import (
    check_search_rows,
    refit_check_rows,
    refit_failed,
    refit_rows_warning,
    refit_sample,
    rows_of,
    sampled_groups,
    search_sample,
)
from metaopt._search_plot import plot_search
from metaopt._shared import optuna_verbosity
from metaopt._splits import checked_splitter, warn_groups_ignored
from metaopt._warnings import warn
from metaopt.data._dataset import (
    _checked_target,
    _target_of_shape,
    check_target_present,
    check_target_scale,
    largest_magnitudes,
    too_large_message,
)
from metaopt.meta import resolve_device
from metaopt.nas._lcbench import describe_mlp
from metaopt.nas._mlp import MLPClassifier, MLPRegressor, check_param, is_int
from metaopt.nas._prior import ArchitecturePrior
from metaopt.nas._search import (
    NO_TIME_TO_START,
    OUT_OF_TIME,
    PRUNERS,
    TRIAL_SHARE,
    FoldTrainer,
    make_pruner,
    objective,
    refit_seconds,
    search_score,
    stop_when_spent,
)
from metaopt.ranker import MetaModel
from metaopt.samplers import MetaSampler
from metaopt.spaces import make_preprocessor

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.axes import Axes


def _saved(value: str | os.PathLike, name: str) -> Path:
    """The directory ``value`` of a saved prior or meta-model; a missing one named like
    ``'default'`` (``'defaults'``, ``'Default'``) is refused saying so."""
    if isinstance(value, str) and not Path(value).exists() \
            and difflib.get_close_matches(value.lower(), ["default"], n=1):
        raise ValueError(f"{name}={value!r} is no directory of a saved one: did you mean "
                         f"{name}='default' (the shipped one)?")
    return Path(value)


@functools.lru_cache(maxsize=1)
def _default_prior() -> ArchitecturePrior:
    return ArchitecturePrior.default()


def _source(trial: optuna.trial.FrozenTrial) -> str:
    """Where a trial came from: the prior, MetaSampler's reason, or TPE."""
    return (trial.user_attrs.get("source") or trial.system_attrs.get("metaopt:source")
            or "tpe")


def _origin(trial: optuna.trial.FrozenTrial) -> str:
    """:func:`_source` in one word: ``prior``, ``MetaSampler`` or ``tpe``."""
    source = _source(trial)
    return source if source in ("prior", "tpe") else "MetaSampler"


def refit_cut_message(time_budget: float | None, begun: int, epochs: int) -> str:
    """The warning of a refit the time budget stopped in its epoch ``begun`` (the
    refit's ``n_epochs_``: epochs begun, the last one cut short or just finished when
    the time ran out) of its ``epochs``."""
    where = ("in its only epoch" if epochs == 1 else
             f"in the last of its {epochs} epochs" if begun >= epochs else
             f"in epoch {begun} of its {epochs}")
    return (f"time_budget={time_budget} s stopped the refit of the best configuration "
            f"{where} (that epoch perhaps trained in part): the model may be less trained "
            "than best_score_ suggests; give more time")


def _is_splitter(cv: Any) -> bool:
    """A scikit-learn CV splitter (``split`` and ``get_n_splits``) or an iterable of
    splits, as ``check_cv`` takes them."""
    return (hasattr(cv, "split") and hasattr(cv, "get_n_splits")) or (
        hasattr(cv, "__iter__") and not isinstance(cv, (str, bytes)))


def _enqueuer(draws: list[dict],
              stop: Callable[[optuna.Study, optuna.trial.FrozenTrial], bool] | None):
    """An Optuna callback that enqueues the prior's ``draws`` one at a time, the next
    when a trial ends and the search goes on: a budget that stops the search leaves no
    draw waiting in ``study_`` (all enqueued at once, those never run stayed WAITING).
    With a time budget, ``stop`` (:func:`~metaopt.nas._search.stop_when_spent`) first
    stops the search once a trial leaves no time to start another, before the sampler
    proposes one (it proposed one, then pruned unrun: "no time to start")."""
    pending = list(draws)

    def enqueue_next(study: optuna.Study, trial) -> None:
        if trial is not None:
            if trial.user_attrs.get("stopped") in (NO_TIME_TO_START, OUT_OF_TIME):
                return  # the objective stopped the search
            if stop is not None and stop(study, trial):
                return  # no time for another trial
        if pending:
            params = dict(pending.pop(0))
            params.pop("max_epochs")
            study.enqueue_trial(params, user_attrs={"source": "prior"})
    return enqueue_next


class _BaseMetaMLP(BaseEstimator):
    """Shared search code; subclasses set the task, target encoding and final model."""

    _task = ""

    def __init__(
        self,
        n_trials: int | None = 20,
        time_budget: float | None = None,
        cv: int | float = 3,
        max_epochs: int = 50,
        n_prior_trials: int = 5,
        prior: ArchitecturePrior | str | os.PathLike | None = "default",
        meta_model: MetaModel | str | os.PathLike | None = "default",
        pruner: str = "hyperband",
        n_iter_no_change: int = 8,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        search_rows: int | str | None = "auto",
    ) -> None:
        self.n_trials = n_trials
        self.time_budget = time_budget
        self.cv = cv
        self.max_epochs = max_epochs
        self.n_prior_trials = n_prior_trials
        self.prior = prior
        self.meta_model = meta_model
        self.pruner = pruner
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.search_rows = search_rows

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        check = functools.partial(check_param, self)
        check("n_trials", self.n_trials is None or (is_int(self.n_trials) and self.n_trials >= 1),
              "an int >= 1 or None (then time_budget must be set)")
        check_seconds(self.time_budget, "time_budget")
        if self.n_trials is None and self.time_budget is None:
            raise ValueError("n_trials and time_budget are both None: the search would not "
                             "stop; set at least one")
        check("cv", (is_int(self.cv) and self.cv >= 2) or (
            isinstance(self.cv, float) and 0 < self.cv < 1) or _is_splitter(self.cv),
            "an int >= 2 (k-fold), a float in (0, 1) (one hold-out share), a scikit-learn "
            "CV splitter or an iterable of (train, validation) index arrays")
        check("max_epochs", is_int(self.max_epochs) and self.max_epochs >= 1, "an int >= 1")
        check("n_prior_trials", is_int(self.n_prior_trials) and self.n_prior_trials >= 0,
              "an int >= 0")
        check("pruner", self.pruner in PRUNERS, f"one of {list(PRUNERS)}")
        check("n_iter_no_change", is_int(self.n_iter_no_change) and self.n_iter_no_change >= 1,
              "an int >= 1")
        check("verbose", isinstance(self.verbose, numbers.Integral) and self.verbose >= 0,
              "an int >= 0 or a bool")
        check_search_rows(self.search_rows)

    def _resolve_prior(self) -> ArchitecturePrior | None:
        prior = self.prior
        if prior is None or self.n_prior_trials == 0:
            return None
        if isinstance(prior, ArchitecturePrior):
            return prior
        if isinstance(prior, str) and prior == "default":
            return _default_prior()
        if isinstance(prior, (str, os.PathLike)):
            return ArchitecturePrior.load(_saved(prior, "prior"))
        raise TypeError("prior must be 'default', None, an ArchitecturePrior or the path "
                        f"of a saved one, got {type(prior).__name__}")

    def _sampler(self, seed: int, n_startup: int) -> optuna.samplers.BaseSampler:
        """TPE, or MetaSampler with the ``mlp`` meta-model (TPE for what it does not model)."""
        tpe = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup)
        model = self.meta_model
        if model is None:
            return tpe
        if isinstance(model, str) and model == "default":
            model = None  # MetaSampler loads the shipped mlp@<task> model
        elif isinstance(model, (str, os.PathLike)):
            model = MetaModel.load(_saved(model, "meta_model"))
        elif not isinstance(model, MetaModel):
            raise TypeError("meta_model must be 'default', None, a MetaModel or the path of "
                            f"a saved one, got {type(model).__name__}")
        return MetaSampler(space="mlp", meta_features=self.meta_features_, task=self._task,
                           meta_model=model, fallback=tpe, seed=seed)

    def _splits(self, y: np.ndarray, seed: int,
                groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        if _is_splitter(self.cv):
            return self._given_splits(y, seed, groups)
        if groups is not None:
            warn_groups_ignored(self.cv)
        counts = np.bincount(y) if self._task == "classification" else np.zeros(1, int)
        if is_int(self.cv):
            if n < 2 * self.cv:
                raise ValueError(f"cv={self.cv} needs at least {2 * self.cv} samples, got "
                                 f"{n} sample(s)")
            # stratified as scikit-learn's cv=k when a class has fewer rows than folds
            # (it warns; only that class spreads unevenly): the others stay balanced
            cls = StratifiedKFold if counts.max() >= self.cv else KFold
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "The least populated class",
                                        UserWarning)
                return list(cls(self.cv, shuffle=True, random_state=seed).split(
                    np.zeros(n), y))
        n_val = int(round(self.cv * n))
        min_val = self._min_validation_rows()
        if n_val < min_val or n - n_val < 2:
            raise ValueError(f"cv={self.cv} leaves fewer than {min_val} validation or fewer "
                             f"than 2 training rows with {n} sample(s)")
        n_classes = len(np.unique(y))
        if counts.min() >= 2 and n_val >= n_classes and n - n_val >= n_classes:
            split = StratifiedShuffleSplit(1, test_size=n_val, random_state=seed)
        else:
            split = ShuffleSplit(1, test_size=n_val, random_state=seed)
        return list(split.split(np.zeros(n), y))

    def _min_validation_rows(self) -> int:
        """Rows a validation split needs: 2 for R² (undefined on one row), 1 for accuracy."""
        return 2 if self._task == "regression" else 1

    def _given_splits(self, y: np.ndarray, seed: int,
                      groups) -> list[tuple[np.ndarray, np.ndarray]]:
        """The splits of a ``cv`` splitter or iterable, each checked to leave training and
        validation rows (at least 2 to train on; 2 to validate R², 1 accuracy)."""
        rows = np.zeros((len(y), 1))
        cv = checked_splitter(self.cv, rows, y, groups, self._task == "classification",
                              seed)
        splits = [(np.asarray(train), np.asarray(val)) for train, val in cv.split(rows, y)]
        min_val = self._min_validation_rows()
        for i, (train, val) in enumerate(splits):
            if len(train) < 2 or len(val) < min_val:
                raise ValueError(f"cv={self.cv!r}: split {i} has {len(train)} training and "
                                 f"{len(val)} validation rows; every split needs at least 2 "
                                 f"and {min_val}")
        if not splits:
            raise ValueError(f"cv={self.cv!r} gives no split")
        return splits

    # ------------------------------------------------------------------ hooks
    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _final_model(self, **params: Any) -> MLPClassifier | MLPRegressor:
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    @unfitted_on_error
    def fit(self, X, y, sample_weight=None, groups=None) -> Self:
        """Search MLP configurations, then refit the best one on ``X, y``.

        The first ``n_prior_trials`` configurations are distinct draws from the prior
        for this dataset's size; the rest come from ``MetaSampler``, whose ranker adapts
        to the trials so far (or from TPE, ``meta_model=None``). Every trial trains
        on the ``cv`` splits epoch by epoch and reports the mean validation score
        (accuracy, or R^2) so the pruner stops unpromising ones early. The best trial's
        configuration is refitted on all rows for its best number of epochs; a refit far
        below the trial's CV score on its own training rows (or with a training loss not
        finite) is followed by one with another seed, then by the next-best trial's, with
        a warning (``refits_``). With ``search_rows``, the trials train on a sample of
        the rows, and with a ``time_budget`` the refit on as many as the time left allows.
        ``sample_weight`` weights each row's training loss, in the search and the refit
        (the validation scores are unweighted, as in scikit-learn's searches and
        :class:`~metaopt.MetaOptClassifier`). ``groups``: the group labels of a ``cv``
        that splits by groups (``GroupKFold``, ...).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            DataFrames may hold categorical/string columns and missing values.
        y : array-like of shape (n_samples,)
            Class labels (classifier) or numeric targets (regressor).
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the rows' training losses.
        groups : array-like of shape (n_samples,), optional
            Group labels for a ``cv`` that splits by groups.

        Returns
        -------
        self
        """
        started = time.perf_counter()
        self._check_params()
        check_target_not_scalar(X, y)  # a column's name: say how to use the column
        raw = self._validate_X(X, reset=True)
        check_target_given(self, y)
        numeric = self._task == "regression"
        # a Series as its values: scikit-learn keeps a pyarrow decimal one as Decimal
        # objects, which the meta-features then refused as a target that is no number
        y = y.to_numpy() if isinstance(y, pd.Series) else checkable_array(y)
        # several targets: say what to do instead
        check_one_target(y, type(self).__name__, self._task, alternative=(
            ", or train one network on all of them, without a search, with "
            "metaopt.nas.MLPRegressor, which takes a 2-D y") if numeric else "")
        y = column_or_1d(y, warn=True)
        check_target_present(y)
        if numeric:
            check_numeric_target(y, self)
        y = check_array(y, ensure_2d=False, dtype="numeric" if numeric else None,
                        ensure_all_finite=numeric, input_name="y")
        check_consistent_length(raw, y)
        sample_weight = checked_sample_weight(sample_weight, y)
        target = self._encode_target(y)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(2**31 - 1))
        # the rows the trials see: all, or a sample (stratified for a classifier)
        rows = search_sample(target, self._task, self.search_rows, self.time_budget, seed)
        splits = self._splits(rows_of(target, rows), seed, sampled_groups(groups, target, rows))
        self.device_ = resolve_device(self.device)
        prior = self._resolve_prior()
        if prior is not None and self.n_prior_trials > prior.n_pool:
            raise ValueError(f"n_prior_trials={self.n_prior_trials} exceeds the prior's pool "
                             f"of {prior.n_pool} configurations")
        self.meta_features_ = self._meta_features(raw, y)
        X = self._encode_X(raw, reset=True)
        del raw  # (the caller's X, or a DataFrame's: no longer needed here)
        say = self._progress(started)
        say(f"{X.shape[0]:,} x {X.shape[1]} preprocessed")
        # X itself (float64 already: .astype(np.float64) was a second full copy, 400 MB on
        # 1,000,000 x 50); each fold keeps float32 tensors of its standardised rows
        if rows is not None:
            say(f"the trials train on a sample of {len(rows):,} rows")
        trainer = FoldTrainer(rows_of(X, rows), rows_of(target, rows), self._task, splits,
                              self.device_, seed, rows_of(sample_weight, rows))
        study: optuna.Study  # (created below, before any trial reports progress)
        trainer.progress = None if not self.verbose else (
            lambda message: say(f"trial {len(study.trials) - 1}: {message}"))
        say(f"{len(splits)} fold(s) ready")
        sampler = self._sampler(seed, n_startup=10 if prior is None else self.n_prior_trials)
        with optuna_verbosity.holding(optuna.logging.INFO if self.verbose
                                      else optuna.logging.WARNING):
            # a fixed name: Hyperband assigns brackets from a hash of the study name
            study = optuna.create_study(direction="maximize", sampler=sampler,
                                        pruner=make_pruner(self.pruner, self.max_epochs),
                                        study_name=f"metaopt-nas-{seed}")
            draws = []
            if prior is not None:
                n = self.n_prior_trials if self.n_trials is None else min(
                    self.n_prior_trials, self.n_trials)
                draws = prior.sample(self.meta_features_, n, seed=seed)
            deadline = None if self.time_budget is None else started + self.time_budget
            all_rows = None if rows is None else len(y)  # the refit's, of a sample's
            enqueue_next = _enqueuer(draws, None if deadline is None else stop_when_spent(
                trainer, deadline, all_rows, self.time_budget))
            enqueue_next(study, None)
            start = time.perf_counter()
            study.optimize(objective(trainer, self._task, self.max_epochs,
                                     self.n_iter_no_change, deadline, all_rows,
                                     self.time_budget,
                                     TRIAL_SHARE, self.n_trials),
                           n_trials=self.n_trials, callbacks=[enqueue_next],
                           timeout=None if deadline is None else max(deadline - start, 0.0))
            self.search_time_ = time.perf_counter() - start
        done = study.get_trials(deepcopy=False,
                                states=(optuna.trial.TrialState.COMPLETE,))
        if not done:
            raise ValueError(f"no trial completed within the budget (n_trials="
                             f"{self.n_trials}, time_budget={self.time_budget}); raise it, "
                             f"or give fewer rows to the trials (search_rows=, now "
                             f"{trainer.n_rows:,})")
        best = study.best_trial
        refit_rows = None  # every row
        if rows is not None and deadline is not None:
            # as many as the time left allows a refit of the best (its epochs on the
            # sample, per row)
            attrs = best.user_attrs
            refit_rows = refit_sample(rows, len(y), len(rows), refit_seconds(
                trainer, attrs["seconds"], attrs["epochs"], attrs["best_epoch"]),
                max(deadline - time.perf_counter(), 0.0), seed=seed)
        # its folds' tensors (600 MB on 1,000,000 x 50) are not the refit's (enqueue_next's
        # stop_when_spent holds it too)
        del trainer, enqueue_next
        self.search_rows_ = len(y) if rows is None else len(rows)
        self.refit_rows_ = len(y) if refit_rows is None else len(refit_rows)
        if self.refit_rows_ < len(y):
            assert self.time_budget is not None  # rows are cut for a time budget only
            warn(refit_rows_warning(self.time_budget, self.refit_rows_, len(y),
                                    self.search_rows_), UserWarning)
        self.study_ = study
        self.n_epochs_searched_ = int(sum(t.user_attrs.get("epochs", 0)
                                          for t in study.trials)) * len(splits)
        self._refit(sorted(done, key=lambda t: t.value, reverse=True), rows_of(X, refit_rows),
                    rows_of(y, refit_rows), rows_of(sample_weight, refit_rows), seed,
                    deadline, say)
        self.fit_time_ = time.perf_counter() - started
        if self.best_estimator_.out_of_time_:
            warn(refit_cut_message(self.time_budget, self.best_estimator_.n_epochs_,
                                   self.best_epoch_), UserWarning)
        return self

    def _refit(self, ranked: list, X: np.ndarray, y: np.ndarray,
               sample_weight: np.ndarray | None, seed: int, deadline: float | None,
               say) -> None:
        """Refit the best of the ``ranked`` complete trials on ``X, y`` for its best epoch
        count. A refit that failed (a training loss not finite, or a score on its own
        training rows far below its trial's CV score) is followed by one with another seed,
        then by the next-best trial's, while time is left; the first healthy one is kept,
        else the one that scores best on its training rows, with a warning."""
        check = refit_check_rows(y, self._task, seed)
        chance = (0.0 if self._task == "regression"
                  else float(pd.Series(y[check]).value_counts(normalize=True).iloc[0]))
        self.refits_: list[dict[str, Any]]
        # each refit's model, its trial and the epochs it trained for (the best epoch)
        models: list[tuple[Any, optuna.trial.FrozenTrial, int]]
        self.refits_, models = [], []
        for trial, random_state in [(ranked[0], seed), (ranked[0], seed + 1),
                                    *[(t, seed) for t in ranked[1:2]]]:
            # the refit stops on time too, within an epoch if need be (its weights so far)
            left = None if deadline is None else deadline - time.perf_counter()
            if models and left is not None and left < self.refits_[-1]["seconds"]:
                break  # no time for another refit
            left = None if left is None else max(left, 1e-3)
            epochs = max(1, int(trial.user_attrs["best_epoch"]))
            say(f"refitting trial {trial.number} on {len(y):,} rows for {epochs} epoch(s)"
                + ("" if random_state == seed else " with another seed")
                + ("" if left is None else f", {left:.1f} s left"))
            started = time.perf_counter()
            model = self._final_model(
                **trial.params, max_epochs=epochs, validation_fraction=0.0,
                n_iter_no_change=epochs, device=self.device, random_state=random_state,
                time_budget=left,
            ).fit(X, y, sample_weight=sample_weight)
            score = self._training_score(model, X[check], y[check])
            healthy = bool(np.isfinite(model.loss_curve_).all()) and not refit_failed(
                score, trial.value, chance)
            models.append((model, trial, epochs))
            self.refits_.append(dict(
                trial=trial.number, random_state=random_state, epochs=model.n_epochs_,
                seconds=time.perf_counter() - started, train_loss=model.loss_curve_[-1],
                folds_train_loss=trial.user_attrs.get("train_loss", np.nan),
                train_score=score, cv_score=float(trial.value), healthy=healthy))
            say("refit done" + (" (stopped by the time budget)" if model.out_of_time_ else "")
                + ("" if healthy else f": failed, training score {score:.4f}"))
            if healthy:
                break
        kept = len(models) - 1 if healthy else int(np.argmax(
            [r["train_score"] for r in self.refits_]))
        for i, refit in enumerate(self.refits_):
            refit["kept"] = i == kept
        self.best_estimator_, trial, self.best_epoch_ = models[kept]
        assert trial.value is not None  # a complete trial's
        self.best_params_ = dict(trial.params)
        self.best_score_ = float(trial.value)
        if len(models) > 1 or not healthy:
            warn(self._failed_refit_message(kept, chance), UserWarning)

    def _training_score(self, model, X: np.ndarray, y: np.ndarray) -> float:
        """``model``'s score on its training rows ``X, y``, as the search scores."""
        return search_score(self._task, y, model.predict(X))

    def _failed_refit_message(self, kept: int, chance: float) -> str:
        """What the refits of :meth:`_refit` did, for its warning."""
        metric = self._metric_name
        first = self.refits_[0]
        tried = "; ".join(
            f"trial {r['trial']} (CV {r['cv_score']:.4f}) with random_state="
            f"{r['random_state']}: {r['train_score']:.4f}"
            + ("" if np.isfinite(r["train_loss"]) else ", training loss not finite")
            for r in self.refits_)
        kept_refit = self.refits_[kept]
        return (
            f"the refit of the best configuration (trial {first['trial']}, CV {metric} "
            f"{first['cv_score']:.4f}) failed: its {metric} on its own training rows is far "
            f"below its CV score (an unstable or cut training). Each refit's (a constant "
            f"prediction scores {chance:.4f}): {tried}. Kept the refit of trial "
            f"{kept_refit['trial']} with random_state={kept_refit['random_state']}"
            + (" (best_params_, best_score_ and best_epoch_ are its)"
               if kept_refit["trial"] != first["trial"] else "")
            + ("" if kept_refit["healthy"] else
               ": no refit came near its CV score, the model may be far worse than "
               "best_score_") + "; refits_ lists them")

    def summary(self) -> str:
        """One screen of text: the data, the search's trials and the refitted best.

        Returns
        -------
        str
        """
        check_is_fitted(self)
        trials = self.study_.get_trials(deepcopy=False)
        states = pd.Series([t.state.name.lower() for t in trials]).value_counts()
        refit = self.best_estimator_
        n_rows = int(self.meta_features_["n_instances"])
        # a model pickled before refits_, search_rows_, refit_rows_ (and its refit's
        # out_of_time_) were fitted: its trials and its one refit, of the best trial, saw
        # every row; what the refit scored is unknown
        refits = getattr(self, "refits_", [])
        refitted = next((r for r in refits if r["kept"]), None)
        best = self.study_.best_trial if refitted is None else trials[refitted["trial"]]
        search_rows, refit_rows = (getattr(self, name, n_rows)
                                   for name in ("search_rows_", "refit_rows_"))
        metric = self._metric_name
        fit_time = getattr(self, "fit_time_", None)  # (pickled before it was fitted)

        lines = [
            f"{type(self).__name__}: {len(trials)} trial(s) ("
            + ", ".join(f"{n} {state}" for state, n in states.items()) + ")"
            + ("" if fit_time is None else f" in {fit_time:.1f} s")
            + f", the trials {self.search_time_:.1f} s, {self.n_epochs_searched_} epoch(s) "
            "over the folds",
            f"data: {n_rows:,} rows x {self.n_features_in_} features"
            + (f", {len(self.classes_)} classes" if self._task == "classification" else ""),
            *([] if search_rows == n_rows else [
                f"rows: the trials saw a sample of {search_rows:,}"]),
            f"best: trial {best.number} ({_source(best)}), CV {metric} {self.best_score_:.4f} "
            f"at epoch {self.best_epoch_}: {describe_mlp(self.best_params_, refit_rows)}",
            f"refit: {refit.n_epochs_} epoch(s) on {refit_rows:,} rows"
            + (" (stopped by the time budget)" if getattr(refit, "out_of_time_", False)
               else "")
            + ("" if refitted is None else
               f", training loss {refitted['train_loss']:.4g} (the folds' "
               f"{refitted['folds_train_loss']:.4g} at that epoch), {metric} on its "
               f"training rows {refitted['train_score']:.4f}")
            + ("" if len(refits) <= 1 else
               f"; {len(refits)} refits, {sum(not r['healthy'] for r in refits)}"
               " failed (refits_)"),
            "", "trials: state, epochs, best mean validation score (pruned: the last), "
            "source",
            *[f"  {t.number:>3}  {t.state.name:<8} {t.user_attrs.get('epochs', 0):>4}  "
              + ("      -" if t.value is None else f"{t.value:7.4f}") + f"  {_source(t)}"
              + (f"; stopped: {t.user_attrs['stopped']}" if "stopped" in t.user_attrs
                 else "")
              for t in trials],
        ]
        return "\n".join(lines)

    @property
    def _metric_name(self) -> str:
        return "accuracy" if self._task == "classification" else "R²"

    def plot_history(self, ax: Axes | None = None) -> Axes:
        """Best CV score so far vs trial, each trial's score coloured by where it came
        from (``prior``, ``MetaSampler``, ``tpe``); pruned trials hollow, at the last
        score they reported. The best so far is of the complete trials, whose best is
        refitted; when its refits failed their check and the next-best trial's was kept,
        that trial is starred. Scores far below the others (a diverging regression) are drawn at the
        bottom edge, as in :meth:`metaopt.MetaOptClassifier.plot_history`.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new pyplot figure, which the caller closes with
            ``plt.close(ax.figure)`` when it draws many in a loop).

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_is_fitted(self)
        scored = [t for t in self.study_.get_trials(deepcopy=False) if t.value is not None]
        history = pd.DataFrame({
            "trial": [t.number for t in scored], "score": [t.value for t in scored],
            "origin": [_origin(t) for t in scored],
            "complete": [t.state == optuna.trial.TrialState.COMPLETE for t in scored]})
        # (a model pickled before refits_: its refit was the best trial's)
        kept = next((r["trial"] for r in getattr(self, "refits_", []) if r["kept"]), None)
        return plot_search(history, "origin", ax=ax, ylabel=f"CV {self._metric_name}",
                           title=f"{type(self).__name__} search", chosen=kept)

    def _progress(self, started: float):
        """``say(message)``: with ``verbose``, prints it with the seconds since ``started``."""
        def say(message: str) -> None:
            if self.verbose:
                print(f"[{type(self).__name__}] {time.perf_counter() - started:6.1f} s: "
                      f"{message}", flush=True)
        return say

    def _validate_X(self, X, reset: bool) -> pd.DataFrame | np.ndarray:
        """``X`` checked: a DataFrame as given, anything else (a sparse matrix densified, as
        MetaOptClassifier does) as a float array; so is a DataFrame given to an estimator
        fitted on an array (scikit-learn's warning says so once; the preprocessor's own,
        fitted on the array, repeated it)."""
        if isinstance(X, pd.DataFrame) and (reset or fitted_on_frame(self)):
            X = checked_frame(self, X, reset)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"X has shape {X.shape}: it needs rows and columns")
            return X
        X = checkable_array(X)
        if reset:
            self._fitted_columns = None
        else:
            refuse_text_array(self, X)
        with text_refused(X, lambda text: (
                f"{type(self).__name__} reads text only in a DataFrame's columns (one-hot "
                f"encoded), but X is an array holding text ({text!r}): pass "
                "pandas.DataFrame(X, columns=[...]), its text columns categorical")
                ) if reset else nullcontext():
            X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc", "coo"),
                              dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
        X = densified(X, "the MLP trains")
        return X if reset else as_fitted_frame(self, X)

    def _meta_features(self, X, y: np.ndarray) -> pd.Series:
        """The meta-features of the checked ``X`` and ``y``. A DataFrame is validated (a
        column that cannot be a feature is named); an array, which scikit-learn has
        checked, is not validated again, only its target: validate would copy it twice.
        Its frame is one copy, column by column as validate lays it out: the meta-features
        of a row subsample then have the same bits."""
        if isinstance(X, pd.DataFrame):
            return metafeatures.compute(X, y, self._task, random_state=0)
        frame = pd.DataFrame(np.asfortranarray(X), columns=[f"x{i}" for i in range(
            X.shape[1])], copy=False)
        target, task = _checked_target(_target_of_shape(y, X.shape), self._task)
        return metafeatures._compute_validated(frame, target, task, random_state=0)

    def _encode_X(self, X, reset: bool) -> np.ndarray:
        """Checked ``X`` as the float matrix the MLP trains on: a DataFrame's categorical
        or string columns one-hot encoded, missing values imputed with the median (fitted
        once on all rows given to ``fit``), numeric columns standardised."""
        if reset:  # fitted and applied in one pass: the same numbers as fit + transform
            self.preprocessor_ = make_preprocessor("scaled")
            numeric = self.preprocessor_.fit_transform(X)
        else:
            numeric = self.preprocessor_.transform(X)
        numeric = np.asarray(numeric, dtype=np.float64)
        limit = np.finfo(np.float32).max  # the network's dtype; NaN and inf fail it too
        if not -limit <= numeric.min(initial=0.0) <= numeric.max(initial=0.0) <= limit:
            # finite values too large to standardise overflow, or are left unscaled: which
            frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(
                X, columns=[f"x{i}" for i in range(X.shape[1])], copy=False)
            largest = largest_magnitudes(frame)
            raise ValueError(
                (not np.isinf(largest).any() and too_large_message(largest, frame))
                or "X contains infinite values; replace them with finite values or NaN "
                   "(NaN is imputed)")
        return numeric

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True  # a DataFrame's category/string columns
        return tags

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(unpickled_state(state))

    # ------------------------------------------------------------------ predict
    def _check_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._encode_X(self._validate_X(X, reset=False), reset=False)

    def predict(self, X) -> np.ndarray:
        """Predictions of :attr:`best_estimator_`.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        return self.best_estimator_.predict(X)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy (classifier) or R² (regressor) on ``(X, y)``, as scikit-learn's.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
        """
        mixin = ClassifierMixin if self._task == "classification" else RegressorMixin
        return mixin.score(self, X, checkable_array(y), sample_weight=sample_weight)


_PARAMS_DOC = """
    Parameters
    ----------
    n_trials : int or None, default=20
        Configurations to try (pruned ones count). None: until ``time_budget``.
    time_budget : float or None, default=None
        Seconds for the whole ``fit``: a trial still training stops before an epoch
        (as long as its others) that would leave too little time to refit the best
        configuration so far (estimated from how long its epochs took; the trial's best
        score so far counts, so once it beats the complete trials its own refit is the
        one reserved), and no trial starts after that. While another trial may follow,
        a trial also stops before an epoch that would end after half the time left
        when it started (less that refit's), its best score so far counting, and the
        next one starts. The overrun is what these estimates miss (and a first epoch
        that alone outlasts the budget). A refit the budget stops keeps its weights so
        far, with a warning.
    cv : int, float, CV splitter or iterable, default=3
        An int: k-fold (stratified for classification, as scikit-learn's ``cv=k``; a class
        with fewer rows than folds is missing from some);
        float: the share of rows in one validation hold-out;
        a scikit-learn splitter (``KFold(5)``, ``GroupKFold(3)`` with ``fit``'s
        ``groups``, ``TimeSeriesSplit()``, ...) or an iterable of (train, validation)
        index arrays: those splits (one that shuffles anew at each call is seeded from
        ``random_state``).
    max_epochs : int, default=50
        Maximum epochs of a trial: the resource of the multi-fidelity pruner.
    n_prior_trials : int, default=5
        How many first trials are draws from ``prior`` (0: none; the sampler starts).
    prior : "default", ArchitecturePrior, path or None, default="default"
        The architecture prior; ``"default"`` is the shipped one
        (:meth:`ArchitecturePrior.default`), None: no prior draws.
    meta_model : "default", MetaModel, path or None, default="default"
        What proposes the configurations after the prior's draws: ``MetaSampler`` with
        this ``mlp``-space meta-model (``"default"``: the shipped ``mlp@<task>`` one,
        trained on the knowledge base's MLP runs), adapted to the trials so far; while
        fewer trials have run than its ``n_warmup`` (3 in the shipped ones), its
        portfolio's picks. None: Optuna's TPE.
    pruner : {"hyperband", "successive_halving", "none"}, default="hyperband"
        Optuna pruner on the per-epoch mean validation score.
    n_iter_no_change : int, default=8
        Early-stopping patience of a trial, in epochs.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else CPU.
    random_state : int, RandomState or None
        Seeds the splits, the prior's draws, the sampler and the training.
    verbose : int or bool, default=0
        > 0 (or True) shows Optuna's per-trial log.
    search_rows : int, "auto" or None, default="auto"
        Rows the trials train and validate on, as in
        :class:`~metaopt.MetaOptClassifier`: a table with more is searched on a random
        sample (stratified for a classifier, every class kept), and the best is refitted
        on all the rows, or with ``time_budget`` on as many as the time left allows (its
        epochs' time on the sample, per row; never fewer than the sample; a warning says
        so). ``"auto"``: with ``time_budget``, 500 rows per second of it, at least
        10,000; without, all rows. None: all rows.
"""

_ATTRS_DOC = """\
    best_estimator_ : MLPClassifier or MLPRegressor
        The best configuration refitted (on ``refit_rows_`` rows) for its best epoch
        count.
    best_params_ : dict
        Its ``mlp``-space parameters (``max_epochs`` excluded: see ``best_epoch_``): the
        best trial's, unless its refits failed and the next-best one's was kept.
    best_score_ : float
        Its mean validation score during the search.
    refits_ : list of dict
        Each refit: ``trial``, ``random_state``, ``epochs``, ``seconds``, ``train_loss``
        (its last epoch's) and ``folds_train_loss`` (the trial's folds' at that epoch),
        ``train_score`` (on its own training rows), ``cv_score``, ``healthy``, ``kept``.
        One, unless a refit failed (see ``fit``).
    best_epoch_ : int
    study_ : optuna.Study
        Every trial; prior draws have the user attribute ``source="prior"``.
    n_epochs_searched_ : int
        Epochs trained during the search, summed over trials and folds.
    search_time_ : float
        Seconds of the trials.
    fit_time_ : float
        Seconds of the whole ``fit`` (as :class:`~metaopt.MetaOptClassifier`'s): checks,
        meta-features, preprocessing, the trials and the refit(s).
    search_rows_, refit_rows_ : int
        Rows the trials trained and validated on, and rows the refit trained on.
    meta_features_ : pandas.Series
        The dataset's meta-features (:func:`metaopt.metafeatures.compute`), which the
        prior (sizes only) and the meta-model are conditioned on.
    preprocessor_ : ColumnTransformer
        Standardises numeric columns (median-imputing NaN) and one-hot encodes a
        DataFrame's categorical or string columns before the MLP.
    device_ : torch.device
        Where the search and the refit trained (``device`` resolved).
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when X was a DataFrame whose column names are all strings.
"""


class MetaMLPClassifier(ClassifierMixin, _BaseMetaMLP):
    __doc__ = ("""Torch MLP classifier whose architecture and training settings are searched
    with a meta-learned prior, MetaSampler and multi-fidelity pruning; score: accuracy.
""" + _PARAMS_DOC + """
    Attributes
    ----------
    classes_ : ndarray
""" + _ATTRS_DOC)

    _task = "classification"
    score = _BaseMetaMLP.score  # before ClassifierMixin's: y may be StringDType text

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        check_label_types(y)
        check_class_labels(y, self)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        return encoder.transform(y)

    def _final_model(self, **params: Any) -> MLPClassifier:
        return MLPClassifier(**params)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of :attr:`best_estimator_`, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._check_X(X)
        return self.best_estimator_.predict_proba(X)


class MetaMLPRegressor(RegressorMixin, _BaseMetaMLP):
    __doc__ = ("""Torch MLP regressor whose architecture and training settings are searched
    with a meta-learned prior, MetaSampler and multi-fidelity pruning; score: R^2.

    The shipped prior was trained on classification tasks: for regression it is
    conditioned as a one-output problem, an extrapolation (see ``docs/nas.md``).

    One target: a 2-D ``y`` of several columns is refused (fit one search per target
    with ``sklearn.multioutput.MultiOutputRegressor``, or one network on all of them with
    :class:`~metaopt.nas.MLPRegressor`); a (n_samples, 1) ``y`` is raveled with
    scikit-learn's ``DataConversionWarning``.
""" + _PARAMS_DOC + """
    Attributes
    ----------
""" + _ATTRS_DOC)

    _task = "regression"
    score = _BaseMetaMLP.score  # before RegressorMixin's: y may be StringDType text

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)  # (finite: fit's check_array refused NaN, inf)
        check_target_scale(y)
        return y

    def _final_model(self, **params: Any) -> MLPRegressor:
        return MLPRegressor(**params)
