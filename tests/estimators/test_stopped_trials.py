"""Trials the time budget stopped after some folds, beside the complete trial chosen: a
warning when one did better on its folds than the chosen trial on the same folds, and
their place in ``plot_history``: with no complete trial, no best-so-far line and the
chosen trial starred, as is the trial refitted when the best one's refit failed its
check (docs/estimators.md, 'time_budget')."""

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


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(90, n_features=4, random_state=0)
    return X, y


def _fit_on(monkeypatch, data, trials: list[tuple[str, float | None, dict]]):
    """A fit whose search is the study of ``trials`` (state, value, user attributes),
    made by hand: no trial is timed, and the chosen one is refitted for real. Its
    parameters are drawn with a fixed seed, so that refit, and its check, are the same
    in every run (unseeded, a drawn configuration sometimes failed the check)."""

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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(*data)
    return model, [str(w.message) for w in caught]


def _about_stopped(messages: list[str]) -> list[str]:
    """The warnings of a stopped trial that did better than the chosen one."""
    return [m for m in messages if "did better" in m or "on the same folds" in m]


def _complete(folds: list[float]) -> tuple[str, float, dict]:
    return "COMPLETE", float(np.mean(folds)), {"fit_time": 0.01, "fold_scores": folds}


def _stopped(scores: list[float], indices: list[int] | None) -> tuple[str, None, dict]:
    partial = {"scores": scores, "fit_time": 0.01, "folds": 3}
    if indices is not None:
        partial["fold_indices"] = indices
    return "PRUNED", None, {"partial": partial}


def test_a_stopped_trial_better_on_its_folds_than_the_chosen_one_is_warned_of(
        monkeypatch, data):
    """On churn a complete linear trial (CV 0.861, the majority class's share 0.859) was
    refitted without a word while an extra_trees trial stopped after 3 of 5 folds had a
    mean of 0.939 on them: the model stays the complete trial's, with a warning naming
    the best stopped trial and its folds against the chosen trial's same folds."""
    model, messages = _fit_on(monkeypatch, data, [
        _complete([0.80, 0.70, 0.90]),
        _stopped([0.95, 0.85], [0, 1]),  # 0.90 against 0.75 on folds 0 and 1
        _stopped([0.95], [1]),  # a wider lead (0.95 against 0.70), on one fold only
    ])
    assert model.best_params_ == dict(model.study_.trials[0].params)  # chosen as before
    assert model.best_score_ == pytest.approx(0.8)
    assert len(_about_stopped(messages)) == 1
    assert _about_stopped(messages)[0].startswith(
        "trial 1 (linear), stopped by time_budget=30 s after 2 of 3 CV folds, scored "
        "0.9000 on them against 0.7500 on the same folds for the chosen trial 0 (linear) "
        "(1 other stopped trial also did better on their folds); the model is trial 0's, "
        "as stopped trials count only when no trial finishes its folds: give it more time")
    # summary() says it too, the warnings having scrolled away, in a note after "best:"
    # (wrapped: its words, the lines joined)
    assert "(scoring=accuracy)\nnote: " in model.summary()
    assert (
        "(scoring=accuracy) note: trial 1 (linear), stopped by time_budget=30 s after 2 of 3 "
        "CV folds, scored 0.9000 on them against 0.7500 on the same folds for the chosen "
        "trial 0 (linear) (1 other stopped trial also did better on their folds) "
    ) in " ".join(model.summary().split())


def test_a_stopped_trial_no_better_on_its_folds_is_not_warned_of(monkeypatch, data):
    """Its mean (0.85) is above the chosen trial's over all folds (0.8) but below it on
    the fold it finished (0.9): the folds are compared, not the means."""
    model, messages = _fit_on(monkeypatch, data, [
        _complete([0.75, 0.75, 0.90]),
        _stopped([0.85], [2]),
    ])
    assert _about_stopped(messages) == []
    assert "note:" not in model.summary() and "stopped by time_budget" not in model.summary()


def test_summary_sets_a_stopped_trial_against_the_trial_refitted_in_the_end(
        monkeypatch, data):
    """When the best complete trial's refit fails its check and the next one's is kept,
    fit's warning and summary() set the stopped trial against the study's best (trial 0,
    0.75 on folds 0 and 1), the warning saying the model was trial 0's, while the model
    and summary()'s "best:" line were trial 1's: both set it against trial 1's folds."""
    import metaopt.estimators._search as search

    # trial 0's refit (CV 0.8) fails its check, trial 1's (CV 0.7) passes
    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: cv > 0.75)
    model, messages = _fit_on(monkeypatch, data, [
        _complete([0.80, 0.70, 0.90]),
        _complete([0.60, 0.70, 0.80]),
        _stopped([0.95, 0.85], [0, 1]),
    ])
    assert model.best_score_ == pytest.approx(0.7)
    said = ("trial 2 (linear), stopped by time_budget=30 s after 2 of 3 CV folds, scored "
            "0.9000 on them against 0.6500 on the same folds for the chosen trial 1 (linear)")
    assert len(_about_stopped(messages)) == 1
    assert _about_stopped(messages)[0].startswith(f"{said}; the model is trial 1's, ")
    assert f" note: {said} " in " ".join(model.summary().split())  # wrapped: words joined


