"""ConfigRanker: adaptation on real TabRepo tasks, persistence and bad input."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from metaopt.kb import TABREPO_SPACE
from metaopt.ranker import ConfigRanker, MetaModel


def _held_out(tabrepo_matrix, split, i=0):
    keys = list(tabrepo_matrix.tasks.index)
    row = keys.index(split[1][i])
    return tabrepo_matrix.metafeatures.iloc[row], tabrepo_matrix.scores[row]


def test_adaptation_improves_ranking_on_unseen_tasks(tabrepo_matrix, split, small_meta_model):
    ranker = small_meta_model.ranker
    params = list(tabrepo_matrix.configs["params"])
    gains = []
    for i in range(len(split[1])):
        mf, scores = _held_out(tabrepo_matrix, split, i)
        rng = np.random.default_rng(i)
        seen = rng.choice(len(params), 20, replace=False)
        rest = [j for j in range(len(params)) if j not in set(seen)]
        observed = [(params[j], scores[j]) for j in seen]
        zero, _ = ranker.predict(mf, [], [params[j] for j in rest])
        adapted, _ = ranker.predict(mf, observed, [params[j] for j in rest])
        truth = scores[rest]
        gains.append(spearmanr(adapted, truth)[0] - spearmanr(zero, truth)[0])
    assert np.mean(gains) > 0


def test_predict_runs_its_networks_on_one_thread_and_gives_the_caller_its_threads_back(
        tabrepo_matrix, split, small_meta_model, monkeypatch):
    """The ranker's networks are small: with the cores busy, torch's threads waited on each
    other (a MetaSampler suggestion 0.86-1.05 s instead of 0.09-0.12 s at load 8). predict
    runs them on one thread; the caller's setting is back afterwards, in its own thread
    and in another one (the setting is per thread: Optuna's n_jobs runs trials in threads)."""
    import threading

    import torch

    ranker = small_meta_model.ranker
    params = list(tabrepo_matrix.configs["params"])
    mf, scores = _held_out(tabrepo_matrix, split)
    observed = [(params[j], scores[j]) for j in range(5)]
    seen = []
    for member in ranker.members_:
        predict = member.predict
        monkeypatch.setattr(member, "predict", lambda *args, _predict=predict: (
            seen.append(torch.get_num_threads()), _predict(*args))[1])
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ranker.predict(mf, observed, params[5:])
        assert torch.get_num_threads() == 2
        other = []
        worker = threading.Thread(target=lambda: (
            other.append(torch.get_num_threads()), ranker.predict(mf, observed, params[5:]),
            other.append(torch.get_num_threads())))
        worker.start()
        worker.join()
        assert len(other) == 2 and other[0] == other[1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert seen == [1] * (2 * len(ranker.members_))


def test_metasgd_learning_rates_are_learned(small_meta_model):
    rates = small_meta_model.ranker.learning_rates()
    assert set(rates) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    values = np.concatenate([r.ravel() for r in rates.values()])
    assert not np.allclose(values, small_meta_model.ranker.inner_lr)  # moved from the init


def test_save_load_round_trip_and_tampering(small_meta_model, tabrepo_matrix, split, tmp_path):
    mf, _ = _held_out(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])
    observed = [(params[0], 0.1), (params[1], 0.3), (params[2], 0.2)]
    before = small_meta_model.ranker.predict(mf, observed, params[3:])
    directory = small_meta_model.save(tmp_path / "model")
    loaded = MetaModel.load(directory)
    after = loaded.ranker.predict(mf, observed, params[3:])
    np.testing.assert_allclose(before[0], after[0], rtol=1e-5, atol=1e-6)
    # another version's file is refused with a clear message
    ranker_json = directory / "ranker.json"
    good = ranker_json.read_text()
    meta = json.loads(good)
    meta["body"]["format"] = "metaopt-ranker/1"
    ranker_json.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="is not a metaopt-ranker/2 file"):
        ConfigRanker.load(directory / "ranker")
    # edited settings or weights: refused by the checksums
    meta["body"]["format"] = "metaopt-ranker/2"
    meta["body"]["params"]["n_ensemble"] = 1
    ranker_json.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="settings were changed"):
        ConfigRanker.load(directory / "ranker")
    ranker_json.write_text(good)
    weights = directory / "ranker.safetensors"
    data = bytearray(weights.read_bytes())
    data[-300:] = bytes(b ^ 0xFF for b in data[-300:])  # still a well-formed file
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="weights were changed"):
        ConfigRanker.load(directory / "ranker")
    # not safetensors at all (a pickle payload): refused, never executed
    weights.write_bytes(b"\x80\x04cos\nsystem\n" + b"x" * 64)
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        ConfigRanker.load(directory / "ranker")


