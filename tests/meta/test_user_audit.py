"""Mistakes a new user makes with metaopt.meta get one ValueError / TypeError that says
what is wrong, not torch's error from deep inside the inner loop or the encoder."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from metaopt.meta import (
    MAML,
    ClassificationTasks,
    Episodes,
    MatchingNet,
    MetaTrainer,
    ProtoNet,
    RegressionTasks,
    RelationNet,
    Reptile,
    SinusoidTasks,
    save_checkpoint,
)
from metaopt.meta.networks import mlp


def _regression(tasks=3, shots=5, queries=6):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(tasks, shots, 2, generator=g), torch.randn(tasks, shots, 1, generator=g),
            torch.randn(tasks, queries, 2, generator=g), torch.randn(tasks, queries, 1, generator=g))


def _episodes(n_tasks=4):
    rng = np.random.default_rng(0)
    X = rng.random((60, 4)).astype("float32")
    y = np.repeat(np.arange(6), 10)
    return ClassificationTasks(X, y, n_way=3, k_shot=2, n_query=2, seed=0).sample(n_tasks)


# ---- empty support / query sets, batches of no task ------------------------------------

@pytest.mark.parametrize("learner", [MAML, Reptile])
def test_gradient_learner_refuses_empty_query_sets_and_batches(learner):
    """An empty query set or a batch of no task is refused by name (torch said "cannot
    reshape tensor of 0 elements"); an empty support set is adaptation on nothing, the
    model's own parameters, as a padded support of weights 0 (it failed inside the mse
    loss's reshape; the ranker trained without adaptation has such support sets)."""
    model = learner(mlp(2, [8]))
    sx, sy, qx, qy = _regression()
    adapted = model.adapt(sx[:, :0], sy[:, :0])
    for name, value in model.module.named_parameters():
        assert torch.equal(adapted[name], value.detach().expand_as(adapted[name]))
    unadapted = ((model.module(qx) - qy) ** 2).mean()
    if learner is MAML:
        torch.testing.assert_close(model.meta_loss(sx[:, :0], sy[:, :0], qx, qy), unadapted)
    with pytest.raises(ValueError, match=r"query_x has 0 shots .*at least one query"):
        model.meta_loss(sx, sy, qx[:, :0], qy[:, :0])
    with pytest.raises(ValueError, match=r"support_x holds 0 tasks"):
        model.adapt(sx[:0], sy[:0])
    with pytest.raises(ValueError, match=r"support_x holds 0 tasks"):
        model.meta_loss(sx[:0], sy[:0], qx[:0], qy[:0])


def test_gradient_learner_names_the_missing_task_dimension_of_the_tensors_it_was_given():
    """One task's data without its leading task dimension: the message names the tensors
    of that call (adapt takes two, meta_loss four), as the metric learners' does."""
    model = MAML(mlp(2, [8]))
    sx, sy, qx, qy = _regression()
    with pytest.raises(ValueError, match=r"^support_x must be \[tasks, shots, \.\.\.\] with a "
                       r"feature dimension, got shape \(5, 2\); one task's data needs a leading "
                       r"task dimension \(support_x\[None\], support_y\[None\]\)$"):
        model.adapt(sx[0], sy[0])
    with pytest.raises(ValueError, match=r"^query_y must be \[tasks, shots, \.\.\.\], got shape "
                       r"\(6,\); .*\(support_x\[None\], support_y\[None\], query_x\[None\], "
                       r"query_y\[None\]\)$"):
        model.meta_loss(sx, sy, qx, qy[0, :, 0])


@pytest.mark.parametrize("learner", [ProtoNet, MatchingNet])
def test_metric_learner_refuses_empty_sets_and_batches(learner):
    model = learner(nn.Linear(4, 3))
    ep = _episodes()
    with pytest.raises(ValueError, match=r"support_x has 0 shots"):
        model.predict(ep.support_x[:, :0], ep.support_y[:, :0], ep.query_x)
    with pytest.raises(ValueError, match=r"query_x has 0 shots"):
        model.predict(ep.support_x, ep.support_y, ep.query_x[:, :0])
    with pytest.raises(ValueError, match=r"support_x holds 0 tasks"):
        model.predict(ep.support_x[:0], ep.support_y[:0], ep.query_x[:0])


# ---- metric learners: labels and dtypes --------------------------------------------------

def test_metric_learner_names_labels_outside_the_episode_classes():
    model = ProtoNet(nn.Linear(4, 3))
    ep = _episodes()
    with pytest.raises(ValueError, match=r"query_y holds class indices from 1 to 3, and the "
                                         r"support set gives 3 classes, 0\.\.2"):
        model.meta_loss(ep.support_x, ep.support_y, ep.query_x, ep.query_y + 1)
    with pytest.raises(ValueError, match=r"support_y holds class indices from -1 to 1, and "
                                         r"its largest label gives 2 classes"):
        model.predict(ep.support_x, ep.support_y - 1, ep.query_x)
    with pytest.raises(ValueError, match=r"support_y .* and n_way gives 2 classes, 0\.\.1"):
        model.predict(ep.support_x, ep.support_y, ep.query_x, n_way=2)
    with pytest.raises(ValueError, match=r"support_y must hold class indices .*non-integer"):
        model.predict(ep.support_x, ep.support_y + 0.5, ep.query_x)
    bad = type(ep)(ep.support_x, ep.support_y, ep.query_x, ep.query_y + 1)
    with pytest.raises(ValueError, match=r"query_y holds class indices from 1 to 3"):
        model.training_step(bad)
    # whole-number float labels still read as class indices
    assert torch.equal(model.predict(ep.support_x, ep.support_y.float(), ep.query_x),
                       model.predict(ep.support_x, ep.support_y, ep.query_x))


def test_metric_learner_refuses_data_of_another_dtype_than_its_encoder():
    ep = _episodes()
    model = ProtoNet(nn.Linear(4, 3).double())
    with pytest.raises(ValueError, match=r"support_x is torch.float32 but the model's "
                                         r"parameters are torch.float64"):
        model.training_step(ep)
    with pytest.raises(ValueError, match=r"query_x is torch.float64 but"):
        ProtoNet(nn.Linear(4, 3)).predict(ep.support_x, ep.support_y, ep.query_x.double())
    # an encoder without parameters (the identity) takes any dtype
    assert ProtoNet(nn.Identity()).predict(ep.support_x.double(), ep.support_y,
                                           ep.query_x.double()).shape == (4, 6)


def test_relation_net_names_an_embedding_dim_other_than_the_encoders():
    ep = _episodes()
    with pytest.raises(ValueError, match=r"embeddings of size 3, but RelationNet was built "
                                         r"with embedding_dim=5: pass embedding_dim=3"):
        RelationNet(nn.Linear(4, 3), embedding_dim=5).predict(ep.support_x, ep.support_y,
                                                               ep.query_x)
    assert RelationNet(nn.Linear(4, 3), embedding_dim=3).predict(
        ep.support_x, ep.support_y, ep.query_x).shape == (4, 6)


# ---- training_step of a learn2learn-style batch -----------------------------------------

@pytest.mark.parametrize("learner", [lambda: MAML(mlp(2, [8])), lambda: Reptile(mlp(2, [8])),
                                     lambda: ProtoNet(nn.Linear(2, 3))])
def test_training_step_names_a_batch_that_is_no_episodes(learner):
    sx, sy, _, _ = _regression()
    with pytest.raises(TypeError, match=r"episodes must be metaopt.meta.Episodes\(support_x, "
                                        r"support_y, query_x, query_y\).*got a tuple"):
        learner().training_step((sx, sy))


# ---- a split with no class or group ------------------------------------------------------

def test_samplers_name_an_empty_classes_or_tasks_list():
    X = np.random.default_rng(0).random((60, 4))
    y = np.repeat(np.arange(6), 10)
    with pytest.raises(ValueError, match=r"classes is empty"):
        ClassificationTasks(X, y, n_way=3, n_query=2, classes=[])
    with pytest.raises(ValueError, match=r"tasks is empty"):
        RegressionTasks(X, X[:, 0], y, k_shot=2, n_query=2, tasks=np.array([]))


# ---- NaN in the meta-validation data ---------------------------------------------------

class _NaNTasks(SinusoidTasks):
    def sample(self, n_tasks):
        ep = super().sample(n_tasks)
        return Episodes(ep.support_x * float("nan"), ep.support_y, ep.query_x, ep.query_y)


def test_trainer_warns_once_of_a_meta_validation_loss_that_is_not_finite():
    trainer = MetaTrainer(MAML(mlp(1, [8])), iterations=3, meta_batch_size=4, eval_every=1,
                          valid_tasks_count=4, progress=False, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(SinusoidTasks(seed=0), _NaNTasks(seed=1))
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    assert "meta-validation loss at iteration 1 is nan" in messages[0]
    assert "NaN or infinite values (in support_x)" in messages[0]
    assert trainer.best_iteration_ is None and len(trainer.history_["valid_loss"]) == 3


def test_save_checkpoint_of_a_plain_module_says_to_save_the_learner(tmp_path):
    with pytest.raises(TypeError, match=r"learner must be a metaopt.meta learner .*got "
                                        r"Sequential"):
        save_checkpoint(mlp(1, [8]), tmp_path / "net")
    assert not list(tmp_path.iterdir())
    assert save_checkpoint(MAML(mlp(1, [8])), tmp_path / "maml").is_file()


# ---- integer inputs to a network of Linear layers ----------------------------------------

def test_integer_inputs_to_an_mlp_say_to_convert_them():
    sx, sy, qx, qy = _regression()
    model = MAML(mlp(2, [8]))
    with pytest.raises(ValueError, match=r"support_x is torch.int64, and the model's Linear "
                                         r"layers take floating inputs \(torch.float32\)"):
        model.meta_loss(sx.long(), sy, qx.long(), qy)
    with pytest.raises(ValueError, match=r"support_x is torch.int64"):
        MAML(nn.Linear(2, 1)).adapt(sx.long(), sy)
    with pytest.raises(ValueError, match=r"^x is torch.int64"):
        model.predict(model.adapt(sx, sy), qx.long())
    ep = _episodes()
    with pytest.raises(ValueError, match=r"query_x is torch.int64"):
        ProtoNet(mlp(4, [8])).predict(ep.support_x, ep.support_y, ep.query_x.long())
    # a model that takes integers (token ids) still gets them
    tokens = torch.randint(0, 10, (2, 4, 3))
    embedding = MAML(nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 1)))
    assert torch.isfinite(embedding.meta_loss(tokens, torch.randn(2, 4, 1), tokens,
                                              torch.randn(2, 4, 1)))


