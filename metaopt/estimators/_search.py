"""MetaOptClassifier and MetaOptRegressor: a meta-learned search over model families."""

from __future__ import annotations

import importlib
import math
import numbers
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Self

import joblib
import numpy as np
import optuna
import pandas as pd
import sqlalchemy
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from metaopt._checks import (
    check_class_labels,
    check_label_types,
    check_n_jobs,
    check_numeric_target,
    check_one_target,
    check_seconds,
    check_seed,
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
from metaopt._isolated import (
    KillableWorker,
    TrialTimeout,
    callers_threads,
    cv_score,
    fitting,
    fold_score,
    tested,
)
from metaopt._rows import (
    REFIT_CHECK_ROWS,
    budget_check_rows,
    check_search_rows,
    refit_check_rows,
    refit_failed,
    refit_rows_in_time,
    refit_rows_warning,
    refit_sample,
    rows_of,
    sampled_groups,
    sampled_reserve,
    search_sample,
)
from metaopt._search_plot import plot_search
from metaopt._splits import checked_splitter
from metaopt._warnings import warn
from metaopt.data import validate
from metaopt.data._dataset import check_target_present
from metaopt.data._ids import warn_id_columns
from metaopt.estimators._ensemble import FittedEnsemble, blend_scorer, select
from metaopt.estimators._families import (
    _accepts_weights,
    _check_own,
    _families_that,
    _member,
    _predicts_with,
    _single_spaces,
)
from metaopt.estimators._report import (
    _columns,
    _error_text,
    _family_lines,
    _item,
    _optuna_log,
    _outcome,
    _Progress,
    _score_text,
    _stopped_better_text,
)
from metaopt.estimators._scoring import (
    _blendable,
    _check_scores,
    _check_scoring_name,
    _response_methods,
    _scores_r2,
)
from metaopt.estimators._study import (
    _FOLD_SCORES,
    _NO_TIME,
    _PARTIAL,
    _PROCESS,
    _best_partial,
    _best_value,
    _copy_of,
    _fail_dead_trials,
    _fit_time,
    _interruptions,
    _mean_times,
    _partial_score,
    _resumable,
    _score_time,
    _this_process,
    _timed,
)
from metaopt.kb import DEFAULT_SCORING
from metaopt.samplers import MetaSampler, mark_interrupted
from metaopt.samplers._meta_sampler import _SOURCE, check_sampler, serve_space, serve_task
from metaopt.spaces import SearchSpace, combine, get_space, list_spaces
from metaopt.spaces._base import is_registered

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Ensemble selection: out-of-fold predictions kept for this many of the best trials,
# and time kept at the end to refit about this many of them.
_ENSEMBLE_CANDIDATES = 30
# ... and fewer when theirs (n_rows x n_classes floats each) would take more bytes than this
_ENSEMBLE_BYTES = 1_000_000_000
# a search stops when its first trials all fail with one error: the data or the
# settings are at fault, not the configurations
_SAME_FAILURES = 3
_ENSEMBLE_RESERVE = 5
_ERROR = "error"  # user attribute: why a trial failed
# what the refit's check found of a refit that failed it, for its warning and summary()
_REFIT_FELL = "scores far below its CV score on its own training rows"
_SAMPLED_BY = "sampled_by"  # user attribute: the fit's sampler, of a trial without a reason
# the reason of the trial a search on a sample starts with (after ": ", the sample's size;
# a metaopt before said "the search samples the rows of a table larger than the knowledge
# base's", untrue of search_rows=200 on 699 rows)
_DEFAULT_FIRST = "the default configuration, first"
_WARM_UP = "metaopt-import-torch-dynamo"
# ... started only when another trial will run for about this long (the import takes
# about a second of the main process, where the refit runs)
_WARM_UP_SECONDS = 2.0
COMPLETE = optuna.trial.TrialState.COMPLETE
# ensemble_size="auto": rounds of ensemble selection per task, from the estimator
# benchmark (docs/estimators.md): averaging gains R² in regression, not accuracy
_AUTO_ENSEMBLE = {"classification": 1, "regression": 20}
# fit time grows as rows ** exponent: 1 for most families; libsvm's kernel SVM is
# quadratic or worse
_FIT_TIME_EXPONENT = {"svm": 2.0}
# a row's prediction takes longer with more training rows by rows ** exponent: 0 for most
# families; a k-nearest-neighbours model compares it with every training row (or walks
# a tree of them): refitted on 5.4 x a fold's rows of adult, its check of 8,565 rows took
# 18.8 s where a trial's test fold of 2,000 took 0.9 s, and a 20 s fit took 34 s
_PREDICT_TIME_EXPONENT = {"knn": 1.0}
# the refit's check scores this many rows at least (all of fewer), however slowly the
# model predicts
_CHECK_MIN_ROWS = 500
# after a search on all the rows, a refit may overrun the time left by this share of the
# budget before it is made on fewer rows: a 0.13 s linear refit on clean2, 0.05 s left of
# 5 s, was made on 2,639 of 6,598 rows
_REFIT_SLACK = 0.05


def _weights(sample_weight: np.ndarray | None) -> dict:
    """The pipelines' fit parameters for ``sample_weight``."""
    return {} if sample_weight is None else {"model__sample_weight": sample_weight}


@dataclass(frozen=True)
class _SearchData:
    """Rows of ``fit``'s data: all of them (``rows`` None) or those at ``rows``."""

    X: Any
    y: np.ndarray
    fit_params: dict
    groups: Any
    rows: np.ndarray | None

    @classmethod
    def of(cls, X, y, sample_weight, groups, rows: np.ndarray | None) -> _SearchData:
        return cls(rows_of(X, rows), rows_of(y, rows), _weights(rows_of(sample_weight, rows)),
                   sampled_groups(groups, y, rows), rows)


def _warn_float32_target(y: np.ndarray) -> None:
    """A warning when finite values of ``y`` are beyond float32's range: histogram gradient
    boosting computes its gradients in float32 and predicts a constant (R² -0.003 on
    ``1027_ESL`` x 1e40, where the other families score 0.83-0.86)."""
    largest, limit = np.max(np.abs(y)), float(np.finfo(np.float32).max)
    if limit < largest < np.inf:
        warn(f"y holds values too large for float32 (up to {largest:.3g}, beyond "
             f"{limit:.1e}): hist_gradient_boosting computes its gradients in float32 "
             "and predicts a constant; rescale, e.g. y / "
             f"1e{int(np.floor(np.log10(largest)))}, and scale the predictions back")


def _reshuffled(cv, seed: int | None):
    """A K-fold splitter like ``cv`` with a different shuffle (for ``recheck``); None
    when ``cv`` is another kind of splitter (groups, time series, fixed iterables) or a
    K-fold without shuffling, which keeps the rows' order on purpose: a shuffled second
    split would be another protocol, easier on ordered rows."""
    if type(cv) not in (KFold, StratifiedKFold) or not cv.shuffle:
        return None
    return type(cv)(n_splits=cv.n_splits, shuffle=True,
                    random_state=np.random.default_rng(seed).integers(2**31))


def _candidates(predictions: np.ndarray) -> int:
    """How many trials' out-of-fold ``predictions`` ensemble selection keeps:
    ``_ENSEMBLE_CANDIDATES``, fewer (2 at least) when they would take more than
    ``_ENSEMBLE_BYTES`` (200,000 rows of 500 classes are 800 MB a trial)."""
    return max(2, min(_ENSEMBLE_CANDIDATES, _ENSEMBLE_BYTES // max(predictions.nbytes, 1)))


def _warm_up_torch(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """After the first complete trial, import ``torch._dynamo`` in a background thread.

    ``torch.func``'s first gradient imports it (about a second), so the ranker's first
    adaptation, late in a short budget, would overrun it. Imported while the next trial
    runs in the workers; not earlier, when it slowed the spare workers' start so much
    that a 3 s budget completed no trial."""
    if trial.state == COMPLETE and "torch._dynamo" not in sys.modules and not any(
            t.name == _WARM_UP for t in threading.enumerate()):
        threading.Thread(target=importlib.import_module, args=("torch._dynamo",),
                         name=_WARM_UP, daemon=True).start()


def _dynamo_imported() -> bool:
    """Whether ``torch._dynamo``'s import has finished. Its module is in ``sys.modules``
    from the import's start: a proposal made while :func:`_warm_up_torch`'s thread still
    imports it waits for that import (3 s past a 10 s budget on a busy machine)."""
    return "torch._dynamo" in sys.modules and not any(
        t.name == _WARM_UP for t in threading.enumerate())


def _adapts_unready(study: optuna.Study) -> bool:
    """Whether the MetaSampler's next proposal adapts its ranker (its warm start is over)
    while ``torch._dynamo``, which that first adaptation imports on the main process
    (seconds on a busy machine), is not imported yet."""
    return (not _dynamo_imported() and isinstance(study.sampler, MetaSampler)
            and study.sampler._adapts_next(study))


class _MetaOptSearch(BaseEstimator):
    """Shared machinery of :class:`MetaOptClassifier` and :class:`MetaOptRegressor`."""

    _task: str

    def __init__(
        self,
        *,
        spaces: str | SearchSpace | Sequence[str | SearchSpace] = "all",
        n_trials: int | None = 30,
        time_budget: float | None = None,
        cv: Any = 5,
        scoring: str | Callable[..., float] | None = None,
        meta_model: Any = None,
        n_jobs: int | None = None,
        random_state: int | None = None,
        verbose: int = 0,
        storage: str | optuna.storages.BaseStorage | None = None,
        ensemble_size: int | str = "auto",
        sampler: optuna.samplers.BaseSampler | None = None,
        recheck: bool = True,
        search_rows: int | str | None = "auto",
    ) -> None:
        self.spaces = spaces
        self.n_trials = n_trials
        self.time_budget = time_budget
        self.cv = cv
        self.scoring = scoring
        self.meta_model = meta_model
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.storage = storage
        self.ensemble_size = ensemble_size
        self.sampler = sampler
        self.recheck = recheck
        self.search_rows = search_rows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        tags.non_deterministic = False
        return tags

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(unpickled_state(state))

    # ------------------------------------------------------------------ checks
    def _check_params(self, sample_weight) -> SearchSpace:
        if self.n_trials is None and self.time_budget is None:
            raise ValueError("set n_trials, time_budget or both; got neither")
        if self.n_trials is not None and (not isinstance(self.n_trials, (int, np.integer))
                                          or isinstance(self.n_trials, bool) or self.n_trials < 1):
            raise ValueError(f"n_trials must be a positive int or None, got {self.n_trials!r}")
        check_seconds(self.time_budget, "time_budget")
        check_seed(self.random_state, "random_state", "the seed of the search and of the models")
        if not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:  # as sklearn's
            raise ValueError(f"verbose must be an int >= 0 or a bool, got {self.verbose!r}")
        if self.ensemble_size != "auto" and (
                not isinstance(self.ensemble_size, (int, np.integer))
                or isinstance(self.ensemble_size, bool) or self.ensemble_size < 1):
            raise ValueError("ensemble_size must be 'auto' or a positive int (1: no "
                             f"ensemble), got {self.ensemble_size!r}")
        if self.n_jobs is not None:
            check_n_jobs(self.n_jobs)  # 2.5 ran, 0 failed every trial with joblib's error
        if not isinstance(self.recheck, (bool, np.bool_)):  # "no" and None were taken as bools
            raise ValueError(f"recheck must be True or False, got {self.recheck!r}")
        check_search_rows(self.search_rows)
        if isinstance(self.cv, (str, bytes, bool, np.bool_)) or (
                isinstance(self.cv, numbers.Integral) and self.cv < 2):
            # else scikit-learn's "Expected `cv` as an integer, ... Got 5." for "5", and
            # its KFold's "n_splits=1" for 1, after the data's checks and meta-features
            raise ValueError("cv must be an int >= 2 (the number of folds), a splitter "
                             "(KFold(5), GroupKFold(3), ...) or an iterable of (train, test) "
                             f"splits, got {self.cv!r}")
        given = ([self.spaces] if isinstance(self.spaces, (str, SearchSpace))
                 else list(self.spaces) if isinstance(self.spaces, Sequence) else [None])
        if not all(isinstance(s, (str, SearchSpace)) for s in given):
            raise ValueError("spaces must be 'all', a family name, a SearchSpace of your own "
                             f"or a list of them ({list_spaces(self._task)}), got "
                             f"{self.spaces!r}")
        self._check_storage()
        if not given:
            raise ValueError("spaces must name at least one model family")
        if isinstance(self.scoring, str):
            _check_scoring_name(self.scoring)
        elif callable(self.scoring):
            check_scoring(self, self.scoring)  # a ValueError for a metric function
        elif self.scoring is not None:
            raise ValueError("scoring must be one scorer: a name (sklearn.metrics."
                             "get_scorer_names()) or a callable scorer(estimator, X, y); got "
                             f"{self.scoring!r} (the search maximises a single score)")
        families = _single_spaces(given)
        for space in families:
            if not is_registered(space):
                _check_own(space, self._task)
        if self.sampler is not None:
            check_sampler(self.sampler, "sampler")
            if self.meta_model is not None:  # it serves the search's own MetaSampler only
                warn(f"meta_model is not used with sampler={type(self.sampler).__name__}: "
                     "the search samples with that sampler (a MetaSampler takes its own "
                     "meta_model=); pass one or the other", UserWarning)
        if sample_weight is not None:
            families = _families_that(families, partial(_accepts_weights, task=self._task),
                                      "sample_weight given", "accept weights")
        methods = _response_methods(self.scoring)
        if methods:
            families = _families_that(
                families, partial(_predicts_with, methods=methods, task=self._task),
                f"scoring={self._scoring_name!r} needs {' or '.join(methods)}",
                f"have {' or '.join(methods)}")
        own = [s.name for s in families if not is_registered(s)]
        if own:  # combined in the order given: its model serves any order
            space = families[0] if len(families) == 1 else combine(families)
            if self.meta_model is None and self.sampler is None:
                raise ValueError(
                    f"spaces: {own[0]!r} is a space of your own, without a shipped "
                    f"meta-model: pass meta_model= a model trained on {space.name!r} "
                    "(metaopt.kb.build, then metaopt train-meta-model: docs/spaces.md, "
                    "'Your own space'), or sampler= to search without one (e.g. "
                    "optuna.samplers.TPESampler())")
            return space
        names = [s.name for s in families]
        if len(names) == 1:
            return get_space(names[0])
        ordered = [n for n in list_spaces() if n in names]
        return get_space("all" if ordered == list_spaces() else "+".join(ordered))

    def _check_storage(self) -> None:
        """A ValueError naming ``storage`` when it is no Optuna storage nor a database URL
        (an int failed with "'int' object has no attribute 'create_new_study'", text with
        SQLAlchemy's "Could not parse SQLAlchemy URL")."""
        if self.storage is None or isinstance(self.storage, optuna.storages.BaseStorage):
            return
        try:
            if isinstance(self.storage, str):
                sqlalchemy.engine.make_url(self.storage)
                return
        except sqlalchemy.exc.ArgumentError:
            pass
        hint = ""
        if isinstance(self.storage, str) and self.storage and ":" not in self.storage:
            # a file's path: say its URL (an absolute path takes four slashes)
            hint = f": for an SQLite file, storage='sqlite:///{self.storage}'"
        raise ValueError("storage must be None, a database URL (e.g. 'sqlite:///search.db') "
                         f"or an Optuna storage, got {self.storage!r}{hint}")

    def _validate_X(self, X, reset: bool):
        if isinstance(X, pd.DataFrame) and not reset and not fitted_on_frame(self):
            # fitted on an array: scikit-learn's warning that X has feature names, then
            # X as the array the models were fitted on (their preprocessing warned again,
            # "X has feature names, but SimpleImputer was fitted without feature names")
            validate_data(self, X, reset=False, skip_check_array=True)
            X = X.to_numpy()
        if isinstance(X, pd.DataFrame):
            X = checked_frame(self, X, reset)
            if len(X) == 0:  # scikit-learn's message for arrays
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a "
                                 f"minimum of 1 is required by {type(self).__name__}.")
            return X
        X = checkable_array(X)
        if reset:
            self._fitted_columns = None
        else:
            refuse_text_array(self, X)
        with text_refused(X, lambda text: (
                f"{type(self).__name__} reads text only in a DataFrame's columns (as "
                f"categories), but X is an array holding text ({text!r}): pass "
                "pandas.DataFrame(X, columns=[...])")) if reset else nullcontext():
            X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc", "coo"),
                              ensure_all_finite="allow-nan", dtype="numeric")
        X = densified(X, "the model families' preprocessing works")
        return X if reset else as_fitted_frame(self, X)

    # ------------------------------------------------------------------ fit
    @unfitted_on_error
    def fit(self, X, y, sample_weight=None, groups=None) -> Self:
        """Search configurations of the model families, then refit the best on all data.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            DataFrames may hold categorical/string columns and missing values.
        y : array-like of shape (n_samples,)
            One target: several columns are refused (fit one search per target with
            ``sklearn.multioutput.MultiOutputRegressor`` or ``MultiOutputClassifier``); a
            single column, (n_samples, 1), is raveled with scikit-learn's
            ``DataConversionWarning``.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to every fit (families that cannot take weights are left out).
        groups : array-like of shape (n_samples,), optional
            Group labels for a ``cv`` that splits by groups (``GroupKFold``,
            ``LeaveOneGroupOut``, ...): no group is in both a fold's training and test
            rows. Such a ``cv`` scores each configuration once (no ``recheck``).

        Returns
        -------
        self
        """
        start = time.perf_counter()
        check_target_not_scalar(X, y)  # a column's name: say how to use the column
        X = self._validate_X(X, reset=True)
        check_target_given(self, y)  # else scikit-learn's 'got an array of shape ()'
        y = checkable_array(y)
        check_one_target(y, type(self).__name__, self._task)  # several: say what to do
        y = column_or_1d(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy(),
                         warn=True)
        check_target_present(y)
        if self._task == "classification":
            check_label_types(y)
            check_class_labels(y, self)
        else:
            check_numeric_target(y, self)
            y = check_array(y, ensure_2d=False, dtype="numeric", ensure_all_finite=False,
                            input_name="y")
            _warn_float32_target(y)
        if len(y) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples to "
                             f"cross-validate, got n_samples = {len(y)}")
        frame, target, task = validate(X, y, self._task)
        if self._task == "classification":
            self.classes_ = np.unique(y)
        sample_weight = checked_sample_weight(sample_weight, y)
        space = self._check_params(sample_weight)
        seed = self._shuffle_seed(X, y)
        rows = self._search_sample(y, seed)
        search = _SearchData.of(X, y, sample_weight, groups, rows)
        cv = checked_splitter(self.cv, search.X, search.y, search.groups,
                              classifier=is_classifier(self), seed=seed)
        # the folds made once, as every trial has the same (a cv that cannot split the
        # data fails here, not in every trial): scikit-learn's warning about them (a class
        # with fewer rows than folds) was shown again at every trial
        folds = self._folds(cv, search)
        _check_scores(self.scoring, search.y, folds,
                      self.classes_ if self._task == "classification" else None,
                      self._scoring_name)
        if self._ensemble_rounds > 1 and not tested(
                [test for _, test in folds], len(search.y)).all():
            warn(f"ensemble_size={self.ensemble_size!r}: cv={cv!r} leaves rows out "
                 "of every test fold, so no out-of-fold predictions to select an "
                 "ensemble from; the best configuration alone predicts (set "
                 "ensemble_size=1)", UserWarning)
        if not _blendable(self.scoring) and self.ensemble_size not in ("auto", 1):
            warn(f"ensemble_size={self.ensemble_size!r}: scoring={self._scoring_name} "
                 "scores decision values only, which an ensemble (an average of class "
                 "probabilities) has none of, so the best configuration alone predicts "
                 "(set ensemble_size=1)", UserWarning)
        # callers_threads: folds on threads (joblib's "threading" backend) each set and
        # restore the process-wide thread limits, in any order
        with self._workers() as worker, callers_threads():
            from metaopt import metafeatures

            self.meta_features_ = None
            if self.sampler is None:
                # as metaopt.suggest: an id column skews the warm start (it is kept)
                warn_id_columns(frame, name=type(self).__name__, drop=(
                    "X.drop(columns={columns}) before fit" if isinstance(X, pd.DataFrame)
                    else "remove {columns} (x<i> is column i of X) before fit"))
                # of the frame validated above (compute would validate X again)
                self.meta_features_ = metafeatures._compute_validated(frame, target, task,
                                                                      random_state=0)
            # the validated frame, a copy of X, is for the meta-features only: not kept
            # through the search
            del frame, target
            self._search_and_refit(X, y, sample_weight, search, task, space, cv, folds,
                                   start, worker)
        return self

    def _search_sample(self, y, seed: int | None) -> np.ndarray | None:
        """The rows the trials cross-validate on (``search_rows``), None for all."""
        return search_sample(y, self._task, self.search_rows, self.time_budget, seed)

    def _shuffle_seed(self, X, y) -> int | None:
        """The seed of a shuffling ``cv``'s folds (:func:`metaopt._splits.fixed_shuffle`): ``random_state``,
        or without one, for a search kept in ``storage``, a seed drawn from the data, so
        that a fit resuming it has its folds, and so finds it (the study's name holds them)."""
        if self.random_state is not None or self.storage is None:
            return self.random_state
        return int(joblib.hash((X, y))[:8], 16)

    def _workers(self):
        """With a time budget, trials run their folds in worker processes that can be
        killed; they start now, while the meta-features are computed."""
        if self.time_budget is None:
            return nullcontext()
        return KillableWorker(joblib.effective_n_jobs(self.n_jobs))

    def _search_and_refit(self, X, y, sample_weight, search: _SearchData, task, space, cv,
                          folds, start, worker):
        out_of_fold: dict[int, tuple[float, np.ndarray]] = {}
        fold_rows = float(np.mean([len(train) for train, _ in folds]))
        # the refit's reserve (_refit_seconds): a fit on all the rows is this many times a
        # fold's (1: as assumed without sampling), and its check scores this many times a
        # test fold's rows
        self._growth = 1.0 if search.rows is None else len(y) / fold_rows
        self._n_folds, self._n_rows, self._space = len(folds), len(y), space
        self._test_rows = float(np.mean([len(test) for _, test in folds]))
        with _optuna_log(self.verbose):
            study = self._search(search.X, search.y, space, task, cv, folds, search.fit_params,
                                 start, worker, out_of_fold)
        complete = study.get_trials(deepcopy=False, states=(COMPLETE,))
        errors = [t.user_attrs[_ERROR] for t in study.get_trials(deepcopy=False)
                  if _ERROR in t.user_attrs]
        holdout = "StratifiedShuffleSplit" if task == "classification" else "ShuffleSplit"
        advice = ("give it more time, fewer or cheaper families (spaces=), one hold-out split "
                  f"(cv={holdout}(n_splits=1, test_size=0.2)) or fewer rows to the trials "
                  f"(search_rows=, now {len(search.y):,})")
        best = study.best_trial if complete else _best_partial(study)
        if best is None:
            if errors:
                raise ValueError(f"every configuration failed ({len(errors)} trials); "
                                 f"the last error: {errors[-1]}")
            processes = getattr(worker, "processes", 1)  # a time budget's workers
            raise ValueError(
                f"no configuration could be evaluated within time_budget={self.time_budget} s "
                f"(a trial fits {len(folds)} fold(s) of about {int(fold_rows):,} training "
                "rows each, " + ("one after another" if processes == 1 else
                                 f"shared by {processes} worker processes")
                + f"); {advice}")
        if not complete:
            stopped = sum(_PARTIAL in t.user_attrs for t in study.get_trials(deepcopy=False))
            warn(f"no trial finished its {len(folds)} CV folds within time_budget="
                 f"{self.time_budget} s: the model is trial {best.number}'s configuration, "
                 f"chosen on the {len(best.user_attrs[_PARTIAL]['scores'])} of {len(folds)} "
                 f"folds it finished (of {stopped} stopped trial{'s' * (stopped != 1)} with "
                 f"finished folds), less reliably than on complete trials; {advice}",
                 UserWarning)
        if errors:
            counts = pd.Series(errors).value_counts()
            warn(f"{len(errors)} of {len(study.trials)} trials failed: " + "; ".join(
                f"{n} x {error}" for error, n in counts.items()))
        self.study_ = study
        self.space_ = space.name
        self.best_params_ = dict(best.params)
        self.best_score_ = study.best_value if complete else _partial_score(best)
        self.best_family_ = _member(space, best.params)[0].name
        self.search_rows_ = len(search.y)
        deadline = None if self.time_budget is None else start + self.time_budget
        refit = self._refit_data(X, y, sample_weight, search, best, fold_rows, deadline,
                                 self._check_seconds(best, self._growth, len(y)))
        self.refit_rows_ = len(refit.y)
        if self.refit_rows_ < len(y):
            assert self.time_budget is not None  # rows are cut for a time budget only
            warn(refit_rows_warning(self.time_budget, self.refit_rows_, len(y),
                                    self.search_rows_), UserWarning)
        self.best_estimator_, self.ensemble_ = self._refit(
            refit.X, refit.y, search.y, space, task, refit.fit_params, study, best,
            out_of_fold, deadline, len(refit.y) / fold_rows if search.rows is not None else 1.0)
        better = self._beaten_by_stopped() if complete else None
        if better is not None:
            # the complete trial is refitted all the same (the published figures choose
            # so), but a better configuration the budget cut short is worth knowing of
            warn(f"{better[0]}; the model is {self._model_of(better[1])}, as stopped trials "
                 f"count only when no trial finishes its folds: {advice}", UserWarning)
        self.warm_start_ = self._history(space, sources_only=True)
        self.fit_time_ = time.perf_counter() - start

    def _search(self, X, y, space, task, cv, folds, fit_params, start, worker,
                out_of_fold: dict[int, tuple[float, np.ndarray]]) -> optuna.Study:
        """Create (or resume) the study and run the trials within the budget; the
        out-of-fold predictions of the best trials go to ``out_of_fold``. ``folds``: the
        splits of ``cv``, made once."""
        deadline = None if self.time_budget is None else start + self.time_budget
        seed = self.random_state
        r2 = _scores_r2(self.scoring or self._scoring_name)
        if self._task == "regression" and r2 and min(len(test) for _, test in folds) < 2:
            # every trial failed with this, after scikit-learn's warning for every fold
            # (90 of them for 3 trials of LeaveOneOut on 30 rows)
            raise ValueError(f"cv={cv!r} has a test fold of one row, on which R² is "
                             "undefined: use a cv whose test folds hold 2 rows or more, or "
                             "another scoring (e.g. 'neg_mean_squared_error')")
        second_cv = _reshuffled(cv, seed) if self.recheck else None  # None: not rechecked
        second_folds = None
        if second_cv is not None:
            with warnings.catch_warnings():  # the first split's warning said it already
                warnings.filterwarnings("ignore", "The least populated class", UserWarning)
                second_folds = list(second_cv.split(X, y))
        # a copy: every fit starts from the sampler's state as given
        sampler = _copy_of(self.sampler) if self.sampler is not None else MetaSampler(
            # a space of one's own as itself: its model must be of that space
            space=space.name if is_registered(space) else space,
            meta_features=self.meta_features_, task=task, meta_model=self.meta_model,
            seed=self.random_state,
            # R^2 has no lower bound; the shipped models learned it floored at 0
            worst_value=0.0 if r2 else None,
            # a meta-model with time_fraction > 0 skips what would not finish in time
            time_budget=None if deadline is None else max(deadline - time.perf_counter(),
                                                          1e-3))
        if self.sampler is not None and isinstance(sampler, MetaSampler):
            serve_task(sampler, task)  # else it took its meta-model's task
            serve_space(sampler, space)  # else another space's model, silently
        # a stored search resumes only under the same data, weights, scoring, splits and
        # settings of a trial (its families are in the name; n_trials is how far to go)
        key = joblib.hash((X, y, fit_params, self._scoring_key(), cv, self._trial_settings()))[:12]
        try:
            study = optuna.create_study(
                direction="maximize", sampler=sampler, storage=_resumable(self.storage),
                study_name=f"metaopt-{task}-{space.name}-{key}",
                load_if_exists=self.storage is not None,
            )
        except (sqlalchemy.exc.SQLAlchemyError, ImportError) as exc:
            # SQLAlchemy's "unable to open database file", "Can't load plugin" named
            # neither the parameter nor the URL
            raise ValueError(f"storage={self.storage!r} could not be opened: {exc}") from exc
        evaluate = partial(cv_score, return_predictions=self._ensemble_rounds > 1)
        n_folds = max(len(folds), 2)
        errors: list[str] = []  # why trials failed, in order

        started: list[int] = []  # numbers of the trials this fit ran

        def run(trial: optuna.Trial, function, *args, fold_scores: list | None = None):
            # fold_scores: filled with the folds' scores, in fold order (time budget only)
            if deadline is None:
                return function(*args)
            # the trial's time starts once the workers have (their start counts against
            # the budget, not the trial: a 10 s fit in cross_val_score(n_jobs=2) lost its
            # first trial to it)
            reserve = self._refit_reserve(study)  # (no trial ends while the workers start)
            worker.ready(deadline - time.perf_counter() - reserve)
            left = deadline - time.perf_counter() - reserve
            if left <= 0:
                study.stop()
                raise optuna.TrialPruned(_NO_TIME)
            limit = left
            if trial.number == started[0] and n_left != 1:
                # the fit's first trial may not take all the time: leave room for a second
                limit = left / 2
            elif not _timed(study):
                # no fit time known yet, so no reserve for the refit (the first trial was
                # stopped, or n_trials=1): leave room for it, about one fit on all the
                # rows (the trial is k fits on (k - 1) / k of them). Without it a second
                # trial after a stopped first took all the time left, and the refit came
                # on top (a 10 s fit on adult took 14 s)
                limit = left * (1 - 1 / n_folds)

            def fold_map(fn, calls: list[tuple]) -> list:
                results = worker.map(fn, calls, seconds=limit, report=fold_score)
                if fold_scores is not None:
                    fold_scores[:] = [float(result[0]) for result in results]
                return results

            return function(*args, fold_map=fold_map)

        def objective(trial: optuna.Trial) -> float:
            started.append(trial.number)
            if self.storage is not None:
                study._storage.set_trial_system_attr(trial._trial_id, _PROCESS, _this_process())
            try:
                return evaluate_trial(trial)
            except KeyboardInterrupt:  # the user's, not the configuration's: run it again
                mark_interrupted(study, trial, "KeyboardInterrupt")
                raise

        def label(trial: optuna.Trial) -> None:
            # kept with the trial: a fit resuming the stored study may use another sampler.
            # A MetaSampler's own proposal has its reason (metaopt:source) instead: the
            # label "fallback sampler" was on the portfolio's picks too
            if _SAMPLED_BY in trial.user_attrs or (self.sampler is None and _SOURCE in
                    study._storage.get_trial_system_attrs(trial._trial_id)):
                return
            trial.set_user_attr(_SAMPLED_BY, self._sampler_label())

        def evaluate_trial(trial: optuna.Trial) -> float:
            try:
                # a sampler that raises (a GridSampler whose grid lacks a parameter) fails
                # the trial as a fit that raises does: counted and named below
                try:
                    params = space.sample(trial, task)
                finally:  # once sampled: a MetaSampler gives its reason as it proposes
                    label(trial)
                args = (space, params, task, X, y, folds, self.scoring, fit_params, seed,
                        self.n_jobs)
                fold_scores: list[float] = []
                score, fit_time, score_time, *oof = run(trial, evaluate, *args,
                                                        fold_scores=fold_scores)
                if np.isnan(score):
                    raise ValueError(f"the CV score ({self._scoring_name}) is NaN: undefined on "
                                     "some test fold " + (
                                         "(ROC AUC of a fold without one of the classes is; "
                                         "use fewer folds, or another scoring)"
                                         if task == "classification" else
                                         "(R² of one row is; use a cv whose test folds hold "
                                         "2 rows or more, or another scoring)"))
            except TrialTimeout as exc:
                # too slow for the time it got: it stays taken (given it again, a resumed
                # search spent its whole budget on it, fit after fit). Its finished folds
                # are kept: a search that completes no trial refits the best of them
                if exc.done:
                    trial.set_user_attr(_PARTIAL, {
                        "scores": [exc.done[i][0] for i in sorted(exc.done)],
                        **_mean_times(exc.done.values()),
                        "folds": len(folds), "fold_indices": sorted(exc.done)})
                raise optuna.TrialPruned(str(exc)) from None
            except optuna.TrialPruned:
                # the budget was spent before it ran: a resumed search runs it
                mark_interrupted(study, trial, _NO_TIME)
                raise
            except Exception as exc:
                errors.append(_error_text(exc))
                trial.set_user_attr(_ERROR, errors[-1])
                if (len(errors) >= _SAME_FAILURES and len(set(errors[-_SAME_FAILURES:])) == 1
                        and not study.get_trials(deepcopy=False, states=(COMPLETE,))):
                    study.stop()
                raise
            trial.set_user_attr("fit_time", fit_time)
            trial.set_user_attr("score_time", score_time)
            if fold_scores:  # to set against stopped trials' folds (_stopped_better)
                trial.set_user_attr(_FOLD_SCORES, fold_scores)
            if second_folds is not None and score > _best_value(study):
                # a new best: confirm it on a second, reshuffled split (the mean of both
                # counts), so a lucky split does not win the search
                try:
                    again, *_ = run(trial, cv_score, *args[:5], second_folds, *args[6:])
                    trial.set_user_attr("cv_scores", [score, again])
                    score = (score + again) / 2
                except (TrialTimeout, optuna.TrialPruned):
                    # no time to confirm (none at all once the refit's reserve grew with
                    # this trial's fit time): the first split's score stands
                    pass
            if oof and oof[0] is not None and np.isfinite(score):
                out_of_fold[trial.number] = (score, oof[0])
                if len(out_of_fold) > _candidates(oof[0]):
                    # of equal scores the latest goes: the study's best is the earliest
                    del out_of_fold[min(out_of_fold, key=lambda n: (out_of_fold[n][0], -n))]
            return score

        def warm_up(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            # not after the last trial: the import then ran beside the refit, on the main
            # process, and slowed it (a 0.5 s refit of a linear model on adult took 2.8 s,
            # and a 10 s fit 12 s)
            if n_left is not None and len(started) >= n_left:
                return
            if deadline is not None and (deadline - time.perf_counter()
                                         - self._refit_reserve(study) < _WARM_UP_SECONDS):
                if _adapts_unready(study):
                    # the next proposal would import torch._dynamo first, past the
                    # deadline (a 5 s fit took 8 s), and leave no time for its trial
                    study.stop()
                return
            _warm_up_torch(study, trial)

        def stop_when_spent(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            # no time left for another trial: stop before the sampler proposes one (a
            # MetaSampler's proposal took 0.5 s past the budget, for a trial never run)
            if deadline is not None and (
                    deadline - time.perf_counter() - self._refit_reserve(study) <= 0):
                study.stop()

        self._n_earlier = len(study.trials)  # of earlier fits of a stored search
        if self.storage is not None:
            _fail_dead_trials(study)
        if self._growth != 1.0 and self.sampler is None and not study.trials:
            # a table the search samples is beyond the knowledge base's reach (its
            # evaluations are of at most 2,000 rows): the library's defaults, made for
            # any size, go first
            study.enqueue_trial(space.default(task), user_attrs={_SAMPLED_BY: (
                f"{_DEFAULT_FIRST}: the trials cross-validate on a sample of {len(y):,} rows "
                "(search_rows)")})
        done = len(study.get_trials(deepcopy=False, states=(COMPLETE,)))
        n_left = None if self.n_trials is None else max(self.n_trials - done, 0)
        if self.n_trials is not None and done > self.n_trials:
            warn(f"n_trials={self.n_trials}, and the search kept in storage has {done} "
                 f"complete trials: none runs, and the best of all {done} is refitted "
                 "(n_trials counts the stored trials; another storage, or study, for a "
                 "search of its own)")
        if n_left != 0:
            if deadline is not None:
                worker.share(X, y, fit_params)  # to each worker once, not with every trial
            progress = _Progress(n_left, self.time_budget, start) if self.verbose else None
            try:
                study.optimize(
                    objective, n_trials=n_left,
                    timeout=None if deadline is None else max(deadline - time.perf_counter(), 0),
                    catch=(Exception,), callbacks=[
                        stop_when_spent, *([warm_up] if self.sampler is None else []),
                        *([progress] if progress is not None else [])],
                )
            finally:
                if progress is not None:
                    progress.close()
        return study

    @property
    def _ensemble_rounds(self) -> int:
        """``ensemble_size`` with ``"auto"`` resolved per task (see the docstring); 1 for
        a scoring of decision values only."""
        if not _blendable(self.scoring):
            return 1
        if self.ensemble_size == "auto":
            return _AUTO_ENSEMBLE[self._task]
        return int(self.ensemble_size)

    def _refit_reserve(self, study: optuna.Study) -> float:
        """Seconds to keep for the refit: about one fit on all the data, and its check, of
        the slowest configuration so far, or of the best few ones when ensembling
        (:meth:`_refit_seconds`). After a search on a sample, at most half the budget: a
        refit on all the rows may take longer than the budget, and takes as many as the
        time allows."""
        timed = _timed(study)
        slowest = max((self._refit_seconds(t, self._growth, self._n_rows) for t in timed),
                      default=0.0)
        if self._ensemble_rounds > 1:
            best = sorted(((t.value, t) for t in timed if t.value is not None),
                          key=lambda scored: -scored[0])
            slowest = max(slowest, sum(self._refit_seconds(t, self._growth, self._n_rows)
                                       for _, t in best[:_ENSEMBLE_RESERVE]))
        if self._growth == 1.0:
            return slowest
        assert self.time_budget is not None  # the reserve is kept under a budget only
        return sampled_reserve(slowest, self.time_budget)

    def _refit_seconds(self, trial: optuna.trial.FrozenTrial, growth: float, n_rows: int,
                       check_rows: int | None = None) -> float:
        """About how long refitting ``trial``'s configuration on ``n_rows`` rows and
        checking the refit take: 1.5 x its fold fit time x ``growth`` (the refit's rows
        over a fold's), and :meth:`_check_seconds` (the check runs the scoring's
        predictions, which for a k-nearest-neighbours model take longer than its fit)."""
        return (1.5 * (_fit_time(trial) or 0.0) * growth
                + self._check_seconds(trial, growth, n_rows, check_rows))

    def _predict_slower(self, trial: optuna.trial.FrozenTrial, growth: float) -> float:
        """How many times longer a row's prediction takes after a refit on ``growth``
        times a fold's rows (``_PREDICT_TIME_EXPONENT`` of the trial's family)."""
        family = _member(self._space, trial.params)[0].name
        return growth ** _PREDICT_TIME_EXPONENT.get(family, 0.0)

    def _check_rows(self, n_rows: int, slower: float) -> int:
        """How many of a refit's ``n_rows`` its check scores under a time budget: a test
        fold's (:func:`budget_check_rows`), over ``slower`` (how many times longer a
        row's prediction takes than in the trial), so the check takes about a test fold's
        score time, ``_CHECK_MIN_ROWS`` at least."""
        rows = budget_check_rows(n_rows, self._n_folds)
        return min(rows, max(math.ceil(rows / slower), min(n_rows, _CHECK_MIN_ROWS)))

    def _check_seconds(self, trial: optuna.trial.FrozenTrial, growth: float, n_rows: int,
                       check_rows: int | None = None) -> float:
        """About how long the check of ``trial``'s configuration refitted on ``n_rows``
        rows (``growth`` times a fold's) takes: its score time per row of a test fold,
        times ``check_rows`` (by default :meth:`_check_rows`'s), times how much slower
        a row's prediction is (:meth:`_predict_slower`)."""
        slower = self._predict_slower(trial, growth)
        if check_rows is None:
            check_rows = self._check_rows(n_rows, slower)
        return _score_time(trial) / self._test_rows * check_rows * slower

    def _refit_data(self, X, y, sample_weight, search: _SearchData, best, fold_rows: float,
                    deadline: float | None, check: float = 0.0) -> _SearchData:
        """The rows to refit on: all of them, or as many as the time left, less ``check``
        seconds for the refit's check, and ``_REFIT_SLACK`` of the budget, allow one fit of
        the best configuration (the refit reserve's margin, 1.5 x its fold fit time, grown
        by ``_FIT_TIME_EXPONENT``), half a fold's training rows at least. After a search
        on a sample: the sample and more drawn at random, as the time allows (without the
        slack), or when it does not allow the sample, fewer of the sample's rows. After a
        search on all the rows, a fit on all of them takes a fold's time as the reserve
        does (grown only beyond linear). Without a time budget, all of them."""
        fit_time = _fit_time(best)
        if deadline is None or fit_time is None:  # (None: a trial stored by an old metaopt)
            return _SearchData.of(X, y, sample_weight, None, None)
        assert self.time_budget is not None  # as the deadline is set
        left = max(deadline - time.perf_counter() - check, 0.0)
        granted = left + _REFIT_SLACK * self.time_budget
        exponent = _FIT_TIME_EXPONENT.get(self.best_family_, 1.0)
        floor = int(fold_rows / 2)
        if search.rows is not None:
            on_sample = 1.5 * fit_time * (len(search.rows) / fold_rows) ** exponent
            if granted >= on_sample:
                rows = refit_sample(search.rows, len(y), fold_rows, 1.5 * fit_time, left,
                                    exponent, self.random_state)
            else:
                # a stopped trial's random forest on 10,000 rows of 564_fried: its refit
                # on the sample took the 10 s fit to 10.6-12.6 s
                within = refit_rows_in_time(search.y, self._task, on_sample, granted,
                                            exponent, floor, self.random_state)
                rows = search.rows if within is None else search.rows[within]
        else:
            # a fit far slower than its share, e.g. a stopped trial's SVM: refitted on all
            # 6,598 rows of clean2, an 8 s fit took 12-13 s
            seconds = 1.5 * fit_time * (len(y) / fold_rows) ** (exponent - 1)
            rows = refit_rows_in_time(y, self._task, seconds, granted, exponent, floor,
                                      self.random_state)
        return _SearchData.of(X, y, sample_weight, None, rows)

    def _refit(self, X, y, y_search, space, task, fit_params, study, best, out_of_fold,
               deadline, growth: float):
        """The ``best`` trial's configuration fitted on ``X``, ``y``, then, with
        ``ensemble_size`` > 1, the others greedy ensemble selection picks from the best
        trials' out-of-fold predictions (of ``y_search``), each while the time budget
        allows one more fit (``growth`` times a fold's). Returns the model and the table
        of its members."""
        trials = {t.number: t for t in study.get_trials(deepcopy=False)}
        # candidates: the better half of the complete trials (a near-constant model can
        # shift a few borderline rows of the blend and win a round by luck)
        n_complete = sum(t.state == COMPLETE for t in trials.values())
        ranked = sorted(out_of_fold, key=lambda n: -out_of_fold[n][0])[:max(n_complete // 2, 1)]
        classes = getattr(self, "classes_", None)  # None for regression
        if classes is not None and set(_response_methods(self.scoring)) - {"predict"}:
            # a scoring of decision values or probabilities (roc_auc, average_precision):
            # a model without predict_proba (SVC) would be blended as one-hot votes, which
            # rank rows far worse than its decision values
            ranked = [n for n in ranked if _predicts_with(
                _member(space, trials[n].params)[0], ("predict_proba",), task)]
        counts = np.array([1])
        # with ensemble rounds, why one configuration predicts (summary())
        alone = self._alone_reason(best, out_of_fold, ranked, n_complete, space)
        if self._ensemble_rounds > 1 and alone is None:
            y_true = np.asarray(y_search) if classes is not None else np.asarray(y_search,
                                                                                 dtype=float)
            counts = select([out_of_fold[n][1] for n in ranked],
                            blend_scorer(self.scoring, y_true, classes), self._ensemble_rounds)
            if np.count_nonzero(counts) == 1:
                alone = (f"ensemble selection found no blend of the best {len(ranked)} "
                         "trials scoring higher out of fold")
        else:
            if self._ensemble_rounds > 1 and best.number < self._n_earlier and n_complete > 1:
                # a resumed search's refit was one model where the first fit's was an
                # ensemble, and nothing said so
                warn(
                    f"ensemble_size={self.ensemble_size!r}: the best configuration (trial "
                    f"{best.number}) is from an earlier fit of the search kept in storage, "
                    "and out-of-fold predictions are not stored, so it alone predicts, "
                    "without an ensemble (set ensemble_size=1, or fit without storage "
                    "to ensemble)", UserWarning)
            ranked = [best.number]
        # the check's rows: fewer for a model that predicts more slowly when refitted
        # on more rows than a fold's
        check_rows = (REFIT_CHECK_ROWS if self.time_budget is None else
                      self._check_rows(len(y), self._predict_slower(best, growth)))
        train_score, constant = self._training_scorer(X, y, check_rows)
        refits: list[dict[str, Any]] = []  # every refit, in order, and its check

        def refit(trial: optuna.trial.FrozenTrial, weight: float) -> None:
            """Refit ``trial``'s configuration and check it, unless time is out."""
            if refits and deadline is not None and (
                    time.perf_counter() + self._refit_seconds(trial, growth, len(y), check_rows)
                    > deadline):
                return
            model = space.build(trial.params, task, random_state=self.random_state
                                ).fit(X, y, **fit_params)
            cv = self.best_score_ if trial.number == best.number else trial.value
            assert cv is not None  # the others are complete trials (of out_of_fold)
            score = train_score(model)
            refits.append({"trial": trial, "model": model, "weight": weight, "cv": cv,
                           "train": score, "failed": refit_failed(score, cv, constant)})

        with fitting():
            for i in sorted(np.flatnonzero(counts), key=lambda i: (i != 0, -counts[i])):
                refit(trials[ranked[i]], counts[i])
            if all(r["failed"] for r in refits):
                # no healthy refit: the next-best complete trial's instead, time allowing
                tried = {r["trial"].number for r in refits}
                complete = sorted((t for t in trials.values()
                                   if t.state == COMPLETE and t.number not in tried),
                                  key=lambda t: -t.value)
                if complete:
                    refit(complete[0], 1)
        kept = [r for r in refits if not r["failed"]] or [max(refits, key=lambda r: r["train"])]
        if len(kept) == 1 and np.count_nonzero(counts) > 1:  # selected several, one refitted
            alone = ("the refits of the other configurations selected failed their check"
                     if any(r["failed"] for r in refits) else
                     "the time budget left no time to refit the other configurations selected")
        self._alone = alone if self._ensemble_rounds > 1 and len(kept) == 1 else None
        # what the check found, for summary() (its models left out)
        self._refit_checks = [{"trial": r["trial"].number, "cv": r["cv"], "train": r["train"],
                               "failed": r["failed"]} for r in refits]
        if any(r["failed"] for r in refits):
            warn(self._failed_refit_message(refits, kept, constant, len(y)), UserWarning)
        if kept[0]["trial"].number != best.number:
            chosen = max((r["trial"] for r in kept), key=lambda t: t.value)
            self.best_params_, self.best_score_ = dict(chosen.params), float(chosen.value)
            self.best_family_ = _member(space, chosen.params)[0].name
        members, weights = [r["model"] for r in kept], [r["weight"] for r in kept]
        rows = [{"trial": r["trial"].number,
                 "family": _member(space, r["trial"].params)[0].name, "score": r["cv"]}
                for r in kept]
        table = pd.DataFrame(rows).assign(weight=np.asarray(weights) / np.sum(weights))
        model = members[0] if len(members) == 1 else FittedEnsemble(members, weights, classes)
        return model, table

    def _alone_reason(self, best, out_of_fold: dict, ranked: list[int], n_complete: int,
                      space: SearchSpace) -> str | None:
        """Why ensemble selection cannot run for the refit of ``best`` (a few words for
        summary()), None when it can: candidates ``ranked`` from ``out_of_fold``."""
        if n_complete == 0:
            return "no trial finished its folds"
        if best.number < self._n_earlier:
            return ("the best trial is from an earlier fit kept in storage, without "
                    "out-of-fold predictions")
        if best.number not in out_of_fold:
            return "the best trial has no out-of-fold predictions to select from"
        if best.number not in ranked:  # left out by the scoring
            return (f"scoring={self._scoring_name} blends probabilities, which the best "
                    f"trial's {_member(space, best.params)[0].name} does not predict")
        if ranked[0] != best.number:  # a tie of scores ranked another first
            return "another trial of the same score ranks first among the candidates"
        if len(ranked) < 2:
            return (f"{n_complete} complete trial{'s' * (n_complete != 1)}: ensemble "
                    "selection picks from the better half, this one alone")
        return None

    def _training_scorer(self, X, y, limit: int) -> tuple[Callable[[Any], float], float]:
        """A function scoring a refitted model on its training rows ``X, y`` (a sample of
        ``limit`` of more: :func:`refit_check_rows`; with a time budget :meth:`_check_rows`,
        as a trial predicted a test fold in its time, where a kernel SVM's predict on all
        the rows took as long as its fit: 2.9 s on 5,854 rows of clean2, an 8 s fit took
        10.8 s) with the search's scoring, and a constant prediction's score there (the
        class prior, with its log-odds as decision values; the mean)."""
        rows = refit_check_rows(y, self._task, self.random_state, limit)
        X, y = rows_of(X, rows), rows_of(y, rows)
        prior = DummyClassifier if _blendable(self.scoring) else _PriorDecision
        constant = (prior(strategy="prior") if self._task == "classification"
                    else DummyRegressor()).fit(X, y)

        def score(model) -> float:
            return float(check_scoring(model, self.scoring)(model, X, y))

        return score, score(constant)

    def _failed_refit_message(self, refits: list[dict], kept: list[dict], constant: float,
                              n_rows: int) -> str:
        """What :meth:`_refit`'s check of the refits found, for its warning."""
        failed = [r["trial"].number for r in refits if r["failed"]]
        said = "; ".join(
            f"trial {r['trial'].number} ({_member(self._space, r['trial'].params)[0].name}, "
            f"CV {_score_text(r['cv'])}): {_score_text(r['train'])}" for r in refits)
        if kept[0]["failed"]:
            outcome = (f"no refit was healthy: kept trial {kept[0]['trial'].number}'s, "
                       "the best on its training rows; the model may be far worse than "
                       "its CV score")
        else:
            outcome = ("the model is the refit of trial"
                       f"{'s' * (len(kept) > 1)} "
                       + ", ".join(str(r["trial"].number) for r in kept)
                       + " (best_params_, best_score_ and best_family_ are of the best of "
                       "them)")
        return (
            f"the refit of trial{'s' * (len(failed) > 1)} {', '.join(map(str, failed))} "
            f"on {n_rows:,} rows {_REFIT_FELL} (scoring={self._scoring_name}; a constant prediction scores "
            f"{_score_text(constant)}): the fit diverged or broke off. CV and training "
            f"score of each refit: {said}; {outcome}. Check the model on held-out rows; to "
            "avoid it, search without that family (spaces=)"
            + (f" or on all the rows (search_rows=None; the trials saw "
               f"{self.search_rows_:,})" if self.search_rows_ < n_rows else ""))

    # ------------------------------------------------------------------ results
    def _history(self, space: SearchSpace, sources_only: bool = False) -> pd.DataFrame:
        rows = []
        for t in self.study_.get_trials(deepcopy=False):
            source = t.system_attrs.get(_SOURCE, "")
            if sources_only and not (source.startswith(("portfolio", "best trial"))
                                     or str(t.user_attrs.get(_SAMPLED_BY, "")).startswith(
                                         _DEFAULT_FIRST)):
                continue
            family, params = _member(space, t.params)
            folds = (len(t.user_attrs[_PARTIAL]["scores"]) if _PARTIAL in t.user_attrs
                     else getattr(self, "_n_folds", np.nan) if t.state == COMPLETE else 0)
            rows.append({"trial": t.number, "family": family.name, "state": t.state.name,
                         "score": t.value, "folds": folds, "reason": source or
                         t.user_attrs.get(_SAMPLED_BY, self._sampler_label()),
                         "params": params})
        return pd.DataFrame(rows, columns=["trial", "family", "state", "score", "folds",
                                           "reason", "params"])

    def _sampler_label(self) -> str:
        """Why a trial without a reason of the MetaSampler's has its configuration."""
        if self.sampler is None:
            return "fallback sampler"
        return f"{type(self.sampler).__name__} (sampler=)"

    @property
    def history_(self) -> pd.DataFrame:
        """Every trial: family, state, CV score, why it was chosen, its parameters."""
        check_is_fitted(self)
        # a model pickled by a metaopt without spaces of one's own has no _space: its
        # space is a registered one, found by its name
        return self._history(getattr(self, "_space", None) or get_space(self.space_))

    def _trial_settings(self) -> tuple:
        """The settings that make a stored search's trials what they are, beyond data,
        scoring and splits: ``time_budget`` (the time each trial gets: one stopped under 5 s
        stays taken) and ``recheck`` (its score: one split or the mean of two)."""
        budget = None if self.time_budget is None else float(self.time_budget)
        return budget, bool(self.recheck)

    def _scoring_key(self) -> str:
        """``scoring`` as the study's name knows it: its name, or for a callable the hash
        of its pickle (the same in every process, where ``str`` holds its address), or,
        if it cannot be pickled (a lambda, a local function, an object holding a lock), a
        key of this fit alone: its ``str`` can be another scoring's too
        (``make_scorer(<lambda>)``), whose stored study it then resumed."""
        if self.scoring is None or isinstance(self.scoring, str):
            return self._scoring_name
        try:
            return joblib.hash(self.scoring)
        except Exception:  # PicklingError, TypeError, AttributeError: what pickle raises
            return uuid.uuid4().hex

    def _folds(self, cv, search: _SearchData) -> list:
        """The splits of ``cv``; a ValueError that says which ``cv`` would split when
        every class has fewer rows than a stratified K-fold's folds (scikit-learn's
        "n_splits=5 cannot be greater than the number of members in each class" did not)."""
        try:
            return list(cv.split(search.X, search.y))
        except ValueError as exc:
            if self._task != "classification" or not isinstance(cv, StratifiedKFold):
                raise
            labels, counts = np.unique(search.y, return_counts=True)
            if counts.max() == 1:  # no number of folds splits them: say what y looks like
                raise ValueError(
                    f"cv={self.cv!r}: {str(exc).rstrip('.')} (each of the {len(labels)} "
                    "classes has one row, so no fold can test a class it trained on): "
                    "give more rows per class, or, for a numeric target, use "
                    "MetaOptRegressor") from exc
            if not 2 <= counts.max() < cv.n_splits:
                raise
            raise ValueError(
                f"cv={self.cv!r}: {str(exc).rstrip('.')} (the largest of {len(labels)} "
                f"classes, {labels.tolist()[counts.argmax()]!r}, has {counts.max()} rows): "
                f"pass cv={counts.max()} or fewer folds") from exc

    def _chosen_trial(self) -> optuna.trial.FrozenTrial:
        """The trial of ``best_params_``: the study's best, unless its refit failed its
        check and another's was kept (the best of the trials the model holds); with no
        complete trial, the stopped trial refitted."""
        chosen = int(self.ensemble_.loc[self.ensemble_["score"].idxmax(), "trial"])
        return next(t for t in self.study_.get_trials(deepcopy=False) if t.number == chosen)

    def _model_of(self, number: int) -> str:
        """The model in words, ``number`` being its chosen trial: "trial 1's", or with
        an ensemble "an ensemble of 3 configurations led by trial 1"."""
        if len(self.ensemble_) < 2:
            return f"trial {number}'s"
        return f"an ensemble of {len(self.ensemble_)} configurations led by trial {number}"

    def _refit_note(self) -> str | None:
        """What the refit's check found (fit's warning of it in short), when a refit
        failed it; None when none did, or for a pickle without the checks kept."""
        checks = getattr(self, "_refit_checks", [])
        failed = [c for c in checks if c["failed"]]
        if not failed:
            return None
        space = getattr(self, "_space", None) or get_space(self.space_)
        trials = {t.number: t for t in self.study_.get_trials(deepcopy=False)}
        chosen = self._chosen_trial().number

        def said(check: dict) -> str:
            return (f"trial {check['trial']} ({_member(space, trials[check['trial']].params)[0].name}"
                    f", CV {_score_text(check['cv'])}, training {_score_text(check['train'])})")

        rows = f"on {self.refit_rows_:,} rows"
        if len(failed) == len(checks):
            return (f"no refit passed its check: the refit of {', '.join(map(said, failed))} "
                    f"{rows} {_REFIT_FELL}; the model is {self._model_of(chosen)}, the best "
                    "on its training rows, and may be far worse than its CV score")
        first, others = failed[0], failed[1:]
        if first["trial"] != chosen and first is checks[0]:  # the study's best, refitted first
            text = (f"trial {first['trial']} ({_member(space, trials[first['trial']].params)[0].name})"
                    f" scored higher ({_score_text(first['cv'])}), but its refit {rows} "
                    f"{_REFIT_FELL} ({_score_text(first['train'])}): the model is "
                    f"{self._model_of(chosen)}")
        else:
            text, others = "", failed
        if others:
            text += (("; " if text else "") + f"the refit of {', '.join(map(said, others))} "
                     f"{rows} {_REFIT_FELL}: left out of the model")
        return text

    def _beaten_by_stopped(self) -> tuple[str, int] | None:
        """The words of :func:`_stopped_better_text` for the chosen trial of a search with
        complete trials (:meth:`_chosen_trial`), and that trial's number."""
        trial = self._chosen_trial()
        chosen = trial.number
        text = _stopped_better_text(self.study_, trial, getattr(self, "_space", None)
                                    or get_space(self.space_), self.time_budget)
        return None if text is None else (text, chosen)

    @property
    def _scoring_name(self) -> str:
        """``scoring`` as given (a function by its name: its ``str`` holds its address,
        ``<function my_score at 0x7f...>``), or the estimator's default (its ``score``)."""
        if self.scoring is None:
            return DEFAULT_SCORING[self._task]
        return getattr(self.scoring, "__qualname__", None) or str(self.scoring)

    def summary(self) -> str:
        """One screen of text: the data, the warm start, the search and the winner.

        Returns
        -------
        str
        """
        check_is_fitted(self)
        history = self.history_
        done = history[history["state"] == "COMPLETE"]
        interrupted = _interruptions(self.study_)
        trials = self.study_.get_trials(deepcopy=False)
        errors = {t.number: t.user_attrs[_ERROR] for t in trials if _ERROR in t.user_attrs}
        partials = {t.number: t.user_attrs[_PARTIAL] for t in trials if _PARTIAL in t.user_attrs}
        # no complete trial: the model's trial was chosen on the folds it finished
        chosen = partials.get(self.ensemble_["trial"].iloc[0]) if done.empty else None
        on = "" if chosen is None else (f" on {len(chosen['scores'])} of {chosen['folds']} "
                                        "folds (no trial finished them all)")
        # fit's warning of a stopped trial that did better than the chosen one, kept here
        better = None if done.empty else self._beaten_by_stopped()
        refit_note = self._refit_note()
        best = self._chosen_trial().number
        found = "the warm start" if best in set(self.warm_start_["trial"]) else "the search"
        for t in trials:  # Optuna's retry of a trial whose process died (it said "failed")
            if "failed_trial" in t.system_attrs:
                errors.setdefault(t.system_attrs["failed_trial"], "its process died (killed or "
                                  f"crashed); run again as trial {t.number}")
        lines = [
            *_item(f"{type(self).__name__}: ", f"{len(history)} trial"
                   f"{'s' * (len(history) != 1)} ({len(done)} complete) over "
                   f"{self.space_!r} in {self.fit_time_:.1f} s"),
            *_item("data: ", f"{int(self.meta_features_['n_instances'])} rows x "
                   f"{int(self.meta_features_['n_features'])} features"
                   if self.meta_features_ is not None  # computed when fit had no sampler
                   else f"{self.n_features_in_} features; sampler {type(self.sampler).__name__}"),
            # a model pickled by a metaopt without search_rows_ saw every row: no such line
            *([] if getattr(self, "search_rows_", None) is None
              or self.search_rows_ == self.refit_rows_ == self._n_rows else _item(
                "rows: ", f"the trials cross-validated on a sample of {self.search_rows_:,}; "
                f"the best was refitted on {self.refit_rows_:,}"
                + (f" of {self._n_rows:,} (time budget)" if self.refit_rows_ < self._n_rows
                   else " (all)"))),
            *_item("best: ", f"{self.best_family_}, trial {best} of {found}, with CV score "
                   f"{_score_text(self.best_score_)} (scoring={self._scoring_name}){on}"),
            *([] if better is None else _item("note: ", better[0])),
            *([] if refit_note is None else _item("note: ", refit_note)),
            *([] if len(self.ensemble_) < 2 else _item(
                "predicting: ", f"an ensemble of {len(self.ensemble_)} configurations: "
                + ", ".join(f"{r.family} (trial {r.trial}) {r.weight:.2f}"
                            for r in self.ensemble_.itertuples()))),
            # ensemble rounds, one configuration: why (a model pickled before: unsaid)
            *([] if getattr(self, "_alone", None) is None else _item(
                "predicting: ", f"trial {best} alone, no ensemble (ensemble_size="
                f"{self.ensemble_size!r}): {self._alone}")),
            "", "meta-learned warm start:",
            *_columns([(f"trial {r.trial}:", r.family,
                        _outcome(r.state, r.score, interrupted.get(r.trial),
                                 errors.get(r.trial), partials.get(r.trial)), r.reason)
                       for r in self.warm_start_.itertuples()]),
            *(["  none" + (" (a sampler of your own)" if self.sampler is not None else "")]
              if self.warm_start_.empty else []),
            "", "best score per family:",
            *_family_lines(history, partials),
        ]
        return "\n".join(lines)

    def plot_history(self, ax: Axes | None = None) -> Axes:
        """Best CV score so far vs trial, each trial's score coloured by model family;
        a trial the time budget stopped after some folds is hollow, at their mean. The
        trial the model is the configuration of is starred when it is not the best
        complete one: when no trial completed (the stopped trial chosen, "on k of n
        folds"), and when the best trial's refit failed its check and another's is kept.

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
        history = self.history_
        # trials the time budget stopped after some folds: hollow, at those folds' mean
        partial = {t.number: _partial_score(t) for t in self.study_.get_trials(deepcopy=False)
                   if t.state == TrialState.PRUNED}
        history["score"] = history["score"].fillna(history["trial"].map(partial))
        history["complete"] = history["state"] == "COMPLETE"
        return plot_search(history.dropna(subset=["score"]).reset_index(drop=True), "family",
                           ax=ax, ylabel=f"CV score ({self._scoring_name})",
                           title=f"{type(self).__name__} search",
                           hollow="stopped by the time budget (mean of its finished folds)",
                           n_folds=getattr(self, "_n_folds", None),
                           chosen=self._chosen_trial().number)

    # ------------------------------------------------------------------ predict
    def _fitted_X(self, X):
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def predict(self, X) -> np.ndarray:
        """Predictions of :attr:`best_estimator_`.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._fitted_X(X)
        return self.best_estimator_.predict(X)

    def score(self, X, y, sample_weight=None) -> float:
        """The ``scoring`` the search maximised, on ``(X, y)`` (as ``GridSearchCV``'s
        ``score``); accuracy or R² when ``scoring`` is None.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
        """
        check_is_fitted(self)  # else scikit-learn's "object has no attribute 'classes_'"
        scorer = check_scoring(self, self.scoring if self.scoring is not None
                               else self._scoring_name)
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        return float(scorer(self, X, checkable_array(y), **weights))


class _PriorDecision(DummyClassifier):
    """``DummyClassifier`` with decision values: the log-odds of its probabilities (their
    logarithms for more classes), for a scoring of decision values only."""

    def decision_function(self, X) -> np.ndarray:
        log_proba = np.log(self.predict_proba(X))
        return log_proba[:, 1] - log_proba[:, 0] if log_proba.shape[1] == 2 else log_proba


def _best_has(method: str):
    """``available_if`` check: unfitted, any family may win; fitted, an AttributeError
    that names the best model and how to get the method (scikit-learn raises its own,
    which says only that the estimator has no such attribute, from this one)."""
    def check(self) -> bool:
        if not hasattr(self, "best_estimator_") or hasattr(self.best_estimator_, method):
            return True
        model = self.best_estimator_
        if isinstance(model, FittedEnsemble):
            raise AttributeError(f"this {type(self).__name__} predicts with an ensemble, "
                                 f"which has no {method}: pass ensemble_size=1")
        advice = ("pass a scoring that needs probabilities (such as 'neg_log_loss'), which "
                  "searches only families that have them, or spaces= without this family"
                  if method == "predict_proba" else "pass spaces= without this family")
        raise AttributeError(f"this {type(self).__name__}'s best model "
                             f"({type(model[-1]).__name__}) has no {method}: {advice}")
    return check


#: the estimators' docstring: each fills in what differs between the two tasks
_DOC = """{Task} that tunes itself: meta-learned warm starts, then an adapted ranker.

    ``fit`` computes the data's meta-features, proposes the configurations the
    meta-learner expects to be best for data like it (across model families), then
    samples from its ranker adapted to the scores seen so far (Optuna study with
    :class:`~metaopt.samplers.MetaSampler`), and refits the best on all the data; a
    refit scoring far below its CV score on its own training rows is left out for the
    next-best trial's, with a warning.
{refit}
    Parameters
    ----------
    spaces : "all", str, SearchSpace or list of them, default="all"
        Model families to search (names of :func:`metaopt.spaces.list_spaces`, alone,
        joined by ``+`` as in ``"svm+knn"``, or in a list), or
        :class:`~metaopt.spaces.SearchSpace` objects of your own, with ``meta_model`` a
        model trained on them (or ``sampler``); their ``build_model`` must pickle.
    n_trials : int or None, default=30
        Configurations to evaluate (None: until ``time_budget``).
    time_budget : float or None, default=None
        Seconds for the whole fit, refit included; a trial still running at the end is
        stopped (its worker process is killed). With no trial complete, the stopped
        trial with the most finished folds is refitted, with a warning; with no fold
        finished, ``fit`` raises ``ValueError``.
    cv : int, CV splitter or iterable, default=5
        Cross-validation of each configuration (an int: shuffled {k_fold},
        its shuffle drawn from ``random_state``). A splitter by groups (``GroupKFold``,
        ...) takes them from ``fit``'s ``groups``.
{cv}    scoring : str or callable, optional
        A scikit-learn scorer: a name (``sklearn.metrics.get_scorer_names()``) or a
        callable ``scorer(estimator, X, y)``.
{scoring}    meta_model : MetaModel, str or path, optional
        The meta-model of the warm start and the ranker (a path: the directory of a saved
        one). Default: the shipped meta-model of the searched families (none for a
        space of your own). Not used with ``sampler`` (a warning says so).
    n_jobs : int, optional
        Parallel cross-validation folds (with ``time_budget``: that many killable
        worker processes, each running its share of a trial's folds).
    random_state : int, optional
        Seed in [0, 2**32 - 1] of the search, the CV reshuffle and the models (a
        ``RandomState`` instance is refused). With ``n_trials`` and no ``time_budget``,
        the same seed on the same data gives the same trials and model; with a
        ``time_budget`` the clock decides how many trials run and which are stopped, and
        the later trials, proposed from those, may differ from fit to fit.
    verbose : int >= 0 or bool, default=0
        1 (True): progress bar; 2: also Optuna's log of each trial.
    storage : str or optuna.storages.BaseStorage, optional
        Optuna storage URL (e.g. ``sqlite:///search.db``) to keep the search and resume
        it: a refit on the same data, weights, ``scoring``, ``cv``, ``spaces``,
        ``time_budget`` and ``recheck`` continues the same study (another of them starts
        a study of its own; a ``scoring`` callable is known by its pickle, a function by
        its module and name; one that cannot be pickled, such as a lambda or
        ``make_scorer`` of one, starts a study each fit).
        ``n_trials`` counts the stored complete trials: the same fit again completes
        an interrupted search, or refits a complete one without a trial; a larger
        ``n_trials`` runs the difference.
        Without ``random_state``, a shuffling ``cv`` then draws its shuffle from the
        data: the same folds on resuming. Nothing is lost to an interruption: a trial
        stopped by Ctrl-C or that ``time_budget`` left no time to run, or left running
        by a process that died, is free to run again when the search resumes (a dead
        process of this host is seen at once; of another host, or killed while its
        sampler proposed, after 2 minutes without a heartbeat). A trial that overran the time it got stays taken. A storage
        object, rather than a URL, is used as given.
    ensemble_size : int or "auto", default="auto"
        1: the best configuration alone predicts. More: rounds of greedy ensemble
        selection (Caruana et al., 2004) over the out-of-fold predictions of the better
        half of the trials (at most 30, fewer when their predictions would take over
        1 GB); the model that predicts averages the configurations whose average
        scored best, weighted by how often each was picked. Members are refitted while
        the time budget allows.
{auto}    sampler : optuna.samplers.BaseSampler, optional
        Search with this Optuna sampler instead of :class:`~metaopt.samplers.MetaSampler`
        (e.g. TPE): the same combined space, CV, time budget and refit, without the
        data's meta-features (``meta_features_`` is None); ``warm_start_`` is empty, or a
        :class:`~metaopt.samplers.MetaSampler`'s portfolio picks. Each fit starts from a
        copy of it.
    recheck : bool, default=True
        A configuration whose CV score beats the best so far is cross-validated again on
        a second, reshuffled K-fold split, and the mean of the two is its score: the
        search keeps a new best only if it holds up. With a few hundred rows the best of
        many single-split scores is partly the luckiest split. Only for a shuffled
        K-fold ``cv`` (an int, or {k_folds}
        with ``shuffle=True``); ``False`` scores every configuration once.
    search_rows : int, "auto" or None, default="auto"
        Rows the trials cross-validate on (an int >= 2): a table with more is searched
        on a random sample{sample},
        and the best is refitted on all the rows, or with ``time_budget`` on as many as
        the time left allows (never fewer than the sample; a warning says so).
        ``"auto"``: with ``time_budget``, 500 rows per second of it, at least 10,000;
        without, all rows. None: all rows.

    Attributes
    ----------
    best_estimator_ : Pipeline or FittedEnsemble
        What predicts: the best configuration refitted on the data (``refit_rows_``), or
        the weighted average of it and the other members of ``ensemble_``.
    ensemble_ : pandas.DataFrame
        Its members: trial, family, CV score, weight (one row without an ensemble).
    best_params_ : dict
        Its parameters as the study sampled them (family in ``"space"``).
    best_family_ : str
    best_score_ : float
        Its mean CV score (chosen on a stopped trial's folds: the mean of those).
    study_ : optuna.Study
    space_ : str
        The name of the space searched (``"all"``, ``"svm"``, ``"linear+knn"``, ...).
    meta_features_ : pandas.Series or None
    warm_start_ : pandas.DataFrame
        The trials the meta-learner proposed before any feedback, with its reasons.
    history_ : pandas.DataFrame
        Every trial: family, state, CV score, CV folds finished, why it was chosen,
        its parameters.
    search_rows_, refit_rows_ : int
        Rows the trials cross-validated on, and rows the final fit saw.
    fit_time_ : float
        Seconds the fit took.
{classes}    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when X was a DataFrame whose column names are all strings, as scikit-learn
        sets it; a DataFrame of other names (``[0, 1, 2]``, ``[0, "color"]``) is read by
        position.

    See Also
    --------
    {other} : The same search for {other_task}.
    metaopt.samplers.MetaSampler : The Optuna sampler of the search.
    """


class MetaOptClassifier(ClassifierMixin, _MetaOptSearch):
    __doc__ = _DOC.format(
        Task="Classifier", refit="", k_fold="stratified K-fold",
        cv="""        A ``scoring`` that a test fold lacking a class leaves undefined (``"roc_auc"``
        of a fold without positives) is refused before any trial.
""",
        scoring="""        Default: accuracy. One of class probabilities (``"neg_log_loss"``, ...) leaves
        out the families without ``predict_proba``.
""",
        auto="""        ``"auto"``: 1 (on the estimator benchmark 20 rounds changed mean accuracy by
        -0.0005 / +0.004 / +0.003 at 10 / 30 / 60 s; see ``docs/estimators.md``).
""",
        k_folds="``KFold`` / ``StratifiedKFold``", sample=" (stratified, every class kept)",
        classes="    classes_ : ndarray\n", other="MetaOptRegressor", other_task="regression")

    _task = "classification"
    score = _MetaOptSearch.score  # before ClassifierMixin's accuracy

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of :attr:`best_estimator_` (columns in ``classes_`` order;
        an ensemble counts a member without probabilities as a one-hot vote).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._fitted_X(X)
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X) -> np.ndarray:
        """Decision function of :attr:`best_estimator_`, where the best family has one.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        X = self._fitted_X(X)
        return self.best_estimator_.decision_function(X)


class MetaOptRegressor(RegressorMixin, _MetaOptSearch):
    __doc__ = _DOC.format(
        Task="Regressor",
        refit="    By default an ensemble of the best predicts (``ensemble_size``).\n",
        k_fold="K-fold",
        cv="""        Scored by R², every test fold needs 2 rows or more (``LeaveOneOut`` is
        refused).
""",
        scoring="""        Default: R² (``"r2"``); e.g. ``"neg_mean_absolute_error"``.
""",
        auto="""        ``"auto"``: 20 (averaging raised test R² clearly on the estimator benchmark;
        see ``docs/estimators.md``).
""",
        k_folds="``KFold``", sample="", classes="", other="MetaOptClassifier",
        other_task="classification")

    _task = "regression"
    score = _MetaOptSearch.score  # before RegressorMixin's R²
