"""Two workers (two MetaSamplers on one SQLite study) that clash over a portfolio pick:
both claim it, both see the other's claim and move on. The pick stays free for a trial
that chooses once nobody holds it (before: each trial that lost it never proposed it
again, so the warm start skipped it)."""

from __future__ import annotations

import threading

import optuna

from metaopt.ranker._shipped import shipped_space
from metaopt.samplers import MetaSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = shipped_space("knn")


def objective(trial):
    params = SPACE.sample(trial, "classification")
    return float(params["n_neighbors"])


def source(trial):
    return trial.system_attrs.get("metaopt:source", "").split(":")[0]


def test_a_pick_both_trials_of_a_clash_left_is_proposed_again(tmp_path):
    """Picks 1 and 2 ran; trials a and b both choose pick 3, both write their claim, then
    both read the other's: a chooses again first (b still holds pick 3: a takes pick 4),
    then b, when a holds pick 4 and nobody pick 3."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(storage=url, study_name="s", direction="maximize")
    samplers = {w: MetaSampler(space="knn", seed=0) for w in "ab"}
    studies = {w: optuna.load_study(study_name="s", storage=url, sampler=samplers[w])
               for w in "ab"}
    studies["a"].optimize(objective, n_trials=2)
    both_chose = threading.Barrier(2, timeout=20)
    both_claimed = threading.Barrier(2, timeout=20)
    a_moved_on = threading.Event()
    calls = {w: {"claim": 0, "clashes": 0, "choose": 0} for w in "ab"}

    def hooked(w):
        sampler = samplers[w]
        claim, clashes, choose = sampler._claim, sampler._clashes, sampler._choose

        def _choose(study, trial, lost):
            calls[w]["choose"] += 1
            if w == "b" and calls[w]["choose"] == 2:
                assert a_moved_on.wait(20)
            return choose(study, trial, lost)

        def _claim(study, trial, params, reason):
            calls[w]["claim"] += 1
            if calls[w]["claim"] == 1:
                both_chose.wait()
            return claim(study, trial, params, reason)

        def _clashes(study, trial, params):
            calls[w]["clashes"] += 1
            if calls[w]["clashes"] == 1:
                both_claimed.wait()
            clash = clashes(study, trial, params)
            if w == "a" and calls[w]["clashes"] == 2:
                a_moved_on.set()
            return clash

        sampler._choose, sampler._claim, sampler._clashes = _choose, _claim, _clashes

    for w in "ab":
        hooked(w)
    errors = []

    def run(w):
        try:
            studies[w].optimize(objective, n_trials=1)
        except BaseException as error:  # noqa: BLE001 (reported by the main thread)
            errors.append(error)
            both_chose.abort()
            both_claimed.abort()
            a_moved_on.set()

    threads = [threading.Thread(target=run, args=(w,)) for w in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert calls["a"]["clashes"] == calls["b"]["clashes"] == 2  # both lost their first claim
    trials = optuna.load_study(study_name="s", storage=url).trials
    assert [source(t) for t in trials[:2]] == ["portfolio pick 1", "portfolio pick 2"]
    got = {source(t) for t in trials[2:]}
    assert got == {"portfolio pick 3", "portfolio pick 4"}, got
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 4


def test_a_trial_that_lost_its_claim_and_got_no_other_withdraws_it():
    """After a lost clash, the meta-model gives the trial to the fallback (here
    ``handoff_after``: the other trial's claim made 3 seen): the trial's claim of the
    configuration it lost was left in place, so the configuration counted as taken twice
    and the claim served the parameters asked for later."""
    import copy
    import json

    from metaopt.ranker import load_meta_model

    model = copy.copy(load_meta_model("knn", "classification"))
    model.handoff_after = 3
    sampler = MetaSampler(space="knn", meta_model=model, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=2)
    clash, lost = sampler._clashes, []

    def _clashes(study, trial, params):
        if lost:
            return clash(study, trial, params)
        lost.append(params)  # another worker's trial (that never runs) claimed it first
        other = study._storage.create_new_trial(study._study_id)
        study._storage.set_trial_system_attr(other, "metaopt:config", json.dumps(params))
        return True

    sampler._clashes = _clashes
    trial = study.ask()
    params = SPACE.sample(trial, "classification")
    study.tell(trial, float(params["n_neighbors"]))
    assert lost, "no clash"
    frozen = study._storage.get_trial(trial._trial_id)
    assert frozen.system_attrs.get("metaopt:config") in (None, "null"), frozen.system_attrs
    assert frozen.system_attrs["metaopt:source"] == "fallback: handed off after a lost clash"
    assert {n: params.get(n) for n in lost[0]} != lost[0], params
