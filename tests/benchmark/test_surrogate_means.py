"""SurrogateResult.means: the numbers behind table()'s text cells (finding the best
method needed a groupby of the curves before)."""

from __future__ import annotations

import pandas as pd
import pytest

from metaopt.benchmark import SurrogateResult


def _result() -> SurrogateResult:
    # task t1 has two seeds, t2 one: each task counts once (seeds averaged first)
    rows = [("zeta", "t1", 0, 1, 0.4, 2.0), ("zeta", "t1", 1, 1, 0.2, 1.0),
            ("zeta", "t2", 0, 1, 0.6, 2.0),
            ("alpha", "t1", 0, 1, 0.1, 1.0), ("alpha", "t1", 1, 1, 0.3, 2.0),
            ("alpha", "t2", 0, 1, 0.5, 1.0),
            ("zeta", "t1", 0, 5, 0.0, 1.0), ("zeta", "t1", 1, 5, 0.0, 1.5),
            ("zeta", "t2", 0, 5, 0.2, 2.0),
            ("alpha", "t1", 0, 5, 0.2, 2.0), ("alpha", "t1", 1, 5, 0.0, 1.5),
            ("alpha", "t2", 0, 5, 0.0, 1.0)]
    curves = pd.DataFrame(rows, columns=["method", "task", "seed", "budget", "regret", "rank"])
    # listed after the budget-5 rows: means() orders budgets, methods as in `methods`
    return SurrogateResult(curves.iloc[::-1], methods=["zeta", "never", "alpha"],
                           not_applicable={"never": "not for these tasks"})


def test_means_are_the_tables_numbers_each_task_counted_once():
    result = _result()
    means = result.means()
    assert list(means.columns) == ["regret", "rank"]
    assert list(means.index) == [(1, "zeta"), (1, "alpha"), (5, "zeta"), (5, "alpha")]
    assert means.index.names == ["budget", "method"]
    # zeta at budget 1: t1 (0.4 + 0.2) / 2 = 0.3, t2 0.6 -> 0.45; rank (1.5 + 2) / 2
    assert means.loc[(1, "zeta")].tolist() == pytest.approx([0.45, 1.75])
    # alpha at budget 5: t1 (0.2 + 0.0) / 2, t2 0.0 -> 0.05; rank ((2 + 1.5) / 2 + 1) / 2
    assert means.loc[(5, "alpha")].tolist() == pytest.approx([0.05, 1.375])
    table = result.table()
    for (budget, method), (regret, rank) in means.iterrows():
        assert table.loc[budget, method] == f"{regret:.4f} ({rank:.2f})"
    assert (table["never"] == "n/a").all()
    # the best method at the largest budget, as examples/benchmark.py finds it
    assert means.xs(5, level="budget")["regret"].idxmin() == "alpha"
