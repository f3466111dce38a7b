"""MetaOptClassifier / MetaOptRegressor: scikit-learn conformity, data handling, budgets."""

from __future__ import annotations

import decimal
import os
import pickle
import re
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from metaopt import MetaOptClassifier, MetaOptRegressor
from metaopt.data import LocalSource
from metaopt.nas import MetaMLPClassifier
from metaopt.samplers import MetaSampler
from metaopt.spaces import Param, SearchSpace, make_preprocessor

COMPLETE, FAIL, PRUNED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL,
                          optuna.trial.TrialState.PRUNED)

# A search over CV folds is not equivalent to repeating samples: different folds.
_WEIGHT_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data": "CV folds differ from repeated rows",
    "check_sample_weight_equivalence_on_sparse_data": "CV folds differ from repeated rows",
}


@parametrize_with_checks(
    [MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0),
     MetaOptRegressor(n_trials=2, spaces="linear", cv=2, random_state=0, ensemble_size=1),
     MetaOptClassifier(n_trials=4, spaces="linear", cv=2, random_state=0, ensemble_size=5),
     MetaOptRegressor(n_trials=4, spaces="linear", cv=2, random_state=0)],  # "auto": 20
    expected_failed_checks=lambda est: _WEIGHT_EQUIVALENCE,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def wine(pmlb_root):
    return LocalSource(pmlb_root).load("wine_recognition", "classification")


@pytest.fixture(scope="module")
def fitted(wine):
    return MetaOptClassifier(n_trials=5, spaces=["linear", "knn", "random_forest"], cv=3,
                             random_state=0).fit(wine.X, wine.y)


def test_fit_attributes_summary_and_plot(fitted, wine, tmp_path):
    assert fitted.best_score_ > 0.9
    assert list(fitted.classes_) == sorted(wine.y.unique())
    assert fitted.n_features_in_ == wine.X.shape[1]
    assert list(fitted.feature_names_in_) == list(wine.X.columns)
    assert len(fitted.study_.trials) == 5
    assert fitted.best_family_ in {"linear", "knn", "random_forest"}
    # the warm start comes from the meta-model, with its reasons
    assert len(fitted.warm_start_) >= 1
    assert fitted.warm_start_["reason"].str.startswith("portfolio").all()
    assert fitted.score(wine.X, wine.y) > 0.9
    text = fitted.summary()
    assert "best:" in text and "warm start" in text and "(scoring=accuracy)" in text
    assert text.startswith("MetaOptClassifier: 5 trials (5 complete)")
    # the best line names its trial (the note of a stopped trial names "the chosen trial
    # N"), and where it came from; before, it gave the family alone
    best = fitted.study_.best_trial.number
    origin = "the warm start" if best in set(fitted.warm_start_["trial"]) else "the search"
    assert f"\nbest: {fitted.best_family_}, trial {best} of {origin}, with CV score " in text
    ax = fitted.plot_history()
    assert ax.get_ylabel() == "CV score (accuracy)"
    ax.figure.canvas.draw()  # trials are whole numbers: no tick at 0.5
    assert all(t.get_text().lstrip("−-").isdigit() for t in ax.get_xticklabels() if t.get_text())
    ax.figure.savefig(tmp_path / "history.png")
    assert (tmp_path / "history.png").stat().st_size > 1000


def test_plot_history_draws_a_far_lower_score_at_the_edge(fitted):
    """One diverging trial (an R² of -8340 among 0.95s, an SVM on ``560_bodyfat``) set the
    y-axis: every other score was a flat line at its top. It is drawn at the bottom
    edge, and the legend gives its score."""
    model = pickle.loads(pickle.dumps(fitted))
    trials = model.study_.get_trials()
    worst = trials[-1].number
    model.study_ = optuna.create_study(direction="maximize")
    model.study_.add_trials([optuna.trial.create_trial(
        params=t.params, distributions=t.distributions, system_attrs=t.system_attrs,
        value=-8340.0 if t.number == worst else t.value) for t in trials])
    scores = [t.value for t in trials if t.number != worst]
    ax = model.plot_history()
    bottom, top = ax.get_ylim()
    assert min(scores) - 0.5 < bottom < min(scores) and top > max(scores)
    edge = [c.get_offsets() for c in ax.collections
            if np.any(c.get_offsets()[:, 1] < min(scores))]
    assert len(edge) == 1 and edge[0].tolist() == [[worst, pytest.approx(bottom, abs=0.1)]]
    assert "1 lower, at the edge (lowest -8340)" in [t.get_text() for t in ax.get_legend().get_texts()]
    legend = fitted.plot_history().get_legend().get_texts()  # none so far below: no such entry
    assert not any("at the edge" in t.get_text() for t in legend)


def test_summary_says_what_became_of_a_warm_start_trial_without_score(fitted):
    model = pickle.loads(pickle.dumps(fitted))
    first = model.warm_start_.iloc[0]
    model.warm_start_ = model.warm_start_.assign(
        state=["PRUNED", "FAIL", *model.warm_start_["state"][2:]], score=np.nan)
    text = model.summary()
    assert re.search(rf"trial {first.trial}: {first.family} +stopped: out of time", text)
    assert "failed" in text and "score nan" not in text


def test_summary_aligns_the_warm_start_within_100_characters(fitted):
    """Outcomes of different lengths pushed each trial's reason to its own column, and
    the lines ran to 150 characters: the reasons start in one column (under the
    outcomes when they do not fit beside them), and no line passes 100."""
    model = pickle.loads(pickle.dumps(fitted))
    trials = list(model.warm_start_["trial"])
    section = model.summary().split("meta-learned warm start:\n")[1].split("\n\n")[0]
    lines = section.splitlines()
    assert max(map(len, lines)) <= 100
    starts = [m.start() for line in lines if (m := re.search(r"portfolio pick \d+:", line))]
    assert len(starts) == len(trials) and len(set(starts)) == 1  # one column of reasons
    model.warm_start_ = model.warm_start_.assign(
        state=["PRUNED", *model.warm_start_["state"][1:]], score=[np.nan, *model.warm_start_["score"][1:]])
    model.study_.get_trials(deepcopy=False)[trials[0]].user_attrs["partial"] = {
        "scores": [0.9, 0.8], "folds": 3, "fit_time": 0.1}
    lines = model.summary().split("meta-learned warm start:\n")[1].split("\n\n")[0].splitlines()
    assert max(map(len, lines)) <= 100
    # the outcomes in one column, the reasons under the families
    outcome = lines[0].index("stopped: out of time after 2 of 3 folds (their mean score 0.8500)")
    assert all(line.index(word) == outcome for line, word in zip(
        [li for li in lines if li.startswith("  trial ")], ["stopped"] + ["score"] * (len(trials) - 1),
        strict=True))
    family = lines[0].index(model.warm_start_["family"].iloc[0])
    assert {m.start() for line in lines
            if (m := re.search(r"portfolio pick \d+:", line))} == {family}


def test_same_seed_same_search(fitted, wine):
    again = clone(fitted).fit(wine.X, wine.y)
    assert again.best_params_ == fitted.best_params_
    np.testing.assert_array_equal(again.predict(wine.X), fitted.predict(wine.X))


def test_a_sampler_of_your_own(wine):
    """``sampler=``: the same budgeted search and refit with another Optuna sampler, no
    meta-learning; the given sampler is copied, so two fits search alike."""
    import optuna

    tpe = optuna.samplers.TPESampler(seed=0, n_startup_trials=2)
    model = MetaOptClassifier(n_trials=4, spaces=["linear", "knn"], cv=3, random_state=0,
                              sampler=tpe)
    model.fit(wine.X, wine.y)
    assert model.meta_features_ is None and model.warm_start_.empty
    assert (model.history_["reason"] == "TPESampler (sampler=)").all()
    assert len(model.study_.trials) == 4 and model.score(wine.X, wine.y) > 0.9
    assert "sampler TPESampler" in model.summary()
    assert "warm start:\n  none (a sampler of your own)\n" in model.summary()
    again = clone(model).fit(wine.X, wine.y)
    assert again.study_.trials[3].params == model.study_.trials[3].params
    assert tpe._rng.rng.random() == optuna.samplers.TPESampler(seed=0)._rng.rng.random()


def test_a_sampler_that_raises_stops_the_search_with_its_error(wine):
    """A ``sampler=`` that raises while suggesting (a GridSampler whose grid names the
    combined space's ``linear__C`` where ``spaces="linear"`` asks for ``C``): its error
    was not recorded, every trial ran, and fit blamed the time budget ("no configuration
    could be evaluated within time_budget=None s")."""
    import optuna

    grid = optuna.samplers.GridSampler({"linear__penalty": ["l2"],
                                        "linear__C": [0.01, 0.1, 1.0, 10.0, 100.0]})
    model = MetaOptClassifier(n_trials=50, spaces="linear", cv=3, sampler=grid)
    with pytest.raises(ValueError, match=r"every configuration failed \(3 trials\); the "
                       r"last error: ValueError: The parameter name, penalty, is not found"):
        model.fit(wine.X, wine.y)


def test_a_sampler_that_is_no_sampler_or_cannot_be_copied_is_named(wine, tmp_path):
    """``sampler="tpe"`` or the class ``TPESampler`` failed mid-fit with Optuna's
    "'str' object has no attribute 'before_trial'" / "before_trial() missing 1 required
    positional argument"; a sampler holding an open file, with "cannot pickle
    '_io.TextIOWrapper' object" from the copy each fit starts from."""
    import optuna

    for sampler, what in [("tpe", "got str 'tpe'"), (optuna.samplers.TPESampler,
                                                      "got the class TPESampler")]:
        with pytest.raises(TypeError, match=f"sampler must be an Optuna sampler instance, "
                                            f"e.g. .*; {what}"):
            MetaOptClassifier(n_trials=1, spaces="linear", cv=2, sampler=sampler).fit(
                wine.X, wine.y)

    class Logged(optuna.samplers.RandomSampler):
        def __init__(self, log):
            super().__init__(seed=0)
            self.log = log

    with open(tmp_path / "log", "w") as log, pytest.raises(
            ValueError, match=r"sampler=Logged cannot be copied \(cannot pickle "
                              r"'_io.TextIOWrapper' object\), and each fit"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2, sampler=Logged(log)).fit(
            wine.X, wine.y)


@pytest.mark.parametrize("make", [
    lambda: optuna.samplers.GPSampler(seed=0),
    lambda: optuna.samplers.CmaEsSampler(seed=0),
    lambda: optuna.samplers.QMCSampler(seed=0),
    lambda: optuna.samplers.NSGAIISampler(seed=0),
    lambda: optuna.samplers.NSGAIIISampler(seed=0),
    lambda: MetaSampler(space="linear", fallback=optuna.samplers.NSGAIISampler(seed=0)),
], ids=["gp", "cmaes", "qmc", "nsga2", "nsga3", "meta-nsga2"])
def test_optuna_samplers_search(make, wine):
    """Optuna's samplers as ``sampler=``: NSGAIISampler and NSGAIIISampler, which hold a
    thread lock (also as a MetaSampler's fallback), were refused ("cannot be copied
    (cannot pickle '_thread.lock' object)"); each fit's copy now gets a lock of its own,
    and two fits with one sampler search alike."""
    with warnings.catch_warnings():  # GPSampler and QMCSampler are experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = make()
    model = MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0,
                              sampler=sampler)
    runs = [[t.params for t in model.fit(wine.X, wine.y).study_.trials] for _ in range(2)]
    assert len(runs[0]) == 2 and runs[0] == runs[1]
    assert type(model.study_.sampler) is type(sampler) and model.study_.sampler is not sampler


def test_a_meta_sampler_of_your_own_serves_the_estimators_task(pmlb_root):
    """``sampler=MetaSampler(space="linear")`` (no task) in a regressor: the sampler took
    its meta-model's task, so the classification model (C picks, accuracies) ran the
    regression search; a classification meta_model in it was not refused either."""
    from metaopt.ranker import load_meta_model

    df = pd.read_csv(pmlb_root / "228_elusage" / "228_elusage.tsv.gz", sep="\t")
    X, y = df.drop(columns="target"), df["target"]
    model = MetaOptRegressor(spaces="linear", n_trials=2, cv=3, random_state=0,
                             sampler=MetaSampler(space="linear", seed=0)).fit(X, y)
    assert set(model.study_.sampler._model.portfolio.task_types_) == {"regression"}
    classifier_model = load_meta_model("linear", "classification")
    for sampler, message in (
            (MetaSampler(space="linear", meta_model=classifier_model),
             "the sampler's meta_model was trained on classification datasets"),
            (MetaSampler(space="linear", task="classification"),
             "MetaSampler of task='classification', this search is regression")):
        with pytest.raises(ValueError, match=message):
            MetaOptRegressor(spaces="linear", n_trials=2, cv=3, sampler=sampler).fit(X, y)


