"""CostModel: trial seconds predicted from the knowledge base's fit times, and the time
limit MetaModel proposals keep to with it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from metaopt.kb import load_default
from metaopt.ranker import load_meta_model
from metaopt.ranker._cost import CostModel
from metaopt.ranker._metamodel import config_key
from metaopt.spaces import get_space

SIZES = ("n_instances", "n_features", "n_classes")


@pytest.fixture(scope="module")
def timed_rows() -> pd.DataFrame:
    frame = load_default().to_frame()
    return frame[(frame["status"] == "ok") & (frame["fit_time"] > 0)
                 & (frame["task"] == "classification")]


def _combined(rows: pd.DataFrame) -> list[dict]:
    """Knowledge-base rows as configurations of the combined space ``all``."""
    return [{"space": family, **{f"{family}__{k}": v for k, v in json.loads(c).items()}}
            for family, c in zip(rows["space"], rows["config"], strict=True)]


def test_cost_model_orders_fit_times_on_unseen_datasets(timed_rows):
    keys = sorted(timed_rows["dataset_key"].unique())
    unseen = set(keys[::2])
    model = CostModel.fit(timed_rows[~timed_rows["dataset_key"].isin(unseen)])
    correlations = []
    for _, rows in timed_rows[timed_rows["dataset_key"].isin(unseen)].groupby("dataset_key"):
        sizes = {f: rows[f"mf_{f}"].iloc[0] for f in SIZES}
        predicted = model.log_fit_seconds(sizes, get_space("all"), _combined(rows))
        correlations.append(spearmanr(predicted, rows["fit_time"]).statistic)
    # measured 0.86 on average (the families' and the configurations' costs together)
    assert np.mean(correlations) > 0.75 and min(correlations) > 0.5


def test_cost_model_calibrates_on_timed_trials(timed_rows):
    model = CostModel.fit(timed_rows)
    space = get_space("knn")
    sizes = {"n_instances": 1000, "n_features": 10, "n_classes": 2}
    configs = [space.default("classification")]
    prior = model.predict(sizes, space, configs)
    fit = np.exp(model.log_fit_seconds(sizes, space, configs))
    np.testing.assert_allclose(prior, 5 * fit)  # about 5 fits a trial before any timing
    slow = model.predict(sizes, space, configs, timed=[(configs[0], 40 * fit[0])])
    np.testing.assert_allclose(slow, 40 * fit)
    # no sizes, or a family without a model: no prediction
    assert np.isnan(model.predict(None, space, configs)).all()
    # knowledge-base columns (mf_*), as the portfolio and the ranker take them, are the
    # same dataset: they were read as a dataset of 0 rows, 10x quicker on spambase
    np.testing.assert_allclose(
        model.predict(pd.Series(sizes).add_prefix("mf_"), space, configs), prior)
    # a size that is not given is not taken as 0
    assert np.isnan(model.predict({"n_features": 10}, space, configs)).all()
    only_knn = CostModel({"knn": model.families["knn"]})
    svm = get_space("svm")
    assert np.isnan(only_knn.predict(sizes, svm, [svm.default("classification")])).all()


def test_cost_model_round_trips_and_refuses_other_files(timed_rows, tmp_path):
    model = CostModel.fit(timed_rows)
    path = model.save(tmp_path / "cost.json")
    again = CostModel.load(path)
    space = get_space("all")
    configs = _combined(timed_rows.head(50))
    sizes = {f: timed_rows[f"mf_{f}"].iloc[0] for f in SIZES}
    np.testing.assert_allclose(again.predict(sizes, space, configs),
                               model.predict(sizes, space, configs))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "version": 99}))
    with pytest.raises(ValueError, match="version"):
        CostModel.load(path)
    data["families"]["knn"]["encoded"] = ["renamed"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="changed"):
        CostModel.load(path)
    with pytest.raises(ValueError, match="timed evaluations"):
        CostModel.fit(timed_rows.head(5))


def test_proposals_skip_configurations_that_would_not_finish(timed_rows):
    model = load_meta_model("all", "classification")
    assert model.cost is not None  # shipped with the knowledge-base models
    model.time_fraction = 0.5  # off by default
    space = get_space("all")
    row = timed_rows[timed_rows["mf_n_instances"] > 1000].iloc[0]
    sizes = pd.Series({k[3:]: float(v) for k, v in row.items() if k.startswith("mf_")})
    candidates = model.candidates("classification", seed=0)
    observed = [(p, 0.5) for p in model.portfolio.params_[:model.n_warmup]]
    unlimited = model.propose(sizes, observed, candidates=candidates, seed=0)
    # a limit below the pick's predicted time: the pick changes to one that fits
    picked = model.cost.predict(sizes, space, [unlimited.params])[0]
    time_left = picked / model.time_fraction * 0.9
    limited = model.propose(sizes, observed, candidates=candidates, seed=0,
                            time_left=time_left)
    assert model.cost.predict(sizes, space, [limited.params])[0] <= 0.9 * picked
    assert "skipped as predicted" in limited.reason
    # nothing fits: the cheapest candidate; the warm start keeps to the limit too
    tiny = model.propose(sizes, observed, candidates=candidates, seed=0, time_left=1e-6)
    seen = {config_key(p) for p, _ in observed}
    untried = [c for c in candidates if config_key(c) not in seen]
    assert model.cost.predict(sizes, space, [tiny.params])[0] == pytest.approx(
        model.cost.predict(sizes, space, untried).min())
    first = model.propose(sizes, [], candidates=[], time_left=1e-6)
    assert first.source == "portfolio" and "the quickest of" in first.reason
    cheapest = model.cost.predict(sizes, space, model.portfolio.params_).min()
    assert model.cost.predict(sizes, space, [first.params])[0] == pytest.approx(cheapest)


def test_a_model_without_ranker_keeps_to_the_limit_after_the_portfolio(timed_rows):
    """Once its portfolio was used up, a ranker-less model proposed the first free
    candidate whatever its predicted time (8.3 s against a 1 s limit on spambase's
    sizes), labelled "portfolio" although it is one of the random candidates."""
    from metaopt.ranker import MetaModel

    shipped = load_meta_model("all", "classification")
    model = MetaModel(shipped.portfolio, None, cost=shipped.cost, time_fraction=0.5)
    space = get_space("all")
    sizes = {"n_instances": 4601, "n_features": 57, "n_classes": 2}
    candidates = model.candidates("classification", seed=0)
    observed = [(p, 0.5) for p in model.portfolio.params_]
    rest = candidates[len(observed):]
    slow = int(np.argmax(model.cost.predict(sizes, space, rest) > 1.0))
    observed += [(c, 0.5) for c in rest[:slow]]  # the next free candidate is too slow
    proposal = model.propose(sizes, observed, candidates=candidates, time_left=2.0)
    assert model.cost.predict(sizes, space, [proposal.params])[0] <= 1.0
    assert proposal.source == "random" and "skipped as predicted" in proposal.reason


def test_a_portfolio_pick_after_skipped_ones_states_the_regret_of_the_picks_tried():
    """With picks skipped as too slow, the reason of portfolio pick 9 gave the regret of
    the portfolio's first 9 picks (0.021), though only this one had been tried (0.245):
    it states the expected best-so-far regret of the picks tried, this one included."""
    model = load_meta_model("all", "classification")
    model.time_fraction = 0.5
    sizes = pd.Series({"n_instances": 4601.0, "n_features": 57.0, "n_classes": 2.0})
    portfolio = model.portfolio
    column = {config_key(p): i for i, p in enumerate(portfolio.params_)}
    order = portfolio.suggest(len(portfolio.params_), sizes)
    # the portfolio's figure for its first n picks is the regret of those n together
    assert portfolio.expected_regret(list(range(0)), sizes) == 1.0
    for n in (1, 3):
        cols = [column[config_key(p)] for p in order["params"][:n]]
        assert portfolio.expected_regret(cols, sizes) == pytest.approx(
            order["expected_regret"].iloc[n - 1])
    observed: list = []
    for time_left in (3.0, 1.0):
        proposal = model.propose(sizes, observed, candidates=[], time_left=time_left)
        observed.append((proposal.params, 0.5))
        pick = int(proposal.reason.split(":")[0].removeprefix("portfolio pick "))
        assert pick > len(observed)  # earlier picks were skipped
        tried = [column[config_key(p)] for p, _ in observed]
        figure = f"expected best-so-far regret {portfolio.expected_regret(tried, sizes):.3f}"
        assert figure in proposal.reason, proposal.reason
        assert f"{order['expected_regret'].iloc[pick - 1]:.3f}" not in proposal.reason
    assert "after this pick;" in model.propose(sizes, [], candidates=[], time_left=3.0).reason
    assert "after the 2 portfolio picks tried, this one included;" in proposal.reason
    # without skips, the n-th pick's figure is the portfolio's for its first n picks
    first = model.propose(sizes, [], candidates=[])
    assert first.reason == (f"portfolio pick 1: expected best-so-far regret "
                            f"{order['expected_regret'].iloc[0]:.3f} over the knowledge base "
                            "after this pick")
