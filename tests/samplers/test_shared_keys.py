"""MetaSampler computes the key (``config_key``) of each trial's configuration once per
suggestion, shared with ``MetaModel.propose`` (``taken_keys``), and the proposals are
those computed without the shared keys."""

from __future__ import annotations

import json
from collections import Counter
from unittest import mock

import numpy as np
import optuna
import pytest

import metaopt.ranker._metamodel as metamodel_module
import metaopt.samplers._meta_sampler as sampler_module
from metaopt.ranker import ConfigRanker, load_meta_model
from metaopt.ranker._metamodel import config_key
from metaopt.ranker._ranker import _adaptation_subset, observed_scores
from metaopt.samplers import MetaSampler
from metaopt.samplers._meta_sampler import _reads_meta_features
from metaopt.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE, TASK = "hist_gradient_boosting", "classification"


@pytest.fixture(scope="module")
def model():
    return load_meta_model(SPACE, TASK)


def _random_configs(n: int, seed: int) -> list[dict]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [get_space(SPACE).sample(study.ask(), TASK) for _ in range(n)]


def _score(params: dict) -> float:
    return -float(np.sum((get_space(SPACE).encode(params) - 0.3) ** 2))


@pytest.mark.parametrize("n_observed", [0, 2, 5, 24])
def test_propose_with_the_callers_keys_proposes_the_same(model, n_observed):
    configs = _random_configs(n_observed + 2, seed=n_observed)
    observed = [(p, _score(p)) for p in configs[:n_observed]]
    exclude = configs[n_observed:]
    candidates = model.refined(TASK, model.candidates(TASK, seed=0), observed,
                               n_observed + 2, seed=0)
    keys = {config_key(p) for p, _ in observed} | {config_key(p) for p in exclude}
    for seed in (0, 1):
        plain = model.propose(None, observed, candidates=candidates, exclude=exclude,
                              seed=seed)
        with mock.patch.object(metamodel_module, "config_key",
                               wraps=metamodel_module.config_key) as counted:
            shared = model.propose(None, observed, candidates=candidates, exclude=exclude,
                                   seed=seed, taken_keys=keys)
        assert shared == plain
        # no key of an observed or excluded configuration is computed again
        again = [c for c in counted.call_args_list if config_key(c.args[0]) in keys]
        assert again == []


@pytest.mark.parametrize("n_observed", [5, 24])  # (past the warm start)
def test_propose_with_the_candidates_keys_proposes_the_same(model, n_observed):
    configs = _random_configs(n_observed + 2, seed=n_observed)
    observed = [(p, _score(p)) for p in configs[:n_observed]]
    candidates = model.refined(TASK, model.candidates(TASK, seed=0), observed,
                               n_observed, seed=0)
    keys = [config_key(c) for c in candidates]
    plain = model.propose(None, observed, candidates=candidates, seed=0)
    with mock.patch.object(metamodel_module, "config_key",
                           wraps=metamodel_module.config_key) as counted:
        shared = model.propose(None, observed, candidates=candidates, seed=0,
                               candidate_keys=keys)
    assert shared == plain
    ids = {id(c) for c in candidates}  # no candidate's key is computed again
    assert [c for c in counted.call_args_list if id(c.args[0]) in ids] == []
    with pytest.raises(ValueError, match="one key per candidate: got 3 for"):
        model.propose(None, observed, candidates=candidates, candidate_keys=keys[:3])


def test_the_fixed_candidates_keys_are_computed_once_per_study():
    """The sampler's fixed candidates (the portfolio's and the seeded random ones: the
    same at every suggestion) have their keys computed when they are drawn, not at every
    suggestion (before: each of them once per suggestion in propose)."""
    def objective(trial):
        return _score(get_space(SPACE).sample(trial, TASK))

    sampler = MetaSampler(space=SPACE, task=TASK, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=6)  # past the warm start: the ranker proposes
    fixed = {config_key(c) for c in sampler._active.candidates(TASK, seed=0)}
    computed: list[str] = []

    def counting(params):
        computed.append(config_key(params))
        return computed[-1]

    with mock.patch.object(metamodel_module, "config_key", side_effect=counting), \
            mock.patch.object(sampler_module, "config_key", side_effect=counting):
        study.optimize(objective, n_trials=2)
    sources = [t.system_attrs["metaopt:source"].split()[0] for t in study.trials[-2:]]
    assert sorted(sources) == ["random", "ranker"]  # (both from the candidates)
    run = {config_key(c) for t in study.trials
           for c in (t.params, json.loads(t.system_attrs["metaopt:config"]))}
    assert len(fixed - run) > 250
    assert [k for k in computed if k in fixed - run] == []