def test_summary_of_a_meta_sampler_of_your_own_lists_its_warm_start(wine):
    """``sampler=MetaSampler(...)``: summary() listed its portfolio picks as the warm
    start, then "none (a sampler of your own)" under them."""
    model = MetaOptClassifier(n_trials=3, spaces=["linear", "knn"], cv=3, random_state=0,
                              sampler=MetaSampler(space="linear+knn", seed=0))
    text = model.fit(wine.X, wine.y).summary()
    assert len(model.warm_start_) == 3
    section = text.split("meta-learned warm start:\n")[1].split("\n\n")[0]
    trials = section.split("\n  trial ")  # a trial's line and its reason's wrapped lines
    assert len(trials) == 3 and all("portfolio pick" in trial for trial in trials)


def test_recheck_confirms_each_new_best_on_a_second_split(fitted, wine):
    """Every trial that beat the best before it was cross-validated twice and scores
    the mean; the others once. A fixed list of splits cannot be reshuffled: no recheck."""
    best = -np.inf
    for trial in fitted.study_.trials:
        first, *second = trial.user_attrs.get("cv_scores", [trial.value])
        if first > best:
            assert len(second) == 1 and trial.value == pytest.approx((first + second[0]) / 2)
        else:
            assert not second
        best = max(best, trial.value)
    folds = list(StratifiedKFold(3).split(wine.X, wine.y))
    once = MetaOptClassifier(n_trials=3, spaces=["linear", "knn"], cv=folds,
                             random_state=0).fit(wine.X, wine.y)
    assert not any("cv_scores" in t.user_attrs for t in once.study_.trials)


def test_recheck_on_rows_in_order_compares_like_with_like(pmlb_root):
    """195_auto_price's rows are grouped by make: an unshuffled 5-fold scores a linear
    model 0.50 where a shuffled one scores 0.79. An int cv now shuffles, as the recheck
    split does, so a new best no longer holds the mean of a hard and an easy split (the
    second trial, better on the first split, lost to that mean unrechecked); a K-fold
    left unshuffled on purpose is not rechecked on shuffled folds."""
    data = LocalSource(pmlb_root).load("195_auto_price", "regression")
    searched = MetaOptRegressor(n_trials=2, spaces="linear", random_state=0,
                                ensemble_size=1).fit(data.X, data.y)
    rechecked = [t.user_attrs["cv_scores"] for t in searched.study_.trials
                 if "cv_scores" in t.user_attrs]
    assert len(rechecked) == 2
    assert all(abs(first - second) < 0.1 for first, second in rechecked)
    ordered = MetaOptRegressor(n_trials=2, spaces="linear", cv=KFold(5), random_state=0,
                               ensemble_size=1).fit(data.X, data.y)
    assert not any("cv_scores" in t.user_attrs for t in ordered.study_.trials)


def test_storage_resumes_the_same_search_only(wine, tmp_path):
    """A refit with a larger n_trials continues the stored study; another scoring starts
    its own (it once resumed it and reported an accuracy as the best log-loss)."""
    url = f"sqlite:///{tmp_path / 'search.db'}"
    first = dict(spaces="linear", cv=3, random_state=0, storage=url)
    MetaOptClassifier(n_trials=2, **first).fit(wine.X, wine.y)
    # n_trials counts the stored trials (as docs/estimators.md and README.md say): the
    # same fit again runs none
    assert len(MetaOptClassifier(n_trials=2, **first).fit(wine.X, wine.y).study_.trials) == 2
    resumed = MetaOptClassifier(n_trials=3, **first).fit(wine.X, wine.y)
    assert len(resumed.study_.trials) == 3
    log_loss = MetaOptClassifier(n_trials=2, scoring="neg_log_loss", **first).fit(wine.X, wine.y)
    assert len(log_loss.study_.trials) == 2
    assert log_loss.best_score_ < 0
    assert log_loss.study_.study_name != resumed.study_.study_name


def test_history_of_a_resumed_search_says_which_sampler_drew_each_trial(wine, tmp_path):
    """A fit resuming a stored study with another sampler labelled every earlier trial
    with its own: random search's trials read "TPESampler (sampler=)", then "fallback
    sampler" in history_ and summary()."""
    import optuna

    first = dict(spaces=["linear", "knn"], cv=3, random_state=0,
                 storage=f"sqlite:///{tmp_path / 'search.db'}")
    MetaOptClassifier(n_trials=2, sampler=optuna.samplers.RandomSampler(seed=0),
                      **first).fit(wine.X, wine.y)
    tpe = MetaOptClassifier(n_trials=3, sampler=optuna.samplers.TPESampler(seed=1), **first)
    reasons = tpe.fit(wine.X, wine.y).history_["reason"]
    assert list(reasons) == ["RandomSampler (sampler=)"] * 2 + ["TPESampler (sampler=)"]
    meta = MetaOptClassifier(n_trials=4, **first).fit(wine.X, wine.y)
    assert list(meta.history_["reason"][:3]) == list(reasons)
    assert meta.history_["reason"][3].startswith("ranker adapted on 3 evaluation")
    assert "warm start:\n  none\n" in meta.summary()


def _resumed(X, y, url, recheck=False):
    """The trials of a stored search of 3 configurations, resumed."""
    return MetaOptClassifier(n_trials=3, spaces="linear", cv=3, random_state=0, storage=url,
                             recheck=recheck).fit(X, y).study_.trials


def _raising_on_call(monkeypatch, n, exception):
    """Make the n-th CV evaluation of the estimators raise ``exception``."""
    import metaopt.estimators._search as search

    real, calls = search.cv_score, []

    def evaluate(*args, **kwargs):
        calls.append(args)
        if len(calls) == n:
            raise exception
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "cv_score", evaluate)


