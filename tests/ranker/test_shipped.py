"""The meta-models shipped in metaopt/_models load as data and are described by cards."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from metaopt.ranker import (
    MetaModel,
    PerformanceMatrix,
    load_meta_model,
    shipped_spaces,
    training_datasets,
)
from metaopt.ranker._shipped import _models_root, _shipped_models, shipped_space


def test_shipped_models_exist():
    spaces = shipped_spaces()
    assert "tabrepo_lightgbm" in spaces
    assert "hist_gradient_boosting" in spaces
    model = load_meta_model("hist_gradient_boosting", "classification")
    assert set(model.portfolio.task_types_) == {"classification"}


@pytest.mark.parametrize("name", _shipped_models())
def test_each_shipped_model_loads_and_has_a_card(name):
    model = MetaModel.load(_models_root() / name)
    card = json.loads((_models_root() / name / "card.json").read_text())
    assert card["space"] == name.split("@")[0]
    assert sorted(card["datasets"]) == sorted(model.portfolio.task_keys_)
    assert (_models_root() / name / "CARD.md").read_text().startswith("# Meta-model card")
    assert set(card["datasets"]) <= training_datasets(card["space"])
    first = model.portfolio.suggest(1)["params"][0]
    model.space.encode(first)  # the portfolio's configurations belong to the space
    # regrets keep their spread (an unbounded score once squeezed a model's to ~0)
    assert np.median(model.portfolio.regret_) > 0.01



def test_load_meta_model_takes_a_model_folders_name_and_refuses_a_task_typo():
    """load_meta_model("knn@classification"), the folder's name in metaopt/_models and in
    the docs, was refused ("no shipped meta-model for space 'knn@classification' (task
    None); did you mean 'knn'?"), and a misspelt task read as a mismatch ("trained on
    classification datasets, this one is clasification: pass a clasification model")."""
    model = load_meta_model("knn@classification")
    assert model.portfolio.task_keys_ == load_meta_model("knn", "classification") \
        .portfolio.task_keys_
    assert set(load_meta_model("knn@regression", "regression").portfolio.task_types_) \
        == {"regression"}
    with pytest.raises(ValueError, match=r"'knn@regression' is the regression model: "
                       r"ask for task='regression', or load_meta_model\('knn', "
                       r"'classification'\)"):
        load_meta_model("knn@regression", "classification")
    with pytest.raises(ValueError, match=r"task must be 'classification', 'regression' or "
                       r"None, got 'clasification'"):
        load_meta_model("knn", "clasification")
    with pytest.raises(ValueError, match=r"no shipped meta-model for space "
                       r"'knn@clasification'; did you mean 'knn'"):
        load_meta_model("knn@clasification")

def test_training_datasets_refuses_a_space_without_a_shipped_model():
    # a typo used to give an empty set: every dataset then passed as unseen
    assert training_datasets("random_forest") and training_datasets() >= training_datasets("all")
    with pytest.raises(ValueError, match="no shipped meta-model for space 'random-forest'; "
                                         "did you mean 'random_forest'"):
        training_datasets("random-forest")
    # a combination is served by the "all" model (suggest, MetaOptClassifier): it was
    # refused as a space without a model, "did you mean 'svm'? ... Train one"
    assert training_datasets("svm+knn") == training_datasets("all")


