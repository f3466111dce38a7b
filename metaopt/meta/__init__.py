"""Meta-learning core on ``torch.func``: gradient-based and metric-based learners,
episodic task sampling and a meta-training loop.

Gradient-based learners wrap a ``torch.nn.Module`` and adapt it to every task of a
meta-batch at once (``vmap`` over tasks, ``grad`` for the inner steps)::

    maml = MAML(net, lr=0.01, steps=1)
    loss = maml.meta_loss(support_x, support_y, query_x, query_y)   # [tasks, shots, ...]
    params = maml.adapt(support_x, support_y); pred = maml.predict(params, query_x)
"""

from metaopt.meta import tasks
from metaopt.meta._gradient import ANIL, MAML, GradientLearner, MAMLpp, MetaSGD, Reptile
from metaopt.meta._losses import (
    LOSSES,
    pairwise_logistic_loss,
    resolve_device,
    weighted_cross_entropy,
    weighted_mse,
)
from metaopt.meta._metric import MatchingNet, MetricLearner, ProtoNet, RelationNet
from metaopt.meta._trainer import MetaTrainer, load_checkpoint, save_checkpoint
from metaopt.meta.tasks import (
    ClassificationTasks,
    Episodes,
    RegressionTasks,
    SinusoidTasks,
    pad_tasks,
    split_labels,
)

__all__ = [
    "ANIL",
    "LOSSES",
    "MAML",
    "ClassificationTasks",
    "Episodes",
    "GradientLearner",
    "MAMLpp",
    "MatchingNet",
    "MetaSGD",
    "MetaTrainer",
    "MetricLearner",
    "ProtoNet",
    "RegressionTasks",
    "RelationNet",
    "Reptile",
    "SinusoidTasks",
    "load_checkpoint",
    "pad_tasks",
    "pairwise_logistic_loss",
    "resolve_device",
    "save_checkpoint",
    "split_labels",
    "tasks",
    "weighted_cross_entropy",
    "weighted_mse",
]
