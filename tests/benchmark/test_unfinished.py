"""What the report says of the jobs without results."""

from __future__ import annotations

from metaopt.benchmark import report, run


def test_unfinished_jobs_are_not_called_interrupted(pmlb_suite, tmp_path):
    """A report made while the run still ran said its jobs without results were of "an
    interrupted run": nothing in the directory tells a running job from a killed one."""
    run(pmlb_suite, tmp_path, methods=["default"], budget_trials=1, folds=2, cv_folds=2,
        spaces="linear", max_rows=100, time_limit=None, progress=False)
    next((tmp_path / "jobs").glob("*.jsonl")).unlink()  # a job in flight, or killed
    text = report(tmp_path).read_text()
    assert ("have no results** (listed under Unfinished jobs): a run interrupted or still "
            "running (the files do not tell which), or a method or seed added") in text