def test_train_meta_model_on_yahpo_train_instances(shared_data, tmp_path, capsys):
    from metaopt.cli import main
    from metaopt.kb import YahpoBenchmark

    code = main(["train-meta-model", "--yahpo", "lcbench", "--yahpo-data",
                 str(shared_data / "yahpo"), "--out", str(tmp_path), "--n-configs", "16",
                 "--iterations", "3", "--n-ensemble", "1", "--no-progress"])
    assert code == 0 and "yahpo_lcbench" in capsys.readouterr().out
    model = MetaModel.load(tmp_path / "yahpo_lcbench")
    card = json.loads((tmp_path / "yahpo_lcbench" / "card.json").read_text())
    bench = YahpoBenchmark("lcbench", shared_data / "yahpo", split="train")
    assert sorted(card["datasets"]) == sorted(bench.dataset_key(i) for i in bench.instances)
    assert card["n_configs"] == 16
    valid = YahpoBenchmark("lcbench", shared_data / "yahpo", split="valid")
    assert not {valid.dataset_key(i) for i in valid.instances} & set(card["datasets"])
    candidates, observed = model.candidates("classification", 0), []
    for _ in range(model.n_warmup + 2):  # portfolio picks, then the adapted ranker
        params = model.propose(None, observed, candidates=candidates).params
        score = valid.evaluate([params], valid.instances[0])[valid.score_target].iloc[0]
        observed.append((params, float(score)))
    assert len({json.dumps(p, sort_keys=True) for p, _ in observed}) == len(observed)
    assert all(set(p) <= {q.name for q in bench.space.params} for p, _ in observed)


def test_train_meta_model_on_the_default_knowledge_base(tmp_path):
    from metaopt.kb import load_default
    from metaopt.ranker._train import train_meta_models

    written = train_meta_models(load_default(), tmp_path, spaces=["knn", "all"], progress=False,
                                ranker_options={"iterations": 2, "n_ensemble": 1},
                                policy_options={"time_fraction": 0.5})
    assert set(written) == {"knn@classification", "knn@regression", "all@classification",
                            "all@regression"}
    combined = MetaModel.load(written["all@regression"])
    card = (written["all@regression"] / "CARD.md").read_text()
    assert "set aside after 3 evaluations" in card
    assert "more than 0.5 of the time left are skipped" in card
    assert combined.time_fraction == 0.5  # the policy, as the card states it
    # R^2 below 0 counts as 0: a diverging SVR does not squeeze the regrets to ~0
    assert np.median(combined.portfolio.regret_) > 0.05


def test_every_family_gets_a_model_per_task_type(tmp_path):
    """extra_trees is designed apart per task type (criteria differ): with more
    classification than regression datasets in the knowledge base, only classification's
    configurations covered half of the datasets, and one model named `extra_trees` was
    trained on the classification datasets alone (the regression ones 'left out')."""
    from metaopt.kb import load_default
    from metaopt.ranker._train import train_meta_models

    kb = load_default()
    frame = kb.to_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no dataset left out
        written = train_meta_models(kb, tmp_path, spaces=["extra_trees"],
                                    progress=False,
                                    ranker_options={"iterations": 2, "n_ensemble": 1})
    assert set(written) == {"extra_trees@classification", "extra_trees@regression"}
    for task in ("classification", "regression"):
        card = json.loads((written[f"extra_trees@{task}"] / "card.json").read_text())
        rows = frame[(frame["space"] == "extra_trees") & (frame["task"] == task)]
        assert sorted(card["datasets"]) == sorted(rows["dataset_key"].unique())
        assert card["task_types"] == {task: len(card["datasets"])}


def test_a_knowledge_base_too_small_for_a_cost_model_still_trains(tmp_path):
    """5 datasets x 3 knn configurations: no family has the 20 timed evaluations a cost
    model needs; the meta-model is saved without one, with a warning (training used to
    stop with an error)."""
    from metaopt.kb import KnowledgeBase, load_default
    from metaopt.ranker._train import train_meta_models

    frame = load_default().to_frame()
    rows = frame[(frame["space"] == "knn") & (frame["task"] == "classification")]
    keys = rows["dataset_key"].drop_duplicates().head(5)
    rows = rows[rows["dataset_key"].isin(keys)].groupby("dataset_key").head(3)
    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(rows)
    with pytest.warns(UserWarning, match="knn: no cost model"):
        written = train_meta_models(small, tmp_path / "models", progress=False,
                                    ranker_options={"iterations": 2, "n_ensemble": 1})
    model = MetaModel.load(written["knn"])
    assert model.cost is None
    assert len(model.portfolio.suggest(3, None)) == 3


