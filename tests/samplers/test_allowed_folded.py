"""MetaSampler._allowed folds each finished trial into running aggregates once (what it
asked for, in which branch; the claimed names it ran; the names another sampler set)
and walks only the trials still running: its predicate is the one rebuilt from all the
trials, in their order, whatever the order they finished in."""

from __future__ import annotations

import json
import warnings

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from metaopt.samplers import MetaSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)

KERNEL = CategoricalDistribution(["rbf", "linear", "poly"])
WIDE_C = FloatDistribution(1e-3, 1e3, log=True)
GAMMA = FloatDistribution(1e-4, 10.0, log=True)


def _add(study: optuna.Study, params: dict, dists: dict, claim: dict | None = None,
         running: bool = False) -> int:
    """A trial of ``params`` asked in ``dists`` (in their order), claiming ``claim``."""
    state = TrialState.RUNNING if running else TrialState.COMPLETE
    trial = create_trial(state=state, value=None if running else 1.0, params=params,
                         distributions=dists,
                         system_attrs={"metaopt:config": json.dumps(claim)} if claim else {})
    return study._storage.create_new_trial(study._study_id, template_trial=trial)


def _loaded(study: optuna.Study) -> MetaSampler:
    sampler = MetaSampler(space="svm", task="classification", seed=0)
    sampler._bind(study)
    assert sampler._loaded(study)
    return sampler


def _verdicts(study, sampler, scratch, taken, probes) -> list[bool] | None:
    """What the folded predicate says of each of ``probes`` (None: anything goes), the
    same as the one ``scratch`` rebuilds from all the trials."""
    scratch._asked.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folded, rebuilt = (None if (pred := s._allowed(study, taken)) is None
                           else [pred(p) for p in probes] for s in (sampler, scratch))
    assert folded == rebuilt
    return folded


def test_the_folded_predicate_is_the_one_rebuilt_from_all_the_trials():
    study = optuna.create_study(direction="maximize")
    sampler = _loaded(study)
    study.sampler = sampler  # (_pinned reads the study's sampler)
    scratch = _loaded(study)  # rebuilds from all the trials at every call
    probes = [dict(p) for p in sampler._active.candidates("classification", seed=0)[:150]]
    narrow = {"kernel": "rbf", "C": 30.0, "gamma": 0.01, "coef0": 0.0}  # in both Cs
    between = {"kernel": "rbf", "C": 70.0, "gamma": 0.01, "coef0": 0.0}  # in (1, 100) only
    probes += [narrow, between, {**narrow, "coef0": 0.5}]
    taken = [{"kernel": "rbf", "C": 30.0, "gamma": 0.01, "coef0": 0.5}]

    def check() -> list[bool] | None:
        return _verdicts(study, sampler, scratch, taken, probes)

    assert check() is None  # no trial: anything goes
    for i in range(5):  # the space's ranges; coef0 claimed, never asked for
        kernel = ["rbf", "linear"][i % 2]
        params = {"kernel": kernel, "C": 10.0 ** (i - 2)} | (
            {"gamma": 0.01} if kernel == "rbf" else {})
        dists = {"kernel": KERNEL, "C": WIDE_C} | ({"gamma": GAMMA} if kernel == "rbf" else {})
        _add(study, params, dists, claim={**params, "coef0": 0.5})
    verdict = check()  # coef0 is the objective's: the taken one differs only there
    assert verdict is not None and not verdict[-3] and not verdict[-1]
    late = _add(study, {"kernel": "rbf", "C": 10.0}, {
        "kernel": KERNEL, "C": FloatDistribution(1.0, 100.0, log=True)}, running=True)
    verdict = check()
    assert verdict is not None and verdict[-2]  # C=70 inside (1, 100)
    for c in (2.0, 5.0):  # later trials ask C in (0.5, 50) in the same branch (rbf)
        _add(study, {"kernel": "rbf", "C": c, "gamma": 0.01},
             {"kernel": KERNEL, "C": FloatDistribution(0.5, 50.0, log=True), "gamma": GAMMA},
             claim={"kernel": "rbf", "C": c, "gamma": 0.01, "coef0": 0.5})
    verdict = check()
    assert verdict is not None and not verdict[-2]  # C=70: the later trials' range holds
    study._storage.set_trial_state_values(late, TrialState.COMPLETE, [1.0])
    verdict = check()  # it finished last, but it is the earlier trial: still (0.5, 50)
    assert verdict is not None and not verdict[-2] and verdict[-3] is False
    assert sampler._asked.scan == len(study.trials)
    assert not sampler._names_warned
    zombie = _add(study, {"kernel": "poly"}, {"kernel": KERNEL}, running=True)
    for _ in range(5):  # "degre" for "degree" after 8 trials: a renamed parameter
        params = {"kernel": "poly", "C": 1.0, "degre": 3}
        _add(study, params, {"kernel": KERNEL, "C": WIDE_C,
                             "degre": CategoricalDistribution([2, 3, 4])},
             claim={"kernel": "poly", "C": 1.0, "degree": 4, "coef0": 0.5})
    with pytest.warns(UserWarning, match="'degre'.*'degree'"):
        sampler._allowed(study, taken)
    check()
    assert sampler._asked.scan == study._storage.get_trial(zombie).number  # the trials after a running one: walked again
    study._storage.set_trial_state_values(zombie, TrialState.FAIL)
    check()
    assert sampler._asked.scan == len(study.trials)


