"""Multi-fidelity evaluation of MLP configurations: train on folds epoch by epoch, report
the mean validation score to an Optuna trial so a pruner can stop bad ones early."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import torch
from sklearn.metrics import accuracy_score, r2_score
from torch import nn

from metaopt.meta._losses import seeded
from metaopt.nas._mlp import build_mlp, train_epoch, unit_mean_weights
from metaopt.spaces import get_space

#: ``mlp``-space parameters the search does not tune: epochs are the fidelity.
NOT_SEARCHED = ("max_epochs",)
PRUNERS = ("hyperband", "successive_halving", "none")


def search_distributions(task: str) -> dict[str, optuna.distributions.BaseDistribution]:
    """The ``mlp`` space's distributions for ``task`` without :data:`NOT_SEARCHED`."""
    return {k: d for k, d in get_space("mlp").distributions(task).items()
            if k not in NOT_SEARCHED}


def suggest_mlp(trial: optuna.trial.BaseTrial, task: str) -> dict[str, Any]:
    """Define-by-run sampling of the searched ``mlp`` parameters (conditions respected)."""
    space = get_space("mlp")
    values: dict[str, Any] = {}
    for name, d in search_distributions(task).items():
        if not space.is_active(name, values):
            continue
        if isinstance(d, optuna.distributions.CategoricalDistribution):
            values[name] = trial.suggest_categorical(name, d.choices)
        elif isinstance(d, optuna.distributions.IntDistribution):
            values[name] = trial.suggest_int(name, d.low, d.high, log=d.log)
        else:
            values[name] = trial.suggest_float(name, d.low, d.high, log=d.log)
    return values


def make_pruner(name: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """``"hyperband"`` (1..max_epochs, factor 3), ``"successive_halving"`` or ``"none"``."""
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs,
                                              reduction_factor=3)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner must be one of {PRUNERS}, got {name!r}")


def _standardised_tensor(x: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                         device: torch.device) -> torch.Tensor:
    """``(x - mean) / scale`` as float32 on ``device``; ``x`` (a copy) is overwritten."""
    x -= mean
    x /= scale
    return torch.from_numpy(x.astype(np.float32, copy=False)).to(device)


@dataclass
class _Fold:
    x_tr: torch.Tensor
    y_tr: torch.Tensor
    x_val: torch.Tensor
    y_val: np.ndarray
    w_tr: torch.Tensor | None  # training rows' weights, mean 1 (None: unweighted)


@dataclass
class Evaluation:
    """Outcome of one configuration: best mean validation score and where it was."""

    score: float
    best_epoch: int
    epochs: int  # epochs trained (per fold)
    curve: list[float]
    pruned: bool = False
    seconds: float = 0.0  # wall time of the training, all folds
    out_of_time: bool = False  # stopped by ``out_of_time`` (the time budget)


