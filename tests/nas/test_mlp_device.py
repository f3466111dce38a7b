"""What the torch MLPs' training would wait for on a GPU, counted on the CPU."""

from __future__ import annotations

import torch
from sklearn.datasets import load_wine
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from metaopt.nas import build_mlp
from metaopt.nas._mlp import train_epoch


class _ScalarReads(TorchDispatchMode):
    """Counts the tensor values read into Python (``float(t)``, ``t.item()``): on a GPU
    each one waits for every queued kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func is torch.ops.aten._local_scalar_dense.default
        return func(*args, **(kwargs or {}))


def test_an_epoch_reads_its_losses_once_not_per_minibatch():
    # float(loss) after every minibatch synchronised a GPU 12 times per wine epoch
    X, y = load_wine(return_X_y=True)
    x = torch.tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32)
    target = torch.as_tensor(y)
    torch.manual_seed(0)
    model = build_mlp(x.shape[1], 3, 1, 16)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)  # (Adam reads its CPU step count)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    with _ScalarReads() as reads:
        mean = train_epoch(model, sgd, loss_fn, x, target, batch_size=16)
    assert reads.count == 0
    assert 0 < mean < 2