@pytest.mark.parametrize("recheck", [False, True])
def test_a_trial_stopped_by_ctrl_c_runs_again_on_resume(wine, tmp_path, monkeypatch, recheck):
    """Ctrl-C fails the trial and its configuration was taken for good: the resumed
    search skipped it. With recheck, the second call is the first trial's confirmation
    of its new best (once outside the handler: not marked, lost)."""
    url = f"sqlite:///{tmp_path / 'ctrl_c.db'}"
    with monkeypatch.context() as patch:
        _raising_on_call(patch, 2, KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            _resumed(wine.X, wine.y, url, recheck)
    trials = _resumed(wine.X, wine.y, url, recheck)
    stopped = trials[0 if recheck else 1]
    assert stopped.state == FAIL
    assert stopped.system_attrs["metaopt:interrupted"]["reason"] == "KeyboardInterrupt"
    again = trials[stopped.number + 1]
    assert again.state == COMPLETE and again.params == stopped.params


def test_the_time_budget_frees_a_trial_it_never_ran_not_one_too_slow(wine, tmp_path,
                                                                      monkeypatch):
    """A trial the spent budget stopped before it ran runs when the search resumes; one
    that overran the time it got stays taken (given it again, a resumed search spent its
    whole budget on it, fit after fit)."""
    from metaopt._isolated import TrialTimeout

    budgeted = dict(n_trials=3, time_budget=60, spaces="linear", cv=3, random_state=0,
                    storage=f"sqlite:///{tmp_path / 'spent.db'}", recheck=False)
    with monkeypatch.context() as patch:  # the time left is spent after the first trial
        patch.setattr(MetaOptClassifier, "_refit_reserve",
                      lambda self, study: 1e9 if len(study.trials) > 1 else 0.0)
        MetaOptClassifier(**budgeted).fit(wine.X, wine.y)
    trials = MetaOptClassifier(**budgeted).fit(wine.X, wine.y).study_.trials
    assert trials[1].state == PRUNED and trials[1].system_attrs["metaopt:interrupted"]
    assert trials[2].state == COMPLETE and trials[2].params == trials[1].params

    url = f"sqlite:///{tmp_path / 'too_slow.db'}"
    with monkeypatch.context() as patch:
        _raising_on_call(patch, 2, TrialTimeout("evaluation stopped after 1.0 s"))
        _resumed(wine.X, wine.y, url)
    trials = _resumed(wine.X, wine.y, url)
    assert trials[1].state == PRUNED and "metaopt:interrupted" not in trials[1].system_attrs
    assert all(t.params != trials[1].params for t in trials[2:])


def _hang_in_the_second_evaluation(X, y, url: str, running) -> None:
    """A stored search of 3 configurations whose second evaluation sets ``running``, then
    hangs (in a forked process, to be killed)."""
    import metaopt.estimators._search as search

    real, calls = search.cv_score, []

    def hangs_on_the_second(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            running.set()
            time.sleep(600)
        return real(*args, **kwargs)

    search.cv_score = hangs_on_the_second
    MetaOptClassifier(n_trials=3, spaces="linear", cv=3, random_state=0, storage=url,
                      recheck=False).fit(X, y)


@pytest.mark.skipif(sys.platform == "win32", reason="a forked process")
def test_the_trial_of_a_killed_process_runs_again_on_resume(wine, tmp_path):
    """A process killed mid-trial leaves the trial RUNNING, and its configuration was
    taken for good. A search resumed at once on the same host fails it (its process is
    gone) and runs its configuration again, with Optuna's retry. The process is a fork
    of this one: it needs no start of an interpreter and its imports (3-9 s)."""
    import multiprocessing
    import threading

    # an import under way on a thread (an earlier fit's warm-up of torch) would stay
    # locked in the fork, for good
    [t.join() for t in threading.enumerate() if t.name.startswith("metaopt-")]
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    fork = multiprocessing.get_context("fork")
    running = fork.Event()
    process = fork.Process(target=_hang_in_the_second_evaluation,
                           args=(wine.X, wine.y, url, running), daemon=True)
    process.start()
    try:
        assert running.wait(120)
    finally:
        process.kill()
        process.join()
    resumed = MetaOptClassifier(n_trials=3, spaces="linear", cv=3, random_state=0,
                                storage=url, recheck=False).fit(wine.X, wine.y)
    trials = resumed.study_.trials
    assert trials[1].state == FAIL
    assert trials[2].state == COMPLETE and trials[2].params == trials[1].params
    assert trials[2].system_attrs["failed_trial"] == 1  # Optuna's retry of it
    # summary() said only "failed"
    assert re.search(r"trial 1: linear +failed: its process died \(killed or crashed\); run "
                     "again as trial 2", resumed.summary())


def test_a_trial_its_process_left_before_naming_itself_fails_after_the_grace_period(
        tmp_path):
    """kill -9 while the sampler proposed (Optuna had created the trial; the objective
    had not yet named its process, nor had the heartbeat begun) left the trial RUNNING
    for good: no process to look up, and Optuna's heartbeat fails only trials that beat.
    Measured: 1 of 2 kill -9 of a 20 s fit (n_jobs=2) on vehicle. After the grace period
    it fails and runs again, as a dead process's trial; a fresh one is left alone."""
    import datetime

    from metaopt.estimators._study import _GRACE_SECONDS, _fail_dead_trials, _resumable

    study = optuna.create_study(storage=_resumable(f"sqlite:///{tmp_path / 's.db'}"))
    old = datetime.datetime.now() - datetime.timedelta(seconds=_GRACE_SECONDS + 5)
    template = optuna.trial.FrozenTrial(
        number=0, state=optuna.trial.TrialState.RUNNING, value=None, datetime_start=old,
        datetime_complete=None, params={}, distributions={}, user_attrs={},
        system_attrs={}, intermediate_values={}, trial_id=0)
    study._storage.create_new_trial(study._study_id, template_trial=template)
    study._storage.create_new_trial(study._study_id)  # proposing now, in a live process
    _fail_dead_trials(study)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert states == ["FAIL", "RUNNING", "WAITING"]
    assert study.trials[2].system_attrs["failed_trial"] == 0  # Optuna's retry of it


def _children(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                           text=True).stdout.split()
    return [int(child) for child in found]


def _killed_while_scoring(pmlb_root, temporary: Path, fits: dict[str, str]
                          ) -> dict[str, tuple[list[int], list[Path]]]:
    """Run in one process a fit on wine of each of ``fits``' options (the first on the
    main thread, the others on threads of their own: one start of the process and its
    imports for all) whose scoring sleeps, kill -9 it once a worker of each fit scores,
    and return, for each fit, its worker processes still alive 15 s later (killed then)
    and the data files in ``temporary`` at the kill (of any of the fits)."""
    script = textwrap.dedent(f"""
        import os
        import pathlib
        import tempfile
        import threading
        import time
        from metaopt import MetaOptClassifier
        from metaopt.data import LocalSource

        wine = LocalSource({str(pmlb_root)!r}).load("wine_recognition", "classification")

        def slow(name):
            def scoring(estimator, X, y):  # in a worker
                pathlib.Path(tempfile.gettempdir(), f"scoring-{{name}}-{{os.getpid()}}").touch()
                time.sleep(600)
            return scoring

        def search(name, options):
            MetaOptClassifier(**options, spaces="linear", cv=3, scoring=slow(name),
                              random_state=0).fit(wine.X, wine.y)

        fits = {fits!r}
        (first, options), *others = [(name, eval(f"dict({{o}})")) for name, o in fits.items()]
        for name, more in others:
            threading.Thread(target=search, args=(name, more), daemon=True).start()
        search(first, options)
    """)
    process = subprocess.Popen([sys.executable, "-c", script],
                               env={**os.environ, "TMPDIR": str(temporary)})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
                list(temporary.glob(f"scoring-{name}-*")) for name in fits):
            time.sleep(0.2)  # until a worker of each fit runs its trial's first fold
        workers = [pid for pid in _children(process.pid)
                   if "LokyProcess" in Path(f"/proc/{pid}/cmdline").read_text()]
        scoring = {name: [int(path.name.rsplit("-", 1)[1])
                          for path in temporary.glob(f"scoring-{name}-*")] for name in fits}
        files = list(temporary.glob("metaopt-*.pkl"))
        assert all(scoring.values()) and set().union(*scoring.values()) <= set(workers)
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 15
    alive = workers
    while time.monotonic() < deadline and alive:
        time.sleep(0.2)
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    for pid in alive:  # not left sleeping when the test fails
        os.kill(pid, 9)
    # a worker that had not yet scored is of no fit in particular: it counts for each
    unknown = [pid for pid in alive if not any(pid in pids for pids in scoring.values())]
    return {name: ([pid for pid in alive if pid in pids] + unknown, files)
            for name, pids in scoring.items()}


@pytest.fixture(scope="module")
def killed_fits(pmlb_root, tmp_path_factory) -> dict[str, tuple[list[int], list[Path]]]:
    """:func:`_killed_while_scoring` of a time-budgeted fit and a fit with ``n_jobs=2``
    and no time budget, killed together, with ``temporary`` left for the tests to read."""
    temporary = tmp_path_factory.mktemp("tmp")
    killed = _killed_while_scoring(pmlb_root, temporary, {
        "budget": "n_trials=None, time_budget=900", "joblib": "n_trials=5, n_jobs=2"})
    return {**killed, "left": list(temporary.glob("metaopt-*.pkl"))}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ps --ppid, /proc")
def test_the_workers_of_a_killed_fit_exit_and_remove_its_data(killed_fits):
    """kill -9 of a time-budgeted fit left its worker processes running their fits,
    then idle for 5 minutes, and the file of the data shared with them in the temporary
    directory for good."""
    alive, files = killed_fits["budget"]
    assert files and not alive
    assert not killed_fits["left"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ps --ppid, /proc")
def test_the_joblib_workers_of_a_killed_fit_exit(killed_fits):
    """kill -9 of a fit with n_jobs=2 and no time_budget left joblib's worker processes
    running their folds, then idle for joblib's 5 minutes (5.5 min measured)."""
    assert not killed_fits["joblib"][0]


def test_a_search_removes_the_data_files_of_fits_killed_with_their_workers(tmp_path,
                                                                          monkeypatch):
    """loky kills a worker's whole process tree (cross_val_score(n_jobs=2) of a
    time-budgeted fit, whose other fit raised): no process was left to remove the fit's
    data file, and it stayed in the temporary directory for good. The next search
    removes those of this host's processes that are gone (not another host's, in a
    temporary directory shared with it)."""
    import tempfile

    from metaopt._isolated import KillableWorker

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    here = socket.gethostname()
    (tmp_path / f"metaopt-{dead}@{here}-0123.pkl").write_bytes(b"X")
    (tmp_path / f"metaopt-{os.getpid()}@{here}-4567.pkl").write_bytes(b"X")  # a live one's
    # another host's, in a temporary directory shared with it: its process ids are not ours
    (tmp_path / f"metaopt-{dead}@other-{here}-89ab.pkl").write_bytes(b"X")
    worker = KillableWorker(1)  # no worker started: share writes the file only
    worker.share(np.arange(3.0))
    try:
        names = {path.name for path in tmp_path.glob("metaopt-*.pkl")}
        assert f"metaopt-{dead}@{here}-0123.pkl" not in names
        assert {f"metaopt-{os.getpid()}@{here}-4567.pkl",
                f"metaopt-{dead}@other-{here}-89ab.pkl"} < names and len(names) == 3
    finally:
        worker._unshare()


def test_only_a_storage_url_of_a_database_gets_heartbeats():
    """An in-memory SQLite URL got heartbeats too: the heartbeat thread opened a database
    of its own, without tables, and printed a traceback at every trial."""
    from metaopt.estimators._study import _resumable

    assert _resumable("sqlite:///:memory:") == "sqlite:///:memory:"
    assert _resumable("sqlite://") == "sqlite://"
    storage = optuna.storages.InMemoryStorage()
    assert _resumable(storage) is storage  # the caller's own settings
    assert _resumable(None) is None


def test_storage_resumes_a_search_with_a_shuffling_cv_and_no_random_state(wine, tmp_path):
    """Without random_state, a shuffling cv got a new random shuffle at every fit (every
    trial of one fit has the same folds), so the stored study's name, which holds the
    folds, changed too: a refit never resumed the search, it started another one. A
    stored search now draws the shuffle from the data."""
    url = f"sqlite:///{tmp_path / 'search.db'}"
    first = dict(spaces="linear", cv=StratifiedKFold(3, shuffle=True), storage=url)
    stored = MetaOptClassifier(n_trials=2, **first).fit(wine.X, wine.y)
    resumed = MetaOptClassifier(n_trials=3, **first).fit(wine.X, wine.y)
    assert resumed.study_.study_name == stored.study_.study_name
    assert len(resumed.study_.trials) == 3


class BalancedAccuracy:
    """A scorer object: each instance has an address of its own, as a scoring function
    has in each process."""

    def __call__(self, estimator, X, y):
        from sklearn.metrics import balanced_accuracy_score

        return balanced_accuracy_score(y, estimator.predict(X))


def test_storage_resumes_a_search_scored_by_a_callable_of_another_process(wine, tmp_path):
    """The study's name held str(scoring), for a function or object its memory address:
    a fit in another process never resumed the search."""
    url = f"sqlite:///{tmp_path / 'search.db'}"
    first = dict(spaces="linear", cv=3, random_state=0, storage=url, recheck=False)
    stored = MetaOptClassifier(n_trials=2, scoring=BalancedAccuracy(), **first).fit(wine.X, wine.y)
    resumed = MetaOptClassifier(n_trials=3, scoring=BalancedAccuracy(), **first).fit(wine.X, wine.y)
    assert resumed.study_.study_name == stored.study_.study_name
    assert len(resumed.study_.trials) == 3
    lam = MetaOptClassifier(n_trials=1, scoring=lambda e, X, y: 0.0, **first).fit(wine.X, wine.y)
    assert lam.study_.study_name != stored.study_.study_name  # cannot be known again


class LockedAccuracy:
    """A scorer object that cannot be pickled (it holds a lock)."""

    def __init__(self):
        import threading

        self.lock = threading.Lock()

    def __call__(self, estimator, X, y):
        with self.lock:
            return float(np.mean(estimator.predict(X) == y))


def test_storage_keeps_scorings_that_cannot_be_pickled_apart(wine, tmp_path):
    """A scorer that cannot be pickled: one holding a lock failed every fit with pickle's
    TypeError (storage or not), and make_scorer of two different lambdas, whose str is
    the same, shared one stored study: the second fit resumed the first's scores."""
    from sklearn.metrics import make_scorer

    url = f"sqlite:///{tmp_path / 'search.db'}"
    first = dict(spaces="linear", cv=3, random_state=0, storage=url, recheck=False)
    locked = MetaOptClassifier(n_trials=1, scoring=LockedAccuracy(), **first).fit(wine.X, wine.y)
    assert 0 < locked.best_score_ <= 1
    accuracy = MetaOptClassifier(n_trials=2, scoring=make_scorer(lambda t, p: np.mean(t == p)),
                                 **first).fit(wine.X, wine.y)
    errors = MetaOptClassifier(n_trials=2, scoring=make_scorer(lambda t, p: -np.sum(t != p)),
                               **first).fit(wine.X, wine.y)
    assert errors.study_.study_name != accuracy.study_.study_name
    assert len(errors.study_.trials) == 2 and errors.best_score_ <= 0


def test_predict_on_no_rows_says_so(fitted, wine):
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        fitted.predict(wine.X.iloc[:0])  # the imputer's message about features, before


def test_pickle_and_meta_estimators(fitted, wine):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(wine.X), fitted.predict(wine.X))
    small = MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0)
    pipe = make_pipeline(StandardScaler(), small)
    assert cross_val_score(pipe, wine.X, wine.y, cv=2).mean() > 0.8
    grid = GridSearchCV(small, {"cv": [2, 3]}, cv=2).fit(wine.X, wine.y)
    assert grid.best_score_ > 0.8


def test_a_model_pickled_before_search_rows(wine):
    """A model pickled before 2026-12-05 had no search_rows, search_rows_, refit_rows_
    nor the column names its models read: repr and summary() raised AttributeError, and
    predict of a DataFrame with a text column "could not convert string to float"."""
    X = wine.X.assign(hue=pd.cut(wine.X["11"], 3, labels=["pale", "mid", "deep"]).astype(str))
    model = MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0).fit(X, wine.y)
    for name in ("search_rows", "search_rows_", "refit_rows_", "_n_rows", "_fitted_columns"):
        del model.__dict__[name]
    old = pickle.loads(pickle.dumps(model))
    assert old.get_params()["search_rows"] is None  # its fit used every row
    assert old.summary().splitlines()[1:3] == [
        "data: 178 rows x 14 features", f"best: linear, trial {old.study_.best_trial.number} "
        f"of the warm start, with CV score {old.best_score_:.4f} (scoring=accuracy)"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(old.predict(X), model.best_estimator_.predict(X))


def test_a_model_pickled_before_search_rows_fitted_on_int_names(wine):
    """Fitted on a DataFrame of int column names before 2026-12-05, a model recorded them
    as strings in feature_names_in_ (['0', '1', ...]) and compared a frame's names so;
    unpickled, each predict on the same frame warned 'X does not have valid feature
    names, but MetaOptClassifier was fitted with feature names'. Other names are still
    read by position, with that warning."""
    X = wine.X.set_axis(range(wine.X.shape[1]), axis=1)
    model = MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0).fit(X, wine.y)
    expected = model.predict(X)
    model.feature_names_in_ = np.array([str(c) for c in X.columns], dtype=object)
    for name in ("search_rows", "search_rows_", "refit_rows_", "_n_rows", "_fitted_columns"):
        del model.__dict__[name]
    old = pickle.loads(pickle.dumps(model))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(old.predict(X), expected)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        old.predict(X.set_axis(range(1, X.shape[1] + 1), axis=1))


def test_dataframe_with_strings_categories_and_missing_values():
    rng = np.random.default_rng(0)
    n = 240
    colour = rng.choice(["red", "green", "blue"], n)
    size = pd.Categorical(rng.choice(["S", "M", "L"], n))
    x = rng.normal(size=n)
    y = ((colour == "red") ^ (x > 0)).astype(int)
    X = pd.DataFrame({"colour": colour, "size": size, "x": x})
    X.loc[::7, "x"] = np.nan
    X.loc[::11, "colour"] = None
    model = MetaOptClassifier(n_trials=3, spaces=["hist_gradient_boosting", "linear"], cv=3,
                              random_state=0).fit(X, y)
    assert model.score(X, y) > 0.75
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.rename(columns={"x": "z"}))
    # an array of the same rows cannot say which columns are categories (it failed with
    # numpy's "could not convert string to float: 'red'")
    with pytest.raises(ValueError, match=r"fitted on a DataFrame \(columns \['colour'"):
        model.predict(X.to_numpy())


def test_fit_on_an_array_of_text_says_to_pass_a_dataframe():
    """fit on an array holding text raised scikit-learn's "dtype='numeric' is not
    compatible with arrays of bytes/strings" (a numpy str array) or numpy's "could not
    convert string to float: 'red'" (objects), naming neither the estimator nor that a
    DataFrame's text columns are read as categories; the same rows as a DataFrame fit."""
    rng = np.random.default_rng(0)
    colour, x = rng.choice(["red", "blue"], 120), rng.normal(size=120)
    y = ((colour == "red") ^ (x > 0)).astype(int)
    for array in (np.column_stack([colour, x]),
                  np.column_stack([colour.astype(object), x.astype(object)])):
        with pytest.raises(ValueError, match=re.escape(
                "MetaOptClassifier reads text only in a DataFrame's columns (as categories), "
                f"but X is an array holding text ({str(colour[0])!r})")):
            MetaOptClassifier(n_trials=1).fit(array, y)
    X = pd.DataFrame({"colour": colour, "x": x})
    model = MetaOptClassifier(n_trials=2, spaces="hist_gradient_boosting", cv=2, random_state=0)
    assert model.fit(X, y).score(X, y) > 0.75