def test_summary_says_why_the_best_line_is_not_the_highest_score(monkeypatch, data):
    """When the best trial's refit failed its check and the next one's was kept, "best:"
    gave the kept trial's 0.7000 and "best score per family" the study's 0.8000, with
    nothing on the gap: a note names the trial that scored higher and why it is not the
    model, in the refit warning's words."""
    import metaopt.estimators._search as search

    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: cv > 0.75)
    model, messages = _fit_on(monkeypatch, data, [
        _complete([0.80, 0.70, 0.90]),
        _complete([0.60, 0.70, 0.80]),
    ])
    assert any("scores far below its CV score on its own training rows" in m
               for m in messages)
    train = model._refit_checks[0]["train"]
    lines = model.summary().splitlines()
    assert ("\nbest: linear, trial 1 of the search, with CV score 0.7000 (scoring=accuracy)"
            "\nnote: ") in model.summary()
    assert (  # the note wrapped: its words, the lines joined
        "(scoring=accuracy) note: trial 0 (linear) scored higher (0.8000), but its refit on "
        "90 rows scores far below its CV score on its own training rows "
        f"({train:.4f}): the model is trial 1's meta-learned warm start:"
    ) in " ".join(model.summary().split())
    assert lines[-1] == "  linear                   0.8000 (2 trials)"


def test_with_an_ensemble_the_warning_says_the_model_is_an_ensemble(monkeypatch, data):
    """The warning of a stopped trial that did better said "the model is trial 0's" of an
    ensemble led by trial 0."""
    original = MetaOptClassifier._refit

    def two_members(self, *args, **kwargs):  # trial 1 joins trial 0's refit
        model, table = original(self, *args, **kwargs)
        return model, pd.concat([table, table.assign(trial=1, score=0.7)], ignore_index=True)

    monkeypatch.setattr(MetaOptClassifier, "_refit", two_members)
    _, messages = _fit_on(monkeypatch, data, [
        _complete([0.80, 0.70, 0.90]),
        _complete([0.60, 0.70, 0.80]),
        _stopped([0.95, 0.85], [0, 1]),
    ])
    said = _about_stopped(messages)
    assert len(said) == 1 and "; the model is an ensemble of 2 configurations led by trial " \
        "0, as stopped trials count only when no trial finishes its folds" in said[0]


def test_nothing_to_compare_is_not_warned_of(monkeypatch, data):
    """A stopped trial with no finished fold, one whose folds are not known (kept by an
    earlier metaopt), and a chosen trial without fold scores (a search without time
    budget) leave nothing to set side by side."""
    _, messages = _fit_on(monkeypatch, data, [
        _complete([0.60, 0.60, 0.60]),
        ("PRUNED", None, {}),
        _stopped([0.95, 0.95], None),
    ])
    assert _about_stopped(messages) == []
    _, messages = _fit_on(monkeypatch, data, [
        ("COMPLETE", 0.6, {"fit_time": 0.01}),
        _stopped([0.95, 0.95], [0, 1]),
    ])
    assert _about_stopped(messages) == []


def test_plot_history_draws_a_stopped_trial_hollow_at_its_folds_mean(monkeypatch, data):
    """A search whose only trial was stopped after a fold (the model is its
    configuration) plotted no point, and its trial axis ran -0.04, -0.02, ..."""
    import matplotlib.pyplot as plt

    model, messages = _fit_on(monkeypatch, data, [_stopped([0.9], [0])])
    assert any(m.startswith("no trial finished its 3 CV folds") for m in messages)
    assert model.best_score_ == 0.9
    assert model.history_["score"].isna().all()  # history_'s columns are as documented
    ax = model.plot_history()
    try:
        points = [c for c in ax.collections if len(c.get_offsets())]
        assert len(points) == 1
        assert points[0].get_offsets().tolist() == [[0.0, 0.9]]
        assert (points[0].get_facecolors()[:, 3] == 0).all()  # hollow
        assert "stopped by the time budget (mean of its finished folds)" in [
            t.get_text() for t in ax.get_legend().get_texts()]
        ticks = ax.get_xticks()
        assert len(ticks) and np.all(ticks == np.round(ticks))
    finally:
        plt.close(ax.figure)


