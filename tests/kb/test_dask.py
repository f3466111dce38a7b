"""The dask backend on a LocalCluster over loopback (threads: the fold-level time limit)."""

from __future__ import annotations

import pytest
from _faulty import FaultySpace
from test_build import FAST, _dataset

from metaopt.kb import KnowledgeBase, build

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster(tmp_path):
    space = FaultySpace("faulty", ("ok", "raise"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as cluster:
        report = build([_dataset("a"), _dataset("b", seed=1)], tmp_path / "kb.sqlite",
                       spaces=[space, "knn"], n_configs=2, n_design=1, n_jobs=2,
                       backend="dask", scheduler=cluster.scheduler_address,
                       **{**FAST, "time_limit": 60.0})
    assert (report.n_ok, report.n_failed) == (6, 2)
    frame = KnowledgeBase(tmp_path / "kb.sqlite").to_frame()
    assert len(frame) == 8 and frame.loc[frame.status == "failed", "error"].str.contains(
        "boom").all()