def test_a_dataframe_given_where_an_array_was_fitted_warns_once(wine):
    """Fitted on an array, predicting on a DataFrame gave scikit-learn's warning and then
    the models' imputer's, which the user never made ("X has feature names, but
    SimpleImputer was fitted without feature names"); HistGradientBoosting gives one."""
    model = MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0).fit(
        wine.X.to_numpy(), wine.y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predicted = model.predict(wine.X)
    assert [str(w.message) for w in caught] == [
        "X has feature names, but MetaOptClassifier was fitted without feature names"]
    np.testing.assert_array_equal(predicted, model.predict(wine.X.to_numpy()))


def test_pyarrow_backed_datetime_and_timedelta_columns(pmlb_root):
    """Timestamp, date and duration columns read with dtype_backend="pyarrow" crashed
    every fit (ArrowInvalid, or float() of a Timedelta); they are seconds, as numpy-backed
    ones are: the same search, the same predictions."""
    df = pd.read_csv(pmlb_root / "irish" / "irish.tsv.gz", sep="\t")
    y = df.pop("target").to_numpy()
    df["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(df.pop("Prestige_score"), "D")
    df["took"] = pd.to_timedelta(df.pop("DVRT"), unit="s")
    df.loc[::9, ["when", "took"]] = None
    # of a copy: pandas < 3.1.1's conversion wrote 1970 into the NaT of the frame it converted
    arrow = df.copy().convert_dtypes(dtype_backend="pyarrow").assign(
        day=pd.Series(df["when"].dt.date, dtype=pd.ArrowDtype(pa.date32())))
    numpy = df.assign(day=df["when"].dt.normalize())
    assert isinstance(arrow["took"].dtype, pd.ArrowDtype)
    for spaces in ["linear", "hist_gradient_boosting"]:
        params = dict(n_trials=2, spaces=spaces, cv=2, random_state=0)
        on_arrow = MetaOptClassifier(**params).fit(arrow[:300], y[:300])
        on_numpy = MetaOptClassifier(**params).fit(numpy[:300], y[:300])
        np.testing.assert_allclose(on_arrow.predict_proba(arrow[300:]),
                                   on_numpy.predict_proba(numpy[300:]))
        assert on_arrow.score(arrow[300:], y[300:]) > 0.6


@pytest.mark.parametrize("estimator", [
    MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0),
    MetaOptClassifier(n_trials=2, spaces="hist_gradient_boosting", cv=2, random_state=0),
    MetaMLPClassifier(n_trials=1, cv=2, max_epochs=3, n_prior_trials=1, random_state=0)])
def test_int_column_names_that_are_not_positions(pmlb_root, estimator):
    """A DataFrame with int column names failed every trial: scikit-learn took the names
    for positions (a string column reached the median imputer) and a column mixing
    numbers and strings crashed ("keywords must be strings"): the same search and
    predictions as with string names. As scikit-learn's estimators, they set no
    feature_names_in_ for int names, nor for names mixing ints and strings (which
    scikit-learn refuses: these are read by position, as metaopt's pipelines read
    them): it held the names as strings, and an array or a frame of other int names
    was then warned about or refused."""
    data = LocalSource(pmlb_root).load("colic")
    X = data.X.iloc[:, :6].copy()
    X["site"] = ["north" if i % 3 == 0 else 5 for i in range(len(X))]
    named = X.set_axis([str(i) for i in range(6, -1, -1)], axis=1)
    by_name = clone(estimator).fit(named, data.y)
    expected = by_name.predict_proba(named)
    for names in [list(range(6, -1, -1)), [6, 5, *named.columns[2:]]]:
        given = X.set_axis(names, axis=1)
        model = clone(estimator).fit(given, data.y)
        assert not hasattr(model, "feature_names_in_") and model.n_features_in_ == 7
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for later in (given, X.set_axis(range(7), axis=1)):  # read by position
                np.testing.assert_allclose(model.predict_proba(later), expected)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_allclose(by_name.predict_proba(X.set_axis(range(7), axis=1)),
                                   expected)


def test_pd_na_in_object_columns_is_a_missing_value(pmlb_root):
    """Object columns of strings or bools whose missing values are ``pd.NA`` (e.g. from
    ``astype(object)`` of nullable columns) failed every trial of every family (the
    encoders refuse pd.NA); pd.NA is a missing value like None."""
    data = LocalSource(pmlb_root).load("colic")
    X = data.X.iloc[:, :6].copy()
    X["site"] = pd.Series(np.where(np.arange(len(X)) % 3 == 0, "north", "south"), dtype=object)
    X["flag"] = pd.Series(np.arange(len(X)) % 4 == 0, dtype=object)
    with_none = X.copy()
    with_none.loc[::5, ["site", "flag"]] = None
    with_na = with_none.astype({"site": "string", "flag": "boolean"}).astype(
        {"site": object, "flag": object})
    assert with_na["site"][0] is pd.NA and with_na["flag"][0] is pd.NA
    for spaces in ["linear", "random_forest", "hist_gradient_boosting"]:
        params = dict(n_trials=1, spaces=spaces, cv=2, random_state=0)
        on_na = MetaOptClassifier(**params).fit(with_na, data.y)
        on_none = MetaOptClassifier(**params).fit(with_none, data.y)
        np.testing.assert_allclose(on_na.predict_proba(with_na), on_none.predict_proba(with_none))


def test_sparse_input_and_sample_weight(wine):
    X = sp.csr_matrix(wine.X.to_numpy())
    weights = np.where(wine.y.to_numpy() == wine.y.iloc[0], 2.0, 1.0)
    with pytest.warns(UserWarning, match="do not accept weights"):
        model = MetaOptClassifier(n_trials=2, spaces=["linear", "knn"], cv=2,
                                  random_state=0).fit(X, wine.y, sample_weight=weights)
    assert model.best_family_ == "linear"
    assert model.score(X, wine.y) > 0.8


@pytest.mark.parametrize("make", [MetaOptClassifier, MetaMLPClassifier])
def test_sparse_input_too_large_to_densify_is_refused(make):
    huge = sp.csr_matrix((5_000_000, 11))  # no stored value: free to build
    with pytest.raises(ValueError, match=r"too large to densify \(limit 50,000,000 cells\)"):
        make(n_trials=1).fit(huge, np.arange(5_000_000) % 2)


def test_fit_warnings_point_at_the_caller(wine):
    """fit's warnings (families left out, failed trials, ignored groups) pointed at
    metaopt/_fitted.py, fit's decorator, instead of the line that called fit."""
    calls = []

    def accuracy_failing_once(estimator, X, y):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a scorer that fails once")
        return float(np.mean(estimator.predict(X) == y))

    with pytest.warns(UserWarning) as record:
        MetaOptClassifier(n_trials=2, spaces=["linear", "knn"], cv=2, random_state=0,
                          scoring=accuracy_failing_once).fit(
            wine.X, wine.y, sample_weight=np.ones(len(wine.y)), groups=np.ones(len(wine.y)))
    messages = " ".join(str(w.message) for w in record)
    assert "do not accept weights" in messages and "1 of 2 trials failed" in messages
    assert "groups are ignored" in messages
    assert {w.filename for w in record} == {__file__}

def test_scikit_learn_meta_estimators_and_inspection(fitted, wine, pmlb_root):
    """What users combine a search with works as with a scikit-learn estimator:
    calibration of a fitted one (FrozenEstimator), soft voting, a log-transformed target,
    permutation importance and the displays (a sweep of these found no failure)."""
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import VotingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import ConfusionMatrixDisplay

    calibrated = CalibratedClassifierCV(FrozenEstimator(fitted)).fit(wine.X, wine.y)
    assert calibrated.score(wine.X, wine.y) > 0.9
    small = dict(n_trials=1, spaces="linear", cv=2, random_state=0)
    voting = VotingClassifier([("search", MetaOptClassifier(**small)),
                               ("lr", make_pipeline(StandardScaler(), LogisticRegression()))],
                              voting="soft").fit(wine.X, wine.y)
    assert voting.score(wine.X, wine.y) > 0.9
    importance = permutation_importance(fitted, wine.X, wine.y, n_repeats=1, random_state=0)
    assert importance.importances_mean.shape == (wine.X.shape[1],)
    matrix = ConfusionMatrixDisplay.from_estimator(fitted, wine.X, wine.y).confusion_matrix
    assert matrix.trace() > 0.9 * len(wine.y)
    cpu = LocalSource(pmlb_root).load("230_machine_cpu", "regression")
    logged = TransformedTargetRegressor(MetaOptRegressor(**small), func=np.log1p,
                                        inverse_func=np.expm1).fit(cpu.X, cpu.y)
    direct = MetaOptRegressor(**small).fit(cpu.X, np.log1p(cpu.y))
    np.testing.assert_allclose(logged.predict(cpu.X), np.expm1(direct.predict(cpu.X)))


def test_sample_weight_with_metadata_routing_on(wine):
    """With scikit-learn's metadata routing on, every trial failed ("cross_validate.fit
    got unexpected argument(s) {'model__sample_weight'}"), and with a time budget the
    refit did: weights reach the same search as with routing off, also when the
    estimator's own weights are routed to it by cross_validate."""
    import sklearn
    from sklearn.model_selection import cross_validate

    weights = np.where(wine.y.to_numpy() == wine.y.iloc[0], 3.0, 1.0)
    params = dict(n_trials=2, spaces="linear", cv=2, random_state=0)
    expected = MetaOptClassifier(**params).fit(wine.X, wine.y, sample_weight=weights)
    with sklearn.config_context(enable_metadata_routing=True):
        for budget in (None, 60):
            model = MetaOptClassifier(**params, time_budget=budget).fit(
                wine.X, wine.y, sample_weight=weights)
            assert model.history_["score"].tolist() == expected.history_["score"].tolist()
            np.testing.assert_allclose(model.predict_proba(wine.X),
                                       expected.predict_proba(wine.X))
        routed = MetaOptClassifier(**params).set_fit_request(sample_weight=True)
        scores = cross_validate(routed.set_score_request(sample_weight=False), wine.X,
                                wine.y, cv=2, params={"sample_weight": weights})
    assert scores["test_score"].min() > 0.8


def test_group_splitter_with_groups(wine):
    """cv=GroupKFold failed every trial ("The 'groups' parameter should not be None"):
    fit had no groups. Now fit(..., groups=) gives each trial the splits by groups: the
    best CV score is scikit-learn's own on those folds; without groups fit says so."""
    from sklearn.model_selection import GroupKFold
    from sklearn.utils import check_random_state

    from metaopt.spaces import get_space

    groups = check_random_state(0).randint(0, 8, len(wine.y))
    model = MetaOptClassifier(n_trials=2, spaces="linear", cv=GroupKFold(3), random_state=0,
                              ensemble_size=2).fit(wine.X, wine.y, groups=groups)
    best = get_space("linear").build(model.best_params_, "classification", random_state=0)
    expected = cross_val_score(best, wine.X, wine.y, cv=GroupKFold(3), groups=groups)
    assert model.best_score_ == pytest.approx(expected.mean())
    with pytest.raises(ValueError, match="splits by groups: pass them"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=GroupKFold(3)).fit(wine.X, wine.y)
    with pytest.warns(UserWarning, match="groups are ignored"):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2).fit(wine.X, wine.y, groups=groups)


def _group_splitters():
    from sklearn import model_selection as ms

    class ByHalves(ms.BaseCrossValidator):
        """A user's splitter by groups that says so through metadata routing alone."""

        __metadata_request__split = {"groups": True}

        def get_n_splits(self, X=None, y=None, groups=None):
            return 2

        def _iter_test_indices(self, X=None, y=None, groups=None):
            groups = np.asarray(groups)
            yield np.flatnonzero(groups < 4)
            yield np.flatnonzero(groups >= 4)

    class MyGroupKFold(ms.GroupKFold):
        pass

    return [ms.GroupKFold(2), ms.StratifiedGroupKFold(2), ms.LeaveOneGroupOut(),
            ms.LeavePGroupsOut(2), ms.GroupShuffleSplit(2, random_state=0),
            MyGroupKFold(2), ByHalves()]


