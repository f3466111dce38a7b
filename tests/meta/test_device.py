"""Device and dtype handling that a CPU-only machine can check: which generators a seed
touches, where and in which dtype learners build their own tensors."""

from __future__ import annotations

import torch

from metaopt.meta import MAMLpp, MetaSGD
from metaopt.meta._losses import seeded
from metaopt.meta.networks import mlp


def test_a_seed_leaves_the_gpu_generators_alone(monkeypatch):
    # torch.manual_seed re-seeded every GPU's generator (lazily, on a machine whose CUDA
    # was not initialised yet), and only the CPU's (and the training device's) was
    # restored: a CPU run with a seed changed the caller's CUDA stream
    torch.manual_seed(5)
    expected = torch.rand(3)
    calls = []
    for name in ("manual_seed", "manual_seed_all"):
        monkeypatch.setattr(torch.cuda, name, lambda seed, name=name: calls.append(name))
    before = torch.get_rng_state()
    with seeded(5, torch.device("cpu")):
        drawn = torch.rand(3)
    assert torch.equal(drawn, expected)  # the CPU draws are the seed's
    assert torch.equal(torch.get_rng_state(), before)  # and the caller's stream restored
    assert calls == []


def test_maml_pp_learning_rates_are_built_beside_the_model():
    # they were built on the CPU whatever the model's device: MAMLpp(net.cuda()) held
    # its learned rates on the CPU (Meta-SGD's were on the GPU)
    net = mlp(2, [4]).to("meta")
    for learner in (MAMLpp(net, steps=2), MetaSGD(net)):
        assert {p.device.type for p in learner.parameters()} == {"meta"}

