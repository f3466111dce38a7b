"""Which fits share a search kept in ``storage``: the same search resumes, another does not."""

import pytest
from sklearn.model_selection import GridSearchCV

from metaopt import MetaOptClassifier
from metaopt.data import LocalSource


@pytest.fixture(scope="module")
def wine(pmlb_root):
    return LocalSource(pmlb_root).load("wine_recognition", "classification")


def test_a_grid_over_trial_settings_does_not_share_a_stored_search(wine, tmp_path):
    """``GridSearchCV`` over ``time_budget`` or ``recheck`` with one storage: each
    candidate on a fold resumed the study of the one before it (the second time budget
    started with the first's trials). Each has a study of its own; the same settings
    again resume theirs."""
    url = f"sqlite:///{tmp_path / 'search.db'}"
    search = MetaOptClassifier(spaces="linear", n_trials=1, cv=3, random_state=0,
                               storage=url)
    grid = GridSearchCV(search, [{"time_budget": [None, 30.0]}, {"recheck": [False]}],
                        cv=2, refit=False).fit(wine.X, wine.y)
    assert grid.cv_results_["mean_test_score"].min() > 0.8  # no candidate failed
    studies = _studies(url)
    assert len(studies) == 3 * 2 and all(s.n_trials == 1 for s in studies)
    # the same settings again: the study resumes (a time budget of 30 is one of 30.0)
    first = search.set_params(time_budget=30.0).fit(wine.X, wine.y)
    again = search.set_params(time_budget=30, n_trials=2).fit(wine.X, wine.y)
    assert again.study_.study_name == first.study_.study_name
    assert len(again.study_.trials) == 2


def test_fewer_n_trials_than_stored_says_it_refits_the_best_of_all(wine, tmp_path):
    """``n_trials`` is how far a stored search goes, not another search: a larger one
    runs the difference; a smaller one runs none and refits the best of the stored
    trials, which a warning says (a grid over ``n_trials``, larger first, gave the
    smaller the larger one's best silently)."""
    settings = dict(spaces="linear", cv=3, random_state=0, recheck=False,
                    storage=f"sqlite:///{tmp_path / 'search.db'}")
    larger = MetaOptClassifier(n_trials=3, **settings).fit(wine.X, wine.y)
    with pytest.warns(UserWarning, match="n_trials=1, and the search kept in storage has 3 "
                      "complete trials: none runs, and the best of all 3 is refitted"):
        smaller = MetaOptClassifier(n_trials=1, **settings).fit(wine.X, wine.y)
    assert smaller.study_.study_name == larger.study_.study_name
    assert smaller.best_params_ == larger.best_params_


def _studies(url):
    import optuna

    return optuna.get_all_study_summaries(url)
