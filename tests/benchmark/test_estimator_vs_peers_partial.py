"""estimator_vs_peers.py: a run of some methods shares the fits file, not the published
summary beside it."""

from __future__ import annotations

import runpy
import shutil
import sys
from pathlib import Path

import pandas as pd

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"
PUBLISHED = ("estimator_vs_peers.csv", "estimator_vs_peers.png", "estimator_vs_peers_fits.csv")


def test_a_run_of_one_method_keeps_the_published_summary(tmp_path, monkeypatch, capsys):
    """`--methods metaopt#LABEL` (a variant, resumed from the fits file) rewrote
    estimator_vs_peers.csv and .png with that run's selection alone: the published
    table of 5 methods, 20 datasets and 3 seeds became one method's rows. It is kept;
    the run's summary is estimator_vs_peers_run.csv and .png, and says so. --publish
    replaces it; a run holding every fit of the summary there replaces it too."""
    out = tmp_path / "results"
    out.mkdir()
    for name in PUBLISHED:
        shutil.copy(SCRIPTS / "results" / name, out / name)
    published = {name: (out / name).read_bytes() for name in PUBLISHED[:2]}
    methods = set(pd.read_csv(out / "estimator_vs_peers.csv")["method"])
    assert {"metaopt", "tpe", "random", "flaml", "default"} <= methods
    # a finished fit of the variant: the run resumes it, fitting nothing
    pd.DataFrame([{"dataset": "breast_w", "seed": 0, "budget": 10.0,
                   "method": "metaopt#partial", "score": 0.95, "seconds": 9.9}]).to_csv(
        out / "estimator_vs_peers_fits.csv", mode="a", header=False, index=False)
    monkeypatch.syspath_prepend(str(SCRIPTS))
    argv = ["estimator_vs_peers.py", "--names", "breast_w", "--budgets", "10", "--seeds", "0",
            "--out", str(out), "--methods"]

    def run(*args: str) -> pd.DataFrame:
        monkeypatch.setattr(sys, "argv", [*argv, *args])
        runpy.run_path(str(SCRIPTS / "estimator_vs_peers.py"), run_name="__main__")
        return pd.read_csv(out / "estimator_vs_peers.csv")

    kept = run("metaopt#partial")
    assert {name: (out / name).read_bytes() for name in PUBLISHED[:2]} == published
    assert set(kept["method"]) == methods
    own = pd.read_csv(out / "estimator_vs_peers_run.csv")
    assert own[["dataset", "method", "score", "rank"]].values.tolist() == [
        ["breast_w", "metaopt#partial", 0.95, 1.0]]
    assert (out / "estimator_vs_peers_run.png").read_bytes().startswith(b"\x89PNG")
    assert ("estimator_vs_peers.csv in " f"{out} holds fits this run did not select: kept; "
            "this run's summary is estimator_vs_peers_run.csv and .png") in capsys.readouterr().out
    assert run("metaopt#partial", "--publish")["method"].tolist() == ["metaopt#partial"]
    assert (out / "estimator_vs_peers.png").read_bytes() != published["estimator_vs_peers.png"]
    (out / "estimator_vs_peers_run.csv").unlink()
    # the published default fit of breast_w, seed 0: every fit of the summary there, and more
    assert sorted(run("metaopt#partial,default")["method"]) == ["default", "metaopt#partial"]
    assert not (out / "estimator_vs_peers_run.csv").exists()
    assert "this run's summary is" not in capsys.readouterr().out