class FoldTrainer:
    """Evaluate MLP configurations on fixed train/validation splits of one dataset.

    Each fold is standardised with its own training rows (and, for regression, the
    target too); models train with AdamW exactly like :class:`~metaopt.nas.MLPClassifier`,
    their losses weighted by ``sample_weight`` when given (the validation scores are
    not, as in scikit-learn's searches).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
        Class indices ``0..n_classes-1`` for classification, floats for regression.
    task : {"classification", "regression"}
    splits : list of (train_idx, val_idx)
    device : torch.device
    seed : int
    sample_weight : ndarray of shape (n,), optional
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, task: str,
                 splits: list[tuple[np.ndarray, np.ndarray]], device: torch.device,
                 seed: int, sample_weight: np.ndarray | None = None) -> None:
        self.task, self.device, self.seed = task, device, seed
        self.n_out = int(y.max()) + 1 if task == "classification" else 1
        # rows one epoch of all folds trains on, per row of the whole data (a refit's epoch)
        self.rows_per_epoch = sum(len(tr) for tr, _ in splits) / len(y)
        self.folds = []
        for tr, val in splits:
            # one copy of the fold's rows, standardised in place (as (X[tr] - mean) / scale,
            # which made three: 1.6 GB more at the peak on 1,000,000 x 50)
            x_tr, x_val = X[tr], X[val]
            mean, scale = x_tr.mean(axis=0), x_tr.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
            x_tr, x_val = (_standardised_tensor(x, mean, scale, device) for x in (x_tr, x_val))
            if task == "classification":
                y_tr, y_val = torch.tensor(y[tr], dtype=torch.long, device=device), y[val]
            else:  # both sides standardised alike: R² is unchanged by it
                y_mean, y_scale = y[tr].mean(), y[tr].std() or 1.0
                y_tr = torch.tensor((y[tr] - y_mean) / y_scale, dtype=torch.float32,
                                    device=device)[:, None]
                y_val = (y[val] - y_mean) / y_scale
            self.folds.append(_Fold(x_tr, y_tr, x_val, y_val,
                                    unit_mean_weights(sample_weight, tr, device)))

    def _score(self, model: nn.Module, fold: _Fold) -> float:
        model.eval()
        with torch.no_grad():
            out = model(fold.x_val).cpu().numpy()
        if self.task == "classification":
            return float(accuracy_score(fold.y_val, out.argmax(axis=1)))
        if not np.isfinite(out).all():
            return -1.0
        return max(float(r2_score(fold.y_val, out[:, 0])), -1.0)

    def evaluate(self, params: Mapping[str, Any], max_epochs: int, patience: int,
                 report: Callable[[float, int], bool] | None = None,
                 out_of_time: Callable[[float, int, int, float], bool] | None = None
                 ) -> Evaluation:
        """Train ``params`` for up to ``max_epochs`` on every fold, in lockstep.

        After each epoch the mean validation score goes to ``report(score, epoch)``; a
        ``True`` return stops the training (a pruned trial) -- the exception is the
        caller's to raise. Training also stops after ``patience`` epochs without a new
        best mean score, and when ``out_of_time(seconds, epochs, best_epoch, best)`` says
        so (the best score so far stands).
        """
        start = time.perf_counter()
        loss_fn = (nn.CrossEntropyLoss if self.task == "classification" else nn.MSELoss)(
            reduction="none")
        with seeded(self.seed, self.device):
            models, optims = [], []
            for fold in self.folds:
                model = build_mlp(fold.x_tr.shape[1], self.n_out, int(params["n_layers"]),
                                  int(params["width"]), params["activation"],
                                  float(params["dropout"]), params["norm"],
                                  bool(params.get("skip", False))).to(self.device)
                models.append(model)
                optims.append(torch.optim.AdamW(model.parameters(),
                                                lr=float(params["learning_rate"]),
                                                weight_decay=float(params["weight_decay"])))
            best, best_epoch, curve, pruned = -np.inf, 0, [], False
            for epoch in range(1, max_epochs + 1):
                scores = []
                for model, opt, fold in zip(models, optims, self.folds, strict=True):
                    batch = min(int(params["batch_size"]), len(fold.x_tr))
                    train_epoch(model, opt, loss_fn, fold.x_tr, fold.y_tr, batch, fold.w_tr)
                    scores.append(self._score(model, fold))
                curve.append(float(np.mean(scores)))
                if curve[-1] > best:
                    best, best_epoch = curve[-1], epoch
                if report is not None and report(curve[-1], epoch):
                    pruned = True
                    break
                if epoch - best_epoch >= patience:
                    break
                if out_of_time is not None and out_of_time(
                        time.perf_counter() - start, epoch, best_epoch, best):
                    return Evaluation(float(best), best_epoch, len(curve), curve,
                                      seconds=time.perf_counter() - start, out_of_time=True)
        return Evaluation(float(best), best_epoch, len(curve), curve, pruned,
                          seconds=time.perf_counter() - start)


def refit_seconds(trainer: FoldTrainer, seconds: float, epochs: int, best_epoch: int) -> float:
    """Estimated wall time of refitting a configuration on all rows for its best number
    of epochs, from how long its ``epochs`` on the folds took (``seconds``)."""
    return seconds / max(epochs, 1) / trainer.rows_per_epoch * max(best_epoch, 1)


# the "stopped" user attribute of a trial the time budget ended before it trained, and
# of one it stopped training: either stops the study
NO_TIME_TO_START = "no time to start"
OUT_OF_TIME = "time budget"


def objective(trainer: FoldTrainer, task: str, max_epochs: int, patience: int,
              deadline: float | None = None) -> Callable[[optuna.trial.Trial], float]:
    """Optuna objective: sample (or take the enqueued) ``mlp`` configuration, train it
    with pruning, return the best mean validation score (higher is better).

    With a ``deadline`` (a ``time.perf_counter()`` value), training stops before an
    epoch that would leave no time to refit the best configuration so far before it
    (its best score so far counts), and stops the study: the next trial's first epoch
    would take that time (a trial that would start with no time left stops it too)."""

    def run(trial: optuna.trial.Trial) -> float:
        params = suggest_mlp(trial, task)

        def report(score: float, epoch: int) -> bool:
            trial.report(score, epoch)
            # a trial that trained every epoch is complete: pruned there (max_epochs on
            # a Hyperband rung: 1, 3, 9, 27), it saved nothing and could not be the best
            return epoch < max_epochs and trial.should_prune()

        def out_of_time(seconds: float, epochs: int, best_epoch: int,
                        score: float = -np.inf) -> bool:
            """Whether one more epoch of this trial (as long as its others so far) would
            leave too little time for the refit of the best configuration so far: this
            one's when its best ``score`` so far beats every complete trial (stopped now,
            it would be the one refitted), else the best complete one's."""
            next_epoch = seconds / epochs if epochs else 0.0
            try:
                incumbent = trial.study.best_trial
            except ValueError:  # no complete trial yet
                incumbent = None
            if incumbent is not None and incumbent.value >= score:
                best = incumbent.user_attrs
                seconds, epochs, best_epoch = best["seconds"], best["epochs"], best["best_epoch"]
            reserve = refit_seconds(trainer, seconds, epochs, best_epoch) if epochs else 0.0
            return time.perf_counter() + next_epoch >= deadline - reserve

        if deadline is not None and out_of_time(0.0, 0, 0):
            trial.study.stop()
            trial.set_user_attr("stopped", NO_TIME_TO_START)
            raise optuna.TrialPruned("time budget spent")
        result = trainer.evaluate(params, max_epochs, patience, report,
                                  None if deadline is None else out_of_time)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("epochs", result.epochs)
        trial.set_user_attr("seconds", result.seconds)
        if result.pruned:
            raise optuna.TrialPruned()
        if result.out_of_time:
            trial.study.stop()
            trial.set_user_attr("stopped", OUT_OF_TIME)
        return result.score

    return run
