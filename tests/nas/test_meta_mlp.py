"""MetaMLPClassifier / MetaMLPRegressor: scikit-learn compliance, prior-first search,
multi-fidelity pruning and clear errors on bad input."""

from __future__ import annotations

import pickle
import re
import time
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from _small_prior import small_prior
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.utils.estimator_checks import parametrize_with_checks

from metaopt.data import LocalSource
from metaopt.nas import MetaMLPClassifier, MetaMLPRegressor, MLPClassifier, MLPRegressor
from metaopt.nas._prior import ArchitecturePrior
from metaopt.nas._search import FoldTrainer, objective, stop_when_spent
from metaopt.spaces import get_space

TINY = dict(n_trials=1, cv=2, max_epochs=6, n_prior_trials=1, pruner="none")
# the same, drawing among small networks, for tests of what any network does
SMALL = dict(TINY, prior=small_prior())
# The search's folds and minibatches of repeated rows differ from those of weighted ones.
WEIGHT_EQUIVALENCE = {
    f"check_sample_weight_equivalence_on_{kind}_data": "CV folds and minibatches differ "
    "from those of repeated rows" for kind in ("dense", "sparse")
}


# their fits draw among small networks: the checks need one that learns, not a good one
@parametrize_with_checks([MetaMLPClassifier(**SMALL), MetaMLPRegressor(**SMALL)],
                         expected_failed_checks=lambda est: WEIGHT_EQUIVALENCE)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_search_starts_from_the_prior_prunes_and_refits(wine):
    X, y = wine
    model = MetaMLPClassifier(n_trials=8, cv=0.3, max_epochs=9, n_prior_trials=3,
                              n_iter_no_change=4, random_state=0).fit(X, y)
    trials = model.study_.trials
    assert [t.user_attrs.get("source") for t in trials[:3]] == ["prior"] * 3
    assert all("source" not in t.user_attrs for t in trials[3:])
    # after the prior's draws, MetaSampler's ranker, adapted to them, proposes
    assert trials[3].system_attrs["metaopt:source"].startswith("ranker adapted on 3 evaluation")
    states = {t.state for t in trials}
    assert states <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    # multi-fidelity: fewer epochs than 8 full trainings
    assert model.n_epochs_searched_ < 8 * 9
    assert model.best_score_ > 0.85
    assert model.score(X, y) > 0.9
    assert isinstance(model.best_estimator_, MLPClassifier)
    assert model.best_estimator_.n_epochs_ == model.best_epoch_
    assert model.best_params_ == model.study_.best_trial.params
    assert list(model.classes_) == sorted(set(y))
    assert model.n_features_in_ == X.shape[1]
    sizes = model.meta_features_[["n_instances", "n_features", "n_classes"]]
    assert sizes.tolist() == [178.0, 13.0, 3.0]
    assert model.meta_features_.notna().sum() > 20  # the full meta-features, not just sizes
    proba = model.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_summary_says_what_the_search_did(wine):
    """MetaOptClassifier has summary(); the MetaMLP estimators had none (AttributeError).
    Its time is the whole fit's (fit_time_), then the trials'; it said "in 8.6 s", the
    trials' alone, of a fit of 28.4 s."""
    X, y = wine
    model = MetaMLPClassifier(n_trials=3, max_epochs=4, n_prior_trials=2, random_state=0,
                              prior=small_prior()).fit(X, y)
    lines = model.summary().splitlines()
    best = model.study_.best_trial
    assert lines[0].startswith("MetaMLPClassifier: 3 trial(s) (")
    # the whole fit's time, as MetaOptClassifier's, then the trials'
    assert lines[0].endswith(f") in {model.fit_time_:.1f} s, the trials "
                             f"{model.search_time_:.1f} s, {model.n_epochs_searched_} "
                             "epoch(s) over the folds")
    assert lines[1] == "data: 178 rows x 13 features, 3 classes"
    assert lines[2].startswith(f"best: trial {best.number} (")
    assert f"CV accuracy {model.best_score_:.4f} at epoch {model.best_epoch_}: " in lines[2]
    refit = model.best_estimator_
    assert lines[3] == (
        f"refit: {model.best_epoch_} epoch(s) on 178 rows, training loss "
        f"{refit.loss_curve_[-1]:.4g} (the folds' {best.user_attrs['train_loss']:.4g} at "
        f"that epoch), accuracy on its training rows {model.score(X, y):.4f}")
    assert [r["kept"] for r in model.refits_] == [True]
    rows = lines[-3:]
    assert [r.split()[0] for r in rows] == ["0", "1", "2"]
    assert [r.split()[-1] for r in rows[:2]] == ["prior", "prior"]
    assert lines[2].endswith(f", batch {model.best_params_['batch_size']}")  # < 178 rows


def test_summary_says_a_batch_beyond_the_rows_trained_on_all_of_them(wine):
    """Every batch_size (16..512) exceeds 15 rows: the MLP trains minibatches of all the
    rows (min(batch_size, rows)). summary() showed the sampled size alone ("batch 42")."""
    X, y = wine
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(X[::12], y[::12])
    batch = model.best_params_["batch_size"]
    assert batch > 15
    assert model.summary().splitlines()[2].endswith(f", batch {batch} (all rows, 15 in the "
                                                    "refit)")


def test_plot_history_draws_every_trial_by_source_and_the_best(wine, tmp_path):
    """MetaOptClassifier has plot_history(); the MetaMLP estimators had none
    (AttributeError). Pruned trials are hollow, at their last score."""
    X, y = wine
    model = MetaMLPClassifier(n_trials=6, max_epochs=4, n_prior_trials=2, random_state=0,
                              prior=small_prior()).fit(X, y)
    trials = model.study_.trials
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned  # (this seed's search prunes)
    ax = model.plot_history()
    assert ax.get_ylabel() == "CV accuracy" and ax.get_title() == "MetaMLPClassifier search"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["prior", "MetaSampler", "pruned (its last score)", "best complete so far"]
    dots = [c for c in ax.collections if len(c.get_offsets())]
    points = np.concatenate([c.get_offsets() for c in dots]).tolist()
    assert sorted(map(tuple, points)) == sorted((t.number, t.value) for t in trials)
    hollow = np.concatenate([c.get_facecolors()[:, 3] == 0 for c in dots])
    assert hollow.sum() == len(pruned)
    assert np.nanmax(ax.get_lines()[0].get_ydata()) == model.study_.best_value
    ax.figure.savefig(tmp_path / "history.png")
    assert (tmp_path / "history.png").stat().st_size > 1000