@pytest.mark.parametrize("lost", ["ranker.json", "ranker.safetensors"])
def test_a_model_directory_missing_half_of_its_ranker_is_refused(small_meta_model, tmp_path,
                                                                 lost):
    """A directory with ranker.safetensors but no ranker.json loaded quietly as a model
    without a ranker (its warm start only)."""
    directory = small_meta_model.save(tmp_path / "model")
    (directory / lost).unlink()
    with pytest.raises(ValueError, match=lost.replace(".", r"\.")):
        MetaModel.load(directory)


def test_consistent_files_with_bad_weights_are_refused(small_meta_model, tmp_path):
    """Files whose checksums agree but whose weights are NaN, or hold another number of
    members than the settings say (written through the same checked format)."""
    from metaopt._model_files import load_checked, save_checked

    ranker = small_meta_model.ranker
    path = ranker.save(tmp_path / "r")
    body, tensors = load_checked(tmp_path / "r.json", tmp_path / "r.safetensors",
                                 "metaopt-ranker/2", "ranker")
    nan = {k: v.clone() for k, v in tensors.items()}
    nan[next(iter(nan))].fill_(float("nan"))
    save_checked(tmp_path / "r.json", tmp_path / "r.safetensors", body, nan)
    with pytest.raises(ValueError, match="non-finite weights"):
        ConfigRanker.load(path)
    body["params"]["n_ensemble"] = ranker.n_ensemble - 1
    save_checked(tmp_path / "r.json", tmp_path / "r.safetensors", body, tensors)
    with pytest.raises(ValueError, match="do not belong together"):
        ConfigRanker.load(path)


def test_save_paths_with_dots_and_stale_parts(small_meta_model, tmp_path):
    ranker = small_meta_model.ranker
    ranker.save(tmp_path / "run_0.5")
    ranker.save(tmp_path / "run_0.7.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run_0.5.json", "run_0.5.safetensors", "run_0.7.json", "run_0.7.safetensors"]
    assert ConfigRanker.load(tmp_path / "run_0.5").task_keys_ == ranker.task_keys_
    # a portfolio-only model saved over a full one: the old ranker and cost are removed
    full = small_meta_model.save(tmp_path / "m")
    MetaModel(small_meta_model.portfolio).save(full)
    assert MetaModel.load(full).ranker is None
    assert not (full / "ranker.safetensors").exists()


