"""The one Markdown table writer used by cards, reports and benchmark scripts."""

import pandas as pd

from metaopt._markdown import markdown_table


def test_index_first_and_floats_formatted():
    frame = pd.DataFrame({"regret": [0.12345, 0.5], "method": ["tpe", "metaopt"]},
                         index=pd.Index([5, 10], name="budget"))
    assert markdown_table(frame, ".3f").splitlines() == [
        "| budget | regret | method |", "|---|---|---|",
        "| 5 | 0.123 | tpe |", "| 10 | 0.500 | metaopt |"]


def test_without_index_and_format_values_are_str():
    frame = pd.DataFrame({"n": [1, 2], "x": [0.25, 1.5]})
    assert markdown_table(frame, index=False).splitlines()[2:] == ["| 1 | 0.25 |", "| 2 | 1.5 |"]