def test_summary_of_a_model_pickled_before_its_newer_attributes(wine):
    """A model pickled before refits_, search_rows_, refit_rows_, fit_time_ and its
    refit's out_of_time_ were fitted attributes: summary() raised AttributeError. It leaves out
    what the model cannot tell (the refit's training loss and score)."""
    X, y = wine
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(X, y)
    for name in ("refits_", "search_rows_", "refit_rows_", "fit_time_"):
        del model.__dict__[name]
    del model.best_estimator_.__dict__["out_of_time_"]
    lines = pickle.loads(pickle.dumps(model)).summary().splitlines()
    assert lines[0] == (f"MetaMLPClassifier: 1 trial(s) (1 complete), the trials "
                        f"{model.search_time_:.1f} s, {model.n_epochs_searched_} epoch(s) "
                        "over the folds")
    assert lines[1] == "data: 178 rows x 13 features, 3 classes"
    assert lines[2].startswith(f"best: trial 0 (prior), CV accuracy {model.best_score_:.4f}")
    assert lines[3] == f"refit: {model.best_epoch_} epoch(s) on 178 rows"
    assert lines[4:6] == ["", "trials: state, epochs, best mean validation score (pruned: "
                              "the last), source"]


def test_a_model_pickled_before_search_rows_and_its_column_names(pmlb_root):
    """A model pickled before search_rows and the column names its preprocessing reads
    (2026-12-05): repr raised AttributeError, and predict of a DataFrame with a text
    column "could not convert string to float"."""
    data = LocalSource(pmlb_root).load("wine_recognition")
    X = data.X.assign(hue=pd.cut(data.X["11"], 3, labels=["pale", "mid", "deep"]).astype(str))
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(X, data.y)
    for name in ("search_rows", "_fitted_columns"):
        del model.__dict__[name]
    old = pickle.loads(pickle.dumps(model))
    assert old.get_params()["search_rows"] is None  # its fit used every row
    assert repr(old).startswith("MetaMLPClassifier(")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(old.predict(X), model.best_estimator_.predict(
            model.preprocessor_.transform(X)))


class _Configs(ArchitecturePrior):
    """A prior that draws the given configurations, in order."""

    def __init__(self, *configs):
        self.configs, self.n_pool = configs, len(configs)

    def sample(self, meta_features, n, seed=0):
        return [dict(c, max_epochs=1) for c in self.configs[:n]]


#: trains unstably on credit_g: a learning rate of 0.1, no normalisation, 256-row batches
UNSTABLE = dict(n_layers=3, width=256, activation="relu", dropout=0.0, norm="none",
                skip=False, learning_rate=0.1, weight_decay=1e-6, batch_size=256)
SLOW = dict(UNSTABLE, n_layers=1, width=16, learning_rate=1e-4, batch_size=64)


@pytest.fixture(scope="module")
def credit_g(pmlb_root):
    data = LocalSource(pmlb_root).load("credit_g")  # 70 % of its rows are one class
    return data.X, data.y


def test_a_failed_refit_is_refitted_with_another_seed_and_said(credit_g):
    """The unstable configuration scored CV accuracy 0.712, and its refit predicted the
    minority class on every row (0.30 on its own training rows), silently. A refit far
    below its CV score on its own training rows is now retried with another seed (0.74
    here), with a warning; ``refits_`` and ``summary()`` say what happened."""
    X, y = credit_g
    model = MetaMLPClassifier(n_trials=1, n_prior_trials=1, prior=_Configs(UNSTABLE),
                              max_epochs=6, n_iter_no_change=6, pruner="none", random_state=0)
    with pytest.warns(UserWarning, match=r"the refit of the best configuration \(trial 0, "
                      r"CV accuracy 0\.71\d\d\) failed: .* Kept the refit of trial 0 with "
                      r"random_state=\d+; refits_ lists them"):
        model.fit(X, y)
    first, second = model.refits_
    assert not first["healthy"] and first["train_score"] < 0.35 and not first["kept"]
    assert second["healthy"] and second["kept"]
    assert second["random_state"] == first["random_state"] + 1
    assert model.score(X, y) == second["train_score"] > 0.73
    assert "; 2 refits, 1 failed (refits_)" in model.summary().splitlines()[3]


def test_a_failed_refit_falls_back_to_the_next_best_trial(credit_g):
    """The unstable best trial (CV accuracy 0.712) refitted to 0.56 and 0.30 with two
    seeds: the next-best trial's refit (0.67) is kept, and best_params_ and best_score_
    are its."""
    import matplotlib.pyplot as plt

    X, y = credit_g
    model = MetaMLPClassifier(n_trials=2, n_prior_trials=2, prior=_Configs(UNSTABLE, SLOW),
                              max_epochs=6, n_iter_no_change=6, pruner="none",
                              random_state=4)
    with pytest.warns(UserWarning, match=r"\(trial 0, CV accuracy 0\.7120\) failed: .*Kept "
                      r"the refit of trial 1 with random_state=\d+ \(best_params_, "
                      r"best_score_ and best_epoch_ are its\)"):
        model.fit(X, y)
    assert [(r["trial"], r["healthy"]) for r in model.refits_] == [
        (0, False), (0, False), (1, True)]
    trial = model.study_.trials[1]
    assert model.best_params_ == trial.params and model.best_score_ == trial.value
    assert model.summary().splitlines()[2].startswith("best: trial 1 (prior), CV accuracy")
    assert model.score(X, y) > 0.66
    # plot_history stars the trial refitted, not the best (it marked none)
    ax = model.plot_history()
    try:
        star = [line for line in ax.get_lines() if line.get_marker() == "*"]
        assert [line.get_xydata().tolist() for line in star] == [[[1.0, trial.value]]]
        assert star[0].get_label() == "chosen: trial 1, as trial 0's refit failed its check"
    finally:
        plt.close(ax.figure)


