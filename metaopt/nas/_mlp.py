"""A torch multilayer perceptron as scikit-learn classifier and regressor."""

from __future__ import annotations

import copy
import functools
import numbers
import time
from collections.abc import Callable
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from torch import nn

from metaopt._checks import check_class_labels, check_one_target, check_seconds
from metaopt._fitted import (
    check_target_not_scalar,
    checked_sample_weight,
    densified,
    text_refused,
    unfitted_on_error,
)
from metaopt.data._dataset import check_target_scale, largest_magnitudes, too_large_message
from metaopt.meta import resolve_device
from metaopt.meta._losses import seeded
from metaopt.nas._adamw import AdamW

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}
NORMS = {"none": None, "batchnorm": nn.BatchNorm1d, "layernorm": nn.LayerNorm}
_PREDICT_BATCH = 8192
#: minibatches between two looks at a deadline within an epoch (:func:`train_epoch`)
STOP_CHECK_EVERY = 4
# sparse input (e.g. a OneHotEncoder's) is accepted, as by scikit-learn's MLPs, and
# densified: the inputs are standardised
_SPARSE = ("csr", "csc", "coo")


def _text_refused(estimator: BaseEstimator, X):
    """:func:`metaopt._fitted.text_refused`, naming what encodes text for ``estimator``:
    the ``mlp`` space's pipeline, or the MetaMLP search."""
    name = type(estimator).__name__
    task = "classification" if isinstance(estimator, ClassifierMixin) else "regression"
    return text_refused(X, lambda text: (
        f"{name} takes numbers, but X holds text ({text!r}): encode it first, e.g. "
        f"with metaopt.spaces.get_space('mlp').build(params, {task!r}), a pipeline "
        "that one-hot encodes a DataFrame's text columns, or search the MLP with "
        f"metaopt.nas.Meta{name}, which does the same"))


class _Block(nn.Module):
    """Linear -> norm -> activation -> dropout, plus the input when ``skip``."""

    def __init__(
        self, n_in: int, n_out: int, activation: str, dropout: float, norm: str, skip: bool
    ) -> None:
        super().__init__()
        norm_cls = NORMS[norm]
        self.layers = nn.Sequential(
            nn.Linear(n_in, n_out),
            nn.Identity() if norm_cls is None else norm_cls(n_out),
            ACTIVATIONS[activation](),
            nn.Dropout(dropout),
        )
        self.skip = skip and n_in == n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return out + x if self.skip else out


def build_mlp(
    n_in: int,
    n_out: int,
    n_layers: int,
    width: int,
    activation: str = "relu",
    dropout: float = 0.0,
    norm: str = "none",
    skip: bool = False,
) -> nn.Sequential:
    """Build ``n_layers`` hidden blocks of ``width`` units and a linear output layer.

    Parameters
    ----------
    n_in, n_out : int
        Numbers of inputs and outputs.
    n_layers : int
        Hidden blocks (linear -> norm -> activation -> dropout).
    width : int
        Units of each hidden block.
    activation : {"relu", "gelu", "silu", "tanh"}, default="relu"
    dropout : float, default=0.0
    norm : {"none", "batchnorm", "layernorm"}, default="none"
    skip : bool, default=False
        Residual connections in the hidden blocks after the first (the first changes the
        width, so it has none).

    Returns
    -------
    nn.Sequential
    """
    blocks = [
        _Block(n_in if i == 0 else width, width, activation, dropout, norm, skip)
        for i in range(n_layers)
    ]
    return nn.Sequential(*blocks, nn.Linear(width if n_layers else n_in, n_out))


