"""Per-task losses with per-example weights, and the shared helpers that resolve them,
resolve a device and seed torch.

Every loss takes ``(pred, target, weight)`` for ONE task (no task dimension: the
learners ``vmap`` over tasks) and returns a scalar. ``weight`` has one entry per
example; a weight of 0 marks padding, so tasks with different numbers of support
points can be stacked into one meta-batch.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

_EPS = 1e-12


def weighted_mean(values: torch.Tensor, weight: torch.Tensor, dim: int | None = None
                  ) -> torch.Tensor:
    """The mean of ``values`` weighted by ``weight`` (over ``dim``; all when None)."""
    if dim is None:
        return (values * weight).sum() / weight.sum().clamp_min(_EPS)
    return (values * weight).sum(dim=dim) / weight.sum(dim=dim).clamp_min(_EPS)


def one_tensor(out, model: str = "model") -> torch.Tensor:
    """``out``, what a ``model`` (or encoder) returned, when it is one tensor; else a
    TypeError that says what to return: a ``(logits, features)`` tuple failed inside the
    loss ("'tuple' object has no attribute 'numel'")."""
    if isinstance(out, torch.Tensor):
        return out
    got = (f"a {type(out).__name__} of {len(out)} values"
           if isinstance(out, (tuple, list, dict)) else type(out).__name__)
    raise TypeError(f"the {model}'s forward must return one tensor (its outputs), got {got}: "
                    "return the outputs alone, e.g. wrap it in a module whose forward returns "
                    "model(x)[0]")


def example_weights(x: torch.Tensor, weight: torch.Tensor | None, which: str) -> torch.Tensor:
    """Per-example weights ``[tasks, shots]``: ones when ``weight`` is None, else checked."""
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    if weight is None:
        return torch.ones(x.shape[:2], dtype=dtype, device=x.device)
    if tuple(weight.shape) != tuple(x.shape[:2]):
        raise ValueError(
            f"{which}_weight must have shape [tasks, shots] = {tuple(x.shape[:2])}, got {tuple(weight.shape)}"
        )
    if (weight < 0).any():
        raise ValueError(f"{which}_weight must be >= 0 (0 marks padding), got a negative weight")
    return weight.to(dtype)


def check_rate(value, name: str, *, zero: bool = False) -> float:
    """``value`` as a float when it is a finite number > 0 (>= 0 with ``zero``: a
    learning rate); ``ValueError`` naming ``name`` otherwise."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = math.nan
    if isinstance(value, (str, bool)) or not (rate >= 0 if zero else rate > 0) or rate == math.inf:
        raise ValueError(f"{name} must be a finite number {'>=' if zero else '>'} 0, "
                         f"got {value!r}")
    return rate


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean squared error, averaged per example then weighted over examples.

    Parameters
    ----------
    pred : Tensor
        Reshaped to ``target``'s shape when they hold the same number of values (an
        ``[n, 1]`` output against an ``[n]`` target).
    target : Tensor
        ``[n, ...]``.
    weight : Tensor
        ``[n]`` per-example weights.

    Returns
    -------
    Tensor
        A scalar.
    """
    if pred.numel() != target.numel():
        raise ValueError(
            f"loss_fn='mse': the model gives {tuple(pred.shape)} outputs for targets of shape "
            f"{tuple(target.shape)}; class labels need loss_fn='cross_entropy'")
    pred = pred.reshape(target.shape)
    squared = (pred - target).pow(2)  # (flatten, not reshape: a support set of 0 shots)
    per_example = squared.flatten(start_dim=1).mean(dim=1) if squared.ndim > 1 else squared
    return weighted_mean(per_example, weight)


def weighted_cross_entropy(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Weighted mean cross-entropy of logits against integer labels.

    Parameters
    ----------
    pred : Tensor
        ``[n, classes]`` logits.
    target : Tensor
        ``[n]`` integer labels.
    weight : Tensor
        ``[n]`` per-example weights.

    Returns
    -------
    Tensor
        A scalar.
    """
    if target.is_floating_point():
        raise ValueError(f"loss_fn='cross_entropy' needs integer class labels, got {target.dtype} "
                         "targets (a regression target needs loss_fn='mse')")
    if target.ndim != 1:
        raise ValueError(f"loss_fn='cross_entropy' needs one class index per example "
                         f"([tasks, shots] batched), got labels of shape {tuple(target.shape)} "
                         "per task")
    if pred.ndim != 2 or pred.shape[-1] < 2:
        raise ValueError(f"loss_fn='cross_entropy' needs one logit per class ([n, classes], "
                         f"classes >= 2), the model gives {tuple(pred.shape)}")
    return weighted_mean(F.cross_entropy(pred, target, reduction="none"), weight)