def test_an_interrupted_save_leaves_the_earlier_model_whole(small_meta_model, tmp_path,
                                                            monkeypatch):
    """Saving over an earlier model and interrupted after the portfolio was written, the
    directory held the new portfolio beside the old ranker and policy, and loaded without
    a word. Parts are now staged, then moved in together."""
    directory = MetaModel(small_meta_model.portfolio, n_warmup=2).save(tmp_path / "m")
    before = sorted(p.name for p in directory.iterdir())

    save_ranker = ConfigRanker.save

    def interrupted(self, path):  # after the ranker's files, before the policy's
        save_ranker(self, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(ConfigRanker, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small_meta_model.save(directory)
    monkeypatch.undo()
    loaded = MetaModel.load(directory)
    assert loaded.ranker is None and loaded.n_warmup == 2
    assert sorted(p.name for p in directory.iterdir()) == before  # no staging folder left


def test_settings_from_numpy_save(tabrepo_matrix, split, tmp_path):
    """Settings from a sweep (np.arange gives numpy integers) trained, then saving failed
    with 'Object of type int64 is not JSON serializable', losing the training."""
    from metaopt.ranker import Portfolio

    ranker = ConfigRanker(iterations=np.int64(2), n_ensemble=np.int64(1),
                          hidden=(np.int64(8),), inner_lr=np.float32(0.05))
    train = tabrepo_matrix.subset(split[0][:8])
    model = MetaModel.fit(train, ranker=ranker, n_warmup=np.int64(2))
    model.portfolio = Portfolio(n_neighbors=np.int64(3)).fit(train)
    back = MetaModel.load(model.save(tmp_path / "m"))
    assert (back.n_warmup, back.portfolio.n_neighbors) == (2, 3)
    assert (back.ranker.iterations, back.ranker.hidden) == (2, (8,))
    candidates = list(train.configs["params"][:5])
    mf = train.metafeatures.iloc[0]
    np.testing.assert_allclose(back.ranker.predict(mf, [], candidates)[0],
                               model.ranker.predict(mf, [], candidates)[0], rtol=1e-6)


def test_load_refuses_parts_of_other_models(small_meta_model, tmp_path):
    from metaopt.ranker import load_meta_model

    directory = small_meta_model.save(tmp_path / "m")
    load_meta_model("svm", "classification").portfolio.save(directory / "portfolio.json")
    with pytest.raises(ValueError, match="do not belong together"):
        MetaModel.load(directory)
    (directory / "portfolio.json").write_text('{"format": "metaopt-portfolio/1"}')
    with pytest.raises(ValueError, match="portfolio"):
        MetaModel.load(directory)
    (directory / "portfolio.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="cannot read metaopt portfolio"):
        MetaModel.load(directory)



def test_load_says_which_folder_to_pass(small_meta_model, tmp_path):
    """`train-meta-model --out DIR` writes one folder per space: loading DIR itself, or a
    path that does not exist, says so (both read "holds no metaopt meta-model")."""
    small_meta_model.save(tmp_path / "models" / "tabrepo_lightgbm")
    (tmp_path / "models" / "tabrepo_lightgbm" / "ranker").mkdir()
    with pytest.raises(ValueError, match=r"one meta-model per space.*models/tabrepo_lightgbm"):
        MetaModel.load(tmp_path / "models")
    with pytest.raises(ValueError, match="does not exist"):
        MetaModel.load(tmp_path / "modles")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        MetaModel.load(tmp_path / "file")
    with pytest.raises(ValueError, match="holds no metaopt meta-model"):
        MetaModel.load(tmp_path / "models" / "tabrepo_lightgbm" / "ranker")

def test_bad_inputs(small_meta_model, tabrepo_matrix, split):
    ranker = small_meta_model.ranker
    mf, _ = _held_out(tabrepo_matrix, split)
    good = TABREPO_SPACE.default("classification")
    with pytest.raises(ValueError, match="candidates is empty"):
        ranker.predict(mf, [], [])
    with pytest.raises(ValueError, match=r"observed\[0\] is not a valid tabrepo_lightgbm"):
        ranker.predict(mf, [({**good, "colour": 1}, 0.5), (good, 0.2)], [good])
    with pytest.raises(ValueError, match=r"candidates\[0\].*learning_rate"):
        ranker.predict(mf, [], [{**good, "learning_rate": 7.0}])
    with pytest.raises(ValueError, match="must be finite"):
        ranker.predict(mf, [(good, np.nan), (good, 0.1)], [good])
    with pytest.raises(ValueError, match="not fitted"):
        ConfigRanker().predict(mf, [], [good])
    with pytest.raises(ValueError, match="algorithm must be one of"):
        ConfigRanker(algorithm="magic").fit(tabrepo_matrix)


def test_space_the_model_was_not_trained_on():
    from metaopt.ranker import load_meta_model, resolve_space

    with pytest.raises(ValueError, match="no shipped meta-model for space 'nonexistent'"):
        load_meta_model("nonexistent")
    # a typo: the space to pass (a model folder's name loads: test_shipped.py)
    for wrong in ("random_forests", "random_forests@classification"):
        with pytest.raises(ValueError, match=r"did you mean 'random_forest'\? spaces with one: "
                           r"\['all', .*'random_forest', 'svm'"):
            load_meta_model(wrong, "classification")
    with pytest.raises(ValueError, match="unknown search space"):
        resolve_space("nonexistent")


def test_proposals_never_repeat(small_meta_model, tabrepo_matrix, split):
    mf, scores = _held_out(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])
    observed = []
    for _ in range(8):
        proposal = small_meta_model.propose(mf, observed, candidates=params)
        observed.append((proposal.params, scores[params.index(proposal.params)]))
    assert [o[0] for o in observed[:2]] == small_meta_model.portfolio.suggest(2, mf)["params"].tolist()
    assert len({json.dumps(p, sort_keys=True) for p, _ in observed}) == 8


def test_every_fourth_proposal_after_the_warm_start_is_random(small_meta_model, tabrepo_matrix,
                                                              split):
    """Interleaved random search: proposals 6, 10, ... (after 2 warm-start picks) are
    random, reproducible with the seed, and off with ``random_every=0``."""
    mf, scores = _held_out(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])

    def run(model, seed):
        observed, sources = [], []
        for _ in range(11):
            proposal = model.propose(mf, observed, candidates=params, seed=seed)
            observed.append((proposal.params, scores[params.index(proposal.params)]))
            sources.append(proposal.source)
        return observed, sources

    observed, sources = run(small_meta_model, seed=0)
    assert sources == ["portfolio"] * 2 + ["ranker"] * 3 + ["random"] + ["ranker"] * 3 + [
        "random", "ranker"]
    assert run(small_meta_model, seed=0)[0] == observed
    assert run(small_meta_model, seed=1)[0][5] != observed[5]
    never = copy.copy(small_meta_model)
    never.random_every = 0
    assert "random" not in run(never, seed=0)[1]
    with pytest.raises(ValueError, match="random_every must be an integer >= 0"):
        MetaModel(small_meta_model.portfolio, random_every=-1)


def test_a_tied_score_makes_the_next_proposal_random(small_meta_model, tabrepo_matrix, split):
    """With ``random_after_tie``, a score equal to an earlier one (a plateau) is followed
    by a random proposal; distinct scores leave the ranker in charge."""
    mf, scores = _held_out(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])
    observed = [(params[i], float(scores[i])) for i in range(4)]
    assert len({s for _, s in observed}) == 4
    model = copy.copy(small_meta_model)
    model.random_after_tie = True
    assert model.propose(mf, observed, candidates=params, seed=0).source == "ranker"
    tied = observed[:3] + [(params[3], observed[0][1])]
    proposal = model.propose(mf, tied, candidates=params, seed=0)
    assert proposal.source == "random" and "ties an earlier one" in proposal.reason
    assert small_meta_model.propose(mf, tied, candidates=params, seed=0).source == "ranker"


