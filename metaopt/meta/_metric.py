"""Metric-based meta-learners: ProtoNet, MatchingNet, RelationNet.

All three embed support and query sets with a user-given encoder in one batched call
(``[tasks * shots, ...]``) and score every query against every class of its episode
with plain batched tensor ops -- no loop over tasks. Support labels are class indices
``0..n_way-1`` as produced by :class:`~metaopt.meta.tasks.ClassificationTasks`.
Per-example weights (``[tasks, shots]``, 0 for padding, as from
:func:`~metaopt.meta.tasks.pad_tasks`) weight the support examples in the class
summaries and the queries in the loss: a padded episode scores as the unpadded one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from metaopt._checks import check_int
from metaopt.meta._gradient import _check_batch
from metaopt.meta._losses import example_weights, one_tensor, weighted_mean
from metaopt.meta.tasks import Episodes, _check_episodes


class MetricLearner(nn.Module):
    """Base of the metric learners: embed, score queries against classes, classify.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch of inputs to embeddings.
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        if not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module, got {type(encoder).__name__}")
        self.encoder = encoder
        self.iteration = 0

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Encode inputs with the encoder.

        Parameters
        ----------
        x : Tensor
            ``[tasks, shots, ...]``.

        Returns
        -------
        Tensor
            ``[tasks, shots, dim]``.
        """
        tasks, shots = x.shape[:2]
        out = one_tensor(self.encoder(x.reshape(tasks * shots, *x.shape[2:])), "encoder")
        return out.reshape(tasks, shots, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`embed`.

        Parameters
        ----------
        x : Tensor
            ``[tasks, shots, ...]``.

        Returns
        -------
        Tensor
        """
        return self.embed(x)

    def _scores(
        self, support: torch.Tensor, one_hot: torch.Tensor, query: torch.Tensor
    ) -> torch.Tensor:
        """Scores ``[tasks, queries, n_way]`` (higher is more likely) from embeddings;
        ``one_hot`` ``[tasks, shots, n_way]`` holds each support example's weight in the
        column of its class."""
        raise NotImplementedError

    def _loss(self, scores: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor
              ) -> torch.Tensor:
        """Mean over tasks of the weighted mean cross-entropy of their queries."""
        ce = F.cross_entropy(scores.flatten(0, 1), labels.flatten().long(), reduction="none")
        return _task_mean(ce.reshape(labels.shape), weight)

    def get_config(self) -> dict:
        """JSON-friendly constructor settings, stored in checkpoints.

        Returns
        -------
        dict
            The subclass's own settings (empty for a learner without any).
        """
        return {}

    def _episode(self, support_x, support_y, query_x, n_way, support_weight):
        """Support embeddings, their weighted one-hot labels, query embeddings."""
        _check_episode(support_x, support_y, query_x, self.encoder)
        source = "its largest label" if n_way is None else "n_way"
        n_way = int(support_y.max()) + 1 if n_way is None else n_way
        _check_labels(support_y, "support_y", n_way, source)
        weight = example_weights(support_x, support_weight, "support")
        one_hot = F.one_hot(support_y.long(), n_way) * weight[..., None]
        empty = (one_hot.sum(dim=1) == 0).nonzero()
        if len(empty):  # an empty class would get a prototype at the origin
            task, label = (int(v) for v in empty[0])
            raise ValueError(f"task {task}'s support set has no example of class {label} "
                             f"with a positive weight: each of the {n_way} classes "
                             f"0..{n_way - 1} needs one (labels are class indices: remap "
                             "others, e.g. {3, 7, 9}, to 0..n_way-1 with sklearn's "
                             "LabelEncoder; ClassificationTasks labels episodes so)")
        support = self.embed(support_x)
        return support, one_hot.to(support.dtype), self.embed(query_x)

    def scores(
        self,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        query_x: torch.Tensor,
        *,
        n_way: int | None = None,
        support_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Class scores of the queries.

        Parameters
        ----------
        support_x : Tensor
            ``[tasks, shots, ...]``.
        support_y : Tensor
            ``[tasks, shots]`` class indices.
        query_x : Tensor
            ``[tasks, queries, ...]``.
        n_way : int, optional
            Number of classes; default ``support_y.max() + 1``.
        support_weight : Tensor, optional
            ``[tasks, shots]`` weights of the support examples (0: padding), default all 1.

        Returns
        -------
        Tensor
            ``[tasks, queries, n_way]``.
        """
        support, one_hot, query = self._episode(support_x, support_y, query_x, n_way,
                                                support_weight)
        return self._scores(support, one_hot, query)

    def predict(self, support_x, support_y, query_x, *, n_way: int | None = None,
                support_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted class index of every query, ``[tasks, queries]``.

        Parameters
        ----------
        support_x, support_y, query_x : Tensor
        n_way : int, optional
        support_weight : Tensor, optional
            As in :meth:`scores`.

        Returns
        -------
        Tensor
        """
        return self.scores(support_x, support_y, query_x, n_way=n_way,
                           support_weight=support_weight).argmax(dim=-1)

    def meta_loss(
        self,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        query_x: torch.Tensor,
        query_y: torch.Tensor,
        *,
        n_way: int | None = None,
        support_weight: torch.Tensor | None = None,
        query_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean query loss over the episodes of a batch.

        Parameters
        ----------
        support_x, support_y, query_x : Tensor
            As in :meth:`scores`.
        query_y : Tensor
            ``[tasks, queries]`` class indices.
        n_way : int, optional
        support_weight : Tensor, optional
            As in :meth:`scores`.
        query_weight : Tensor, optional
            ``[tasks, queries]`` weights of the queries (0: padding), default all 1.

        Returns
        -------
        Tensor
            A scalar.
        """
        if tuple(query_y.shape) != tuple(query_x.shape[:2]):
            raise ValueError(f"query_y must be [tasks, queries] = {tuple(query_x.shape[:2])} "
                             f"class indices, got {tuple(query_y.shape)}")
        scores = self.scores(support_x, support_y, query_x, n_way=n_way,
                             support_weight=support_weight)
        _check_labels(query_y, "query_y", scores.shape[-1], "the support set")
        return self._loss(scores, query_y, example_weights(query_x, query_weight, "query"))

    def training_step(self, episodes: Episodes) -> tuple[float, float]:
        """Accumulate the gradient of one meta-batch.

        Parameters
        ----------
        episodes : Episodes

        Returns
        -------
        support_loss : float
            Of the support points themselves classified against their episode's classes:
            it falls with fitting.
        query_loss : float
            Shows generalisation.
        """
        _check_episodes(episodes)
        support, one_hot, query = self._episode(
            episodes.support_x, episodes.support_y, episodes.query_x, None,
            episodes.support_weight,
        )
        _check_labels(episodes.query_y, "query_y", one_hot.shape[-1], "the support set")
        query_weight = example_weights(episodes.query_x, episodes.query_weight, "query")
        loss = self._loss(self._scores(support, one_hot, query), episodes.query_y, query_weight)
        loss.backward()
        with torch.no_grad():
            inner = self._loss(self._scores(support, one_hot, support), episodes.support_y,
                               one_hot.sum(dim=-1))
        self.iteration += 1
        return float(inner), float(loss.detach())


def _check_episode(support_x, support_y, query_x, encoder: nn.Module) -> None:
    """:func:`_check_batch` for an ``encoder`` that may take inputs without a feature
    dimension (indices for an ``nn.Embedding``), with the encoder's dtype (torch's "mat1 and
    mat2 must have the same dtype" named neither tensor); then what class summaries need:
    support labels ``[tasks, shots]`` and at least one support example per task."""
    dtype = next((p.dtype for p in encoder.parameters() if p.is_floating_point()), None)
    _check_batch(support_x, support_y, query_x, dtype=dtype, module=encoder,
                 feature_dim=False)
    if support_y.ndim != 2:
        raise ValueError(
            f"support_y must be [tasks, shots] = {tuple(support_x.shape[:2])} class indices, "
            f"got {tuple(support_y.shape)}")
    if support_x.shape[1] == 0:
        raise ValueError(f"support_x has 0 shots (shape {tuple(support_x.shape)}); every task "
                         "needs at least one support example")


def _check_labels(labels: torch.Tensor, name: str, n_way: int, source: str) -> None:
    """ValueError for class indices outside ``0..n_way-1`` or not whole numbers (``source``
    gave ``n_way``): torch's one_hot and cross-entropy said "Class values must be smaller
    than num_classes" or "Target 3 is out of bounds", naming neither tensor."""
    if labels.is_floating_point() and not torch.equal(labels, labels.round()):
        raise ValueError(f"{name} must hold class indices 0..{n_way - 1}, got non-integer "
                         f"values such as {float(labels[labels != labels.round()][0])}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_way:
        raise ValueError(
            f"{name} holds class indices from {low} to {high}, and {source} gives {n_way} "
            f"classes, 0..{n_way - 1}: every label must be one of them (remap raw labels "
            "with sklearn's LabelEncoder; ClassificationTasks labels episodes 0..n_way-1)")


def _task_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over tasks of each task's weighted mean of ``values`` ``[tasks, queries]``, as
    the gradient learners average: a task counts once however many real queries it has."""
    return weighted_mean(values, weight, dim=1).mean()


def _cosine(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    return F.normalize(query, dim=-1) @ F.normalize(keys, dim=-1).transpose(1, 2)


def _prototypes(support: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """Weighted class means ``[tasks, n_way, dim]`` (every class has a positive weight)."""
    return one_hot.transpose(1, 2) @ support / one_hot.sum(dim=1)[..., None]


class ProtoNet(MetricLearner):
    """Prototypical networks (Snell et al., 2017): classify by distance to class means.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch of inputs to embeddings ``[n, dim]``.
    distance : {"euclidean", "cosine"}
        Negative squared Euclidean distance, or cosine similarity times a learned scale.
    """

    def __init__(self, encoder: nn.Module, *, distance: str = "euclidean") -> None:
        super().__init__(encoder)
        if distance not in ("euclidean", "cosine"):
            raise ValueError(f"distance must be 'euclidean' or 'cosine', got {distance!r}")
        self.distance = distance
        if distance == "cosine":
            self.log_scale = nn.Parameter(torch.tensor(math.log(10.0)))

    def _scores(self, support, one_hot, query):
        prototypes = _prototypes(support, one_hot)
        if self.distance == "cosine":
            return self.log_scale.exp() * _cosine(query, prototypes)
        # torch's default for more than 25 rows, |q|^2 + |p|^2 - 2 q.p, cancels away the
        # distances of embeddings far from the origin
        return -torch.cdist(query, prototypes, compute_mode="donot_use_mm_for_euclid_dist").pow(2)

    def get_config(self) -> dict:
        """JSON-friendly constructor settings, stored in checkpoints.

        Returns
        -------
        dict
            ``distance``.
        """
        return {"distance": self.distance}


class MatchingNet(MetricLearner):
    """Matching networks (Vinyals et al., 2016) without full-context embeddings.

    A query's class distribution is the attention-weighted sum of the support
    labels, attention being a softmax over (learned-scale) cosine similarities to
    every support example. Scores are the log-probabilities.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch of inputs to embeddings ``[n, dim]``.
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__(encoder)
        self.log_scale = nn.Parameter(torch.tensor(math.log(10.0)))

    def _scores(self, support, one_hot, query):
        # a support example's weight multiplies its attention (log 0: padding gets none)
        logits = self.log_scale.exp() * _cosine(query, support) + one_hot.sum(-1).log()[:, None]
        attention = torch.softmax(logits, dim=-1)
        return torch.log((attention @ (one_hot > 0).to(one_hot.dtype)).clamp_min(1e-8))


class RelationNet(MetricLearner):
    """Relation networks (Sung et al., 2018): a learned module scores (class, query) pairs.

    The class representation is the mean support embedding (the paper sums; the
    mean keeps the relation module's input scale independent of ``k_shot``). Each
    pair ``[class, query, |class - query|]`` goes through ``relation`` to a score in
    ``[0, 1]``, trained with MSE against the one-hot labels as in the paper. The
    appended absolute difference departs from the paper's plain concatenation: with
    an MLP relation module (the paper's is convolutional, over feature maps) plain
    concatenation gets stuck predicting ``1 / n_way`` for every class.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch of inputs to embeddings ``[n, dim]``.
    relation : nn.Module, optional
        Maps ``[..., 3 * dim]`` pair features to ``[..., 1]`` scores in ``[0, 1]``. Default:
        an MLP ``3*dim -> hidden -> 1`` with ReLU and a sigmoid, which needs ``embedding_dim``.
    embedding_dim : int, optional
        Output size of ``encoder``; required when ``relation`` is None.
    hidden : int
        Width of the default relation module.
    """

    def __init__(
        self,
        encoder: nn.Module,
        *,
        relation: nn.Module | None = None,
        embedding_dim: int | None = None,
        hidden: int = 64,
    ) -> None:
        super().__init__(encoder)
        # a float failed inside torch, hidden=0 built an empty layer (with torch's warnings)
        hidden = check_int(hidden, "hidden")
        if embedding_dim is not None:
            embedding_dim = check_int(embedding_dim, "embedding_dim")
        if relation is None:
            if embedding_dim is None:
                raise ValueError("embedding_dim must be an integer >= 1 when relation is None, "
                                 "got None")
            relation = nn.Sequential(
                nn.Linear(3 * embedding_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid()
            )
        elif not isinstance(relation, nn.Module):
            raise TypeError(f"relation must be a torch.nn.Module, got {type(relation).__name__}")
        self.relation = relation
        self.embedding_dim, self.hidden = embedding_dim, hidden

    def _scores(self, support, one_hot, query):
        if self.embedding_dim is not None and support.shape[-1] != self.embedding_dim:
            # torch said "mat1 and mat2 shapes cannot be multiplied (72x9 and 15x64)"
            raise ValueError(
                f"the encoder gives embeddings of size {support.shape[-1]}, but RelationNet "
                f"was built with embedding_dim={self.embedding_dim}: pass "
                f"embedding_dim={support.shape[-1]}, the encoder's output size")
        classes = _prototypes(support, one_hot)
        n_query, n_way = query.shape[1], classes.shape[1]
        classes = classes[:, None].expand(-1, n_query, -1, -1)
        query = query[:, :, None].expand(-1, -1, n_way, -1)
        pairs = torch.cat([classes, query, (classes - query).abs()], dim=-1)
        return self.relation(pairs).squeeze(-1)

    def _loss(self, scores, labels, weight):
        target = F.one_hot(labels.long(), scores.shape[-1]).to(scores.dtype)
        return _task_mean((scores - target).pow(2).mean(dim=-1), weight)

    def get_config(self) -> dict:
        """JSON-friendly constructor settings, stored in checkpoints.

        Returns
        -------
        dict
            ``embedding_dim`` and ``hidden``.
        """
        return {"embedding_dim": self.embedding_dim, "hidden": self.hidden}
