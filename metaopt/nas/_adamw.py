"""AdamW for the MLPs, written out.

Building any ``torch.optim`` optimiser imports ``torch._dynamo`` (its methods are wrapped
by ``torch._disable_dynamo``, which imports it on first call): 1.5-2.5 s on the 2-core
CPU machine, paid by every process on its first MLP fit, so by each worker process of a
time-budgeted search in its first ``mlp`` trial. This is ``torch.optim.AdamW``'s update
(its single-tensor form, which it runs on the CPU), operation for operation: on the CPU
the two give the same weights to the bit (``tests/nas/test_adamw.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class AdamW:
    """AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters to train (those that require gradients are kept).
    lr : float
    weight_decay : float
    betas : tuple of float, default=(0.9, 0.999)
    eps : float, default=1e-8
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.steps = [0] * len(self.params)  # per parameter, as torch's: one without a
        # gradient is skipped and its bias correction does not advance
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format)
                        for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format)
                           for p in self.params]

    def zero_grad(self) -> None:
        """Drop the gradients (``set_to_none``, torch's default)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        beta1, beta2 = self.betas
        for i, (param, exp_avg, exp_avg_sq) in enumerate(
                zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True)):
            grad = param.grad
            if grad is None:
                continue
            self.steps[i] += 1
            step = float(self.steps[i])
            if self.weight_decay != 0:
                param.mul_(1 - self.lr * self.weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step_size = self.lr / (1 - beta1**step)
            denom = (exp_avg_sq.sqrt() / (1 - beta2**step) ** 0.5).add_(self.eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)