def test_policy_round_trips(small_meta_model, tmp_path):
    model = copy.copy(small_meta_model)
    model.random_every = 7
    model.random_after_tie = True
    model.family_patience = 3
    loaded = MetaModel.load(model.save(tmp_path / "model"))
    assert (loaded.random_every, loaded.n_warmup, loaded.n_random) == (7, 2, 0)
    assert loaded.random_after_tie and loaded.family_patience == 3


def test_adaptation_keeps_the_best_and_the_most_recent():
    from metaopt.ranker._ranker import _adaptation_subset

    scores = np.array([5.0, 1.0, 9.0, 2.0, 8.0, 0.0, 3.0, 4.0])
    assert list(_adaptation_subset(scores, 100)) == list(range(8))
    kept = _adaptation_subset(scores, 4)  # best two (2, 4) + two most recent (6, 7)
    assert list(kept) == [2, 4, 6, 7]


def test_neighbours_stay_valid_and_close(small_meta_model):
    space = small_meta_model.space
    center = small_meta_model.portfolio.params_[0]
    near = small_meta_model.neighbours("classification", [center], n=50, seed=0)
    assert len(near) == 50
    assert near == small_meta_model.neighbours("classification", [center], n=50, seed=0)
    for params in near:
        space.check_params(params, "classification")
    uniform = copy.copy(small_meta_model)
    uniform.n_random = 50
    far = uniform.candidates("classification", seed=0)[-50:]
    dist = [np.abs(space.encode(p) - space.encode(center)).mean() for p in near]
    rand = [np.abs(space.encode(p) - space.encode(center)).mean() for p in far]
    assert np.median(dist) < 0.5 * np.median(rand)


