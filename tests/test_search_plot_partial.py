"""``plot_history`` of a search in which no trial completed (every one stopped by the
time budget): no best-so-far line, and the trial the model is chosen from starred; in a
complete search, the trial refitted when the best one's refit failed its check."""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import matplotlib
import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from sklearn.datasets import make_classification

from metaopt import MetaOptClassifier
from metaopt._search_plot import plot_search

matplotlib.use("Agg")

pytestmark = pytest.mark.usefixtures("one_thread")


def _stopped(scores: list[float]) -> tuple[str, float | None, dict]:
    return "PRUNED", None, {"partial": {"scores": scores, "fit_time": 0.01, "folds": 3,
                                        "fold_indices": list(range(len(scores)))}}


def _fit_on(monkeypatch, trials: list[tuple[str, float | None, dict]]) -> MetaOptClassifier:
    """A fit whose search is the study of ``trials`` (state, value, user attributes),
    made by hand; the chosen configuration is refitted for real (its parameters drawn
    with a fixed seed: the refit's check passes or fails alike in every run)."""

    def search(self, X, y, space, task, cv, folds, *args):
        study = optuna.create_study(direction="maximize",
                                    sampler=optuna.samplers.RandomSampler(seed=0))
        for state, value, attrs in trials:
            trial = study.ask()
            space.sample(trial, task)
            for key, attr in attrs.items():
                trial.set_user_attr(key, attr)
            study.tell(trial, value, state=TrialState[state])
        self._n_earlier = 0
        return study

    monkeypatch.setattr(MetaOptClassifier, "_search", search)
    monkeypatch.setattr(MetaOptClassifier, "_workers", lambda self: nullcontext())
    model = MetaOptClassifier(spaces="linear", cv=3, time_budget=30, ensemble_size=1,
                              sampler=optuna.samplers.RandomSampler(seed=0), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(*make_classification(90, n_features=4, random_state=0))
    return model


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_without_complete_trials_no_best_line_and_the_chosen_trial_is_starred(monkeypatch):
    """Every trial stopped: the legend listed "best complete so far" though no line was
    drawn, and the trial the model came from (1: 2 folds, though 0 scored more on one)
    was not marked."""
    import matplotlib.pyplot as plt

    model = _fit_on(monkeypatch, [_stopped([0.9]), _stopped([0.8, 0.6]), _stopped([0.5])])
    assert model.best_score_ == pytest.approx(0.7)  # trial 1's configuration
    ax = model.plot_history()
    try:
        legend = _legend(ax)
        assert not any("best" in text for text in legend), legend
        # on how many of the folds (it gave "on 2 folds" without the 3)
        assert "chosen: trial 1, on 2 of 3 folds (none complete)" in legend, legend
        (star,) = ax.get_lines()  # no step line: only the chosen trial's star
        assert star.get_marker() == "*" and star.get_linestyle() == "None"
        assert star.get_xydata().tolist() == [[1.0, pytest.approx(0.7)]]
    finally:
        plt.close(ax.figure)


def test_a_complete_search_stars_the_trial_refitted_when_the_best_ones_refit_failed(
        monkeypatch):
    """Trial 0's refit failed its check and trial 1's is the model: the plot marked no
    trial, the step line at trial 0's score reading as the model's."""
    import matplotlib.pyplot as plt

    import metaopt.estimators._search as search

    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: cv > 0.75)
    complete = [("COMPLETE", 0.8, {"fit_time": 0.01}), ("COMPLETE", 0.7, {"fit_time": 0.01})]
    model = _fit_on(monkeypatch, complete)
    assert model.best_score_ == pytest.approx(0.7)
    ax = model.plot_history()
    try:
        star = [line for line in ax.get_lines() if line.get_marker() == "*"]
        assert [line.get_xydata().tolist() for line in star] == [[[1.0, 0.7]]]
        assert "chosen: trial 1, as trial 0's refit failed its check" in _legend(ax)
    finally:
        plt.close(ax.figure)
    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: False)
    ax = _fit_on(monkeypatch, complete).plot_history()
    try:  # the best trial's refit kept: no star, as before
        assert [line.get_marker() for line in ax.get_lines()] == ["None"]
        assert not any(text.startswith("chosen") for text in _legend(ax))
    finally:
        plt.close(ax.figure)


def test_the_chosen_trial_is_the_one_given_and_its_label_gives_the_folds_of_all():
    """The plot took the estimators' rule of a stopped trial's choice, a copy of it: it
    stars the trial the estimator gives."""
    import matplotlib.pyplot as plt

    stopped = pd.DataFrame({"trial": [0, 1, 2], "score": [0.9, 0.7, 0.7], "family": "svm",
                            "complete": False, "folds": [1, 2, 2]})
    ax = plot_search(stopped, "family", ylabel="CV", title="t", n_folds=5, chosen=2)
    try:
        assert "chosen: trial 2, on 2 of 5 folds (none complete)" in _legend(ax)
        (star,) = ax.get_lines()
        assert star.get_marker() == "*" and star.get_xydata().tolist() == [[2.0, 0.7]]
    finally:
        plt.close(ax.figure)
    ax = plot_search(stopped, "family", ylabel="CV", title="t", n_folds=5)
    try:  # no trial given: none starred
        assert ax.get_lines() == [] and not any(t.startswith("chosen") for t in _legend(ax))
    finally:
        plt.close(ax.figure)
    complete = stopped.assign(complete=[True, False, True], folds=[5, 2, 5])
    ax = plot_search(complete, "family", ylabel="CV", title="t", n_folds=5, chosen=0)
    try:  # the best complete trial chosen: no star
        assert not any(text.startswith("chosen") for text in _legend(ax))
        assert "best complete so far" in _legend(ax)
        (line,) = ax.get_lines()
        np.testing.assert_allclose(line.get_ydata(), [0.9, 0.9, 0.9])
    finally:
        plt.close(ax.figure)