def test_summary_of_a_search_without_complete_trials_lists_its_stopped_ones_per_family(
        monkeypatch, data):
    """Its "best score per family:" said "none: no trial finished its 3 folds", though
    the best line gave the stopped trial's score: a family whose trials were all stopped
    is listed at the mean of the most folds one finished, marked so."""
    model, _ = _fit_on(monkeypatch, data, [_stopped([0.9], [0]), _stopped([0.8, 0.6], [0, 1]),
                                           ("PRUNED", None, {})])
    text = model.summary()
    assert " best: linear, trial 1 of the search, with CV score 0.7000 (scoring=accuracy) on "\
        "2 of 3 folds (no trial finished them all) " in " ".join(text.split())  # wrapped
    assert text.endswith("\nbest score per family:\n  linear                   0.7000 on 2 of "
                         "3 folds (2 stopped trials, none complete)")


def test_the_f1_hint_names_the_rarest_class(data):
    """scoring="f1" of labels 'stayed' (86 %) / 'churned' suggested pos_label='stayed',
    the last class in sorted order and the majority one: the hint names the rarer
    class, with the import it needs."""
    X, _ = data
    y = np.array(["stayed"] * 77 + ["churned"] * 13)  # 'stayed' sorts last
    with pytest.raises(ValueError) as raised:
        MetaOptClassifier(scoring="f1", n_trials=1).fit(X, y)
    assert str(raised.value).endswith(
        "after from sklearn.metrics import make_scorer, f1_score, name the positive class, "
        "e.g. make_scorer(f1_score, average='binary', pos_label='churned')")


def test_a_search_keeps_what_the_comparison_needs(monkeypatch):
    """A complete trial's score on each fold (user attribute ``fold_scores``), a stopped
    trial's fold numbers (``partial["fold_indices"]``): the first trial is stopped with
    folds 0 and 3 of 5 perfect, the second runs (time budget, worker processes)."""
    from metaopt._isolated import KillableWorker, TrialTimeout

    X, y = make_classification(300, n_features=5, flip_y=0.2, random_state=0)
    original = KillableWorker.map

    def first_stopped(self, fn, calls, *, seconds, report=None):
        if not hasattr(first_stopped, "done"):
            first_stopped.done = True
            raise TrialTimeout("stopped", {3: (1.0, 0.01, 0.01), 0: (1.0, 0.01, 0.01)})
        return original(self, fn, calls, seconds=seconds, report=report)

    monkeypatch.setattr(KillableWorker, "map", first_stopped)
    model = MetaOptClassifier(n_trials=2, spaces="linear", time_budget=30, recheck=False,
                              ensemble_size=1, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    stopped, complete = model.study_.trials
    assert stopped.user_attrs["partial"]["fold_indices"] == [0, 3]
    folds = complete.user_attrs["fold_scores"]
    assert len(folds) == 5 and np.mean(folds) == pytest.approx(complete.value)
    said = _about_stopped([str(w.message) for w in caught])
    assert len(said) == 1 and said[0].startswith(
        "trial 0 (linear), stopped by time_budget=30 s after 2 of 5 CV folds, scored "
        f"1.0000 on them against {np.mean([folds[0], folds[3]]):.4f} on the same folds for "
        "the chosen trial 1 (linear); the model is trial 1's")
    assert (f" note: {said[0].split('; the model is')[0]} "  # wrapped: its words joined
            in " ".join(model.summary().split()))


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_without_complete_trials_no_best_line_and_the_chosen_trial_is_starred(
        monkeypatch, data):
    """Every trial stopped: the legend listed "best complete so far" though no line was
    drawn, and the trial the model came from (1: 2 folds, though 0 scored more on one)
    was not marked."""
    import matplotlib.pyplot as plt

    model, _ = _fit_on(monkeypatch, data, [_stopped([0.9], [0]), _stopped([0.8, 0.6], [0, 1]),
                                           _stopped([0.5], [0])])
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
        monkeypatch, data):
    """Trial 0's refit failed its check and trial 1's is the model: the plot marked no
    trial, the step line at trial 0's score reading as the model's."""
    import matplotlib.pyplot as plt

    import metaopt.estimators._search as search

    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: cv > 0.75)
    complete = [("COMPLETE", 0.8, {"fit_time": 0.01}), ("COMPLETE", 0.7, {"fit_time": 0.01})]
    model, _ = _fit_on(monkeypatch, data, complete)
    assert model.best_score_ == pytest.approx(0.7)
    ax = model.plot_history()
    try:
        star = [line for line in ax.get_lines() if line.get_marker() == "*"]
        assert [line.get_xydata().tolist() for line in star] == [[[1.0, 0.7]]]
        assert "chosen: trial 1, as trial 0's refit failed its check" in _legend(ax)
    finally:
        plt.close(ax.figure)
    monkeypatch.setattr(search, "refit_failed", lambda train, cv, constant: False)
    ax = _fit_on(monkeypatch, data, complete)[0].plot_history()
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