@pytest.mark.parametrize("cv", _group_splitters(), ids=lambda cv: type(cv).__name__)
def test_splitters_by_groups_are_told_by_their_metadata_request(cv):
    """Group splitters were told by scikit-learn's private GroupsConsumerMixin, which a
    splitter declaring groups through metadata routing (ByHalves) does not inherit: its
    groups were ignored and every trial failed. Now the public metadata routing tells."""
    from metaopt._splits import checked_splitter as _splitter

    X, y = np.zeros((16, 1)), np.tile([0, 1], 8)
    groups = np.repeat(np.arange(8), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folds = list(_splitter(cv, X, y, groups, classifier=True, seed=0).split(X, y))
    assert folds and all(not set(groups[train]) & set(groups[test]) for train, test in folds)
    with pytest.raises(ValueError, match="splits by groups: pass them"):
        _splitter(cv, X, y, None, classifier=True, seed=0)


@pytest.mark.parametrize("cv", [KFold(2), StratifiedKFold(2), "shuffle", "list"])
def test_other_splitters_do_not_split_by_groups(cv):
    from sklearn.model_selection import ShuffleSplit

    from metaopt._splits import checked_splitter as _splitter

    X, y = np.zeros((16, 1)), np.tile([0, 1], 8)
    cv = {"shuffle": ShuffleSplit(2, random_state=0),
          "list": [(np.arange(8), np.arange(8, 16))]}.get(cv, cv)
    assert len(list(_splitter(cv, X, y, None, classifier=True, seed=0).split(X, y))) >= 1
    with pytest.warns(UserWarning, match="groups are ignored"):
        _splitter(cv, X, y, np.repeat(np.arange(8), 2), classifier=True, seed=0)


def test_scoring_by_probabilities_leaves_out_svm(wine):
    """A scorer of probabilities (neg_log_loss, roc_auc_ovr) failed every svm trial
    (SVC has no predict_proba), spending the budget on the meta-model's svm picks;
    svm alone failed every trial. svm is left out with a warning, or refused at once."""
    with pytest.warns(UserWarning, match=r"needs predict_proba: searching \['linear'\] only"):
        model = MetaOptClassifier(n_trials=2, spaces=["svm", "linear"], cv=2, random_state=0,
                                  scoring="neg_log_loss").fit(wine.X, wine.y)
    assert model.space_ == "linear"
    assert (model.history_["state"] == "COMPLETE").all()
    with pytest.raises(ValueError, match="none of the families \\['svm'\\] have predict_proba"):
        MetaOptClassifier(n_trials=2, spaces="svm", scoring="roc_auc_ovr").fit(wine.X, wine.y)


def test_a_best_model_without_probabilities_says_how_to_get_them(wine):
    """Fitted with an SVC as its best model, the estimator has no predict_proba (so
    soft voting or stacking fails); the error named only the attribute."""
    model = MetaOptClassifier(n_trials=1, spaces="svm", cv=2, random_state=0).fit(wine.X, wine.y)
    assert not hasattr(model, "predict_proba") and hasattr(model, "decision_function")
    with pytest.raises(AttributeError) as raised:
        model.predict_proba(wine.X)
    # scikit-learn's available_if raises its own message from ours (in the traceback)
    assert re.search(r"best model \(SVC\) has no predict_proba: .*'neg_log_loss'",
                     str(raised.value.__cause__))
    ensemble = MetaOptClassifier(n_trials=4, spaces=["linear", "knn"], cv=2, random_state=0,
                                 ensemble_size=5).fit(wine.X, wine.y)
    assert len(ensemble.ensemble_) == 2
    with pytest.raises(AttributeError) as raised:
        ensemble.decision_function(wine.X)
    assert "ensemble, which has no decision_function: pass ensemble_size=1" in str(
        raised.value.__cause__)


def test_a_shuffling_cv_gives_every_trial_the_same_folds(wine):
    """cv=StratifiedKFold(shuffle=True) or ShuffleSplit without a random_state split
    anew for every trial: configurations were compared on different folds (scikit-learn's
    searches split once for all candidates) and the same random_state gave another
    search on every fit. Its shuffle is now drawn once per fit, from random_state."""
    from sklearn.model_selection import ShuffleSplit

    folds = []

    def accuracy(estimator, X, y):
        if len(X) < len(wine.X):  # a test fold, not the refit's check on all the rows
            folds.append(tuple(X.index))
        return float(np.mean(estimator.predict(X) == y))

    for cv in (StratifiedKFold(3, shuffle=True), ShuffleSplit(3, test_size=0.3)):
        searches = []
        for _ in range(2):
            folds.clear()
            model = MetaOptClassifier(n_trials=3, spaces="linear", cv=cv, random_state=0,
                                      recheck=False, scoring=accuracy).fit(wine.X, wine.y)
            assert len({tuple(folds[i:i + 3]) for i in range(0, len(folds), 3)}) == 1
            searches.append(model.history_["score"].tolist())
        assert searches[0] == searches[1]
        assert cv.random_state is None  # the estimator's parameter is left as given



def test_a_warning_about_the_folds_is_shown_once_not_once_per_trial(wine):
    """A class with fewer rows than folds: scikit-learn's warning about it was printed
    again at every trial (9 times in 8 trials; its own filter changes reset Python's
    once-per-location record), since every trial split the data anew. The folds are now
    made once per fit; recheck's second split of the same classes says nothing more
    (it warned a second time)."""
    y = wine.y.copy()
    y.iloc[:2] = 9
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        MetaOptClassifier(n_trials=8, spaces="linear", cv=3, random_state=0).fit(wine.X, y)
    shown = [w for w in record if "least populated class" in str(w.message)]
    assert len(shown) == 1


def test_folds_on_threads_leave_the_callers_blas_threads(pmlb_root):
    """Each fold limits BLAS to one thread (threadpool_limits, in fitting()) and restores
    it, process-wide: folds on two threads at once (n_jobs=2 under joblib's threading
    backend) restored it out of order, and the fit left the caller's BLAS on one thread."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_info, threadpool_limits

    callers = threadpool_limits(limits=2)  # as set by a caller, not a context
    try:
        data = LocalSource(pmlb_root).load("breast_cancer", "classification")
        with parallel_config(backend="threading"):
            # linear folds: as fast as fitting() restores out of order (the caller's
            # BLAS left on one thread in 4 of 4 fits without callers_threads)
            MetaOptClassifier(n_trials=3, spaces="linear", cv=4, n_jobs=2, random_state=0,
                              ensemble_size=1).fit(data.X, data.y)
        assert {lib["num_threads"] for lib in threadpool_info()} == {2}
    finally:
        callers.restore_original_limits()


def test_searches_on_threads_put_back_the_callers_optuna_verbosity():
    """Each search set Optuna's log level and put back the one it found: two on threads
    at once (cross_val_score(MetaOptClassifier(...), n_jobs=2) under joblib's threading
    backend) restored it out of order, so the second ran with the caller's INFO log
    once the first ended, and left ERROR behind it for good."""
    import threading

    import optuna

    from metaopt.estimators._report import _optuna_log

    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with _optuna_log(0):
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        with _optuna_log(0):
            second_in.set()
            first_out.wait(10)  # the first search has ended, the second still runs
            seen.append(optuna.logging.get_verbosity())

    callers = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        threads[0].start()
        first_in.wait(10)
        threads[1].start()
        for thread in threads:
            thread.join(30)
        assert seen == [optuna.logging.ERROR]  # verbose=0's level
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(callers)


def test_a_search_inside_a_benchmarks_quiet_optuna_leaves_its_level(wine):
    """A search nested in another holder of Optuna's level on the same thread (a fit
    inside the benchmarks' quiet_optuna) left its own level (verbose=0: ERROR) for the
    rest of the outer one, not the outer one's WARNING."""
    import optuna

    from metaopt.benchmark._samplers import quiet_optuna

    callers = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        with quiet_optuna():
            MetaOptClassifier(n_trials=2, spaces="linear", cv=3, random_state=0,
                              sampler=optuna.samplers.RandomSampler(seed=0)
                              ).fit(wine.X, wine.y)
            assert optuna.logging.get_verbosity() == optuna.logging.WARNING
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(callers)


def test_the_refit_of_a_configuration_that_stops_early_is_silent_as_its_trials(pmlb_root):
    """Trials score a configuration that stops before converging silently (its
    iteration limit is searched), but refitting the best one printed scikit-learn's
    ConvergenceWarning after a verbose=0 fit (saga on vehicle)."""
    import optuna

    data = LocalSource(pmlb_root).load("vehicle", "classification")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        # 2 trials: the best of 8 is the first (saga), refitted as here
        model = MetaOptClassifier(n_trials=2, spaces="linear", cv=3, random_state=0,
                                  sampler=optuna.samplers.RandomSampler(seed=0)
                                  ).fit(data.X, data.y)
    assert model.best_params_["penalty"] == "l1"  # saga
    assert [str(w.message) for w in record] == []

def test_pandas_sparse_columns(wine):
    """A DataFrame of sparse columns (DataFrame.sparse.from_spmatrix) failed every trial
    of the scaled families ("Cannot center sparse matrices") and of gradient boosting;
    its columns are densified where the numeric step needs it: as the dense frame."""
    dense = wine.X.astype(float)
    sparse = pd.DataFrame.sparse.from_spmatrix(sp.csr_matrix(dense.to_numpy()),
                                               columns=dense.columns)
    for spaces in ["linear", "hist_gradient_boosting"]:
        params = dict(n_trials=1, spaces=spaces, cv=2, random_state=0)
        on_sparse = MetaOptClassifier(**params).fit(sparse, wine.y)
        on_dense = MetaOptClassifier(**params).fit(dense, wine.y)
        np.testing.assert_allclose(on_sparse.predict_proba(sparse), on_dense.predict_proba(dense))


def test_decimal_columns_are_numbers(pmlb_root):
    """Decimal columns (Decimal objects from a SQL driver, pyarrow decimal128 from
    parquet) were one-hot encoded by the families while validate and the meta-features
    took them for numbers: held-out R² 0.74 as floats, -0.01 as decimals. They are floats
    now: the same model as from the floats (a missing decimal: NaN)."""
    df = pd.read_csv(pmlb_root / "609_fri_c0_1000_5" / "609_fri_c0_1000_5.tsv.gz",
                     sep="\t")[:400]
    y = df.pop("target").to_numpy()
    floats = df.round(2)
    floats.iloc[::13, 0] = np.nan
    objects = floats.map(lambda v: None if np.isnan(v) else decimal.Decimal(f"{v:.2f}"))
    arrow = objects.astype(pd.ArrowDtype(pa.decimal128(12, 2)))
    params = dict(n_trials=1, spaces="linear", cv=2, random_state=0, ensemble_size=1)
    expected = MetaOptRegressor(**params).fit(floats[:300], y[:300]).predict(floats[300:])
    for decimals in (objects, arrow):
        model = MetaOptRegressor(**params).fit(decimals[:300], y[:300])
        np.testing.assert_allclose(model.predict(decimals[300:]), expected)


def test_regressor_on_real_data(pmlb_root):
    data = LocalSource(pmlb_root).load("1027_ESL", "regression")
    model = MetaOptRegressor(n_trials=3, spaces=["linear", "knn"], cv=3,
                             random_state=0).fit(data.X, data.y)
    assert model.best_score_ > 0.7  # R^2 of the best configuration
    assert not hasattr(model, "classes_")
    assert "(scoring=r2)" in model.summary()  # the default scoring, named
    assert model.study_.sampler._worst_value == 0.0  # a diverging R^2 counts as 0


def test_several_targets_are_refused_saying_what_fits_them():
    """A y of 3 targets (linnerud) got scikit-learn's "y should be a 1d array, got an
    array of shape (20, 3) instead": the regressor says it takes one target column and
    names MultiOutputRegressor, which does fit one search per target. One column is a
    1-D y with scikit-learn's warning, as before."""
    from sklearn.datasets import load_linnerud
    from sklearn.exceptions import DataConversionWarning
    from sklearn.multioutput import MultiOutputRegressor

    X, Y = load_linnerud(return_X_y=True)
    params = dict(n_trials=2, spaces="linear", cv=2, random_state=0)
    message = (re.escape("MetaOptRegressor takes one target column, got y of shape (20, 3) "
                         "(3 targets): multi-output regression is not supported")
               + r".*sklearn\.multioutput\.MultiOutputRegressor\(MetaOptRegressor\(")
    for y in (Y, pd.DataFrame(Y, columns=["Weight", "Waist", "Pulse"]), Y.tolist()):
        with pytest.raises(ValueError, match=message):
            MetaOptRegressor(**params).fit(X, y)
    alone = [MetaOptRegressor(**params).fit(X, Y[:, j]).predict(X) for j in range(3)]
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        column = MetaOptRegressor(**params).fit(X, Y[:, :1])
    np.testing.assert_allclose(column.predict(X), alone[0])
    # not tagged multi-output, so scikit-learn's checks do not give it several targets
    tags = MetaOptRegressor().__sklearn_tags__().target_tags
    assert tags.single_output and not tags.multi_output
    # what the message offers: one search per target, predicting all of them
    model = clone(MultiOutputRegressor(MetaOptRegressor(**params))).fit(X, Y)
    assert model.predict(X).shape == (20, 3)
    for j, search in enumerate(model.estimators_):
        assert isinstance(search, MetaOptRegressor) and len(search.study_.trials) == 2
        np.testing.assert_allclose(model.predict(X)[:, j], alone[j])
    # the default families too (ensemble "auto"), and frames: names kept, one fit each
    X, Y = load_linnerud(return_X_y=True, as_frame=True)
    model = MultiOutputRegressor(MetaOptRegressor(n_trials=2, random_state=0)).fit(X, Y)
    assert model.predict(X).shape == (20, 3)
    assert [list(m.feature_names_in_) for m in model.estimators_] == [list(X.columns)] * 3


def test_a_text_target_of_a_regressor_names_the_classifier(pmlb_root):
    """A regressor given class labels (colic's "yes" / "no" outcome) said scikit-learn's
    "dtype='numeric' is not compatible with arrays of bytes/strings", naming neither the
    regressor nor what takes such a target; numbers written as text still fit."""
    from metaopt.nas import MetaMLPRegressor

    data = LocalSource(pmlb_root).load("colic")
    X = data.X
    text = np.where(data.y.to_numpy() == data.y.iloc[0], "yes", "no")
    for cls, classifier in ((MetaOptRegressor, "MetaOptClassifier"),
                            (MetaMLPRegressor, "MetaMLPClassifier")):
        for y in (text, pd.Series(text, dtype="category")):
            with pytest.raises(ValueError, match=re.escape(
                    f"{cls.__name__} needs a numeric target, but y holds text that is no "
                    f"number ('yes', 'no'): for classes, use {classifier}")):
                cls(n_trials=1).fit(X, y)
    numbers_as_text = pd.Series(data.y.astype(float).astype(str).to_numpy(), dtype=object)
    model = MetaOptRegressor(n_trials=1, spaces="linear", cv=2, random_state=0)
    assert model.fit(X, numbers_as_text).predict(X).dtype.kind == "f"


@pytest.mark.parametrize("estimator", [
    MetaOptClassifier(n_trials=2, spaces="linear", cv=2, random_state=0),
    MetaMLPClassifier(n_trials=1, max_epochs=2, random_state=0)])
def test_several_labels_per_row_are_refused_saying_what_fits_them(wine, estimator):
    """A y of two label columns (multi-output classification) got scikit-learn's "y
    should be a 1d array": the classifiers say they take one and name
    MultiOutputClassifier, as the regressors name MultiOutputRegressor."""
    two = pd.DataFrame({"cultivar": wine.y, "is_first": wine.y == wine.y.iloc[0]})
    name = type(estimator).__name__
    with pytest.raises(ValueError, match=re.escape(
            f"{name} takes one target column, got y of shape ({len(two)}, 2) (2 targets): "
            "multilabel and multi-output classification is not supported. Fit one search "
            f"per target with sklearn.multioutput.MultiOutputClassifier({name}(...))")):
        clone(estimator).fit(wine.X, two)


def test_r2_as_a_scorer_object_is_floored_as_the_name_is(pmlb_root):
    """scoring=get_scorer("r2") or make_scorer(r2_score) is the default R²: the sampler
    floors it at 0 as the shipped models learned it (only the name "r2" was)."""
    from sklearn.metrics import get_scorer, make_scorer, mean_squared_error, r2_score

    data = LocalSource(pmlb_root).load("1027_ESL", "regression")
    params = dict(n_trials=1, spaces="linear", cv=2, random_state=0, ensemble_size=1)
    for scoring, floor in ((get_scorer("r2"), 0.0), (make_scorer(r2_score), 0.0),
                           (make_scorer(r2_score, force_finite=False), None),
                           (make_scorer(mean_squared_error, greater_is_better=False), None)):
        model = MetaOptRegressor(scoring=scoring, **params).fit(data.X[:200], data.y[:200])
        assert model.study_.sampler._worst_value == floor, scoring


def test_an_undefined_cv_score_is_named(pmlb_root):
    """R² of a one-row test fold is NaN: with LeaveOneOut every trial scored NaN, Optuna
    failed it without a word, and fit said 'no configuration could be evaluated within
    time_budget=None s; give it more time'. Then every trial failed, saying why, after
    scikit-learn's warning for every fold (90 for 3 trials on 30 rows): now fit says so
    before any trial."""
    from sklearn.model_selection import LeaveOneOut

    data = LocalSource(pmlb_root).load("195_auto_price", "regression")
    model = MetaOptRegressor(n_trials=3, spaces="linear", cv=LeaveOneOut(), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"cv=LeaveOneOut\(\) has a test fold of one row, "
                                             "on which R² is undefined"):
            model.fit(data.X[:30], data.y[:30])
    assert not caught, [str(w.message) for w in caught]
    # a scoring defined on one row searches as usual
    model.set_params(scoring="neg_mean_absolute_error").fit(data.X[:30], data.y[:30])
    assert len(model.study_.trials) == 3


def test_a_budget_no_trial_fits_in_says_how_big_a_trial_is(wine, monkeypatch):
    """On a 494,000-row table a 60 s budget saw no 5-fold trial finish, and fit said only
    'give it more time or fewer/cheaper families': it now says what a trial fits and
    names a single hold-out split and fewer rows to the trials."""
    from metaopt._isolated import KillableWorker, TrialTimeout

    def map_timing_out(self, fn, calls, *, seconds, report=None):
        raise TrialTimeout(f"evaluation stopped after {seconds:.1f} s (time budget)")

    monkeypatch.setattr(KillableWorker, "map", map_timing_out)
    model = MetaOptClassifier(n_trials=2, spaces="linear", time_budget=5, cv=4, random_state=0)
    with pytest.raises(ValueError, match=re.escape(
            "no configuration could be evaluated within time_budget=5 s (a trial fits 4 "
            "fold(s) of about 133 training rows each, one after another); give it more time, "
            "fewer or cheaper families (spaces=), one hold-out split (cv=StratifiedShuffleSplit"
            "(n_splits=1, test_size=0.2)) or fewer rows to the trials (search_rows=, now "
            "178)")):
        model.fit(wine.X, wine.y)
    # with two workers a trial's folds are shared between them, not one after another
    with pytest.raises(ValueError, match=re.escape(
            "(a trial fits 4 fold(s) of about 133 training rows each, shared by 2 worker "
            "processes)")):
        model.set_params(n_jobs=2).fit(wine.X, wine.y)


@pytest.mark.parametrize("estimator", [MetaOptClassifier, MetaOptRegressor])
def test_time_budget_stops_a_slow_trial(estimator):
    """SVM fits far longer than the budget: trials are killed and fit returns in time
    (the regressor also refits the members of its default ensemble within it)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 40))
    y = X[:, :5].sum(axis=1) + rng.normal(size=6000)
    if estimator is MetaOptClassifier:
        y = (y > 0).astype(int)
    budget = 15.0
    model = estimator(n_trials=50, spaces=["linear", "svm"], time_budget=budget, cv=5,
                      random_state=0)
    start = time.perf_counter()
    try:
        model.fit(X, y)
    except ValueError as exc:  # on a very busy machine even a linear fit may not finish
        assert "time_budget=15.0 s" in str(exc)
    else:
        assert len(model.study_.trials) < 50
        assert model.best_score_ > 0.8
    elapsed = time.perf_counter() - start
    assert elapsed <= 1.1 * budget + 1.0, elapsed  # 10 % plus the refit's start-up


@pytest.mark.parametrize(("n_trials", "share"), [(1, 0.75), (2, 0.5)])
def test_first_trial_gets_half_the_budget_only_when_a_second_may_follow(
        wine, monkeypatch, warm_workers, n_trials, share):
    """The first trial was stopped at half the time left "to leave room for a second"
    even with n_trials=1: a 22 s fit whose one trial needed 13 s failed after 12 s
    ("no configuration could be evaluated"), half its budget unused. With n_trials=1 it
    leaves room for the refit only: with 4 folds, a quarter (it then took all the time,
    and the refit after it overran a 3.6 s budget by 1.4 s)."""
    from metaopt._isolated import KillableWorker

    limits = []
    original = KillableWorker.map

    def map_recording(self, fn, calls, *, seconds, report=None):
        limits.append(seconds)
        return original(self, fn, calls, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", map_recording)
    budget = 30.0
    start = time.perf_counter()
    MetaOptClassifier(n_trials=n_trials, spaces="linear", time_budget=budget, cv=4,
                      recheck=False, random_state=0).fit(wine.X, wine.y)
    assert share * (budget - 10) < limits[0] <= share * budget
    assert time.perf_counter() - start < budget


def test_a_trial_after_a_stopped_first_leaves_room_for_the_refit(wine, monkeypatch,
                                                                  warm_workers):
    """With no trial's fit time known (the first was stopped), the refit has no reserve:
    the second trial was given all the time left, and the refit came on top (a 10 s fit
    on 48,842 rows of adult: the first trial killed at 5 s, the second done at 9.5 s, the
    refit of its linear model then took 2.5 s more). It now leaves the refit's share, as
    the one trial of n_trials=1 does: with 4 folds, a quarter."""
    from metaopt._isolated import KillableWorker, TrialTimeout

    limits = []
    original = KillableWorker.map

    def map_first_stopped(self, fn, calls, *, seconds, report=None):
        limits.append(seconds)
        if len(limits) == 1:  # the first trial: as if too slow for its half of the budget
            raise TrialTimeout(f"evaluation stopped after {seconds:.1f} s (time budget)")
        return original(self, fn, calls, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", map_first_stopped)
    budget = 30.0
    start = time.perf_counter()
    model = MetaOptClassifier(n_trials=2, spaces="linear", time_budget=budget, cv=4,
                              recheck=False, random_state=0).fit(wine.X, wine.y)
    assert [t.state for t in model.study_.trials] == [PRUNED, COMPLETE]
    assert 0.75 * (budget - 10) < limits[1] <= 0.75 * budget
    assert time.perf_counter() - start < budget


def test_a_new_best_with_no_time_left_to_recheck_keeps_its_score(wine, monkeypatch):
    """A trial that completed its CV with a new best score was pruned when no time was
    left for recheck's second split (the refit's reserve grows with the trial's own fit
    time): its score was lost, and with n_trials=1 the fit failed with "no configuration
    could be evaluated" (a 4 s fit on 20,000 rows of adult, after 2.7 s). Here the
    reserve leaves no time once a fit time is known. The first split's score stands."""
    from metaopt.estimators._search import _MetaOptSearch

    def reserve(self, study):
        timed = any("fit_time" in t.user_attrs for t in study.get_trials(deepcopy=False))
        return 1e6 if timed else 0.0  # a refit longer than the budget

    monkeypatch.setattr(_MetaOptSearch, "_refit_reserve", reserve)
    model = MetaOptClassifier(n_trials=1, spaces="linear", time_budget=60, cv=2,
                              random_state=0).fit(wine.X, wine.y)
    trial = model.study_.trials[0]
    assert trial.state.name == "COMPLETE" and "cv_scores" not in trial.user_attrs
    assert model.best_score_ > 0.8