def test_refined_adds_neighbours_of_the_best_unless_exploring(small_meta_model):
    model = copy.copy(small_meta_model)
    model.random_every = 4  # with n_warmup=2: the proposal after 5 seen is a random one
    params = list(model.portfolio.params_)
    observed = [(params[i], float(i)) for i in range(4)]  # the last ones score best
    base = params[4:6]
    refined = model.refined("classification", base, observed, 4, seed=0)
    assert refined[:2] == base and len(refined) == 2 + 3 * 32
    assert refined == model.refined("classification", base, observed, 4, seed=0)
    space = model.space
    for block, center in zip(range(2, len(refined), 32), (3, 2, 1), strict=True):
        dist = [np.abs(space.encode(p) - space.encode(params[center])).mean()
                for p in refined[block:block + 32]]  # neighbours of the best first
        worst = [np.abs(space.encode(p) - space.encode(params[0])).mean()
                 for p in refined[block:block + 32]]
        assert np.median(dist) < np.median(worst)
    assert model.explores(5)
    assert model.refined("classification", base, observed, 5, seed=0) == base
    assert model.refined("classification", base, observed[:1], 1, seed=0) == base  # warm start
    # failed configurations (-inf) have nothing to refine: neighbours of the one success
    failed = [(params[0], 0.5), (params[1], -np.inf), (params[2], -np.inf), (params[3], np.nan)]
    only = model.refined("classification", base, failed, 4, seed=0)
    assert len(only) == 2 + 32
    assert only[2:] == model.neighbours("classification", [params[0]], seed=4)


@pytest.mark.parametrize("algorithm", ["maml", "anil", "none"])
def test_every_algorithm_trains_and_ranks(algorithm, tabrepo_matrix, split):
    train = tabrepo_matrix.subset(split[0])
    ranker = ConfigRanker(algorithm=algorithm, iterations=3, n_ensemble=1, progress=False,
                          random_state=0).fit(train)
    mf, scores = _held_out(tabrepo_matrix, split)
    params = list(tabrepo_matrix.configs["params"])
    observed = [(params[j], scores[j]) for j in range(5)]
    mean, std = ranker.predict(mf, observed, params[5:])
    assert mean.shape == std.shape == (len(params) - 5,) and np.isfinite(mean).all()


def test_fit_and_load_leave_the_callers_torch_stream_alone(tabrepo_matrix, split, tmp_path):
    """A seeded fit re-seeded torch's global generator (every draw of the caller's after
    it was the same whatever the caller's seed) and a load drew the unused initial weights
    from it."""
    import torch

    train = tabrepo_matrix.subset(split[0][:6])
    torch.manual_seed(1)
    expected = torch.rand(3)
    for step in ("fit", "load"):
        torch.manual_seed(1)
        if step == "fit":
            ranker = ConfigRanker(n_ensemble=2, iterations=2, hidden=(8,),
                                  random_state=0).fit(train)
            path = ranker.save(tmp_path / "ranker")
        else:
            ConfigRanker.load(path)
        assert torch.equal(torch.rand(3), expected), step


