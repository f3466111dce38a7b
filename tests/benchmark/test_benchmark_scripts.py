from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_ranker_ablation_stops_on_ctrl_c_and_redoes_the_cut_variant(tabrepo_dir, tmp_path,
                                                                     monkeypatch,
                                                                     interrupted_method):
    """tabrepo_benchmark returns the finished runs of an interrupted benchmark: the
    script stored the cut variant's 2 tasks as done ('stops: done'), went on with the
    next variant, and a resume skipped it. Ctrl-C stops it again, the variant unsaved."""
    out = tmp_path / "curves.csv"
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", [
        "ranker_ablation.py", "--data", str(tabrepo_dir), "--variants", "portfolio,stops,random",
        "--cv", "2", "--tasks", "8", "--budgets", "1,2", "--out", str(out)])
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="interrupted"):
        runpy.run_path(str(SCRIPTS / "ranker_ablation.py"), run_name="__main__")
    assert set(pd.read_csv(out)["method"]) == {"portfolio"}
