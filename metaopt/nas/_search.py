"""Multi-fidelity evaluation of MLP configurations: train on folds epoch by epoch, report
the mean validation score to an Optuna trial so a pruner can stop bad ones early."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import optuna
import torch
from sklearn.metrics import accuracy_score, r2_score
from torch import nn

from metaopt._rows import sampled_reserve
from metaopt.meta._losses import seeded
from metaopt.nas._adamw import AdamW
from metaopt.nas._mlp import _standardise, build_mlp, train_epoch, unit_mean_weights
from metaopt.spaces import get_space
from metaopt.spaces._base import Distribution

#: ``mlp``-space parameters the search does not tune: epochs are the fidelity.
NOT_SEARCHED = ("max_epochs",)
PRUNERS = ("hyperband", "successive_halving", "none")


def search_distributions(task: str) -> dict[str, Distribution]:
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


def search_score(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """What a trial scores: accuracy, or R² of at least -1 (-1 for predictions that are
    not finite)."""
    if task == "classification":
        return float(accuracy_score(y_true, y_pred))
    if not np.isfinite(y_pred).all():
        return -1.0
    return max(float(r2_score(y_true, y_pred)), -1.0)


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


#: seconds between two progress messages within an epoch (``FoldTrainer.progress``)
PROGRESS_EVERY = 5.0


class OutOfTime(Protocol):
    """:meth:`FoldTrainer.evaluate`'s ``out_of_time``: whether the trial must stop, given
    the ``seconds`` it has trained, its ``epochs`` (a fraction of one included when asked
    within an epoch: ``in_epoch=True``), its ``best_epoch`` and its ``best`` mean score so
    far."""

    def __call__(self, seconds: float, epochs: float, best_epoch: int, best: float, /, *,
                 in_epoch: bool = False) -> bool: ...


class _EpochStop:
    """``train_epoch``'s ``stop`` for one fold's epoch: asks ``out_of_time`` (with the
    epochs trained so far, a fraction included) and tells ``progress`` now and then."""

    def __init__(self, trainer: FoldTrainer, trained: float, epoch: int, fold: int,
                 rows_before: int, best_epoch: int, best: float,
                 out_of_time: OutOfTime | None) -> None:
        # ``trained``: when the training began (the seconds per epoch it counts)
        self.trainer, self.start, self.epoch, self.fold = trainer, trained, epoch, fold
        self.rows_before, self.best_epoch, self.best = rows_before, best_epoch, best
        self.out_of_time, self.cut = out_of_time, False

    def __call__(self, rows_done: int) -> bool:
        trainer, now = self.trainer, time.perf_counter()
        done = (self.rows_before + rows_done) / trainer.rows_per_fold_epoch
        if trainer.progress is not None and now >= trainer.next_progress:
            trainer.next_progress = now + PROGRESS_EVERY
            fold_share = rows_done / len(trainer.folds[self.fold].x_tr)
            trainer.progress(f"epoch {self.epoch}, fold {self.fold + 1}/{len(trainer.folds)}"
                             f" {fold_share:.0%} trained ({now - self.start:.1f} s)")
        if self.out_of_time is not None and self.out_of_time(
                now - self.start, self.epoch - 1 + done, self.best_epoch, self.best,
                in_epoch=True):
            self.cut = True
        return self.cut


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
    seconds: float = 0.0  # wall time of the epochs, all folds (not building the models)
    out_of_time: bool = False  # stopped by ``out_of_time`` (the time budget)
    train_losses: list[float] = field(default_factory=list)  # mean over folds, per epoch


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
        started = time.perf_counter()
        self.task, self.device, self.seed = task, device, seed
        #: ``progress(message)``: told every :data:`PROGRESS_EVERY` seconds within an epoch
        self.progress: Callable[[str], None] | None = None
        self.n_out = int(y.max()) + 1 if task == "classification" else 1
        self.n_rows = len(y)
        # rows one epoch of all folds trains on, and per row of the whole data (a refit's
        # epoch)
        self.rows_per_fold_epoch = sum(len(tr) for tr, _ in splits)
        self.rows_per_epoch = self.rows_per_fold_epoch / len(y)
        self.folds = []
        for tr, val in splits:
            # one copy of the fold's rows, standardised in place ((X[tr] - mean) / scale
            # would make three); the validation rows are copied only once the training rows
            # are float32, so that both float64 copies are not alive at once
            x_tr = X[tr]
            mean, scale = _standardise(x_tr)
            x_tr = _standardised_tensor(x_tr, mean, scale, device)
            x_val = _standardised_tensor(X[val], mean, scale, device)
            if task == "classification":
                y_tr, y_val = torch.tensor(y[tr], dtype=torch.long, device=device), y[val]
            else:  # both sides standardised alike (as MLPRegressor's): R² is unchanged
                y_tr = y[tr]
                y_mean, y_scale = _standardise(y_tr)
                y_tr = torch.tensor((y_tr - y_mean) / y_scale, dtype=torch.float32,
                                    device=device)[:, None]
                y_val = (y[val] - y_mean) / y_scale
            self.folds.append(_Fold(x_tr, y_tr, x_val, y_val,
                                    unit_mean_weights(sample_weight, tr, device)))
        # a refit repeats this work once on all rows (each fold did it on all rows)
        self.refit_setup_seconds = (time.perf_counter() - started) / len(splits)

    def _score(self, model: nn.Module, fold: _Fold) -> float:
        model.eval()
        with torch.no_grad():
            out = model(fold.x_val).cpu().numpy()
        pred = out.argmax(axis=1) if self.task == "classification" else out[:, 0]
        return search_score(self.task, fold.y_val, pred)

    def evaluate(self, params: Mapping[str, Any], max_epochs: int, patience: int,
                 report: Callable[[float, int], bool] | None = None,
                 out_of_time: OutOfTime | None = None) -> Evaluation:
        """Train ``params`` for up to ``max_epochs`` on every fold, in lockstep.

        After each epoch the mean validation score goes to ``report(score, epoch)``; a
        ``True`` return stops the training (a pruned trial) -- the exception is the
        caller's to raise. Training also stops after ``patience`` epochs without a new
        best mean score, and when ``out_of_time(seconds, epochs, best_epoch, best)`` says
        so (the best score so far stands): between epochs with whole ``epochs``, within
        one every few minibatches with the fraction trained and ``in_epoch=True``.
        """
        start = time.perf_counter()
        self.next_progress = start + PROGRESS_EVERY
        watch = out_of_time is not None or self.progress is not None
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
                optims.append(AdamW(model.parameters(), lr=float(params["learning_rate"]),
                                    weight_decay=float(params["weight_decay"])))
            curve: list[float]
            best, best_epoch, curve, pruned, losses = -np.inf, 0, [], False, []
            # the epochs' seconds (the next epoch's and the refit's estimates) start here,
            # after building the models (~1 s on 1M x 50), not a cost of every epoch
            trained = time.perf_counter()
            for epoch in range(1, max_epochs + 1):
                scores, fold_losses, rows_before = [], [], 0
                for k, (model, opt, fold) in enumerate(zip(models, optims, self.folds,
                                                           strict=True)):
                    batch = min(int(params["batch_size"]), len(fold.x_tr))
                    stop = _EpochStop(self, trained, epoch, k, rows_before, best_epoch,
                                      best, out_of_time) if watch else None
                    fold_losses.append(train_epoch(model, opt, loss_fn, fold.x_tr, fold.y_tr,
                                                   batch, fold.w_tr, stop))
                    rows_before += len(fold.x_tr)
                    if stop is not None and stop.cut:
                        # the deadline came within the epoch: the best epoch so far stands;
                        # in the first, the folds trained so far (the last one in part)
                        # score the trial (a refit of one epoch, itself stopped on time),
                        # and their training losses are that epoch's
                        if not curve:
                            scores = [self._score(m, f) for m, f in zip(
                                models[:k + 1], self.folds[:k + 1], strict=True)]
                            best, best_epoch = float(np.mean(scores)), 1
                            curve.append(best)
                            losses.append(float(np.mean(fold_losses)))
                        return Evaluation(float(best), best_epoch, len(curve), curve,
                                          seconds=time.perf_counter() - trained,
                                          out_of_time=True, train_losses=losses)
                    scores.append(self._score(model, fold))
                curve.append(float(np.mean(scores)))
                losses.append(float(np.mean(fold_losses)))
                if curve[-1] > best:
                    best, best_epoch = curve[-1], epoch
                if report is not None and report(curve[-1], epoch):
                    pruned = True
                    break
                if epoch - best_epoch >= patience:
                    break
                if out_of_time is not None and out_of_time(
                        time.perf_counter() - trained, epoch, best_epoch, best):
                    return Evaluation(float(best), best_epoch, len(curve), curve,
                                      seconds=time.perf_counter() - trained, out_of_time=True,
                                      train_losses=losses)
        return Evaluation(float(best), best_epoch, len(curve), curve, pruned,
                          seconds=time.perf_counter() - trained, train_losses=losses)


def refit_seconds(trainer: FoldTrainer, seconds: float, epochs: float, best_epoch: int,
                  rows: int | None = None) -> float:
    """Estimated wall time of refitting a configuration on the trainer's rows (or on
    ``rows`` rows: the time is per row) for its best number of epochs (at least one), from
    how long its ``epochs`` on the folds took (``seconds``; ``epochs`` may count a part of
    one), plus the refit's own standardisation and copies of the rows (as long as one
    fold's took: 1.3 s on 1,000,000 x 50, which the estimate once missed)."""
    per_epoch = seconds / epochs if epochs > 0 else 0.0
    estimate = (per_epoch / trainer.rows_per_epoch * max(best_epoch, 1)
                + trainer.refit_setup_seconds)
    return estimate if rows is None else estimate * rows / trainer.n_rows