def test_ensemble_candidates_fit_in_a_memory_cap(wine, monkeypatch):
    """Out-of-fold class probabilities of up to 30 trials were kept whatever their size:
    30 x 77 MB for 30,000 rows of 300 classes (24 GB at 200,000 x 500). Beyond
    ``_ENSEMBLE_BYTES`` fewer are kept (here 2 trials' worth): selection picks among them."""
    from metaopt.estimators import _search

    one_trial = len(wine.y) * wine.y.nunique() * 8
    monkeypatch.setattr(_search, "_ENSEMBLE_BYTES", int(2.5 * one_trial), raising=False)
    offered = []
    original = _search.select

    def select_recording(predictions, *args):
        offered.append(len(predictions))
        return original(predictions, *args)

    monkeypatch.setattr(_search, "select", select_recording)
    model = MetaOptClassifier(n_trials=10, spaces=["linear", "knn"], ensemble_size=5, cv=3,
                              recheck=False, random_state=0).fit(wine.X, wine.y)
    assert sum(t.state.name == "COMPLETE" for t in model.study_.trials) >= 6
    assert offered == [2]


def test_a_search_whose_trials_all_fail_alike_stops_with_the_reason(wine):
    """3 rows of each class cannot be split into 4 stratified folds: every trial failed
    with that error until the search stopped after 3 of them (not at the time budget).
    The folds are now made once, before any trial: the fit fails there, naming the cause."""
    rows = np.concatenate([np.flatnonzero(wine.y == c)[:3] for c in np.unique(wine.y)])
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"n_splits=4 cannot be greater than the number of"):
        MetaOptClassifier(n_trials=None, time_budget=60, cv=4, random_state=0).fit(
            wine.X.iloc[rows], wine.y.iloc[rows])
    assert time.perf_counter() - start < 20


