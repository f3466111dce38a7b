"""Plain networks the meta-learned models share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from torch import nn

from metaopt._checks import check_int

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
    if not isinstance(hidden, Iterable) or isinstance(hidden, str):
        # an int failed with "'int' object is not iterable"
        raise TypeError(f"hidden must be a sequence of layer widths, got {hidden!r}; "
                        f"[{hidden!r}] is one hidden layer of that width, [] none")
    n_in, n_out = check_int(n_in, "n_in"), check_int(n_out, "n_out")
    # torch built a layer of width 0 with a warning, and refused a float in its own words
    hidden = [check_int(width, "every width of hidden") for width in hidden]
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), activation()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)