def test_each_trial_key_is_computed_once_per_suggestion():
    """Prefilled trials (not the sampler's: no claim, not among its candidates) have
    their key computed at most once per suggestion (the sampler keeps a finished trial's;
    before: twice, the sampler's taken set and propose's); the sampler's own finished
    trials, at most twice (once more as a candidate when the proposal came from the
    candidates; before: also propose's taken set and the clash check's claims)."""
    def objective(trial):
        return _score(get_space(SPACE).sample(trial, TASK))

    recorder = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=7))
    recorder.optimize(objective, n_trials=30)
    prefilled = [t.params for t in recorder.trials]
    study = optuna.create_study(direction="maximize",
                                sampler=MetaSampler(space=SPACE, task=TASK, seed=0))
    study.add_trials(recorder.trials)

    def suggestion() -> Counter[str]:
        """How many times each key is computed in one suggestion (a trial of the study)."""
        computed: Counter[str] = Counter()

        def counting(params):
            key = config_key(params)
            computed[key] += 1
            return key

        with mock.patch.object(metamodel_module, "config_key", side_effect=counting), \
                mock.patch.object(sampler_module, "config_key", side_effect=counting):
            study.optimize(objective, n_trials=1)
        assert study.trials[-1].system_attrs.get("metaopt:config")  # a claimed proposal
        return computed

    first = suggestion()  # every trial new to the sampler
    assert [first[config_key(p)] for p in prefilled] == [1] * len(prefilled)
    study.optimize(objective, n_trials=4)  # the sampler's own: claimed, finished
    # (the latest one finished after the suggestion before: its keys are kept now)
    own = [config_key(t.params) for t in study.trials[31:-1]]
    later = suggestion()
    assert max(later[config_key(p)] for p in prefilled) <= 1
    assert max(later[k] for k in own) <= 2, [later[k] for k in own]


def test_the_ranker_says_whether_it_reads_meta_features(model):
    assert model.ranker.reads_metafeatures  # TabRepo's meta-features vary
    assert _reads_meta_features(model)
    assert ConfigRanker().reads_metafeatures  # not fitted: it would read them
    assert not ConfigRanker(use_metafeatures=False).reads_metafeatures
    flat = load_meta_model(SPACE, TASK).ranker
    flat.scaler_.flat_ = np.ones_like(flat.scaler_.flat_)  # as YAHPO's: none varied
    assert not flat.reads_metafeatures
    flat.scaler_.flat_[0] = False
    assert flat.reads_metafeatures


def test_adaptation_subset_keeps_the_best_half_and_the_latest():
    scores = np.random.default_rng(0).normal(size=50)
    best = np.argsort(-scores, kind="stable")[:10]
    recent = [i for i in range(49, -1, -1) if i not in set(best)][:10]
    assert _adaptation_subset(scores, 20).tolist() == sorted([*best.tolist(), *recent])
    assert _adaptation_subset(scores, 60).tolist() == list(range(50))


@pytest.mark.parametrize("pair", [({"a": 1}, True), ({"a": 1}, "1"), ("a", 1.0), ({"a": 1},),
                                  ({"a": 1}, None)])
def test_observed_scores_still_refuses_a_bad_pair(pair):
    with pytest.raises(ValueError, match=r"observed\[1\] must be"):
        observed_scores([({"a": 1}, 0.5), pair])


def test_observed_scores_reads_any_number_pair():
    scores = observed_scores([({"a": 1}, 0.5), ({"a": 2}, 3), ({"a": 3}, np.float32(-1.5)),
                              [{"a": 4}, np.int64(2)], ({"a": 5}, -np.inf)])
    assert scores.tolist() == [0.5, 3.0, -1.5, 2.0, -np.inf]