def _run_fresh(script: str) -> subprocess.CompletedProcess:
    """``script`` run in a fresh interpreter (what a process has imported is the point),
    which must succeed."""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def torch_warm_up_run() -> tuple[list[str], str]:
    """The printed lines and stderr of one fresh interpreter (what it has imported is the
    point) that fits first as ``test_torch_dynamo_is_not_imported_beside_the_refit``
    needs, then as ``test_mlp_workers_are_kept_and_torch_dynamo_is_imported_after_the_first_trial``
    does: one start of the interpreter and its imports (3-9 s) for both. The first part
    leaves ``torch._dynamo`` unimported (its own line says so), so the second sees its
    import start as in a process of its own."""
    script = (
        "import sys, threading\n"
        "from sklearn.datasets import load_iris\n"
        "from metaopt import MetaOptClassifier\n"
        "from metaopt.estimators._search import _MetaOptSearch\n"
        "X, y = load_iris(return_X_y=True)\n"
        "MetaOptClassifier(n_trials=1, spaces='linear', cv=2, random_state=0).fit(X, y)\n"
        "# the refit's reserve takes all the time once a fit time is known\n"
        "reserve = _MetaOptSearch._refit_reserve\n"
        "_MetaOptSearch._refit_reserve = lambda self, study: 1e6 * any(\n"
        "    'fit_time' in t.user_attrs for t in study.get_trials(deepcopy=False))\n"
        "model = MetaOptClassifier(n_trials=5, spaces='linear', time_budget=60, cv=2,\n"
        "                          random_state=0).fit(X, y)\n"
        "[t.join() for t in threading.enumerate() if t.name.startswith('metaopt-')]\n"
        "print('torch._dynamo' in sys.modules, len(model.history_))\n"
        "_MetaOptSearch._refit_reserve = reserve\n"
        "model = MetaOptClassifier(n_trials=2, spaces=['linear', 'mlp'], time_budget=60,\n"
        "                          cv=2, random_state=0).fit(X, y)\n"
        "[t.join() for t in threading.enumerate() if t.name.startswith('metaopt-')]\n"
        "print('torch._dynamo' in sys.modules, sorted(set(model.history_.family)))\n")
    out = _run_fresh(script)
    return out.stdout.strip().splitlines(), out.stderr


def test_mlp_workers_are_kept_and_torch_dynamo_is_imported_after_the_first_trial(
        torch_warm_up_run):
    """In a fresh interpreter: the workers that import torch for the mlp family are kept
    (loky stopped and restarted them after every mlp trial, with a warning), and the
    first complete trial starts importing torch._dynamo, which the ranker's first
    adaptation needs (about a second, overrunning short budgets)."""
    lines, stderr = torch_warm_up_run
    assert lines[0].startswith("False ")  # not imported before this fit
    assert lines[1] == "True ['linear', 'mlp']"
    assert "worker stopped" not in stderr


def test_torch_dynamo_is_not_imported_beside_the_refit(torch_warm_up_run):
    """The warm-up import of torch._dynamo (a second of the main process) started after
    any complete trial, also the last one, and ran beside the refit: a 0.5 s refit of a
    linear model on adult took 2.8 s, and a 10 s fit 12 s. It starts only when another
    trial may follow: not after the last of n_trials, nor with the budget spent."""
    assert torch_warm_up_run[0][0] == "False 1"


@pytest.mark.parametrize("X, y, match", [
    (np.ones((5, 2)), np.arange(4), "different lengths"),
    (np.ones((0, 2)), np.ones(0), "0 sample"),
    (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), np.array([0, 1, 0]), "infinity"),
    (np.ones((6, 2)), np.zeros(6), "at least 2 classes"),
    (np.ones((6, 2)), np.array([0, 1, np.nan, 0, 1, 0]), "NaN"),
    # a column that cannot be a feature failed every trial with "unhashable type: 'dict'"
    (pd.DataFrame({"x": np.arange(6.0), "tags": [{"k": i} for i in range(6)]}),
     np.array([0, 1] * 3), "column 'tags' holds dict values"),
    (pd.DataFrame({"x": np.arange(6.0), "z": np.arange(6) + 1j}), np.array([0, 1] * 3),
     "column 'z' holds complex numbers"),
])
def test_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2).fit(X, y)


@pytest.mark.skipif(not hasattr(np.dtypes, "StringDType"), reason="numpy < 2")
def test_numpy_string_dtype_arrays(wine):
    """numpy 2's variable-width text (``StringDType``) as labels, as numbers in X, and as
    text where a DataFrame was fitted: scikit-learn's checks failed on it with "dtype
    argument must be a NumPy dtype, but it is a <class 'numpy.dtypes.StringDType'>"."""
    from metaopt.nas import MetaMLPClassifier

    text = np.dtypes.StringDType()
    X = wine.X.to_numpy(dtype=float)
    labels = wine.y.map("c{}".format).to_numpy(dtype=object)
    for model in (MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0),
                  MetaMLPClassifier(n_trials=1, cv=2, max_epochs=2, random_state=0)):
        expected = clone(model).fit(X, labels).predict(X)
        fitted = model.fit(X.astype(str).astype(text), labels.astype(text))
        assert list(fitted.classes_) == sorted(set(labels))
        np.testing.assert_array_equal(fitted.predict(X.astype(str).astype(text)), expected)
        assert fitted.score(X, labels.astype(text)) == fitted.score(X, labels)
        missing = labels.astype(np.dtypes.StringDType(na_object=None))
        missing[3] = None
        with pytest.raises(ValueError, match=r"y contains 1 missing value"):
            clone(model).fit(X, missing)
        # a missing number as pd.NA (numpy's na_object for pandas) failed in scikit-learn's
        # check with "float() argument must be a string or a real number, not 'NAType'"
        numbers = X.astype(str).astype(np.dtypes.StringDType(na_object=pd.NA))
        numbers[3, 2] = pd.NA
        with_nan = X.copy()
        with_nan[3, 2] = np.nan
        expected_nan = clone(model).fit(with_nan, labels).predict(X)
        np.testing.assert_array_equal(clone(model).fit(numbers, labels).predict(X),
                                      expected_nan)
        # the same in an array of objects, which scikit-learn's check also read as no number
        as_objects = X.astype(object)
        as_objects[3, 2] = pd.NA
        np.testing.assert_array_equal(clone(model).fit(as_objects, labels).predict(X),
                                      expected_nan)
        assert as_objects[3, 2] is pd.NA  # the caller's array is left as it was
        with_text = wine.X.assign(size=np.where(X[:, 0] > np.median(X[:, 0]), "big", "small"))
        frame = clone(model).fit(with_text, labels)
        with pytest.raises(ValueError, match="X is an array of text or objects"):
            frame.predict(with_text.to_numpy().astype(str).astype(text))


# class labels with one missing, in the dtypes pandas and pyarrow give them
MISSING_LABEL = {
    "string": lambda y: y.map("c{}".format).astype("string").mask(y.index == 3),
    "pyarrow string": lambda y: y.map("c{}".format).astype("string[pyarrow]").mask(
        y.index == 3),
    "object None": lambda y: y.map("c{}".format).astype(object).mask(y.index == 3, None),
    "categorical": lambda y: pd.Series(pd.Categorical(y.map("c{}".format).mask(y.index == 3))),
    "boolean": lambda y: (y == y.iloc[0]).astype("boolean").mask(y.index == 3),
}


@pytest.mark.parametrize("labels", MISSING_LABEL)
def test_a_missing_class_label_is_named(wine, labels):
    """A missing label beside strings failed with scikit-learn's TypeError ("boolean value
    of NA is ambiguous", "'<' not supported between instances of 'NoneType' and 'str'";
    "Unknown label type: unknown" for booleans), which named neither y nor the cause."""
    from metaopt.nas import MetaMLPClassifier

    y = MISSING_LABEL[labels](wine.y)
    for model in (MetaOptClassifier(n_trials=1, spaces="linear", cv=2),
                  MetaMLPClassifier(n_trials=1, max_epochs=1)):
        with pytest.raises(ValueError, match=r"y contains 1 missing value\(s\) \(NaN, None or "
                                             r"pd\.NA\); drop those rows"):
            model.fit(wine.X, y)


# class labels that mix strings and numbers, in the forms numpy and pandas give them
MIXED_LABELS = {
    # numpy's "'<' not supported between instances of 'int' and 'str'"
    "object array, string first": lambda y: y.where(y != 1, "one").to_numpy(dtype=object),
    # scikit-learn's "Unknown label type: unknown"
    "object array, number first": lambda y: y.where(y != 3, "three").to_numpy(dtype=object),
    "object Series": lambda y: y.astype(object).where(y != 2, "two"),
    "categorical": lambda y: pd.Series(pd.Categorical(y.astype(object).where(y != 2, "two"))),
}


@pytest.mark.parametrize("labels", MIXED_LABELS)
@pytest.mark.parametrize("model", [MetaOptClassifier(n_trials=1, spaces="linear", cv=2),
                                   MetaMLPClassifier(n_trials=1, max_epochs=1)],
                         ids=lambda model: type(model).__name__)
def test_class_labels_mixing_strings_and_numbers_are_named(wine, labels, model):
    """Labels mixing strings and numbers failed deep in the fit with numpy's TypeError
    ("'<' not supported between instances of 'int' and 'str'") or scikit-learn's "Unknown
    label type: unknown", which said neither what was wrong nor how to fix it."""
    y = MIXED_LABELS[labels](wine.y)
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\) in "
                                         r"y: .* give every label one type, e\.g\. "
                                         r"y\.astype\(str\)"):
        clone(model).fit(wine.X, y)
    # the fix the message gives works
    fitted = clone(model).fit(wine.X, pd.Series(y).astype(str))
    assert sorted(fitted.classes_) == sorted(pd.Series(y).astype(str).unique())


@pytest.mark.parametrize("params, match", [
    ({"n_trials": 0}, "n_trials"),
    ({"n_trials": None, "time_budget": None}, "neither"),
    ({"time_budget": -1}, "time_budget"),
    ({"n_trials": True}, "n_trials"),  # was taken for 1
    # a string was a TypeError
    ({"time_budget": "10"}, "time_budget must be a finite number of seconds > 0"),
    # search_rows="auto" failed with "cannot convert float infinity to integer"
    ({"time_budget": float("inf")}, "time_budget must be a finite number of seconds > 0 or "
                                    "None, got inf"),
    ({"spaces": "no_such_space"}, "unknown search space"),
    # before any trial runs, with the closest name (misspelled spaces had one, scoring not)
    ({"scoring": "acuracy"}, r"'acuracy' is not a valid scoring value\. Use sklearn\.metrics"
                             r"\.get_scorer_names\(\) to get valid options\. Did you mean "
                             r"'accuracy'\?$"),
    ({"scoring": "ROC_AUC"}, r"Did you mean 'roc_auc'\?$"),
    ({"scoring": "zzz"}, r"not a valid scoring value\. Use sklearn\.metrics\.get_scorer_names"
                         r"\(\) to get valid options\.$"),  # none close: as scikit-learn's
    # several metrics failed every trial with "KeyError: 'test_score'"
    ({"scoring": ["accuracy", "f1_macro"]}, "scoring must be one scorer"),
    ({"scoring": {"acc": "accuracy"}}, "scoring must be one scorer"),
    # numpy's "Cannot cast scalar from dtype('O')" / "Seed must be between ...", unnamed
    ({"random_state": np.random.RandomState(0)}, "random_state must be None or an int"),
    ({"random_state": -1}, "random_state must be None or an int"),
    # a TypeError ("list indices must be integers") after the meta-features
    ({"verbose": 0.5}, "verbose must be an int >= 0 or a bool, got 0.5"),
    ({"verbose": None}, "verbose must be an int >= 0 or a bool, got None"),
    ({"verbose": -1}, "verbose must be an int >= 0"),  # was taken for 0
    # ran (2.5), or failed every trial with joblib's "n_jobs == 0 in Parallel"
    ({"n_jobs": 2.5}, r"n_jobs must be a nonzero integer \(-1: every core\), got 2.5"),
    ({"n_jobs": 0}, "n_jobs must be a nonzero integer"),
    ({"recheck": "no"}, "recheck must be True or False, got 'no'"),  # was taken for True
    ({"recheck": None}, "recheck must be True or False, got None"),
    ({"spaces": 3}, "spaces must be 'all', a family name, a SearchSpace of your own or a "
                    "list of them"),  # TypeError
    # "'int' object has no attribute 'create_new_study'", SQLAlchemy's "Could not parse
    # SQLAlchemy URL", "unable to open database file": none named storage
    ({"storage": 3}, "storage must be None, a database URL"),
    ({"storage": "search.db"}, r"storage must be None, a database URL .* got 'search.db'"),
    ({"storage": "sqlite:////no/such/dir/search.db"},
     r"storage='sqlite:////no/such/dir/search.db' could not be opened: .*unable to open"),
])
def test_bad_parameters(wine, params, match):
    with pytest.raises(ValueError, match=match):
        MetaOptClassifier(**{"cv": 2, **params}).fit(wine.X, wine.y)


def _own_knn(params, task, random_state):
    return KNeighborsClassifier(n_neighbors=params["k"])


