"""Metric learners learn sensible 5-way episodes on scikit-learn's digits in a short run."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from metaopt.meta import (
    ClassificationTasks,
    MatchingNet,
    MetaTrainer,
    ProtoNet,
    RelationNet,
    pad_tasks,
    split_labels,
)
from metaopt.meta.tasks import Episodes


@pytest.fixture(scope="module")
def digit_tasks():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    train, test = split_labels(y, fractions=(0.5, 0.5), seed=0)
    make = lambda classes, seed: ClassificationTasks(  # noqa: E731
        X, y, n_way=5, k_shot=5, n_query=5, classes=classes, seed=seed
    )
    return make(train, 0), make(train, 2).sample(50), make(test, 1).sample(50)


def encoder() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32))


EACH_LEARNER = pytest.mark.parametrize(
    "make",
    [
        lambda: ProtoNet(encoder()),
        lambda: ProtoNet(encoder(), distance="cosine"),
        lambda: MatchingNet(encoder()),
        lambda: RelationNet(encoder(), embedding_dim=32),
    ],
    ids=["proto-euclidean", "proto-cosine", "matching", "relation"],
)


@EACH_LEARNER
def test_metric_learners_classify_held_out_digit_classes(make, digit_tasks):
    torch.manual_seed(0)
    train, seen, unseen = digit_tasks
    learner = make()
    MetaTrainer(learner, iterations=50, meta_batch_size=16, lr=3e-3, progress=False).fit(train)
    with torch.no_grad():
        scores = learner.scores(unseen.support_x, unseen.support_y, unseen.query_x)
        accuracy = {
            name: (learner.predict(ep.support_x, ep.support_y, ep.query_x) == ep.query_y)
            .float()
            .mean()
            for name, ep in (("seen", seen), ("unseen", unseen))
        }
    assert scores.shape == (50, 25, 5)
    # chance is 0.2; new episodes of the meta-train classes are near-perfect, held-out
    # classes well above chance (5 meta-train classes are few: the embedding specialises)
    assert accuracy["seen"] > 0.9 and accuracy["unseen"] > 0.4, accuracy


def test_metric_arguments_are_validated():
    with pytest.raises(ValueError, match="distance"):
        ProtoNet(encoder(), distance="manhattan")
    with pytest.raises(ValueError, match="embedding_dim"):
        RelationNet(encoder())
    # embedding_dim=2.5 failed inside torch; hidden=0 built an empty relation layer
    for kwargs, name in (({"embedding_dim": 2.5}, "embedding_dim"),
                         ({"embedding_dim": 0}, "embedding_dim"),
                         ({"embedding_dim": 8, "hidden": 0}, "hidden")):
        with pytest.raises(ValueError, match=f"^{name} must be an integer >= 1"):
            RelationNet(encoder(), **kwargs)
    with pytest.raises(TypeError, match="encoder"):
        MatchingNet(None)
    with pytest.raises(ValueError, match="support_y"):
        ProtoNet(encoder()).scores(torch.zeros(2, 5, 64), torch.zeros(2, 4), torch.zeros(2, 3, 64))
    # one task without its task dimension: support_x [6, 64] read as 6 tasks of 64 shots
    with pytest.raises(ValueError, match=r"^support_y must be \[tasks, shots, \.\.\.\], got shape "
                       r"\(6,\); one task's data needs a leading task dimension \(support_x\[None\], support_y\[None\], "
                       r"query_x\[None\]\)$"):
        ProtoNet(encoder()).predict(torch.zeros(6, 64), torch.arange(6) % 3, torch.zeros(4, 64))


@pytest.mark.parametrize("make", [lambda: ProtoNet(encoder()),
                                  lambda: RelationNet(encoder(), embedding_dim=32)])
def test_classes_missing_from_the_support_set_are_refused(make):
    """Support labels {0, 2, 4} gave classes 1 and 3 a prototype at the origin (and
    RelationNet predicted them); n_way=7 added empty classes to the loss; a query_y of
    one task was broadcast over two."""
    learner = make()
    x = torch.randn(2, 3, 64)
    with pytest.raises(ValueError, match="task 0's support set has no example of class 1"):
        learner.scores(x, torch.tensor([[0, 2, 4], [0, 1, 2]]), x)
    labels = torch.tensor([[0, 1, 2], [2, 1, 0]])
    with pytest.raises(ValueError, match="class 3 with a positive weight: each of the 7 classes"):
        learner.scores(x, labels, x, n_way=7)
    with pytest.raises(ValueError, match=r"query_y must be \[tasks, queries\] = \(2, 3\)"):
        learner.meta_loss(x, labels, x, labels[:1])
    assert learner.scores(x, labels, x).shape == (2, 3, 3)
    # raw labels {3, 7, 9} read as 10 classes: the message says to remap them
    with pytest.raises(ValueError, match=r"class 0 .* remap others, e\.g\. \{3, 7, 9\}, to "
                                         r"0\.\.n_way-1 with sklearn's LabelEncoder"):
        learner.scores(x, torch.tensor([[3, 7, 9], [3, 7, 9]]), x)


def test_euclidean_prototypes_do_not_depend_on_where_the_embeddings_lie():
    # with more than 25 queries cdist took |q|^2 + |p|^2 - 2 q.p, which cancelled the
    # distances of embeddings shifted far from the origin: 5-way 5-shot accuracy on
    # digits shifted by 20000 fell from 0.87 to 0.30
    X, y = load_digits(return_X_y=True)
    ep = ClassificationTasks(X, y, n_way=5, k_shot=5, n_query=15, seed=0).sample(20)
    net = ProtoNet(nn.Identity())
    near = net.scores(ep.support_x, ep.support_y, ep.query_x)
    far = net.scores(ep.support_x + 20000.0, ep.support_y, ep.query_x + 20000.0)
    torch.testing.assert_close(far, near, rtol=1e-3, atol=1.0)  # float32 class means at 2e4
    for scores in (near, far):
        assert (scores.argmax(-1) == ep.query_y).float().mean() > 0.8
    # a hand-computed 2-query example: prototypes (1, 0) and (0, 2)
    support = torch.tensor([[[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 1.0]]])
    scores = net.scores(support, torch.tensor([[0, 0, 1, 1]]), torch.tensor([[[1.0, 1.0], [0.0, 0.0]]]))
    torch.testing.assert_close(scores, torch.tensor([[[-1.0, -2.0], [-1.0, -4.0]]]))


@EACH_LEARNER
def test_padded_episodes_score_as_the_unpadded_ones(make):
    # the weights of padded episodes were ignored: padding (copies of a task's first
    # row) counted in the class summaries and the loss; MetaTrainer.evaluate failed
    # with TypeError (meta_loss took no support_weight)
    X, y = load_digits(return_X_y=True)
    ep = ClassificationTasks(X / 16, y, n_way=3, k_shot=3, n_query=4, seed=0).sample(2)
    keep = [torch.tensor([0, 1, 3, 4, 6]), torch.arange(9)]  # task 0: 2, 2 and 1 shots
    shown = [torch.tensor([0, 4, 8]), torch.arange(12)]  # task 0: 3 of its 12 queries
    sx, sy, sw = pad_tasks([(ep.support_x[t, i], ep.support_y[t, i]) for t, i in enumerate(keep)])
    qx, qy, qw = pad_tasks([(ep.query_x[t, i], ep.query_y[t, i]) for t, i in enumerate(shown)])
    torch.manual_seed(0)
    learner = make().double()
    sx, qx = sx.double(), qx.double()
    padded = learner.scores(sx, sy, qx, support_weight=sw)
    loss = learner.meta_loss(sx, sy, qx, qy, support_weight=sw, query_weight=qw).item()
    alone, total = [], 0.0
    for t in range(2):  # each task alone, without padding
        s, s_y = sx[t, : len(keep[t])][None], sy[t, : len(keep[t])][None]
        q, q_y = qx[t, : len(shown[t])][None], qy[t, : len(shown[t])][None]
        alone.append(learner.scores(s, s_y, q)[0])
        total = total + learner.meta_loss(s, s_y, q, q_y)
    for t in range(2):
        torch.testing.assert_close(padded[t, : len(shown[t])], alone[t])
    # the mean over episodes, as the gradient learners take it: pooling the queries
    # weighted task 1 (12 real queries) four times task 0 (3)
    assert loss == pytest.approx(total.item() / 2)
    trainer = MetaTrainer(learner, progress=False)
    episodes = Episodes(sx, sy, qx, qy, support_weight=sw, query_weight=qw)
    assert trainer.evaluate(episodes) == pytest.approx(loss)
    learner.zero_grad()
    _, outer = learner.training_step(episodes)
    assert outer == pytest.approx(loss)