def test_without_prior_the_meta_model_warm_starts_and_without_both_it_is_tpe():
    X, y = make_regression(80, 4, noise=0.1, random_state=0)
    model = MetaMLPRegressor(n_trials=2, cv=2, max_epochs=5, prior=None, random_state=0)
    model.fit(X, y)
    sources = [t.system_attrs.get("metaopt:source", "") for t in model.study_.trials]
    assert all(s.startswith("portfolio") for s in sources), sources
    assert np.isfinite(model.predict(X)).all()
    tpe = MetaMLPRegressor(n_trials=2, cv=2, max_epochs=5, prior=None, meta_model=None,
                           random_state=0).fit(X, y)
    assert isinstance(tpe.study_.sampler, optuna.samplers.TPESampler)
    assert all("metaopt:source" not in t.system_attrs for t in tpe.study_.trials)


def test_a_refit_the_time_budget_stops_warns(pmlb_root, monkeypatch):
    """A refit cut by the time budget (here none of it is reserved for the refit) kept
    its weights so far without a word: a model less trained than best_score_ says. It
    now warns, as a refit on fewer rows does. A trial must be scored before the deadline:
    at load ~6, 0.6 s left none scored (0.8 s did), and 2 s once failed under load: 4 s."""
    from metaopt.nas import _search

    monkeypatch.setattr(_search, "refit_seconds", lambda *args, **kwargs: 0.0)
    data = LocalSource(pmlb_root).load("197_cpu_act")
    model = MetaMLPRegressor(n_trials=None, time_budget=4.0, n_prior_trials=1,
                             max_epochs=1000, n_iter_no_change=1000, pruner="none",
                             random_state=0)
    with pytest.warns(UserWarning, match=r"time_budget=4.0 s stopped the refit of the best "
                      r"configuration in (its only epoch|the last of its \d+ epochs|epoch \d+ of "
                      r"its \d+) \(that epoch perhaps trained in part\)") as caught:
        model.fit(data.X[:500], data.y[:500])
    assert model.best_estimator_.out_of_time_
    assert {w.filename for w in caught if "stopped the refit" in str(w.message)} == {__file__}


def test_time_budget_covers_the_whole_fit(pmlb_root):
    """A trial still training when only the refit's time is left stops (its best score
    so far counts) and the fit returns within the budget plus about an epoch (it once
    ran a single 28 s trial against a 4 s budget, then refitted on top)."""
    data = LocalSource(pmlb_root).load("ring")
    budget = 6.0
    start = time.perf_counter()
    model = MetaMLPClassifier(n_trials=None, time_budget=budget, max_epochs=200,
                              n_iter_no_change=200, pruner="none", random_state=0)
    model.fit(data.X, data.y)
    wall = time.perf_counter() - start
    assert wall < 1.1 * budget + 1.0
    # fit_time_, as MetaOptClassifier's (it had none: AttributeError), is the whole fit's
    assert model.search_time_ < model.fit_time_ <= wall
    stopped = [t for t in model.study_.trials if t.user_attrs.get("stopped")]
    assert stopped and stopped[0].state == optuna.trial.TrialState.COMPLETE
    assert model.best_score_ > 0.8


def test_prior_draws_a_budget_leaves_no_time_for_are_not_left_waiting(wine):
    """All 5 draws were enqueued before the search: those the budget left no time for
    stayed in study_ as WAITING trials. Now the next is enqueued when a trial ends.
    (40 draws: a trial may take at most half the time left, so 4 s now runs several.)"""
    model = MetaMLPClassifier(n_trials=None, time_budget=4.0, max_epochs=2000,
                              n_iter_no_change=2000, pruner="none", n_prior_trials=40,
                              random_state=0)
    trials = model.fit(*wine).study_.trials
    assert 1 <= len(trials) < 40
    assert [t.user_attrs.get("source") for t in trials] == ["prior"] * len(trials)
    assert optuna.trial.TrialState.WAITING not in {t.state for t in trials}


@pytest.mark.parametrize(("incumbent_score", "epochs"), [(0.0, 1), (1.0, 6)])
def test_time_budget_reserves_the_refit_of_a_trial_that_would_be_the_best(
        wine, incumbent_score, epochs):
    """The time left for the refit was the best complete trial's, also while a slower
    trial that already beat it trained on: it then became the best and its refit ran
    past the budget (8 s: 16 s with a 3 x 1024 network after a 1 x 16 one). A trial
    whose best score beats the incumbent now reserves its own refit."""
    X, y = wine
    splits = MetaMLPClassifier(cv=2)._splits(y - 1, 0)
    trainer = FoldTrainer(X, y - 1, "classification", splits, torch.device("cpu"), 0)
    trainer.rows_per_epoch = 1e-9  # this trial's refit would take far longer than is left
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(  # a fast incumbent: its refit reserves ~0 s
        params={}, distributions={}, value=incumbent_score,
        user_attrs={"seconds": 1e-12, "epochs": 1, "best_epoch": 1}))
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study.enqueue_trial(params)
    deadline = time.perf_counter() + 600
    study.optimize(objective(trainer, "classification", 6, 6, deadline), n_trials=1)
    trial = study.trials[-1]
    assert trial.user_attrs["epochs"] == epochs  # beats 0.0 at once: stops; ties 1.0: trains
    assert (trial.user_attrs.get("stopped") == "time budget") == (epochs == 1)


def test_time_budget_stops_a_trial_before_an_epoch_that_would_overrun_it(epoch_clock):
    """A trial stopped only once the refit's time was reached, so its last epoch ran past
    the deadline: a 30 s fit took 39 s on 200,000 rows, where an epoch takes 6-10 s. It
    now stops before an epoch (as long as its others) that would end after it. On a
    clock where each fold's epoch takes 1 s: 2 folds, a deadline 2.5 epochs away."""
    clock, trainer = epoch_clock
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params)
    study.optimize(objective(trainer, "classification", 50, 50, deadline=5.0), n_trials=1)
    trial = study.trials[-1]
    assert trial.user_attrs.get("stopped") == "time budget"
    assert (trial.user_attrs["epochs"], clock.now) == (2, 4.0)  # not 3 epochs, at 6 s


