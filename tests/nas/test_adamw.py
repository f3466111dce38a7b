"""The MLPs' AdamW against torch.optim.AdamW, and the import it spares a process."""

import subprocess
import sys

import pytest
import torch

from metaopt.nas._adamw import AdamW
from metaopt.nas._mlp import build_mlp


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_same_weights_as_torch_adamw(weight_decay):
    """Step for step the same weights to the bit as torch's AdamW on the CPU, on an MLP
    with batchnorm and skip connections, including a parameter left without a gradient
    for some steps (its moments and bias correction must not advance)."""
    torch.manual_seed(0)
    ours = build_mlp(7, 3, 3, 16, "relu", 0.0, "batchnorm", True)
    theirs = build_mlp(7, 3, 3, 16, "relu", 0.0, "batchnorm", True)
    theirs.load_state_dict(ours.state_dict())
    mine = AdamW(ours.parameters(), lr=3e-3, weight_decay=weight_decay)
    reference = torch.optim.AdamW(theirs.parameters(), lr=3e-3, weight_decay=weight_decay)
    x, y = torch.randn(64, 7), torch.randint(0, 3, (64,))
    for step in range(30):
        for model, optimiser in ((ours, mine), (theirs, reference)):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            if step % 7 == 3:  # a parameter without a gradient this step
                next(model.parameters()).grad = None
            optimiser.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_first_fit_imports_no_dynamo():
    """An MLP fit in a fresh process does not import torch._dynamo (1.5-2.5 s), which
    building a torch.optim optimiser does."""
    code = ("import sys, numpy as np\n"
            "from metaopt.nas import MLPClassifier\n"
            "X = np.random.default_rng(0).normal(size=(60, 4)); y = (X[:, 0] > 0).astype(int)\n"
            "MLPClassifier(max_epochs=2, random_state=0).fit(X, y)\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