def pairwise_logistic_loss(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """RankNet-style pairwise loss: ``softplus(-(pred_i - pred_j))`` for every pair with
    ``target_i > target_j``, each pair weighted by ``weight_i * weight_j``.

    Only the order of the targets matters, which suits scores that are not on a
    common scale across tasks (e.g. validation scores of configurations on different
    datasets).

    Parameters
    ----------
    pred : Tensor
        Predicted scores, reshaped to ``target``'s shape.
    target : Tensor
        ``[n]`` true scores.
    weight : Tensor
        ``[n]`` per-example weights.

    Returns
    -------
    Tensor
        A scalar.
    """
    pred = pred.reshape(target.shape)
    better = (target[:, None] - target[None, :] > 0).to(pred.dtype)
    pair_weight = weight[:, None] * weight[None, :] * better
    return weighted_mean(F.softplus(pred[None, :] - pred[:, None]), pair_weight)


LOSSES: dict[str, LossFn] = {
    "mse": weighted_mse,
    "cross_entropy": weighted_cross_entropy,
    "pairwise_logistic": pairwise_logistic_loss,
}


_WRAP = ("a loss of (pred, target) takes the per-example weights (0: padding) as in "
         "lambda pred, target, weight: (F.l1_loss(pred, target, reduction='none')"
         ".reshape(len(weight), -1).mean(1) * weight).sum() / weight.sum()")

# torch's losses with a built-in equivalent, which also takes the per-example weights
_TORCH_LOSSES = {"cross_entropy": "cross_entropy", "CrossEntropyLoss": "cross_entropy",
                 "mse_loss": "mse", "MSELoss": "mse"}


def _refuse_torch_loss(loss_fn) -> None:
    """TypeError for torch's own losses (``F.cross_entropy``, ``nn.CrossEntropyLoss()``,
    ...), learn2learn's usual ones: their third positional argument is not metaopt's
    per-example weights (``F.cross_entropy`` takes them for class weights, ``F.mse_loss``
    for ``size_average``), so they failed with torch's errors about those, or a module
    with the signature check's "too many positional arguments"."""
    # torch's own classes and functions by their module: a user's subclass (a forward of
    # (pred, target, weight)) is the user's loss, and torch's _Loss base is private
    if type(loss_fn).__module__ == "torch.nn.modules.loss":
        name = type(loss_fn).__name__
        shown = f"nn.{name}()"
    elif getattr(loss_fn, "__module__", None) == "torch.nn.functional":
        name = getattr(loss_fn, "__name__", "")
        shown = f"F.{name}"
    else:
        return
    builtin = _TORCH_LOSSES.get(name)
    use = (f"use loss_fn={builtin!r}, the same loss (its mean) taking the weights"
           if builtin else _WRAP)
    raise TypeError(f"loss_fn={shown} is torch's loss of (input, target), and metaopt "
                    "calls loss_fn with three positional arguments (pred, target, weight), "
                    f"one weight per example; {use}")


def resolve_loss(loss_fn: str | LossFn) -> LossFn:
    """Return the loss callable for a name in :data:`LOSSES` or a ``(pred, target, weight)`` callable."""
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise ValueError(
                f"loss_fn={loss_fn!r} is not a known loss; use one of {sorted(LOSSES)} or a callable"
            )
        return LOSSES[loss_fn]
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a string or a callable, got {type(loss_fn).__name__}")
    _refuse_torch_loss(loss_fn)
    try:  # a module's own signature is forward's, not __call__'s (*args, **kwargs)
        inspect.signature(loss_fn.forward if isinstance(loss_fn, torch.nn.Module)
                          else loss_fn).bind(None, None, None)
    except TypeError as err:
        raise TypeError(
            "loss_fn must accept three positional arguments (pred, target, weight); "
            f"{loss_fn!r} does not ({err}); {_WRAP}"
        ) from None
    except ValueError:  # builtins without a signature: trust the caller
        pass
    return loss_fn


def loss_name(loss_fn: str | LossFn) -> str:
    """A JSON-friendly description of a loss for checkpoints."""
    if isinstance(loss_fn, str):
        return loss_fn
    return (
        f"{getattr(loss_fn, '__module__', '?')}.{getattr(loss_fn, '__qualname__', repr(loss_fn))}"
    )


def resolve_device(device: str | torch.device) -> torch.device:
    """The torch device to train on.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when available, else CPU; anything else goes to
        :class:`torch.device`, and only when this torch build can use it (a GPU for CUDA).

    Returns
    -------
    torch.device
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device={device!r} is not a valid device; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from err
    if resolved.type == "meta":  # shapes only: training would fail at its first value
        raise ValueError(f"device={device!r} holds no data, so nothing can be trained on it; "
                         "use 'auto', 'cpu' or 'cuda'")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: no CUDA GPU is available to this torch build "
                         f"(torch {torch.__version__}); use 'auto' or 'cpu'")
    if resolved.type not in ("cpu", "cuda"):
        try:  # e.g. "mps" without Apple silicon: refused now, not at the first tensor
            torch.empty(0, device=resolved)
        # ImportError: a device type whose torch module this build lacks ("hpu")
        except (RuntimeError, AssertionError, ImportError) as err:
            raise ValueError(f"device={device!r} is not available to this torch build "
                             f"(torch {torch.__version__}); use 'auto' or 'cpu'") from err
    return resolved


@contextmanager
def seeded(seed: int | None, device: torch.device | None = None) -> Iterator[None]:
    """torch's CPU generator (and an accelerator ``device``'s, e.g. a GPU) seeded with
    ``seed`` inside (None: left as it is), and restored after: metaopt's draws
    (initialisation, dropout, shuffles) do not move the caller's torch stream, and with a
    seed do not depend on it. The generators of other devices are left alone
    (``torch.manual_seed`` would re-seed every GPU, and only these are restored)."""
    accelerator = device if device is not None and device.type not in ("cpu", "meta") else None
    with torch.random.fork_rng(devices=[] if accelerator is None else [accelerator],
                               device_type=None if accelerator is None else accelerator.type):
        if seed is not None:
            torch.default_generator.manual_seed(seed)
            if accelerator is not None:
                with torch.accelerator.device_index(accelerator.index):
                    torch.get_device_module(accelerator.type).manual_seed(seed)
        yield
