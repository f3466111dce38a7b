"""A suite prints short: its name, size and first dataset names, not every reference."""

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