def test_a_random_state_that_is_no_seed_is_refused_by_name(tabrepo_matrix, split):
    """-1, a RandomState or 1.5 failed in the first member's training with numpy's
    'expected non-negative integer' or 'unsupported operand type(s) for *'."""
    train = tabrepo_matrix.subset(split[0][:4])
    for bad in (-1, np.random.RandomState(0), 1.5):
        with pytest.raises(ValueError, match="random_state must be an integer >= 0"):
            ConfigRanker(n_ensemble=1, iterations=1, hidden=(8,), random_state=bad).fit(train)
        with pytest.raises(ValueError, match="random_state must be an integer >= 0"):
            MetaModel.fit(train, ranker=ConfigRanker(random_state=bad))


def test_neighbours_of_a_configuration_on_the_bounds_stay_inside():
    from metaopt.ranker import load_meta_model

    model = load_meta_model("linear", "classification")
    space = model.space
    dists = space.distributions("classification")
    for edge in ("low", "high"):
        center = {name: getattr(d, edge) if hasattr(d, "low") else d.choices[0]
                  for name, d in dists.items()}
        for params in model.neighbours("classification", [center], n=100, seed=1):
            space.encode(params)  # raises when exp(log(high)) overshoots high


def test_a_family_that_stops_improving_is_set_aside(pmlb_root):
    """With ``family_patience``, the shipped combined model leaves a family whose last
    evaluations did not beat the best score (GAMETES: near-chance random forests) for
    the other families' candidates; an improvement brings the family back."""
    from metaopt.data.sources import LocalSource
    from metaopt.metafeatures import compute_dataset
    from metaopt.ranker import load_meta_model
    from metaopt.spaces._combined import FAMILY

    data = LocalSource(pmlb_root).load("GAMETES_Epistasis_2_Way_20atts_0.4H_EDM_1_1")
    mf = compute_dataset(data)
    model = copy.copy(load_meta_model("all", "classification"))
    model.family_patience = 3
    candidates = model.candidates("classification", seed=0)
    forests = [c for c in candidates if c[FAMILY] == "random_forest"][:4]
    stuck = list(zip(forests, [0.53, 0.52, 0.53, 0.50], strict=True))
    assert model.stale_families(stuck) == {"random_forest"}
    proposal = model.propose(mf, stuck, candidates=candidates, seed=0)
    assert proposal.params[FAMILY] != "random_forest"
    assert "set aside after 3 evaluations without improvement: random_forest" in proposal.reason
    assert model.stale_families(stuck[:3]) == set()
    assert model.stale_families(stuck[:3] + [(forests[3], 0.54)]) == set()
    # once every candidates' family is set aside, the counts start over: the ranker
    # moves between families again instead of refining one to the end
    knn = [c for c in candidates if c[FAMILY] == "knn"][:3]
    all_stale = stuck + [(c, 0.5) for c in knn]
    assert model.stale_families(all_stale) == {"random_forest", "knn"}
    assert model.stale_families(all_stale, {"random_forest", "knn"}) == set()
    assert model.stale_families(all_stale + [(forests[0], 0.5)],
                                {"random_forest", "knn"}) == set()
    assert model.stale_families(all_stale, {"random_forest", "knn", "svm"}) == {
        "random_forest", "knn"}
    model.family_patience = 0
    assert model.stale_families(stuck) == set()
    with pytest.raises(ValueError, match="family_patience must be an integer >= 0"):
        MetaModel(model.portfolio, family_patience=-1)


