"""Integration audit of MetaOptClassifier / MetaOptRegressor and MetaMLPClassifier /
MetaMLPRegressor: what a fit records of what ran (the study's trials, ``warm_start_``,
``history_``, the fitted attributes) says what the search did.

(The MetaMLP part is here, not in tests/nas/, and the module's name is its own: two test
modules of one basename, such as tests/samplers/test_integration_audit.py, fail pytest's
collection of the whole suite, "import file mismatch".)"""

from __future__ import annotations

import pytest

from metaopt import MetaOptClassifier
from metaopt.data import LocalSource
from metaopt.nas import MetaMLPClassifier


@pytest.fixture(scope="module")
def breast_w(pmlb_root):
    return LocalSource(pmlb_root).load("breast_w", "classification")


def test_meta_samplers_picks_are_not_labelled_its_fallbacks(breast_w):
    """Every trial of a search without ``sampler=`` had the user attribute
    ``sampled_by="fallback sampler"``, the portfolio's picks and the adapted ranker's
    proposals too, so the study's user attributes (``trials_dataframe()``) contradicted
    their ``metaopt:source``: a trial the MetaSampler proposed has its reason there and
    no fallback label."""
    search = MetaOptClassifier(spaces="knn", n_trials=4, cv=2, random_state=0
                               ).fit(breast_w.X, breast_w.y)
    trials = search.study_.trials
    sources = [t.system_attrs.get("metaopt:source", "") for t in trials]
    assert [s.split(":")[0] for s in sources[:3]] == [f"portfolio pick {i}" for i in (1, 2, 3)]
    assert sources[3].startswith("ranker adapted")
    for trial, source in zip(trials, sources, strict=True):
        assert trial.user_attrs.get("sampled_by") is None, (trial.number, source)
    # what a trial's reason reads is unchanged: the sampler's
    assert list(search.history_["reason"]) == sources
    assert list(search.warm_start_["trial"]) == [0, 1, 2]



def _origins(search: MetaMLPClassifier) -> list[str]:
    return [t.user_attrs.get("source") or t.system_attrs["metaopt:source"].split(":")[0]
            .split(" on ")[0] for t in search.study_.trials]


@pytest.mark.parametrize(("n_prior_trials", "origins"), [
    (1, ["prior", "portfolio pick 1", "portfolio pick 2", "ranker adapted"]),
    (3, ["prior", "prior", "prior", "ranker adapted"]),
])
def test_meta_mlp_portfolio_fills_the_warm_up_the_prior_leaves(breast_w, n_prior_trials, origins):
    """MetaMLPClassifier (docs/nas.md, "What `fit` does", step 2): the page said the meta-model's portfolio starts with n_prior_trials=0 only: it
    proposes while fewer than its n_warmup (3) trials have run, so after one or two
    prior draws too; after 3 or more, none."""
    search = MetaMLPClassifier(n_trials=4, n_prior_trials=n_prior_trials, max_epochs=2,
                               cv=2, pruner="none", random_state=0
                               ).fit(breast_w.X, breast_w.y)
    assert _origins(search) == origins
    kept = next(r for r in search.refits_ if r["kept"])
    trial = search.study_.trials[kept["trial"]]
    assert trial.params == search.best_params_ and trial.value == search.best_score_
    assert trial.user_attrs["best_epoch"] == search.best_epoch_
    assert search.n_features_in_ == 9 and list(search.classes_) == [0, 1]


def test_default_first_says_what_the_trials_saw(breast_w):
    """A search on a sample starts from the default configuration; its reason said "the
    search samples the rows of a table larger than the knowledge base's" also when
    ``search_rows=200`` sampled a table of 699 rows (its tables are of up to 2,000)."""
    search = MetaOptClassifier(search_rows=200, n_trials=1, cv=2, random_state=0
                               ).fit(breast_w.X, breast_w.y)
    reason = ("the default configuration, first: the trials cross-validate on a sample "
              "of 200 rows (search_rows)")
    assert search.warm_start_[["trial", "reason"]].values.tolist() == [[0, reason]]
    assert search.history_["reason"].tolist() == [reason]
    assert "larger than the knowledge base" not in search.summary()
