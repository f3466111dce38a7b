from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"
PUBLISHED = SCRIPTS / "results" / "selection_traces.csv"


def _run(monkeypatch, *args: str) -> None:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.setattr(sys, "argv", ["selection_traces.py", *args])
    runpy.run_path(str(SCRIPTS / "selection_traces.py"), run_name="__main__")


def test_report_replays_the_published_traces_with_and_without_a_margin(tmp_path, monkeypatch,
                                                                       capsys):
    """The published traces of seeds 1 and 2, replayed: margin 0 is the estimator's
    pick (its test accuracy was checked against model.score as each trace was saved),
    so the means at 60 trials are the figures estimators.md quotes: metaopt before and
    after family_patience's counts started over, and the 0.01 margin's."""
    traces = pd.read_csv(PUBLISHED)
    traces.to_csv(tmp_path / "selection_traces.csv", index=False)
    _run(monkeypatch, "--report", "--seeds", "1,2", "--out", str(tmp_path))
    out = capsys.readouterr().out
    assert "metaopt 20, metaopt-norestart 20, random 20, tpe 20" in out
    assert "metaopt           0.000   0.8593  0.8603  0.8595  0.8590  0.8596" in out
    assert "metaopt-norestart 0.000   0.8593  0.8603  0.8595  0.8581  0.8573" in out
    assert "0.010   0.8608  0.8581  0.8593  0.8593  0.8576" in out
    assert (tmp_path / "selection_traces.png").stat().st_size > 10_000


def test_report_says_when_no_trace_matches(tmp_path, monkeypatch):
    pd.read_csv(PUBLISHED).head(5).to_csv(tmp_path / "selection_traces.csv", index=False)
    with pytest.raises(SystemExit, match="no traces of seeds \\[7\\] and methods any"):
        _run(monkeypatch, "--report", "--seeds", "7", "--out", str(tmp_path))


def test_a_margin_keeps_the_earlier_trial_until_one_beats_it_by_more():
    sys.path.insert(0, str(SCRIPTS))
    try:
        from selection_traces import incumbent
    finally:
        sys.path.remove(str(SCRIPTS))
    values, tests = [0.80, 0.805, 0.82, 0.821], [0.7, 0.9, 0.6, 0.95]
    assert incumbent(values, tests, 0.0) == 0.95
    assert incumbent(values, tests, 0.01) == 0.6  # 0.805 is within 0.01 of 0.80; 0.821 of 0.82
    assert incumbent(values, tests, 0.05) == 0.7


@pytest.mark.parametrize(("args", "message"), [
    (["--offset", "0"], "development split only"),
    (["--methods", "metaopt,smac"], "unknown method"),
])
def test_it_refuses_the_benchmark_datasets_and_unknown_methods(args, message, tmp_path,
                                                               monkeypatch, capsys):
    with pytest.raises(SystemExit, match="2"):
        _run(monkeypatch, *args, "--out", str(tmp_path))
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