def test_min_distance_leaves_out_near_copies_of_evaluated_configurations(pmlb_root, tmp_path):
    """The plateau of docs/sampler.md: after high-C linear SVMs were evaluated, the shipped
    svm model proposes more of them; with ``min_distance`` no proposal is that close to
    an evaluated configuration while farther candidates remain."""
    from metaopt.data.sources import LocalSource
    from metaopt.metafeatures import compute_dataset
    from metaopt.ranker import load_meta_model

    mf = compute_dataset(LocalSource(pmlb_root).load("heart_statlog"))
    model = copy.copy(load_meta_model("svm", "classification"))
    space = model.space
    observed = [({"C": 1.0, "kernel": "rbf", "gamma": 0.1}, 0.83),
                ({"C": 3.94, "kernel": "linear"}, 0.826),
                ({"C": 9.99, "kernel": "rbf", "gamma": 0.0526}, 0.826)]
    observed += [({"C": c, "kernel": "linear"}, s)
                 for c, s in ((553.7, 0.819), (547.0, 0.822), (375.5, 0.83), (1000.0, 0.785))]
    candidates = model.candidates("classification", seed=0) + [
        {"C": c, "kernel": "linear"} for c in (400.0, 600.0, 900.0)]

    def distance(params, seen):
        return min(np.abs(space.encode(params) - space.encode(p)).max() for p, _ in seen)

    assert model.propose(mf, observed, candidates=candidates, seed=0).params["kernel"] == "linear"
    model.min_distance = 0.05
    sources = []
    for seen in (observed, observed[:6]):  # a ranker proposal, then an exploring one
        proposal = model.propose(mf, seen, candidates=candidates, seed=0)
        assert distance(proposal.params, seen) >= 0.05
        sources.append(proposal.source)
    assert sources == ["ranker", "random"]
    loaded = MetaModel.load(model.save(tmp_path / "model"))
    assert loaded.min_distance == 0.05
    with pytest.raises(ValueError, match=r"min_distance must be in \[0, 1\]"):
        MetaModel(model.portfolio, min_distance=2.0)


def test_fit_shows_a_bar_per_member_by_default(tabrepo_matrix, split, capsys):
    """Meta-training (minutes on a knowledge base) was silent by default, and progress=True
    showed one bar per ensemble member without saying which member it counted."""
    train = tabrepo_matrix.subset(split[0][:4])
    ranker = ConfigRanker(n_ensemble=2, iterations=4, hidden=(8,), random_state=0).fit(train)
    err = capsys.readouterr().err
    for m in (1, 2):
        assert f"tabrepo_lightgbm (classification): member {m}/2:" in err and "4/4" in err
    assert [len(h["iteration"]) for h in ranker.histories_] == [4, 4]
    ConfigRanker(n_ensemble=2, iterations=4, hidden=(8,), random_state=0,
                 progress=False).fit(train)
    assert capsys.readouterr().err == ""


def test_a_design_too_small_to_adapt_on_is_warned_of():
    """With 3 configurations per dataset (build-kb --n-design 3) every episode's support
    set held at most one, whose ranking loss is 0: the adaptation was never meta-trained,
    without a word. 4 give support sets of two."""
    import warnings

    from metaopt.kb import load_default
    from metaopt.ranker import PerformanceMatrix

    frame = load_default().to_frame()
    rows = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    rows = rows[rows["dataset_key"].isin(rows["dataset_key"].unique()[:5])]

    def fit(n_configs):
        kept = rows[rows["config_id"].isin(rows["config_id"].unique()[:n_configs])]
        return ConfigRanker(iterations=5, n_ensemble=2, random_state=0, progress=False).fit(
            PerformanceMatrix.from_frame(kept, "knn"))

    with pytest.warns(UserWarning, match="build-kb --n-design") as caught:
        ranker = fit(3)
    assert len(caught) == 1 and not any(ranker.histories_[0]["inner_loss"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert any(fit(4).histories_[0]["inner_loss"])
