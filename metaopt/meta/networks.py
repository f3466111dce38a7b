"""Plain networks the meta-learned models share."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["mlp"]


def mlp(n_in: int, hidden: Sequence[int], n_out: int = 1,
        activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Fully connected ``n_in -> hidden... -> n_out`` network.

    Parameters
    ----------
    n_in : int
        Number of inputs.
    hidden : sequence of int
        Widths of the hidden layers.
    n_out : int, default=1
        Number of outputs.
    activation : type of nn.Module, default=nn.ReLU
        Instantiated between layers (none after the last).

    Returns
    -------
    nn.Sequential
    """
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), activation()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)