def test_no_trial_starts_after_one_stopped_for_time(epoch_clock):
    """A trial stopped before an epoch that would overrun the budget left the study
    going: the next trial's start check has no epoch in it, so it started in the time
    left and trained a whole epoch past the deadline (to 6 s against 5 s on a clock where
    each fold's epoch takes 1 s). The stop now stops the study, and no prior draw is
    left waiting."""
    from metaopt.nas import _estimators

    clock, trainer = epoch_clock
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    draws = [params, {**params, "width": 32}]
    study = optuna.create_study(direction="maximize")
    enqueue_next = _estimators._enqueuer(draws, stop_when_spent(trainer, 5.0))
    enqueue_next(study, None)
    study.optimize(objective(trainer, "classification", 50, 50, deadline=5.0), n_trials=2,
                   callbacks=[enqueue_next])
    assert [t.user_attrs.get("epochs") for t in study.trials] == [2]
    assert clock.now == 4.0


def test_building_the_models_is_not_counted_as_epoch_time(epoch_clock, slow_first_build):
    """A process's first torch optimiser imports torch._dynamo (2-3 s): that time was
    counted in the first trial's epochs, so the trial stopped after one epoch and a fresh
    process's 4 s fit refitted one epoch. Building the models takes 6 s of the clock here,
    each fold's epoch 1 s (2 folds), the deadline 11 s: epoch 2 ends at 10 s."""
    clock, trainer = epoch_clock
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params)
    study.optimize(objective(trainer, "classification", 50, 50, deadline=11.0), n_trials=1)
    attrs = study.trials[-1].user_attrs
    assert (attrs["epochs"], attrs["seconds"], clock.now) == (2, 4.0, 10.0)



@pytest.mark.parametrize(("cut_after", "epochs"), [(2.25, 2), (0.25, 1)])
def test_a_trial_the_deadline_cuts_within_an_epoch_keeps_its_training_losses(
        wine, cut_after, epochs):
    """A trial stopped within an epoch returned no training losses: its ``train_loss``
    was missing, and the refit's summary read "(the folds' nan at that epoch)" for a
    trial of 2 whole epochs. Cut within epoch 3, the losses of epochs 1 and 2 stand; cut
    within the first, that of the folds trained so far (which score the trial)."""
    X, y = wine
    splits = MetaMLPClassifier(cv=2)._splits(y - 1, 0)
    trainer = FoldTrainer(X, y - 1, "classification", splits, torch.device("cpu"), 0)
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16,
              "batch_size": 8}

    def out_of_time(seconds, done, best_epoch, best=-np.inf, in_epoch=False) -> bool:
        return in_epoch and done > cut_after  # (``done``: epochs, a fraction included)

    result = trainer.evaluate(params, 10, 10, None, out_of_time)
    assert result.out_of_time and len(result.curve) == epochs
    assert len(result.train_losses) == epochs
    assert all(np.isfinite(result.train_losses))
    assert 0 < result.best_epoch <= len(result.train_losses)  # objective's train_loss

def test_regression_trials_score_r2_in_any_target_units():
    """Validation R² compares like with like: the same in the target's raw units as in
    hundredths of them (it once compared standardised predictions with raw targets,
    so every trial scored the -1 floor and the refit trained one epoch)."""
    X, y = load_diabetes(return_X_y=True)
    scores = []
    for units in (1.0, 0.01):
        model = MetaMLPRegressor(n_trials=2, cv=2, max_epochs=8, pruner="none",
                                 random_state=0).fit(X, y * units)
        scores.append([t.value for t in model.study_.trials])
    assert min(scores[0]) > 0.2, scores
    np.testing.assert_allclose(scores[0], scores[1], atol=1e-4)
    assert model.best_epoch_ > 1


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        (dict(cv=1), ValueError, r"cv must be an int >= 2 \(k-fold\), a float in \(0, 1\)"),
        (dict(cv=1.5), ValueError, "cv must be"),
        (dict(pruner="median"), ValueError, r"pruner must be one of \['hyperband'"),
        (dict(n_trials=None), ValueError, "n_trials and time_budget are both None"),
        (dict(n_trials=0), ValueError, "n_trials must be an int >= 1 or None"),
        (dict(time_budget=-1), ValueError,
         "time_budget must be a finite number of seconds > 0 or None, got -1"),
        # search_rows="auto" failed with "cannot convert float infinity to integer"
        (dict(time_budget=float("inf")), ValueError,
         "time_budget must be a finite number of seconds > 0 or None, got inf"),
        (dict(max_epochs=0), ValueError, "max_epochs must be an int >= 1, got 0"),
        (dict(prior=42), TypeError, "prior must be 'default', None, an ArchitecturePrior"),
        (dict(prior="/nonexistent/prior"), ValueError, "no metaopt architecture prior at"),
        (dict(meta_model=42), TypeError, "meta_model must be 'default', None, a MetaModel"),
        # a misspelt 'default' read as a directory: "no metaopt architecture prior at
        # defaults/prior", "meta-model directory 'Default' does not exist"
        (dict(prior="defaults"), ValueError,
         r"prior='defaults' is no directory of a saved one: did you mean prior='default'"),
        (dict(meta_model="Default"), ValueError, r"did you mean meta_model='default'"),
        (dict(device="tpu:0"), ValueError, "device='tpu:0' is not a valid device"),
    ],
)
def test_invalid_parameters_raise_in_fit(params, error, message):
    X, y = make_classification(40, 4, random_state=0)
    model = MetaMLPClassifier(**{**SMALL, **params})
    with pytest.raises(error, match=message):
        model.fit(X, y)