def row_losses(loss_fn: nn.Module, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One loss per row from ``loss_fn`` built with ``reduction="none"``."""
    losses = loss_fn(out, y)
    return losses.reshape(len(losses), -1).mean(dim=1)


def weighted_mean(losses: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """The mean of per-row ``losses``, weighted by ``weight`` when given (and not all 0)."""
    if weight is None or not bool(weight.sum() > 0):
        return losses.mean()
    return (losses * weight).sum() / weight.sum()


def unit_mean_weights(weight: np.ndarray | None, rows: np.ndarray,
                      device: torch.device) -> torch.Tensor | None:
    """``weight[rows]`` scaled to mean 1 (a minibatch's mean weighted loss is then an
    unbiased estimate of the weighted mean over all rows), or None without weights."""
    if weight is None:
        return None
    w = np.asarray(weight, dtype=np.float64)[rows]
    if not w.sum() > 0:
        raise ValueError("sample_weight is zero on every training row of a split; give "
                         "more samples a positive weight")
    return torch.tensor(w / w.mean(), dtype=torch.float32, device=device)


def train_epoch(
    model: nn.Module,
    optimiser: AdamW,
    loss_fn: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    weight: torch.Tensor | None = None,
    stop: Callable[[int], bool] | None = None,
    check_every: int = STOP_CHECK_EVERY,
) -> float:
    """One shuffled pass over ``(x, y)`` in minibatches; returns the mean training loss.

    ``loss_fn`` has ``reduction="none"``; ``weight`` (one per row, mean 1:
    :func:`unit_mean_weights`) weights the rows' losses. A trailing minibatch of a single
    row is skipped (it breaks batchnorm); with ``batch_size=1`` every minibatch is one
    row, and none is skipped. ``stop(rows_done)`` is asked every ``check_every``
    minibatches (after the first ``check_every``: a pass trains at least those);
    ``True`` ends the pass there (a deadline within an epoch), and the mean loss is then
    over the rows trained. Without it (or while it says ``False``) the pass is the same
    as before it existed: it draws no random numbers.
    """
    model.train()
    perm = torch.randperm(len(x), device=x.device)
    # the minibatches' losses stay on x's device until the pass ends: reading each one
    # made the CPU wait for a GPU at every minibatch
    losses_kept: list[torch.Tensor]
    sizes: list[int]
    losses_kept, sizes = [], []
    for n_batch, start in enumerate(range(0, len(perm), batch_size)):
        if (stop is not None and n_batch and n_batch % check_every == 0
                and stop(start)):
            return _mean_loss(losses_kept, sizes, max(sum(sizes), 1))
        idx = perm[start : start + batch_size]
        if len(idx) < 2 < len(perm) and batch_size > 1:  # a lone row breaks batchnorm
            continue
        optimiser.zero_grad()
        losses = row_losses(loss_fn, model(x[idx]), y[idx])
        loss = losses.mean() if weight is None else (losses * weight[idx]).mean()
        loss.backward()
        optimiser.step()
        losses_kept.append(loss.detach())
        sizes.append(len(idx))
    return _mean_loss(losses_kept, sizes, len(perm))


def _mean_loss(losses: list[torch.Tensor], sizes: list[int], rows: int) -> float:
    """``sum(loss * size) / rows`` over minibatches, their losses read from the device at
    once, and added up in order (as Python floats)."""
    total = 0.0
    for loss, size in zip(torch.stack(losses).tolist() if losses else [], sizes, strict=True):
        total += loss * size
    return total / rows


def _inference_device(device: torch.device) -> torch.device:
    """Where a network trained on ``device`` predicts, in float64: there, but on the CPU
    for a device without float64 (Apple's MPS, where ``.double()`` fails)."""
    return torch.device("cpu") if device.type == "mps" else device


#: elements (rows x columns) of the float64 block :func:`_standardise` works on at a time
_STANDARDISE_BLOCK = 2**18


def _block_rows(a: np.ndarray) -> int:
    """Rows of ``a`` in a block of :data:`_STANDARDISE_BLOCK` values (at least one)."""
    return max(1, _STANDARDISE_BLOCK // max(1, int(np.prod(a.shape[1:]))))


def _standardised(X: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                  dtype: type[np.floating]) -> np.ndarray:
    """``((X - mean) / scale).astype(dtype)``, the same values, computed a block of rows
    at a time: no temporary as large as ``X`` beside the result."""
    out = np.empty(X.shape, dtype=dtype)
    step = _block_rows(X)
    for start in range(0, len(X), step):
        block = X[start : start + step] - mean
        block /= scale
        out[start : start + step] = block
    return out


def _standardise(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where 0) of ``a``, in ``a``'s dtype.

    Summed in float64 (float32's squares overflow past 1.8e19), numpy's
    ``mean(axis=0, dtype=np.float64)`` and ``std`` (the same sums in the same order), but
    of a 2-D ``a`` a block of ``_STANDARDISE_BLOCK`` values (2 MiB; of a column-major
    ``a``, at least one column) at a time: std's float64 ``a - mean`` was as large as a
    float64 table, twice a float32 one.
    """
    if a.ndim == 1:  # a target (its temporary is its own size)
        mean64, scale64 = a.mean(axis=0, dtype=np.float64), a.std(axis=0, dtype=np.float64)
    elif a.shape[1] == 1 or abs(a.strides[0]) <= abs(a.strides[1]):
        # numpy sums down each column of such a layout (pairwise), not row after row
        mean64, scale64 = _column_blocks_mean_std(a)
    else:
        mean64, scale64 = _row_blocks_mean_std(a)
    scale = scale64.astype(a.dtype)
    return mean64.astype(a.dtype), np.where(scale > 0, scale, 1.0)


def _column_blocks_mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy's float64 mean and std of each column of a column-major ``a`` (a
    DataFrame's, or a single column), a few columns at a time (each column's sums are
    numpy's own: pairwise down the column)."""
    step = max(1, _STANDARDISE_BLOCK // max(1, len(a)))
    blocks = [a[:, j : j + step] for j in range(0, a.shape[1], step)]
    return (np.concatenate([b.mean(axis=0, dtype=np.float64) for b in blocks]),
            np.concatenate([b.std(axis=0, dtype=np.float64) for b in blocks]))


def _row_blocks_mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy's float64 mean and std of the columns of a row-major ``a``, a block of rows
    at a time: numpy adds the rows one after another, so each block's sum starts from
    the previous blocks' (the first row of a float64 buffer) and the sums are numpy's."""
    n = len(a)
    step = min(_block_rows(a), max(n, 1))  # a small table's buffer is its own size
    buffer = np.empty((step + 1, a.shape[1]))
    total = np.zeros(a.shape[1])
    for start in range(0, n, step):
        rows = len(a[start : start + step])
        buffer[0], buffer[1 : rows + 1] = total, a[start : start + step]
        total = np.add.reduce(buffer[: rows + 1], axis=0)
    mean = total / n
    squares = np.zeros(a.shape[1])
    for start in range(0, n, step):
        rows = len(a[start : start + step])
        block = buffer[1 : rows + 1]
        block[...] = a[start : start + step]
        block -= mean
        block *= block
        buffer[0] = squares
        squares = np.add.reduce(buffer[: rows + 1], axis=0)
    return mean, np.sqrt(squares / n)


def is_int(v: object) -> bool:
    """An integer, ``True`` and ``False`` excluded."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_param(est: object, name: str, ok: bool, accepted: str) -> None:
    """Unless ``ok``, a ``ValueError`` naming ``est``'s parameter ``name``, what it
    must be (``accepted``) and its value."""
    if not ok:
        raise ValueError(f"{name} must be {accepted}, got {getattr(est, name)!r}")


class _BaseMLP(BaseEstimator):
    """Shared fitting code; subclasses define the loss and the target handling."""

    def __init__(
        self,
        n_layers: int = 2,
        width: int = 256,
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str = "none",
        skip: bool = False,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_epochs: int = 100,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        time_budget: float | None = None,
    ) -> None:
        self.n_layers = n_layers
        self.width = width
        self.activation = activation
        self.dropout = dropout
        self.norm = norm
        self.skip = skip
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.random_state = random_state
        self.time_budget = time_budget

    def _check_params(self) -> None:
        check = functools.partial(check_param, self)
        check("n_layers", is_int(self.n_layers) and self.n_layers >= 0, "an int >= 0")
        check("width", is_int(self.width) and self.width >= 1, "an int >= 1")
        check("activation", self.activation in ACTIVATIONS, f"one of {list(ACTIVATIONS)}")
        check(
            "dropout",
            isinstance(self.dropout, numbers.Real) and 0 <= self.dropout < 1,
            "a float in [0, 1)",
        )
        check("norm", self.norm in NORMS, f"one of {list(NORMS)}")
        check("skip", isinstance(self.skip, (bool, np.bool_)), "a bool")
        check(
            "learning_rate",
            isinstance(self.learning_rate, numbers.Real) and self.learning_rate > 0,
            "a float > 0",
        )
        check(
            "weight_decay",
            isinstance(self.weight_decay, numbers.Real) and self.weight_decay >= 0,
            "a float >= 0",
        )
        check("batch_size", is_int(self.batch_size) and self.batch_size >= 1, "an int >= 1")
        if self.norm == "batchnorm" and self.batch_size == 1:
            raise ValueError("norm='batchnorm' needs batch_size >= 2 (a single row has no "
                             "batch statistics), got batch_size=1")
        check("max_epochs", is_int(self.max_epochs) and self.max_epochs >= 1, "an int >= 1")
        check(
            "validation_fraction",
            isinstance(self.validation_fraction, numbers.Real)
            and 0 <= self.validation_fraction < 1,
            "a float in [0, 1)",
        )
        check(
            "n_iter_no_change",
            is_int(self.n_iter_no_change) and self.n_iter_no_change >= 1,
            "an int >= 1",
        )
        check_seconds(self.time_budget, "time_budget")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- subclass hooks ---------------------------------------------------------------
    def _encode_target(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    def _loss(self) -> nn.Module:
        raise NotImplementedError

    def _holdout(self, order: np.ndarray, target: torch.Tensor,
                 n_val: int) -> tuple[np.ndarray, np.ndarray]:
        """The early-stopping rows and the training rows: the first ``n_val`` of the
        random ``order``, and the rest."""
        return order[:n_val], order[n_val:]

    # -- training -----------------------------------------------------------------------
    @unfitted_on_error
    def fit(self, X, y, sample_weight=None) -> Self:
        """Train with AdamW, keeping the weights of the best validation epoch.

        A random ``validation_fraction`` of the rows is held out for early stopping
        (after ``n_iter_no_change`` epochs without improvement); without a hold-out
        (``validation_fraction=0``, or too few rows) the training loss decides when to
        stop and the last epoch's weights are kept.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Several columns only for :class:`MLPRegressor`.
        sample_weight : array-like of shape (n_samples,), optional
            Weights each row's loss, in training and in the early-stopping validation loss.

        Returns
        -------
        self
        """
        started = time.perf_counter()
        self._check_params()
        check_target_not_scalar(X, y)  # a column's name: say how to use the column
        # y as scikit-learn's MLPs take it: 2-D accepted here, a column (n, 1) raveled
        # with scikit-learn's warning; a subclass decides whether it takes more columns
        with _text_refused(self, X):
            X, y = validate_data(self, X, y, accept_sparse=_SPARSE,
                                 dtype=[np.float64, np.float32], multi_output=True)
        X = densified(X, f"{type(self).__name__} trains")
        if sp.issparse(y):
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        sample_weight = checked_sample_weight(sample_weight, X)
        target, n_out = self._encode_target(y)
        with np.errstate(over="ignore"):  # told below, naming the columns
            self.x_mean_, self.x_scale_ = _standardise(X)
        if not np.isfinite(self.x_scale_).all():  # the column would be all 0 or NaN
            names = getattr(self, "feature_names_in_", [f"x{i}" for i in range(X.shape[1])])
            frame = pd.DataFrame(X, columns=names, copy=False)
            raise ValueError(too_large_message(largest_magnitudes(frame), frame))
        # float32 straight away: X - mean, then its float32 copy, were X's size and half
        # or all of it more (1.5 or 2 x X)
        inputs = torch.from_numpy(_standardised(X, self.x_mean_, self.x_scale_, np.float32))
        # X is validate_data's float64 copy when it made one (of a mixed-dtype DataFrame,
        # an int array, a list): freed before the folds, not held beside them
        # through the epochs (only the float32 folds are trained on)
        del X
        self.device_ = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        n = len(inputs)
        order = rng.permutation(n)
        n_val = int(self.validation_fraction * n)
        val_idx, train_idx = (
            self._holdout(order, target, n_val) if n - n_val >= 2 else (order[:0], order)
        )
        if self.norm == "batchnorm" and len(train_idx) < 2:
            raise ValueError(f"norm='batchnorm' needs at least 2 training rows, got {n}")
        x_tr, x_val = inputs[train_idx].to(self.device_), inputs[val_idx].to(self.device_)
        del inputs  # the folds are copies: not held through the epochs beside them
        with seeded(int(rng.randint(2**31 - 1)), self.device_):
            self._train(x_tr, x_val, target, n_out, train_idx, val_idx, sample_weight,
                        None if self.time_budget is None else started + self.time_budget)
        return self

    def _train(
        self,
        x_tr: torch.Tensor,
        x_val: torch.Tensor,
        target: torch.Tensor,
        n_out: int,
        train_idx: np.ndarray,
        val_idx: np.ndarray,
        sample_weight: np.ndarray | None,
        deadline: float | None,
    ) -> None:
        """Train the network on the ``train_idx`` rows, ``x_tr`` (the ``val_idx`` rows,
        ``x_val``, for early stopping; both on ``device_``) until the ``deadline``, a
        ``time.perf_counter()`` time (None: no limit)."""
        dev = self.device_
        model = build_mlp(
            x_tr.shape[1],
            n_out,
            self.n_layers,
            self.width,
            self.activation,
            float(self.dropout),
            self.norm,
            bool(self.skip),
        ).to(dev)
        optimiser = AdamW(model.parameters(), lr=float(self.learning_rate),
                          weight_decay=float(self.weight_decay))
        loss_fn = self._loss()
        y_tr, y_val = target[train_idx].to(dev), target[val_idx].to(dev)
        w_tr = unit_mean_weights(sample_weight, train_idx, dev)
        w_val = None if sample_weight is None else torch.tensor(
            sample_weight[val_idx], dtype=torch.float32, device=dev)
        batch = min(self.batch_size, len(train_idx))
        best, best_state, stall = np.inf, None, 0
        self.loss_curve_, self.validation_loss_curve_ = [], []
        self.out_of_time_ = False
        cut: list[int] = []  # rows trained when the deadline cut an epoch short
        stop = None if deadline is None else self._stopper(deadline, cut)
        for _ in range(self.max_epochs):
            self.loss_curve_.append(
                train_epoch(model, optimiser, loss_fn, x_tr, y_tr, batch, w_tr, stop))
            if len(x_val):
                model.eval()
                with torch.no_grad():
                    losses = row_losses(loss_fn, model(x_val), y_val)
                    self.validation_loss_curve_.append(float(weighted_mean(losses, w_val)))
            monitored = (self.validation_loss_curve_ or self.loss_curve_)[-1]
            if monitored < best:
                # weights worth keeping only when a validation loss judged them
                best, stall = monitored, 0
                best_state = copy.deepcopy(model.state_dict()) if len(x_val) else None
            else:
                stall += 1
                if stall >= self.n_iter_no_change:
                    break
            if deadline is not None and time.perf_counter() >= deadline:
                # stopped by it when an epoch was cut short (it counts as one) or epochs
                # were left; not when the last epoch ended whole just past it
                self.out_of_time_ = bool(cut) or len(self.loss_curve_) < self.max_epochs
                break
        # the best validation epoch's weights; without validation rows the last epoch's
        # (the lowest training loss, measured with dropout on, is no sign of a better model,
        # and MetaMLP's refit trains exactly the searched number of epochs)
        if best_state is not None:  # None without validation rows or if every loss was NaN
            model.load_state_dict(best_state)
        # float64 inference: a row's prediction must not depend on its batch-mates (moved
        # first: a device without float64 casts nothing)
        self.model_ = model.to(_inference_device(dev)).double().eval()
        self.n_epochs_ = len(self.loss_curve_)
        self.best_loss_ = float(best)

    @staticmethod
    def _stopper(deadline: float, cut: list[int]) -> Callable[[int], bool]:
        """``train_epoch``'s ``stop``: whether the ``deadline`` has passed (then the rows
        trained are appended to ``cut``)."""
        def stop(rows_done: int) -> bool:
            if time.perf_counter() >= deadline:
                cut.append(rows_done)
                return True
            return False
        return stop

    def __getstate__(self) -> dict:
        """The fitted network pickled on the CPU: one fitted on a GPU unpickles on a
        machine without one (torch refused it: "Attempting to deserialize object on a
        CUDA device"); the unpickled model predicts on the CPU."""
        state = super().__getstate__()
        device = state.get("device_")
        if "model_" in state and device is not None and device.type != "cpu":
            state = {**state, "model_": copy.deepcopy(self.model_).cpu(),
                     "device_": torch.device("cpu")}
        return state

    def __setstate__(self, state: dict) -> None:
        """A model pickled by a metaopt without ``time_budget`` unpickles with
        ``time_budget=None``, the no-limit training it had."""
        state.setdefault("time_budget", None)
        super().__setstate__(state)

    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self)
        with _text_refused(self, X):
            X = validate_data(self, X, accept_sparse=_SPARSE, dtype=[np.float64, np.float32],
                              reset=False)
        X = densified(X, f"{type(self).__name__} predicts")
        # the network's own device: device_ is where it trained (not MPS's CPU inference)
        device = next(self.model_.parameters()).device
        with torch.no_grad():  # (standardised a batch at a time: X's copies were 3 x X)
            out = [
                self.model_(torch.from_numpy(_standardised(
                    X[i : i + _PREDICT_BATCH], self.x_mean_, self.x_scale_, np.float64,
                )).to(device)).cpu()
                for i in range(0, len(X), _PREDICT_BATCH)
            ]
        return torch.cat(out).numpy()


# the MLP estimators' parameters, the same but for validation_fraction
_PARAMS_HEAD = """    Parameters
    ----------
    n_layers : int, default=2
        Number of hidden blocks (linear -> norm -> activation -> dropout).
    width : int, default=256
        Units per hidden block.
    activation : {"relu", "gelu", "silu", "tanh"}, default="relu"
    dropout : float, default=0.0
        In [0, 1).
    norm : {"none", "batchnorm", "layernorm"}, default="none"
    skip : bool, default=False
        Residual connections between hidden blocks.
    learning_rate : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    batch_size : int, default=128
        Rows per minibatch (all the training rows when fewer).
    max_epochs : int, default=100
        Most epochs; early stopping or ``time_budget`` may end the training sooner.
"""
_PARAMS_TAIL = """    n_iter_no_change : int, default=10
        Patience, in epochs.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else CPU. The trained network predicts in
        float64 on the same device, but on the CPU after training on ``"mps"`` (Apple's
        GPUs have no float64).
    random_state : int, RandomState or None, default=None
        Seeds the split, the initialisation, shuffling and dropout.
    time_budget : float or None, default=None
        Seconds for ``fit``: once they are spent the training stops, also within an
        epoch (it looks every few minibatches), keeping the best validation epoch's
        weights so far, or the current ones without a hold-out (``out_of_time_``).
        None: no limit (the training is then exactly as without this parameter).

"""


def _params_doc(validation_fraction: str) -> str:
    """The MLP estimators' ``Parameters`` section, ``validation_fraction``'s text
    (the one that differs) given."""
    return _PARAMS_HEAD + validation_fraction + _PARAMS_TAIL


class MLPClassifier(ClassifierMixin, _BaseMLP):
    __doc__ = ("""Torch MLP classifier (softmax output, cross-entropy loss) with early stopping.

"""
               + _params_doc("""    validation_fraction : float, default=0.1
        Share of rows held out for early stopping, drawn at random and stratified by
        class, each class keeping at least one training row (0: the training loss
        decides when to stop, and the last epoch's weights are kept).
""") + """    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    model_ : torch.nn.Module
        The trained network (weights of the best monitored epoch), in eval mode and
        float64 so that a row's prediction does not depend on the other rows.
    n_epochs_ : int
    loss_curve_, validation_loss_curve_ : list of float
    best_loss_ : float
    out_of_time_ : bool
        Whether ``time_budget`` stopped the training.
""")

    def _encode_target(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        check_one_target(y, type(self).__name__, "classification", fit="network",
                         alternative=", or train one network on all of them with "
                         "sklearn.neural_network.MLPClassifier, which takes a 2-D y of 0/1 "
                         "labels (multilabel)")
        check_class_labels(y, self)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        return torch.tensor(encoder.transform(y), dtype=torch.long), len(self.classes_)

    def _loss(self) -> nn.Module:
        return nn.CrossEntropyLoss(reduction="none")

    def _holdout(self, order: np.ndarray, target: torch.Tensor,
                 n_val: int) -> tuple[np.ndarray, np.ndarray]:
        """Stratified, as scikit-learn's MLPClassifier: each class gives its share of the
        ``n_val`` early-stopping rows (largest remainders first, ties to the class met
        first in the random ``order``), the first of its rows in ``order``, and never its
        last row (a class held out entirely would never be trained on; then fewer rows
        are held out)."""
        ranked = target.numpy()[order]
        counts = np.bincount(ranked)
        by_class = np.argsort(ranked, kind="stable")  # positions in order, class by class
        starts = np.cumsum(counts) - counts
        rank = np.empty(len(order), dtype=int)  # each row's place among its class's
        rank[by_class] = np.arange(len(order)) - np.repeat(starts, counts)
        met = np.argsort(by_class[starts])  # the classes in the order first met
        exact = n_val * counts / len(order)
        quota = np.minimum(np.floor(exact).astype(int), counts - 1)
        while quota.sum() < n_val and (spare := quota < counts - 1).any():
            gap = np.where(spare, exact - quota, -np.inf)[met]
            quota[met[np.argmax(gap)]] += 1
        held = rank < quota[ranked]
        return order[held], order[~held]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        logits = self._forward(X)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class label.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        logits = self._forward(X)
        return self.classes_[np.argmax(logits, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = ("""Torch MLP regressor (squared error on the standardised target) with early stopping.

    ``y`` of shape (n_samples, n_outputs) is multi-output regression, as with
    scikit-learn's ``MLPRegressor``: one output unit per column, each column standardised
    on its own, the loss the mean squared error over all of them, and :meth:`predict`
    returns (n_samples, n_outputs). A single column, (n_samples, 1), is taken as a 1-D
    ``y`` (with scikit-learn's ``DataConversionWarning``) and predicted as (n_samples,).

"""
               + _params_doc("""    validation_fraction : float, default=0.1
        Share of rows held out at random for early stopping on the validation mean
        squared error (0: the training loss decides when to stop, and the last epoch's
        weights are kept).
""") + """    Attributes
    ----------
    n_features_in_ : int
    n_outputs_ : int
        Number of target columns (1 for a 1-D ``y``).
    y_mean_, y_scale_ : float, or ndarray of shape (n_outputs,) for a 2-D ``y``
        Target standardisation, undone in :meth:`predict`.
    model_ : torch.nn.Module
    n_epochs_ : int
    loss_curve_, validation_loss_curve_ : list of float
    best_loss_ : float
    out_of_time_ : bool
        Whether ``time_budget`` stopped the training.
""")

    y_mean_: float | np.ndarray
    y_scale_: float | np.ndarray

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_target(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        y = np.asarray(y, dtype=np.float64)
        check_target_scale(y)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.y_mean_, self.y_scale_ = _standardise(y)  # per column
        if y.ndim == 1:
            self.y_mean_, self.y_scale_ = float(self.y_mean_), float(self.y_scale_)
        target = (y - self.y_mean_) / self.y_scale_
        return torch.tensor(target.reshape(len(y), -1), dtype=torch.float32), self.n_outputs_

    def _loss(self) -> nn.Module:
        return nn.MSELoss(reduction="none")

    def predict(self, X) -> np.ndarray:
        """Predicted target values.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            (n_samples,) when fitted on a 1-D ``y`` (or a single column).
        """
        pred = self._forward(X) * self.y_scale_ + self.y_mean_
        return pred[:, 0] if np.ndim(self.y_mean_) == 0 else pred