# the "stopped" user attribute of a trial the time budget ended before it trained, and
# of one it stopped training: either stops the study
NO_TIME_TO_START = "no time to start"
OUT_OF_TIME = "time budget"
# that of a trial stopped at the end of its share of the time left (TRIAL_SHARE): the
# study goes on
TRIAL_SHARE_SPENT = "its share of the time left"
#: the share of the time left (less the refit's reserve) a trial may train for while
#: another may follow it, as MetaOptClassifier's first trial: half
TRIAL_SHARE = 0.5


def trial_share_seconds(now: float, deadline: float, reserve: float, share: float,
                        more_trials: bool) -> float | None:
    """How many seconds of epochs a trial starting at ``now`` may train for (it stops
    before an epoch that would end after them), while ``more_trials`` may follow it:
    ``share`` of the time left before the search's ``deadline`` less the refit's
    ``reserve`` (0 when none is left); None (only the search's deadline) for the last
    trial or a ``share`` of 1 or more."""
    if not more_trials or share >= 1.0:
        return None
    return share * max(deadline - reserve - now, 0.0)


def _best_complete(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    try:  # the best complete trial: none completes while a trial trains
        return study.best_trial
    except ValueError:  # no complete trial yet
        return None


def refit_reserve(trainer: FoldTrainer, incumbent: optuna.trial.FrozenTrial | None,
                  seconds: float, epochs: float, best_epoch: int, score: float = -np.inf,
                  refit_rows: int | None = None, time_budget: float | None = None) -> float:
    """The time a search keeps for the refit of the best configuration so far: that of
    a trial that took ``seconds`` for ``epochs`` with its best at ``best_epoch`` when its
    best ``score`` beats the ``incumbent`` (the best complete trial, None: none), else the
    incumbent's (0 with neither). ``refit_rows``: the trainer has a sample of the rows and
    the refit this many, its time then kept at most half the ``time_budget``
    (:func:`metaopt._rows.sampled_reserve`)."""
    if incumbent is not None:
        assert incumbent.value is not None  # a complete trial's
        if incumbent.value >= score:
            best = incumbent.user_attrs
            seconds, epochs, best_epoch = best["seconds"], best["epochs"], best["best_epoch"]
    kept = refit_seconds(trainer, seconds, epochs, best_epoch, refit_rows) if epochs else 0.0
    if refit_rows is not None:
        assert time_budget is not None  # the deadline's
        kept = sampled_reserve(kept, time_budget)
    return kept


def no_time_to_start(study: optuna.Study, trainer: FoldTrainer, deadline: float,
                     refit_rows: int | None = None,
                     time_budget: float | None = None) -> bool:
    """Whether a trial of ``study`` starting now would leave too little time before the
    ``deadline`` for the refit of its best complete trial (:func:`refit_reserve`): the
    objective refuses such a trial, and :func:`stop_when_spent` stops the study before
    its sampler proposes it."""
    return time.perf_counter() >= deadline - refit_reserve(
        trainer, _best_complete(study), 0.0, 0, 0, refit_rows=refit_rows,
        time_budget=time_budget)


def stop_when_spent(trainer: FoldTrainer, deadline: float, refit_rows: int | None = None,
                    time_budget: float | None = None,
                    ) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], bool]:
    """An Optuna callback that stops the study once a trial leaves no time to start
    another (:func:`no_time_to_start`), before its sampler proposes one that the objective
    would refuse (a trailing trial pruned unrun, "no time to start"); it says whether it
    stopped the study."""

    def stop(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        if no_time_to_start(study, trainer, deadline, refit_rows, time_budget):
            study.stop()
            return True
        return False
    return stop


def objective(trainer: FoldTrainer, task: str, max_epochs: int, patience: int,
              deadline: float | None = None, refit_rows: int | None = None,
              time_budget: float | None = None, share: float = 1.0,
              n_trials: int | None = None) -> Callable[[optuna.trial.Trial], float]:
    """Optuna objective: sample (or take the enqueued) ``mlp`` configuration, train it
    with pruning, return the best mean validation score (higher is better).

    With a ``deadline`` (a ``time.perf_counter()`` value), training stops before an
    epoch that would leave no time to refit the best configuration so far before it
    (its best score so far counts), and stops the study: the next trial's first epoch
    would take that time (a trial that would start with no time left stops it too).
    ``refit_rows``: the trainer has a sample of the rows and the refit this many, its
    time then kept at most half the ``time_budget`` (:func:`metaopt._rows.sampled_reserve`).
    ``share``: with a ``deadline``, a trial another may follow (of ``n_trials``, None: no
    limit) also stops before an epoch that would end after that share of the time left
    when it started, less the refit's reserve (:func:`trial_share_seconds`; its epochs'
    time counts from when its networks are built); its best score so far counts, and
    the study goes on."""

    def run(trial: optuna.trial.Trial) -> float:
        params = suggest_mlp(trial, task)

        def report(score: float, epoch: int) -> bool:
            trial.report(score, epoch)
            # a trial that trained every epoch is complete: pruned there (max_epochs on
            # a Hyperband rung: 1, 3, 9, 27), it saved nothing and could not be the best
            return epoch < max_epochs and trial.should_prune()

        incumbent = _best_complete(trial.study)

        def out_of_time(seconds: float, epochs: float, best_epoch: int,
                        score: float = -np.inf, in_epoch: bool = False) -> bool:
            """Whether one more epoch of this trial (as long as its others so far; within
            an epoch, ``in_epoch``, the next few minibatches) would leave too little time
            for the refit of the best configuration so far: this one's when its best
            ``score`` so far beats every complete trial (stopped now, it would be the one
            refitted), else the best complete one's. ``epochs`` may count a part of one.
            Between epochs, also whether the next would end after the trial's share of the
            time (``capped`` then says so: the search's deadline goes first)."""
            assert deadline is not None  # given with a deadline only
            next_epoch = seconds / epochs if epochs and not in_epoch else 0.0
            if (time.perf_counter() + next_epoch
                    >= deadline - reserve(seconds, epochs, best_epoch, score)):
                return True
            if (own_share is not None and not in_epoch and epochs
                    and seconds + next_epoch >= own_share):
                capped.append(True)
                return True
            return False

        def reserve(seconds: float, epochs: float, best_epoch: int,
                    score: float = -np.inf) -> float:
            """The time kept for the refit of the best configuration so far (this
            trial's, from its ``seconds``, ``epochs`` and ``best_epoch``, when its best
            ``score`` beats every complete trial's, else the best complete one's)."""
            return refit_reserve(trainer, incumbent, seconds, epochs, best_epoch, score,
                                 refit_rows, time_budget)

        # the trial's share of the time: seconds of epochs, as ``seconds`` counts them
        # from when its networks are built
        own_share: float | None = None
        capped: list[bool] = []  # [True] once the share stopped the training
        if deadline is not None:
            if no_time_to_start(trial.study, trainer, deadline, refit_rows, time_budget):
                trial.study.stop()  # (a proposal took the time stop_when_spent saw left)
                trial.set_user_attr("stopped", NO_TIME_TO_START)
                raise optuna.TrialPruned("time budget spent")
            own_share = trial_share_seconds(
                time.perf_counter(), deadline, reserve(0.0, 0, 0), share,
                n_trials is None or trial.number + 1 < n_trials)
        result = trainer.evaluate(params, max_epochs, patience, report,
                                  None if deadline is None else out_of_time)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("epochs", result.epochs)
        trial.set_user_attr("seconds", result.seconds)
        if 0 < result.best_epoch <= len(result.train_losses):  # (a refit compares its own)
            trial.set_user_attr("train_loss", result.train_losses[result.best_epoch - 1])
        if result.pruned:
            raise optuna.TrialPruned()
        if result.out_of_time and capped:  # its share spent: the next trial may start
            trial.set_user_attr("stopped", TRIAL_SHARE_SPENT)
        elif result.out_of_time:
            trial.study.stop()
            trial.set_user_attr("stopped", OUT_OF_TIME)
        return result.score

    return run