def test_bad_data_gives_clear_errors():
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(ValueError, match=r"y contains 1 missing value\(s\) \(NaN, None or "
                                         r"pd\.NA\); drop"):
        MetaMLPRegressor(**SMALL).fit(X, np.where(np.arange(40) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match="Input X contains infinity"):
        MetaMLPClassifier(**SMALL).fit(np.where(X > 1, np.inf, X), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MetaMLPClassifier(**SMALL).fit(X, y[:-1])
    with pytest.raises(ValueError, match="MetaMLPClassifier needs class labels, but y holds "
                                         "continuous values"):
        MetaMLPClassifier(**SMALL).fit(X, np.linspace(0, 1, 40))
    with pytest.raises(ValueError, match="column 'tags' holds list values"):
        # the preprocessing failed with "unhashable type: 'list'"
        MetaMLPClassifier(**SMALL).fit(pd.DataFrame(X).assign(tags=[[i] for i in range(40)]), y)
    with pytest.raises(ValueError, match=r"cv=5 needs at least 10 samples, got 6 sample"):
        MetaMLPClassifier(**{**SMALL, "cv": 5}).fit(X[:6], y[:6])
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MetaMLPClassifier is expecting 4"):
        model.predict(X[:, :3])



@pytest.mark.parametrize("power", [306, 156])
def test_finite_values_too_large_to_standardise_are_named_not_called_infinite(pmlb_root,
                                                                              power):
    """Finite values past 1.3e154 overflow when standardised: the fit failed with
    "X contains infinite values" (warned about by validate too, with numpy's overflow
    warnings); it names the column, its largest value and a rescaling. Below the mean's
    overflow (x 1e156) the fit ran on, the column left unscaled (7.9e157, inf in the
    network's float32)."""
    data = LocalSource(pmlb_root).load("228_elusage", "regression")
    X = data.X.assign(average_temperature=data.X["average_temperature"] * 10.0 ** power)
    for given, column in [(X, "average_temperature"), (X.to_numpy(), "x0")]:
        with pytest.raises(ValueError, match=(
                rf"X column\(s\) '{column}' \(up to 7\.9e\+{power + 1}\) hold finite "
                rf"values .* rescale, e\.g\. X\['{column}'\] / 1e{power + 1}")), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MetaMLPRegressor(**SMALL).fit(given, data.y)
    with pytest.raises(ValueError, match="X contains infinite values"):
        MetaMLPRegressor(**SMALL).fit(X.assign(month=np.inf), data.y)

def test_several_targets_are_refused_saying_what_fits_them():
    """A y of 3 targets (linnerud) got scikit-learn's "y should be a 1d array, got an
    array of shape (20, 3) instead": the regressor says it takes one target column and
    names what does take several (MultiOutputRegressor: one search per target;
    MLPRegressor: one network, since 5b8d95e), both of which work. One column is a 1-D y
    with scikit-learn's warning, as before."""
    from sklearn.datasets import load_linnerud
    from sklearn.exceptions import DataConversionWarning
    from sklearn.multioutput import MultiOutputRegressor

    X, Y = load_linnerud(return_X_y=True)
    with pytest.raises(ValueError, match=(
            r"MetaMLPRegressor takes one target column, got y of shape \(20, 3\) \(3 "
            r"targets\).*sklearn\.multioutput\.MultiOutputRegressor\(MetaMLPRegressor\(.*"
            r"metaopt\.nas\.MLPRegressor, which takes a 2-D y")):
        MetaMLPRegressor(**SMALL).fit(X, pd.DataFrame(Y))
    tags = MetaMLPRegressor().__sklearn_tags__().target_tags
    assert tags.single_output and not tags.multi_output
    alone = MetaMLPRegressor(**SMALL, random_state=0).fit(X, Y[:, 0]).predict(X)
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        column = MetaMLPRegressor(**SMALL, random_state=0).fit(X, Y[:, :1])
    np.testing.assert_allclose(column.predict(X), alone)
    model = MultiOutputRegressor(MetaMLPRegressor(**SMALL, random_state=0)).fit(X, Y)
    assert model.predict(X).shape == (20, 3)
    np.testing.assert_allclose(model.predict(X)[:, 0], alone)
    assert MLPRegressor(max_epochs=3, random_state=0).fit(X, Y).predict(X).shape == (20, 3)


def test_pandas_extension_targets_are_read_as_their_values(pmlb_root):
    """A pyarrow decimal target (parquet, SQL) was refused by the regressor as "no numeric
    target, got dtype object (e.g. Decimal('6.00'))": scikit-learn keeps it as Decimal
    objects; MetaOptRegressor took it. Nullable int and boolean labels gave the classifier
    float classes (0., 1.), where MetaOptClassifier keeps ints and bools."""
    import pyarrow as pa

    data = LocalSource(pmlb_root).load("1027_ESL", "regression")
    decimal = data.y.astype(pd.ArrowDtype(pa.decimal128(20, 2)))
    model = MetaMLPRegressor(**SMALL, random_state=0).fit(data.X, decimal)
    expected = MetaMLPRegressor(**SMALL, random_state=0).fit(data.X, data.y).predict(data.X)
    np.testing.assert_allclose(model.predict(data.X), expected)
    labels = data.y > data.y.median()
    for y, dtype in [(labels.astype("boolean"), bool), (labels.astype("Int64"), np.int64)]:
        assert MetaMLPClassifier(**SMALL).fit(data.X, y).classes_.dtype == dtype


def test_dataframes_with_categories_and_missing_values(pmlb_root):
    """Real mixed data: string categories and NaN are one-hot encoded and imputed."""
    data = LocalSource(pmlb_root).load("colic")
    X = data.X.iloc[:, :8].astype(float).copy()
    X.iloc[::7, 0] = np.nan
    X["site"] = np.where(np.arange(len(X)) % 3 == 0, "north", "south")
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(X, data.y)
    assert model.n_features_in_ == 9 and list(model.feature_names_in_) == list(X.columns)
    assert model.preprocessor_.transform(X).shape[1] == 10  # "site" becomes two columns
    assert model.score(X, data.y) > 0.6
    assert model.predict_proba(X.iloc[:5]).shape == (5, len(model.classes_))
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.rename(columns={"site": "place"}))
    with pytest.raises(ValueError, match="pass a DataFrame with those columns"):
        model.predict(X.to_numpy())  # was numpy's "could not convert string to float"
    # the tags say so, as MetaOptClassifier's; an array of strings is refused
    tags = model.__sklearn_tags__().input_tags
    assert tags.categorical and not tags.string



@pytest.mark.parametrize("cls", [MetaMLPClassifier, MetaMLPRegressor])
def test_an_array_of_text_is_refused_saying_to_pass_a_dataframe(cls, pmlb_root):
    """fit on an array holding text raised numpy's "could not convert string to float:
    np.str_('south')": only a DataFrame's text columns are one-hot encoded, which the
    message now says; what it offers works."""
    data = LocalSource(pmlb_root).load("wine_recognition")
    X = data.X.iloc[:, :3].assign(site=np.where(np.arange(len(data.X)) % 2, "north", "south"))
    y = data.y if cls is MetaMLPClassifier else data.X["1"]
    with pytest.raises(ValueError, match=re.escape(
            f"{cls.__name__} reads text only in a DataFrame's columns (one-hot encoded), "
            "but X is an array holding text ('south'): pass pandas.DataFrame(X, "
            "columns=[...]), its text columns categorical")):
        cls(**SMALL).fit(X.to_numpy(), y)
    assert cls(**SMALL).fit(pd.DataFrame(X.to_numpy(), columns=X.columns), y).n_features_in_ \
        == 4

def test_pyarrow_backed_frames_with_missing_strings(pmlb_root):
    """A table read with dtype_backend="pyarrow": its string column was silently left
    out and, holding a missing value, failed the fit. The model is now the one of the
    same table with numpy floats and objects."""
    import io

    data = LocalSource(pmlb_root).load("colic")
    X = data.X.iloc[:, :6].astype(float).assign(
        site=np.where(np.arange(len(data.X)) % 3 == 0, "north", "south"))
    X.loc[X.index[::10], "site"] = None
    arrow = pd.read_csv(io.StringIO(X.to_csv(index=False)), dtype_backend="pyarrow")
    assert str(arrow["site"].dtype) == "string[pyarrow]" and arrow["site"].isna().any()
    plain = MetaMLPClassifier(**SMALL, random_state=0).fit(X, data.y)
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(arrow, data.y)
    assert model.preprocessor_.transform(arrow).shape[1] == 6 + 3  # north, south, missing
    np.testing.assert_allclose(model.predict_proba(arrow), plain.predict_proba(X))


def test_int_column_names_that_are_not_positions(pmlb_root):
    """Int column names were taken for positions by the preprocessing (a string column
    reached the median imputer); they are now strings, as with string names."""
    data = LocalSource(pmlb_root).load("colic")
    X = data.X.iloc[:, :6].astype(float).assign(
        site=np.where(np.arange(len(data.X)) % 3 == 0, "north", "south"))
    numbered = X.set_axis(list(range(6, -1, -1)), axis=1)
    named = X.set_axis([str(i) for i in range(6, -1, -1)], axis=1)
    by_number = MetaMLPClassifier(**SMALL, random_state=0).fit(numbered, data.y)
    by_name = MetaMLPClassifier(**SMALL, random_state=0).fit(named, data.y)
    np.testing.assert_allclose(by_number.predict_proba(numbered), by_name.predict_proba(named))


def test_a_failed_refit_leaves_the_model_unfitted_and_arrays_follow_frames(pmlb_root):
    """A refit that raised used to keep the new data's preprocessing beside the old model
    (accuracy 0.95 -> 0.16, silently); an array given to a model fitted on a DataFrame
    failed with pandas' column-selection error."""
    from sklearn.exceptions import NotFittedError

    data = LocalSource(pmlb_root).load("new_thyroid")
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(data.X, data.y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = model.predict(data.X.to_numpy())
    np.testing.assert_array_equal(from_array, model.predict(data.X))
    with pytest.raises(ValueError, match="at least 2 classes"):
        model.fit(data.X * 1000 + 50, np.full(len(data.y), 7))
    with pytest.raises(NotFittedError):
        model.predict(data.X)


def test_regression_needs_two_validation_rows():
    X, y = make_regression(400, 3, noise=0.1, random_state=0)
    with pytest.raises(ValueError, match="fewer than 2 validation"):
        MetaMLPRegressor(**{**SMALL, "cv": 0.002}).fit(X, y)
    with pytest.raises(ValueError, match="n_prior_trials=5000 exceeds the prior's pool"):
        MetaMLPRegressor(**{**SMALL, "n_prior_trials": 5000}).fit(X, y)


def test_input_the_main_estimator_takes(wine):
    """As MetaOptClassifier: ``verbose=True`` (was "verbose must be an int >= 0") and a
    sparse X (was scikit-learn's "Sparse data was passed for X, but dense data is
    required") are accepted; a budget no trial completes in is a ValueError (was a
    RuntimeError)."""
    from scipy import sparse

    X, y = wine
    dense = MetaMLPClassifier(**SMALL, random_state=0).fit(X, y)
    model = MetaMLPClassifier(**SMALL, random_state=0, verbose=True).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(model.predict_proba(sparse.csc_matrix(X)), dense.predict_proba(X))
    with pytest.raises(ValueError, match="verbose must be an int >= 0 or a bool, got -1"):
        MetaMLPClassifier(**{**SMALL, "verbose": -1}).fit(X, y)
    with pytest.raises(ValueError, match="no trial completed within the budget"):
        MetaMLPClassifier(**{**SMALL, "time_budget": 1e-9}).fit(X, y)


def test_sample_weight_reaches_the_search_and_the_refit(wine):
    """Rows of weight 0 (here: mislabelled) are left out of every training, the
    search's and the refit's; the mlp family joins MetaOptClassifier's weighted searches."""
    from metaopt import MetaOptClassifier

    X, y = wine
    wrong = np.random.default_rng(0).permutation(len(y))[: len(y) // 2]
    noisy = y.copy()
    noisy[wrong] = y[wrong] % 3 + 1  # wine's classes are 1, 2, 3
    weights = np.ones(len(y))
    weights[wrong] = 0.0
    params = dict(n_trials=2, cv=2, max_epochs=20, n_prior_trials=1, random_state=0,
                  prior=small_prior())
    weighted = MetaMLPClassifier(**params).fit(X, noisy, sample_weight=weights)
    plain = MetaMLPClassifier(**params).fit(X, noisy)
    assert weighted.score(X, y) > 0.85
    assert weighted.score(X, y) > plain.score(X, y) + 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "do not accept weights"
        search = MetaOptClassifier(n_trials=1, spaces="mlp", cv=2, random_state=0).fit(
            X, noisy, sample_weight=weights)
    assert search.best_family_ == "mlp" and search.score(X, y) > 0.85


@pytest.mark.parametrize("weights, message", [
    (np.zeros(178), "zero for every sample|at least one non-zero"),  # scikit-learn < / >= 1.9
    (-np.ones(178), "Negative values in data passed to `sample_weight`"),
])
def test_bad_sample_weight_is_refused_as_by_the_mlp(wine, weights, message):
    """MetaMLP checks its weights as MLPClassifier does (one shared check), before any
    trial runs."""
    X, y = wine
    model = MetaMLPClassifier(n_trials=1, cv=2, max_epochs=1, n_prior_trials=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, sample_weight=weights)
    assert not hasattr(model, "study_")


class _PruneFrom(optuna.pruners.BasePruner):
    """Prunes every trial once it has reported ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def prune(self, study, trial) -> bool:
        return (trial.last_step or 0) >= self.step


@pytest.mark.parametrize("max_epochs", [1, 3])
def test_a_trial_that_trained_every_epoch_is_not_pruned(wine, max_epochs):
    """A trial that reached max_epochs was still asked whether to prune: with max_epochs
    a power of 3 (a Hyperband rung), fully trained trials were marked PRUNED and could
    not be the best (wine, max_epochs=3, seed 0: a pruned trial's 0.978 lost to 0.977).
    The last epoch's score is reported, and the trial completes."""
    X, y = wine
    splits = [(np.arange(0, 178, 2), np.arange(1, 178, 2))]
    trainer = FoldTrainer(X, y - 1, "classification", splits, torch.device("cpu"), 0)
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize", pruner=_PruneFrom(max_epochs))
    study.enqueue_trial(params)
    study.optimize(objective(trainer, "classification", max_epochs, 50), n_trials=1)
    trial = study.trials[-1]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.user_attrs["epochs"] == max_epochs
    assert max(trial.intermediate_values) == max_epochs


def test_k_folds_stay_stratified_when_a_class_has_fewer_rows_than_folds():
    """One class of 2 rows with cv=3 made every class's folds unstratified: on 180 / 18 /
    2 rows the 18 fell 7 / 7 / 4 into the validation folds (seed 0). scikit-learn's cv=3 stays
    stratified (it warns): so do these folds, silently."""
    y = np.r_[np.zeros(180, int), np.ones(18, int), 2, 2]
    for seed in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            splits = MetaMLPClassifier(cv=3)._splits(y, seed)
        assert [np.bincount(y[val], minlength=3)[:2].tolist() for _, val in splits] == [
            [60, 6]] * 3


def test_a_frame_after_fitting_on_an_array_warns_once():
    """Fitted on an array, predict on a DataFrame warned twice: scikit-learn's warning,
    and the same from the internal SimpleImputer, a part the user never built."""
    X, y = make_classification(60, 4, random_state=0)
    model = MetaMLPClassifier(**SMALL, random_state=0).fit(X, y)
    frame = pd.DataFrame(X, columns=list("abcd"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predicted = model.predict(frame)
    assert [str(w.message) for w in caught] == [
        "X has feature names, but MetaMLPClassifier was fitted without feature names"]
    np.testing.assert_array_equal(predicted, model.predict(X))


def test_cv_takes_scikit_learn_splitters_and_groups(wine):
    """cv was an int or a float only: a GroupKFold, a TimeSeriesSplit or fixed splits
    were refused ("cv must be an int >= 2 ... or a float")."""
    from sklearn.model_selection import GroupKFold, TimeSeriesSplit

    X, y = wine
    groups = np.arange(len(y)) % 6
    params = dict(n_trials=2, max_epochs=4, n_prior_trials=1, pruner="none", random_state=0,
                  prior=small_prior())
    by_groups = MetaMLPClassifier(cv=GroupKFold(3), **params).fit(X, y, groups=groups)
    assert by_groups.n_epochs_searched_ == 3 * sum(t.user_attrs["epochs"]
                                                   for t in by_groups.study_.trials)
    with pytest.raises(ValueError, match="splits by groups: pass them"):
        MetaMLPClassifier(cv=GroupKFold(3), **params).fit(X, y)
    fixed = [(np.arange(0, 178, 2), np.arange(1, 178, 2))]
    one = MetaMLPClassifier(cv=fixed, **params).fit(X, y)
    assert one.n_epochs_searched_ == sum(t.user_attrs["epochs"] for t in one.study_.trials)
    assert MetaMLPClassifier(cv=TimeSeriesSplit(2), **params).fit(X, y).score(X, y) > 0.5
    with pytest.warns(UserWarning, match="groups are ignored") as caught:
        MetaMLPClassifier(cv=3, **params).fit(X, y, groups=groups)
    assert caught[0].filename == __file__  # points at the caller of fit
    with pytest.warns(UserWarning, match="groups are ignored") as caught:
        MetaMLPClassifier(cv=TimeSeriesSplit(2), **params).fit(X, y, groups=groups)
    assert caught[0].filename == __file__
    with pytest.raises(ValueError, match=r"split 0 has 177 training and 1 validation rows"):
        MetaMLPRegressor(cv=[(np.arange(1, 178), np.arange(1))], **params).fit(X, y * 1.0)
    with pytest.raises(ValueError, match="cv must be an int >= 2.*CV splitter"):
        MetaMLPClassifier(cv="folds", **params).fit(X, y)


def test_a_deadline_within_the_first_epoch_stops_the_trial_there(wine, minibatch_clock):
    """The deadline was looked at only between epochs: on 1,000,000 x 50 the first epoch
    of 3 folds (18 s) ran whole against a 30 s budget with 20 s left. It is now looked
    at every STOP_CHECK_EVERY minibatches: the trial stops within its first epoch and
    is scored by the folds trained so far. 2 folds of 89 rows, batch 16: 6 minibatches a
    fold's epoch, 12 s on this clock; deadline 9 s."""
    clock = minibatch_clock
    X, y = wine
    splits = MetaMLPClassifier(cv=2)._splits(y - 1, 0)
    trainer = FoldTrainer(X, y - 1, "classification", splits, torch.device("cpu"), 0)
    trainer.rows_per_epoch = 1e9  # a refit reserves ~0 s
    params = {**get_space("mlp").default("classification"), "n_layers": 1, "width": 16,
              "batch_size": 16}
    params.pop("max_epochs")
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params)
    study.optimize(objective(trainer, "classification", 50, 50, deadline=9.0), n_trials=1)
    trial = study.trials[-1]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.user_attrs["stopped"] == "time budget"
    assert trial.user_attrs["epochs"] == trial.user_attrs["best_epoch"] == 1
    assert clock.now == 10.0  # fold 1's 6 minibatches, fold 2's first 4 (not 12 s)
    assert 0.0 <= trial.value <= 1.0


def test_the_refit_stops_on_time_and_the_search_copies_x_once(wine, minibatch_clock,
                                                             monkeypatch, capsys):
    """On 1,000,000 x 50 with time_budget=30: the refit trained its whole epoch (13.6 s,
    9 s left: 41 s in all), the trainer took a float64 copy of X (X.astype, 400 MB) and
    its fold tensors (600 MB) lived through the refit; verbose=1 said nothing for 20 s
    at a time. Now the refit stops on time too (here its estimate is ~0 s, so the search
    trains to the deadline), the search's X is the refit's, the trainer is gone when
    the refit starts, and progress is told within epochs."""
    import weakref

    from metaopt.nas import _estimators

    clock = minibatch_clock
    seen = {}

    class Recorded(_estimators.FoldTrainer):
        def __init__(self, X, *args, **kwargs):
            super().__init__(X, *args, **kwargs)
            self.rows_per_epoch = 1e9  # the refit's estimate: ~0 s, too little
            seen["search X"], seen["trainer"] = X, weakref.ref(self)

    class RecordedMLP(MLPClassifier):
        def fit(self, X, y, sample_weight=None):
            seen["refit X"], seen["trainer alive"] = X, seen["trainer"]() is not None
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(_estimators, "FoldTrainer", Recorded)
    monkeypatch.setattr(MetaMLPClassifier, "_final_model",
                        lambda self, **params: RecordedMLP(**params))
    budget = 40.0
    model = MetaMLPClassifier(n_trials=None, time_budget=budget, cv=2, max_epochs=50,
                              n_iter_no_change=50, pruner="none", verbose=1,
                              random_state=0).fit(*wine)
    # the search and the refit each look every 4 minibatches of 1 s
    assert budget <= clock.now <= budget + 8
    refit = model.best_estimator_
    # out of time when epochs were left (its passes here are 4 minibatches, the least a
    # pass trains: none is cut short)
    assert refit.out_of_time_ == (refit.n_epochs_ < refit.max_epochs)
    assert np.shares_memory(seen["search X"], seen["refit X"])
    assert not seen["trainer alive"]
    out = capsys.readouterr().out
    assert re.search(r"epoch \d+, fold \d/2 \d+% trained", out) and "refitting trial" in out


@pytest.fixture(scope="module")
def ring_near_copies(pmlb_root):
    """ring's 7,400 rows (more than the meta-features' 2,000-row subsample) and 9 jittered
    copies of its columns, whose near-1 correlations show the last bits."""
    data = LocalSource(pmlb_root).load("ring")
    X, y = data.X.to_numpy(dtype=float), data.y.to_numpy()
    jitter = np.random.default_rng(0).normal(0, 0.01, (len(X), 9)) * X[:, :9].std(axis=0)
    return np.hstack([X, X[:, :9] + jitter]), y


def traced_peak(run) -> tuple:
    """``run()``'s result and the peak memory traced while it ran (bytes)."""
    import tracemalloc

    tracemalloc.start()
    try:
        return run(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_array_is_validated_once_and_keeps_its_meta_features(ring_near_copies,
                                                                  monkeypatch):
    """fit checked an array X with scikit-learn, then metafeatures.compute validated it
    again (two more copies: 0.8 GB on 1,000,000 x 50). Now the meta-features take the
    checked array, and are the very bits compute gives."""
    from metaopt import metafeatures

    X, y = ring_near_copies
    validated = []
    validate = metafeatures.validate
    monkeypatch.setattr(metafeatures, "validate",
                        lambda *args, **kwargs: validated.append(1) or validate(*args,
                                                                                **kwargs))
    model = MetaMLPClassifier(**{**SMALL, "max_epochs": 1}, random_state=0).fit(X, y)
    assert not validated
    assert model.meta_features_.equals(metafeatures.compute(X, y, "classification",
                                                            random_state=0))


def test_the_preprocessing_standardises_its_own_copy_in_place(ring_near_copies):
    """The scaler copied the imputer's copy of X: predict's preprocessing peaked at twice
    X beyond its result (400 MB more on 1,000,000 x 50), now 1.3 times; X is left as it
    was."""
    X, y = ring_near_copies
    model = MetaMLPClassifier(**{**SMALL, "max_epochs": 1}, random_state=0).fit(X, y)
    given = X.copy()
    encoded, peak = traced_peak(lambda: model._check_X(X))
    assert peak - encoded.nbytes < 1.6 * X.nbytes
    np.testing.assert_array_equal(X, given)
    np.testing.assert_array_equal(encoded, model.preprocessor_.transform(X))


def test_fold_trainer_copies_a_folds_validation_rows_after_its_training_rows(
        ring_near_copies):
    """Each fold held its training and validation rows in float64 while std made its
    temporary: the trainer peaked at 2.8 times X (1.07 GB on 1,000,000 x 50, the peak of
    MetaMLPClassifier's fit), now 2.4: the float32 tensors of the folds (1.5 times X
    with 3 folds) and one fold's training rows with std's temporary."""
    from sklearn.model_selection import StratifiedKFold

    X, y = ring_near_copies
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    _, peak = traced_peak(lambda: FoldTrainer(X, y, "classification", splits,
                                              torch.device("cpu"), 0))
    assert peak < 2.6 * X.nbytes