def test_mlp_names_a_hidden_that_is_not_a_list_of_widths():
    with pytest.raises(TypeError, match=r"hidden must be a sequence of layer widths, got 8; "
                                        r"\[8\] is one hidden layer"):
        mlp(4, 8)
    with pytest.raises(ValueError, match=r"every width of hidden must be an integer >= 1, "
                                         r"got 0"):
        mlp(4, [8, 0])
    assert [m.out_features for m in mlp(4, (np.int64(8),), 2) if isinstance(m, nn.Linear)] \
        == [8, 2]
    assert len(mlp(4, [])) == 1  # no hidden layer: one Linear


def test_predict_names_params_that_adapt_did_not_return_for_this_model():
    sx, sy, qx, _ = _regression()
    model = MAML(mlp(2, [8]))
    with pytest.raises(TypeError, match=r"params must be the dict of adapted parameters"):
        model.predict(None, qx)
    with pytest.raises(ValueError, match=r"params has no '0.weight'"):
        model.predict({"weight": torch.zeros(3, 1, 2)}, qx)
    wider = MAML(mlp(2, [16])).adapt(sx, sy)
    with pytest.raises(ValueError, match=r"params\['0.weight'\] is \(3, 16, 2\), not "
                                         r"\[tasks, \*\(8, 2\)\]"):
        model.predict(wider, qx)
    assert model.predict(model.adapt(sx, sy), qx).shape == (3, 6, 1)


