"""A model whose forward returns more than one tensor (``(logits, features)``)."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from metaopt.meta import (
    ANIL,
    MAML,
    ClassificationTasks,
    MAMLpp,
    MatchingNet,
    MetaSGD,
    MetaTrainer,
    ProtoNet,
    RelationNet,
    Reptile,
)


class _WithFeatures(nn.Module):
    """A classifier that also returns its hidden features, as many do."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(64, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        features = torch.relu(self.body(x))
        return self.head(features), features


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return ClassificationTasks(X / 16, y, n_way=3, k_shot=2, n_query=3, seed=0)


_WHAT = (r"the (model|encoder)'s forward must return one tensor \(its outputs\), got a tuple "
         r"of 2 values: return the outputs alone, e\.g\. wrap it in a module whose forward "
         r"returns model\(x\)\[0\]")


@pytest.mark.parametrize("learner", [MAML, ANIL, MetaSGD, MAMLpp, Reptile, ProtoNet,
                                     MatchingNet])
def test_a_tuple_output_says_what_to_return(learner, digits):
    """MAML & co. failed with "'tuple' object has no attribute 'numel'" (from the loss),
    the metric learners with "'tuple' object has no attribute 'reshape'"."""
    torch.manual_seed(0)
    ep = digits.sample(2)
    model = learner(_WithFeatures())
    with pytest.raises(TypeError, match=_WHAT):
        model.meta_loss(ep.support_x.float(), ep.support_y, ep.query_x.float(), ep.query_y)
    with pytest.raises(TypeError, match=_WHAT):
        model(ep.query_x.float())


def test_a_tuple_output_stops_meta_training_with_the_same_message(digits):
    trainer = MetaTrainer(MAML(_WithFeatures(), loss_fn="cross_entropy"), iterations=2,
                          meta_batch_size=2, progress=False, seed=0)
    with pytest.raises(TypeError, match=_WHAT):
        trainer.fit(digits)
    with pytest.raises(TypeError, match=_WHAT):
        RelationNet(_WithFeatures(), embedding_dim=16).embed(digits.sample(1).query_x.float())
