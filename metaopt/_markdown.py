"""Text for cards, reports and command output: GitHub Markdown tables (pandas' own
``to_markdown`` needs the optional ``tabulate`` package) and counted nouns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def markdown_table(frame: pd.DataFrame, floatfmt: str | None = None, *, index: bool = True) -> str:
    """``frame`` as a Markdown table; floats formatted with ``floatfmt`` (e.g. ``".3f"``)
    when given, everything else with ``str``; the index becomes the first column(s)."""
    if index:
        frame = frame.reset_index()

    def cell(value) -> str:
        if floatfmt is not None and isinstance(value, (float, np.floating)):
            return format(value, floatfmt)
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural (``plural``, else ``noun + "s"``) but for 1: "1 dataset",
    "16 evaluations", "2 worker crashes"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