def test_inputs_of_another_width_than_the_mlps_say_so():
    sx, sy, qx, qy = _regression()
    model = MAML(mlp(2, [8]))
    with pytest.raises(ValueError, match=r"support_x has 3 features \(shape \(3, 5, 3\)\), "
                                         r"and the model's first Linear layer takes 2"):
        model.meta_loss(torch.randn(3, 5, 3), sy, torch.randn(3, 6, 3), qy)
    with pytest.raises(ValueError, match=r"^x has 4 features"):
        model.predict(model.adapt(sx, sy), torch.randn(3, 6, 4))
    ep = _episodes()
    with pytest.raises(ValueError, match=r"support_x has 4 features .* takes 5"):
        MatchingNet(mlp(5, [8])).training_step(ep)


def test_a_split_of_one_class_is_not_told_to_use_n_way_1():
    X = np.random.default_rng(0).random((60, 4))
    y = np.repeat(np.arange(6), 10)
    with pytest.raises(ValueError, match=r"n_way=5 exceeds the 1 class\(es\) available; an "
                                         r"episode needs at least 2 classes"):
        ClassificationTasks(X, y, n_way=5, n_query=2, classes=[3])
    with pytest.raises(ValueError, match=r"exceeds the 3 class\(es\) available; use n_way <= 3"):
        ClassificationTasks(X, y, n_way=5, n_query=2, classes=[0, 1, 2])


class _NoTasks(SinusoidTasks):
    def sample(self, n_tasks):
        ep = super().sample(1)
        return Episodes(ep.support_x[:0], ep.support_y[:0], ep.query_x[:0], ep.query_y[:0])


def test_trainer_names_a_validation_sampler_of_no_task_before_training():
    trainer = MetaTrainer(MAML(mlp(1, [8])), iterations=50, meta_batch_size=4, eval_every=50,
                          valid_tasks_count=4, progress=False)
    with pytest.raises(ValueError, match=r"valid_tasks.sample\(4\) returned 0 tasks"):
        trainer.fit(SinusoidTasks(seed=0), _NoTasks(seed=1))
    assert not hasattr(trainer, "history_") or not trainer.history_["iteration"]
