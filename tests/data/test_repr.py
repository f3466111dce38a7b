"""Suites and datasets print short: what they are and their size, not their contents."""

from __future__ import annotations

from metaopt.data import get_suite
from metaopt.data.suites import Suite


def test_a_suite_prints_its_name_size_and_first_names():
    """print(get_suite("openml-cc18")) dumped ~7,600 characters of dataset references."""
    suite = get_suite("openml-cc18")
    first = [ref.name for ref in suite.refs[:3]]
    assert repr(suite) == str(suite) == (
        f"Suite('openml-cc18', {len(suite)} datasets: {', '.join(first)}, ...)")
    assert len(repr(suite)) < 100
    assert repr(suite.select(limit=1)) == f"Suite('openml-cc18', 1 dataset: {first[0]})"
    assert repr(Suite("empty", ())) == "Suite('empty', 0 datasets)"


def test_a_suite_with_a_cache_directory_names_it(tmp_path):
    suite = get_suite("openml-cc18", cache_dir=tmp_path).select(limit=3)
    assert repr(suite) == (f"Suite('openml-cc18', 3 datasets: "
                           f"{', '.join(r.name for r in suite)}, cache_dir={str(tmp_path)!r})")
    # the repr is all that changed: equal suites still compare equal, refs still index
    assert suite == get_suite("openml-cc18", cache_dir=tmp_path).select(limit=3)
    assert suite[0] is suite.refs[0]


def test_a_dataset_prints_its_name_task_size_and_origin(pmlb_root, openml_cache):
    """print(LocalSource(root).load("adult")) printed the dataclass's repr: both frames
    whole, about 1,700 lines."""
    import numpy as np

    from metaopt.data import LocalSource, OpenMLSource, from_arrays

    adult = LocalSource(pmlb_root).load("adult")
    assert repr(adult) == str(adult) == (
        "Dataset('adult', classification, 48,842 x 14, source='local', "
        f"source_id={adult.source_id!r})")
    anneal = OpenMLSource(cache_dir=openml_cache).load_dataset(2)
    assert repr(anneal).startswith(f"Dataset({anneal.name!r}, classification, 898 x 38, "
                                   "source='openml', ")
    assert "openml_dataset_id=2" in repr(anneal)
    rows = from_arrays(np.eye(4), [0, 1, 0, 1], name="four")
    assert repr(rows) == "Dataset('four', classification, 4 x 4, source='arrays')"
    split = [(np.arange(2), np.arange(2, 4))]
    assert repr(type(rows)(rows.X, rows.y, None, "four", splits=split)).endswith(
        "source='arrays', 1 split)")
