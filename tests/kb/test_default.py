"""The knowledge base shipped with the package: present, consistent with its card."""

from __future__ import annotations

from metaopt.kb import load_default
from metaopt.kb._card import DEFAULT_DIR
from metaopt.spaces import list_spaces


def test_default_knowledge_base_is_shipped_and_described():
    kb = load_default()
    frame = kb.to_frame()
    assert len(frame) >= 1000
    assert set(frame["space"]) == set(list_spaces())  # every space of metaopt.spaces
    assert frame.duplicated(["dataset_key", "space", "config_id", "seed"]).sum() == 0
    assert frame["status"].isin(["ok", "failed", "timeout"]).all()
    card = (DEFAULT_DIR / "CARD.md").read_text()
    assert f"{len(frame):,}" in card or str(len(frame)) in card
    size = (DEFAULT_DIR / "evaluations.parquet").stat().st_size
    assert size < 20 * 2**20