def test_a_search_space_of_ones_own_without_a_meta_model_says_what_to_do(wine):
    """spaces=[a SearchSpace] was refused with the space's whole repr (over a thousand
    characters) and not a word of what to use instead. It is searched with a meta-model
    of it (tests/estimators/test_own_space.py); without one, the message says how."""
    from optuna.distributions import IntDistribution

    own = SearchSpace(name="my_knn", params=(Param("k", IntDistribution(1, 9), 5),),
                      build_model=_own_knn, tasks=("classification",))
    for spaces, trained in ((own, "my_knn"), ([own, "knn"], r"my_knn\+knn")):
        with pytest.raises(ValueError, match=rf"spaces: 'my_knn' is a space of your own.* "
                                             rf"trained on '{trained}'.*Your own space") as e:
            MetaOptClassifier(spaces=spaces, cv=2).fit(wine.X, wine.y)
        assert len(str(e.value)) < 400


REAL_DATA = ["breast_cancer", "heart_statlog", "australian", "vehicle", "credit_g"]


def _held_out_accuracy(pmlb_root, name: str) -> tuple[float, float]:
    """(MetaOptClassifier with 10 trials, default HistGradientBoosting) on a 30 % test split."""
    data = LocalSource(pmlb_root).load(name, "classification")
    X_tr, X_te, y_tr, y_te = train_test_split(data.X, data.y, test_size=0.3, random_state=0,
                                              stratify=data.y)
    ours = MetaOptClassifier(n_trials=10, cv=3, random_state=0).fit(X_tr, y_tr).score(X_te, y_te)
    default = make_pipeline(make_preprocessor("native"), HistGradientBoostingClassifier(
        random_state=0)).fit(X_tr, y_tr).score(X_te, y_te)
    return ours, default


@pytest.mark.parametrize("n_trials", [pytest.param(10, marks=pytest.mark.slow), 3])
def test_cv_score_beats_default_gradient_boosting_on_most(pmlb_root, n_trials):
    """The issue's criterion: on 5 pmlb datasets, 10 trials reach a better CV score than
    the default HistGradientBoosting on the same folds, on most of them (the held-out
    comparison is the slow test below). CI runs it with the first 3 trials (4 of 5 won on
    2026-12-07, in 40 s against 190 s): the best of 10 is at least the best of their first 3."""
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    default = make_pipeline(make_preprocessor("native"),
                            HistGradientBoostingClassifier(random_state=0))
    results = {}
    for name in REAL_DATA:
        data = LocalSource(pmlb_root).load(name, "classification")
        ours = MetaOptClassifier(n_trials=n_trials, cv=cv, random_state=0).fit(data.X, data.y)
        results[name] = (ours.best_score_, cross_val_score(default, data.X, data.y, cv=cv).mean())
    assert sum(ours > theirs for ours, theirs in results.values()) >= 3, results


@pytest.mark.slow
def test_beats_default_gradient_boosting_on_most(pmlb_root):
    """10 trials beat scikit-learn's default HistGradientBoosting on most of 5 datasets."""
    results = {name: _held_out_accuracy(pmlb_root, name) for name in REAL_DATA}
    wins = sum(ours >= default for ours, default in results.values())
    assert wins >= 3, results


def test_score_is_the_scoring_searched(wine):
    """score() was accuracy whatever scoring the search maximised (0.99 where
    neg_log_loss was -0.09); it is now that scoring, as GridSearchCV's score."""
    from sklearn.metrics import accuracy_score, get_scorer

    X, y = wine.X, wine.y
    fitted = MetaOptClassifier(spaces="linear", n_trials=2, cv=3, random_state=0,
                               scoring="neg_log_loss").fit(X, y)
    assert fitted.score(X, y) < 0
    assert fitted.score(X, y) == pytest.approx(get_scorer("neg_log_loss")(fitted, X, y))
    weights = np.where(np.arange(len(y)) % 2, 1.0, 3.0)
    assert fitted.score(X, y, sample_weight=weights) == pytest.approx(
        get_scorer("neg_log_loss")(fitted, X, y, sample_weight=weights))
    default = MetaOptClassifier(spaces="linear", n_trials=2, cv=3, random_state=0).fit(X, y)
    assert default.score(X, y, sample_weight=weights) == pytest.approx(
        accuracy_score(y, default.predict(X), sample_weight=weights))


def balanced_accuracy(estimator, X, y):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, estimator.predict(X))


def test_summary_and_plot_name_a_scoring_function(wine):
    """A scoring function was shown as its str, which holds its address:
    "(scoring=<function balanced_accuracy at 0x7f1a231a7c40>)"."""
    fitted = MetaOptClassifier(spaces="linear", n_trials=1, cv=3, random_state=0,
                               scoring=balanced_accuracy).fit(wine.X, wine.y)
    assert "(scoring=balanced_accuracy)\n" in fitted.summary()
    assert fitted.plot_history().get_ylabel() == "CV score (balanced_accuracy)"


def test_the_validated_copy_of_x_is_not_kept_through_the_search(pmlb_root, monkeypatch):
    """fit's validated frame (a copy of X, for the meta-features) was kept alive until
    the refit: on a 1,000,000 x 50 X (kddcup rows) the process held 1.28 GB through the
    search instead of 0.90 GB."""
    import gc
    import weakref

    import metaopt.estimators._search as search_module

    frames, alive = [], []
    validate = search_module.validate

    def validate_and_watch(X, y, task=None):
        out = validate(X, y, task)
        frames.append(weakref.ref(out[0]))
        return out

    search = search_module._MetaOptSearch._search

    def search_and_look(self, *args, **kwargs):
        gc.collect()
        alive.append(frames[-1]() is not None)
        return search(self, *args, **kwargs)

    monkeypatch.setattr(search_module, "validate", validate_and_watch)
    monkeypatch.setattr(search_module._MetaOptSearch, "_search", search_and_look)
    data = LocalSource(pmlb_root).load("breast")
    X = data.X.to_numpy(dtype=float)
    model = MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0).fit(X, data.y)
    assert alive == [False]
    assert model.meta_features_["n_instances"] == len(X)


@pytest.mark.parametrize(("n_trials", "budget", "shown"), [(2, 30, "30"), (None, 4.5, "4.5")])
def test_the_progress_bar_counts_seconds_of_the_budget(wine, capsys, warm_workers, n_trials,
                                                       budget, shown):
    """verbose=1 with a time_budget: Optuna's bar showed the seconds of the search of the
    time left when it began, unrounded ("4.21/7.611171412994736 seconds" for 8 s, or
    "00:05/00:05" for 6 s alone); now seconds since fit of the budget, one decimal."""
    MetaOptClassifier(n_trials=n_trials, time_budget=budget, spaces="linear", cv=2,
                      random_state=0, verbose=1).fit(wine.X, wine.y)
    bar = capsys.readouterr().err.replace("\r", "\n")
    times = re.findall(r"(\S+)/(\S+) s\b", bar)
    assert times, bar
    assert all(re.fullmatch(r"\d+\.\d", done) and total == shown for done, total in times), bar
    assert "seconds" not in bar
    if n_trials is not None:
        assert re.search(r"\| 2/2 \[.*, \d+\.\d/30 s\]", bar), bar
    else:
        assert "00:" not in bar and re.search(r"%\|.*\| \d+\.\d/4\.5 s$", bar, re.M), bar


def test_summary_says_a_trial_the_budget_left_no_time_to_start_never_ran(wine, monkeypatch):
    """A trial whose proposal took the time left but the refit's reserve is pruned before
    it runs; summary() said "stopped: out of time", as of a trial killed mid-fit."""
    import metaopt.estimators._search as search_module

    reserve = search_module._MetaOptSearch._refit_reserve

    def no_time_for_the_second(self, study):  # spent once the second trial is proposed
        return 1e9 if len(study.trials) > 1 else reserve(self, study)

    monkeypatch.setattr(search_module._MetaOptSearch, "_refit_reserve", no_time_for_the_second)
    model = MetaOptClassifier(n_trials=3, time_budget=60, spaces="linear", cv=2,
                              recheck=False, random_state=0).fit(wine.X, wine.y)
    assert [t.state for t in model.study_.trials] == [COMPLETE, PRUNED]
    assert list(model.warm_start_["trial"][:2]) == [0, 1]
    text = model.summary()
    assert re.search(r"trial 1: linear +not run: the time budget was spent before it "
                     r"started\n +portfolio", text), text
    assert "stopped: out of time" not in text


def test_fit_validates_the_data_once_for_the_same_meta_features(pmlb_root, monkeypatch):
    """fit validated X, then metafeatures.compute validated the validated frame again
    (a second copy of X: on a 1,000,000 x 50 table 0.1-0.7 s and 120 MB more at the
    peak); the meta-features are those compute gives of X."""
    import metaopt.estimators._search as search_module
    from metaopt import metafeatures

    data = LocalSource(pmlb_root).load("breast")  # a categorical column among numbers
    expected = metafeatures.compute(data.X, data.y, "classification", random_state=0)
    calls = []
    validate = search_module.validate

    def counted(X, y, task=None):
        calls.append(type(X).__name__)
        return validate(X, y, task)

    monkeypatch.setattr(search_module, "validate", counted)
    monkeypatch.setattr(metafeatures, "validate", counted)
    model = MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0)
    model.fit(data.X, data.y)
    assert calls == ["DataFrame"]
    pd.testing.assert_series_equal(model.meta_features_, expected, check_exact=True)


def test_the_bar_counts_seconds_while_a_trial_runs(wine, capsys, monkeypatch):
    """The bar's seconds moved only when a trial ended: on a large table it stood still
    for the whole of a 40 s trial. They now move while it runs."""
    from metaopt.estimators import _search as search_module

    cv_score = search_module.cv_score

    def slow(*args, **kwargs):
        time.sleep(2.5)
        return cv_score(*args, **kwargs)

    monkeypatch.setattr(search_module, "cv_score", slow)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a log's bar: every 30 s
    MetaOptClassifier(n_trials=1, time_budget=30, spaces="linear", cv=2, random_state=0,
                      verbose=1).fit(wine.X, wine.y)
    bar = capsys.readouterr().err.replace("\r", "\n")
    shown = [float(done) for done in re.findall(r"(\d+\.\d)/30 s", bar)]
    assert len(shown) >= 4, bar  # about every 0.5 s of the 2.5 s trial
    assert shown == sorted(shown), bar


def test_summary_says_why_a_trial_failed(fitted):
    model = pickle.loads(pickle.dumps(fitted))
    first = model.warm_start_.iloc[0]
    model.warm_start_ = model.warm_start_.assign(
        state=["FAIL", *model.warm_start_["state"][1:]], score=np.nan)
    # the in-memory study's own record of the trial (its error as a failed trial keeps it)
    model.study_.get_trials(deepcopy=False)[first.trial].user_attrs["error"] = (
        "ValueError: " + "x" * 200)
    lines = model.summary().splitlines()
    at = next(i for i, li in enumerate(lines) if li.startswith(f"  trial {first.trial}:"))
    said = "".join(li.strip() for li in lines[at:at + 2]).replace(" ", "")  # wrapped at 100
    assert f"failed:ValueError:{'x' * 85}..." in said, said


def test_a_trial_whose_worker_process_dies_says_so(wine):
    """A worker killed by the system (out of memory) or crashing: loky's three sentences on
    segmentation faults became "the worker process running its folds died"."""
    model = MetaOptClassifier(n_trials=1, time_budget=60, spaces="linear", cv=2,
                              random_state=0, scoring=lambda est, X, y: os._exit(3))
    with pytest.raises(ValueError, match=re.escape(
            "every configuration failed (1 trials); the last error: TerminatedWorkerError: "
            "the worker process running its folds died (killed by the system, e.g. out of "
            "memory, or crashed)")):
        model.fit(wine.X, wine.y)


@pytest.mark.parametrize("frame", [True, False])
def test_an_id_column_is_warned_about_as_suggest_does(pmlb_root, frame):
    """backache's first column numbers its rows 1..180: the estimators warn, as
    metaopt.suggest does, at the caller's line; a search with a sampler of one's own
    (no meta-features) does not."""
    data = LocalSource(pmlb_root).load("backache")
    X = data.X if frame else data.X.to_numpy(dtype=float)
    with pytest.warns(UserWarning, match="looks like a row identifier") as record:
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0).fit(X, data.y)
    said = [w for w in record if "row identifier" in str(w.message)]
    assert len(said) == 1 and said[0].filename == __file__
    assert str(said[0].message).startswith("MetaOptClassifier: column ")
    assert str(said[0].message).endswith(
        "X.drop(columns=['id']) before fit" if frame
        else "remove ['x0'] (x<i> is column i of X) before fit")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "column .* looks like a row identifier")
        MetaOptClassifier(n_trials=1, spaces="linear", cv=2, random_state=0,
                          sampler=optuna.samplers.RandomSampler(seed=0)).fit(X, data.y)