def test_shipped_space_of_an_unregistered_space():
    assert shipped_space("tabrepo_lightgbm").name == "tabrepo_lightgbm"
    for name in _shipped_models():
        if name.startswith("yahpo_"):
            assert shipped_space(name).params == MetaModel.load(_models_root() / name).space.params
    with pytest.raises(ValueError, match="unknown search space"):
        shipped_space("no_such_space")


@pytest.mark.parametrize("name", ["tabrepo_lightgbm+knn", "knn + yahpo_lcbench"])
def test_a_benchmark_space_joined_with_others_says_why_not(name, pmlb_root):
    """'tabrepo_lightgbm+knn' was "unknown search space 'tabrepo_lightgbm'" (suggest), or
    unknown though MetaSampler's message listed tabrepo_lightgbm among the known ones."""
    from metaopt._suggest import suggest
    from metaopt.data import LocalSource
    from metaopt.samplers import MetaSampler

    wine = LocalSource(str(pmlb_root)).load("wine_recognition", "classification")
    part = name.split("+")[name.startswith("knn")].strip()
    why = (rf"'{part}' is the space of a shipped meta-model trained on a benchmark's "
           rf"configurations \(TabRepo, YAHPO Gym\), with no model metaopt fits: only "
           rf"metaopt's own spaces join with '\+' .*; use '{part}' alone")
    for call in (lambda: shipped_space(name), lambda: MetaSampler(space=name),
                 lambda: suggest(wine.X, wine.y, space=name)):
        with pytest.raises(ValueError, match=why):
            call()