def test_the_branches_keep_the_order_the_trials_first_asked_in():
    """C on a grid of 1 for linear (trial 0), of 0.5 for rbf (trials 1 and 2): a poly
    configuration, in no branch asked, takes C on the first branch's grid (2.3 as 2.0,
    a copy of the taken C=2.0), however late the rbf trial finished."""
    study = optuna.create_study(direction="maximize")
    sampler, scratch = _loaded(study), _loaded(study)
    study.sampler = sampler

    def add(kernel: str, step: float, running: bool = False) -> int:
        return _add(study, {"kernel": kernel, "C": 2.0}, {
            "kernel": KERNEL, "C": FloatDistribution(1.0, 100.0, step=step)}, running=running)

    taken = [{"kernel": "poly", "C": 2.0}]
    probes = [{"kernel": "poly", "C": 2.3}, {"kernel": "rbf", "C": 2.3}]
    add("linear", 1.0)
    add("rbf", 0.5)
    assert _verdicts(study, sampler, scratch, taken, probes) == [False, True]
    last = add("rbf", 0.5, running=True)
    assert _verdicts(study, sampler, scratch, taken, probes) == [False, True]
    study._storage.set_trial_state_values(last, TrialState.COMPLETE, [1.0])
    assert _verdicts(study, sampler, scratch, taken, probes) == [False, True]


def test_the_taken_keys_are_computed_again_when_what_the_objective_takes_changes():
    """The taken configurations' keys, as the objective takes them, are kept between
    suggestions while the distributions it narrows and the names it does not take stay
    the same: a later trial asking C on a grid, a PartialFixedSampler pinning C (and
    dropping it again) make them computed again; the predicate is the one rebuilt from
    scratch at every step."""
    study = optuna.create_study(direction="maximize")
    sampler, scratch = _loaded(study), _loaded(study)
    pins: dict = {}

    def check() -> list[bool] | None:
        scratch._asked.clear()
        verdicts = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in (sampler, scratch):  # (_pinned reads the study's sampler)
                study.sampler = optuna.samplers.PartialFixedSampler(pins, s) if pins else s
                pred = s._allowed(study, taken + [dict(running)])  # a running claim: new
                verdicts.append(None if pred is None else [pred(p) for p in probes])
        assert verdicts[0] == verdicts[1]
        return verdicts[0]

    # the same dicts on every suggestion, as a finished trial's (MetaSampler._finished)
    taken = [{"kernel": "rbf", "C": 2.3, "gamma": 0.01, "coef0": 0.5},
             {"kernel": "linear", "C": 40.0, "coef0": 0.5}]
    running = {"kernel": "rbf", "C": 900.0, "gamma": 1.0, "coef0": 0.5}
    probes = [{"kernel": "rbf", "C": 2.0, "gamma": 0.01, "coef0": 0.5},  # C=2.3 on a grid
              {"kernel": "rbf", "C": 7.0, "gamma": 0.01, "coef0": 0.5},  # but for C
              {"kernel": "linear", "C": 40.0, "coef0": 0.0},  # but for coef0
              {"kernel": "rbf", "C": 2.0, "gamma": 0.1, "coef0": 0.5}]  # another gamma
    for kernel in ("rbf", "linear"):  # the space's C; coef0 claimed, never asked for
        params = {"kernel": kernel, "C": 1.0} | ({"gamma": 0.01} if kernel == "rbf" else {})
        _add(study, params, {"kernel": KERNEL, "C": WIDE_C}
             | ({"gamma": GAMMA} if kernel == "rbf" else {}), claim={**params, "coef0": 0.5})
    assert check() == [True, True, False, True]
    assert check() == [True, True, False, True]  # (kept)
    grid = FloatDistribution(1.0, 100.0, step=1.0)  # later trials ask C on a grid of 1
    for kernel in ("rbf", "linear"):
        params = {"kernel": kernel, "C": 3.0} | ({"gamma": 0.01} if kernel == "rbf" else {})
        _add(study, params, {"kernel": KERNEL, "C": grid}
             | ({"gamma": GAMMA} if kernel == "rbf" else {}), claim={**params, "coef0": 0.5})
    assert check() == [False, True, False, True]  # the taken C=2.3 ran as 2.0
    pins["C"] = 5.0  # a wrapping sampler sets C: configurations differing there are one
    assert check() == [False, False, False, True]
    assert check() == [False, False, False, True]
    pins.clear()
    assert check() == [False, True, False, True]


def test_a_taken_configuration_is_taken_as_the_objective_takes_it_once(monkeypatch):
    """While the trials ask for nothing new, a suggestion computes the key of no taken
    configuration it has seen (the same dict) again: only a new one's."""
    from metaopt.samplers import _meta_sampler

    study = optuna.create_study(direction="maximize")
    sampler = _loaded(study)
    study.sampler = sampler
    for c in (1.0, 2.0, 3.0):  # kernel and C narrowed (the space's: 4 kernels, 1e-3 to 1e3)
        _add(study, {"kernel": "linear", "C": c},
             {"kernel": KERNEL, "C": FloatDistribution(0.5, 50.0, log=True)},
             claim={"kernel": "linear", "C": c})
    taken = [{"kernel": "linear", "C": c} for c in (1.0, 2.0, 3.0)]
    calls = []
    fits = _meta_sampler._fits
    monkeypatch.setattr(_meta_sampler, "_fits", lambda *args: calls.append(args) or fits(*args))
    assert sampler._allowed(study, taken) is not None
    assert len(calls) == 6  # kernel and C of each
    calls.clear()
    sampler._allowed(study, taken)
    assert not calls
    sampler._allowed(study, taken + [{"kernel": "linear", "C": 4.0}])
    assert [args[2] for args in calls] == ["linear", 4.0]