def test_train_meta_model_takes_one_meta_dataset(tmp_path, capsys):
    from metaopt.cli import main

    with pytest.raises(SystemExit):
        main(["train-meta-model", "--tabrepo", "dir", "--yahpo", "lcbench", "--out",
              str(tmp_path)])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(("options", "message"), [
    (["--tabrepo", "dir", "--kb", "default"], "--kb: not used with --tabrepo"),
    (["--yahpo", "lcbench", "--yahpo-data", "dir", "--kb", "my.sqlite", "--spaces", "knn",
      "--min-datasets", "3"], "--kb, --spaces, --min-datasets: not used with --yahpo"),
    (["--tabrepo", "dir", "--yahpo-data", "dir", "--n-configs", "256"],
     "--yahpo-data, --n-configs: not used with --tabrepo"),
    (["--yahpo-data", "dir"], "--yahpo-data: only with --yahpo"),
    (["--kb", "default", "--n-configs", "64"], "--n-configs: only with --yahpo"),
    (["--cost-only", "--tabrepo", "dir"], "--tabrepo: not used with --cost-only"),
    (["--cost-only", "--yahpo", "lcbench", "--spaces", "knn"],
     "--yahpo, --spaces: not used with --cost-only"),
    (["--cost-only", "--iterations", "2", "--seed", "0"],
     "--iterations, --seed: not used with --cost-only"),
    (["--yahpo", "lcbench"], "--yahpo needs --yahpo-data DIR"),
])
def test_train_meta_model_refuses_the_options_it_would_ignore(tmp_path, capsys, options,
                                                              message):
    """--kb (default 'default') was silently ignored with --tabrepo or --yahpo, as were
    --yahpo-data and --n-configs without --yahpo, --spaces and --min-datasets with
    --yahpo, and --tabrepo, --yahpo or any training option with --cost-only: the
    command now refuses them, on one line naming them, before any work."""
    from metaopt.cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["train-meta-model", *options, "--out", str(out), "--no-progress"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"metaopt train-meta-model: error: {message}" in err and "Traceback" not in err
    assert not out.exists()


def test_default_combination_is_of_the_families_the_knowledge_base_has(tmp_path, pmlb_root):
    """A knowledge base of knn and linear trained an 'all' model over all seven families:
    its ranker, blind to the other five, proposed extra_trees in 8 of 16 trials."""
    from metaopt.kb import KnowledgeBase, load_default
    from metaopt.ranker._train import train_meta_models

    frame = load_default().to_frame()
    rows = frame[frame["space"].isin(["knn", "linear"]) & (frame["task"] == "classification")]
    keys = rows["dataset_key"].drop_duplicates().head(5)
    rows = rows[rows["dataset_key"].isin(keys)].groupby(["dataset_key", "space"]).head(3)
    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(rows)
    with pytest.raises(ValueError, match=r"families \['hist_gradient_boosting', "
                                         r"'random_forest', 'extra_trees', 'svm', 'mlp'\] "
                                         r"have no configuration evaluated.*"
                                         r"'linear\+knn'"):
        PerformanceMatrix.from_frame(rows, "all")
    with pytest.warns(UserWarning, match="no cost model"):
        written = train_meta_models(small, tmp_path / "models", progress=False,
                                    ranker_options={"iterations": 2, "n_ensemble": 1})
    assert set(written) == {"knn", "linear", "linear+knn"}
    assert MetaModel.load(written["linear+knn"]).space.name == "linear+knn"
    # a combination with a family the model lacks: named (it said "give a model of
    # 'svm+knn'", not why this one would not do)
    import metaopt
    from metaopt.data import LocalSource

    ds = LocalSource(pmlb_root).load("wine_recognition")
    with pytest.raises(ValueError, match=r"combination 'linear\+knn', which lacks \['svm'\] "
                                         r"of 'svm\+knn': leave them out"):
        metaopt.suggest(ds, space="svm+knn", meta_model=written["linear+knn"])


def test_a_space_with_too_few_datasets_is_skipped_with_a_warning(tmp_path):
    """--spaces knn,linear on a knowledge base with linear on 3 datasets wrote only knn,
    said nothing and exited 0."""
    from metaopt.kb import KnowledgeBase, load_default
    from metaopt.ranker._train import train_meta_models

    frame = load_default().to_frame()
    rows = frame[frame["space"].isin(["knn", "linear"]) & (frame["task"] == "classification")]
    keys = list(rows["dataset_key"].drop_duplicates().head(5))
    rows = rows[(rows["space"] == "knn") | rows["dataset_key"].isin(keys[:3])]
    rows = rows[rows["dataset_key"].isin(keys)].groupby(["dataset_key", "space"]).head(3)
    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(rows)
    with pytest.warns(UserWarning) as caught:
        written = train_meta_models(small, tmp_path / "models", spaces=["knn", "linear"],
                                    progress=False,
                                    ranker_options={"iterations": 2, "n_ensemble": 1})
    assert set(written) == {"knn"}
    assert any("linear: not trained, 3 dataset(s)" in str(w.message) for w in caught)


def test_default_combination_skips_a_task_type_some_family_lacks(tmp_path):
    """knn on classification and regression, linear on classification only: the default
    'linear+knn' failed on the regression datasets (no linear evaluation) and the run
    stopped; the combination is now trained on classification, regression skipped with a
    warning."""
    import pandas as pd

    from metaopt.kb import KnowledgeBase, load_default
    from metaopt.ranker._train import train_meta_models

    frame = load_default().to_frame()

    def some(space, task):
        rows = frame[(frame["space"] == space) & (frame["task"] == task)]
        keys = rows["dataset_key"].drop_duplicates().head(5)
        return rows[rows["dataset_key"].isin(keys)].groupby("dataset_key").head(3)

    small = KnowledgeBase(tmp_path / "small.sqlite")
    small.add_frame(pd.concat([some("knn", "classification"), some("linear", "classification"),
                               some("knn", "regression")]))
    with pytest.warns(UserWarning, match=r"linear\+knn@regression: not trained, model "
                                         r"families \['linear'\] have no evaluations"):
        written = train_meta_models(small, tmp_path / "models", progress=False,
                                    ranker_options={"iterations": 2, "n_ensemble": 1})
    assert "linear+knn@classification" in written
    assert MetaModel.load(written["linear+knn@classification"]).space.name == "linear+knn"


def test_a_combination_refuses_a_family_on_too_few_datasets():
    """knn on 8 datasets, linear on 2 of them: every linear configuration was dropped
    (evaluated on under half the datasets), and 'linear+knn' gave a matrix of knn
    configurations alone, so its model ranked linear blind."""
    import pandas as pd

    from metaopt.kb import load_default

    frame = load_default().to_frame()
    rows = frame[frame["task"] == "classification"]
    keys = rows.loc[rows["space"] == "knn", "dataset_key"].drop_duplicates()
    keys = keys[keys.isin(rows.loc[rows["space"] == "linear", "dataset_key"])].head(8)
    knn = rows[(rows["space"] == "knn") & rows["dataset_key"].isin(keys)]
    linear = rows[(rows["space"] == "linear") & rows["dataset_key"].isin(keys[:2])]
    with pytest.raises(ValueError, match=r"families \['linear'\] have no configuration "
                                         r"evaluated on 50% of the datasets.*'knn'"):
        PerformanceMatrix.from_frame(pd.concat([knn, linear]), "linear+knn")
    matrix = PerformanceMatrix.from_frame(pd.concat([knn, linear]), "linear+knn",
                                          min_coverage=0.2)
    assert {c.split("/")[0] for c in matrix.configs.index} == {"knn", "linear"}


def test_a_shipped_model_of_one_task_is_not_loaded_for_the_other():
    """load_meta_model("yahpo_lcbench", "regression") returned the classification-only
    lcbench model (its folder has no task in its name); a study then failed at every
    proposal."""
    import re

    assert load_meta_model("yahpo_lcbench", "classification") is not None
    with pytest.raises(ValueError, match=re.escape(
            "the shipped yahpo_lcbench meta-model was trained on classification datasets, "
            "this one is regression: pass a regression model")):
        load_meta_model("yahpo_lcbench", "regression")
    # one model for both tasks (TabRepo's tasks are of both)
    assert load_meta_model("tabrepo_lightgbm", "regression") is not None


def test_an_unknown_space_gets_the_closest_shipped_one():
    """MetaSampler(space="knnn") said "unknown search space 'knnn'; spaces with a shipped
    meta-model: [...]" without the one meant, which get_space names ("did you mean")."""
    from metaopt.ranker._shipped import shipped_space
    from metaopt.samplers import MetaSampler

    for make in (shipped_space, lambda name: MetaSampler(space=name)):
        with pytest.raises(ValueError, match=r"^unknown search space 'knnn'; did you mean "
                           r"'knn'\? spaces with a shipped meta-model: \['all', "):
            make("knnn")
        with pytest.raises(ValueError, match=r"^unknown search space 'tabrepo'; did you "
                           r"mean 'tabrepo_lightgbm'\? "):
            make("tabrepo")
    with pytest.raises(ValueError, match=r"^unknown search space 'zzz'; spaces with a "):
        shipped_space("zzz")


def test_cost_only_says_what_out_should_hold(tmp_path, capsys):
    """`train-meta-model --cost-only --out DIR` said "DIR holds no knowledge-base
    meta-model" for a DIR that does not exist, and for one model's own folder (its
    portfolio.json inside), the likely slip: each now says which it is and what --out
    names; given the folder above, the model gets its cost.json."""
    import shutil

    from metaopt.cli import main

    models = tmp_path / "models"
    shutil.copytree(_models_root() / "knn@classification", models / "knn@classification",
                    ignore=shutil.ignore_patterns("cost.json"))
    what = ("--cost-only adds cost.json to the models `metaopt train-meta-model --out DIR` "
            "wrote into DIR, one folder each (knn@classification, all@regression, ...)")
    for out, why in [(tmp_path / "none", "does not exist"),
                     (models / "knn@classification", "is one model's folder")]:
        assert main(["train-meta-model", "--kb", "default", "--out", str(out),
                     "--cost-only"]) == 2
        assert capsys.readouterr().err == (
            f"metaopt train-meta-model: error: {out} holds no knowledge-base meta-model: "
            f"it {why}; {what}\n")
    assert not (tmp_path / "none").exists()
    assert main(["train-meta-model", "--kb", "default", "--out", str(models),
                 "--cost-only"]) == 0
    assert (models / "knn@classification" / "cost.json").is_file()
