"""Sources on real data: the OpenML cache (offline), a local PMLB copy, and suites."""

from __future__ import annotations

import re
import shutil
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from metaopt.data import (
    DatasetLoadError,
    LocalSource,
    OpenMLSource,
    get_suite,
    list_suites,
    load_table,
)


def test_openml_dataset_from_offline_cache(openml_cache):
    ds = OpenMLSource(cache_dir=openml_cache).load_dataset(2)
    assert ds.name == "anneal"
    assert ds.source == "openml" and ds.openml_dataset_id == 2
    assert ds.task == "classification"
    assert ds.X.shape == (898, 38)
    assert len(ds.categorical_columns) == 32  # OpenML's nominal features
    assert ds.y.nunique() == 5


def test_openml_cache_dir_is_set_during_the_load_only(openml_cache):
    """cache_dir stayed openml's root cache directory after the load: the caller's own
    openml calls then read and wrote another cache than their own."""
    import openml

    callers = openml.config.get_config_as_dict()["cachedir"]
    source = OpenMLSource(cache_dir=openml_cache)
    assert source.load_dataset(2).name == "anneal"
    assert source.is_cached(dataset_id=2)
    assert openml.config.get_config_as_dict()["cachedir"] == callers != str(openml_cache)


def test_openml_skips_parquet_during_the_load_only(openml_cache, monkeypatch):
    """skip_parquet set OPENML_SKIP_PARQUET=true in os.environ for good: the caller's own
    openml calls skipped parquet too, and so did a later skip_parquet=False source."""
    import os

    import openml

    seen = []
    get_dataset = openml.datasets.get_dataset
    monkeypatch.setattr(openml.datasets, "get_dataset", lambda *args, **kwargs: (
        seen.append(os.environ.get("OPENML_SKIP_PARQUET")), get_dataset(*args, **kwargs))[1])
    monkeypatch.delenv("OPENML_SKIP_PARQUET", raising=False)
    OpenMLSource(cache_dir=openml_cache).load_dataset(2)
    assert "OPENML_SKIP_PARQUET" not in os.environ
    OpenMLSource(cache_dir=openml_cache, skip_parquet=False).load_dataset(2)
    monkeypatch.setenv("OPENML_SKIP_PARQUET", "false")  # the caller's own setting
    OpenMLSource(cache_dir=openml_cache).load_dataset(2)
    assert os.environ["OPENML_SKIP_PARQUET"] == "false"
    assert seen == ["true", None, "true"]


def test_openml_loads_on_threads_skip_parquet_until_the_last_ends(openml_cache, monkeypatch):
    """Each load put back the OPENML_SKIP_PARQUET it found: loads on two threads
    (benchmark.run(backend="threading")) restored it out of order, so the first to end
    unset it under the second, which then read parquet, and the second set it again for
    good. The variable is set while any load is in flight, and then put back."""
    import os
    import threading

    import openml

    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}
    get_dataset = openml.datasets.get_dataset

    def load(*args, **kwargs):
        if threading.current_thread().name == "first":
            first_in.set()
            second_in.wait(10)
        else:
            second_in.set()
            first_out.wait(10)  # the first load has ended: the second is still loading
            seen["second"] = os.environ.get("OPENML_SKIP_PARQUET")
        return get_dataset(*args, **kwargs)

    def first():
        source.load_dataset(2)
        first_out.set()

    monkeypatch.setattr(openml.datasets, "get_dataset", load)
    monkeypatch.delenv("OPENML_SKIP_PARQUET", raising=False)
    source = OpenMLSource(cache_dir=openml_cache)
    threads = [threading.Thread(target=first, name="first"),
               threading.Thread(target=source.load_dataset, args=(2,), name="second")]
    threads[0].start()
    first_in.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(30)
    assert seen == {"second": "true"}
    assert "OPENML_SKIP_PARQUET" not in os.environ


def test_openml_missing_dataset_fails_fast_and_clearly(openml_cache, offline):
    source = OpenMLSource(cache_dir=openml_cache)
    start = time.perf_counter()
    with pytest.raises(DatasetLoadError) as err:
        source.load_dataset(3)
    assert time.perf_counter() - start < 30
    message = str(err.value)
    assert "OpenML dataset 3" in message and str(openml_cache) in message
    with pytest.raises(DatasetLoadError, match="OpenML task 31"):
        source.load_task(31)
    assert source.is_cached(dataset_id=2) and not source.is_cached(dataset_id=3)


def test_a_name_for_an_openml_id_is_a_clear_error(openml_cache, offline):
    """load_dataset("anneal") raised int()'s "invalid literal for int() with base 10:
    'anneal'"."""
    source = OpenMLSource(cache_dir=openml_cache)
    with pytest.raises(ValueError, match=r"^dataset_id must be an integer >= 1, OpenML's id of "
                       r"the dataset \(e\.g\. 2 for anneal\), got 'anneal'$"):
        source.load_dataset("anneal")
    with pytest.raises(ValueError, match=r"^task_id must be an integer >= 1, OpenML's id of the "
                       r"task \(e\.g\. 3, a task of openml-cc18\), got None$"):
        source.load_task(None)
    assert source.load_dataset("2").openml_dataset_id == 2  # an id's text loads it
    assert not offline  # from the cache


@pytest.mark.parametrize("value", [2.5, True, 0, -2])
def test_an_id_that_is_no_positive_integer_is_refused(openml_cache, offline, value):
    """load_dataset(2.5) loaded dataset 2 and load_dataset(True) dataset 1 (int() of
    them); load_dataset(-2) asked OpenML for dataset -2."""
    source = OpenMLSource(cache_dir=openml_cache)
    with pytest.raises(ValueError, match=rf"^dataset_id must be an integer >= 1, OpenML's "
                       rf"id of the dataset \(e\.g\. 2 for anneal\), got {value!r}$"):
        source.load_dataset(value)
    with pytest.raises(ValueError, match=r"^task_id must be an integer >= 1"):
        source.load_task(value)
    assert source.load_dataset(np.int64(2)).openml_dataset_id == 2 and offline == []


@pytest.fixture
def offline(monkeypatch):
    """Every HTTP request fails at once, as on a machine without network; the number
    of attempts is counted."""
    import requests

    attempts = []

    def unreachable(session, request, **kwargs):
        attempts.append(request.url)
        raise requests.exceptions.ConnectionError(f"Failed to resolve {request.url}")

    monkeypatch.setattr(requests.Session, "send", unreachable)
    return attempts


def test_the_default_cache_is_named_as_cache_dir_takes_it(openml_cache, offline, monkeypatch):
    """Without cache_dir, a load error and benchmark.run's missing-task list named
    openml's cache as <root>/org/openml/www: given back as cache_dir (--cache-dir),
    that folder holds nothing."""
    import openml

    monkeypatch.setattr(openml.config, "_root_cache_directory", openml_cache)
    with pytest.raises(DatasetLoadError, match=rf"\(cache: {re.escape(str(openml_cache))}\)"):
        OpenMLSource().load_dataset(3)
    assert OpenMLSource()._cache_label() == str(openml_cache)
    assert OpenMLSource().load_dataset(2).name == "anneal"  # the folder cache_dir takes


def test_an_uncached_id_offline_says_why_and_where_to_point_the_cache(
        openml_cache, offline, monkeypatch):
    """Every failed load said "It is not in the cache and OpenML could not be reached",
    even for an id OpenML does not know, and not how to give metaopt a cache that holds
    the files; load_task(2) did not say that dataset 2 was cached."""
    import requests

    source = OpenMLSource(cache_dir=openml_cache)
    with pytest.raises(DatasetLoadError) as err:
        source.load_dataset(3)
    message = str(err.value)
    assert message.startswith(f"could not load OpenML dataset 3 (cache: {openml_cache}): it "
                              "is not in the cache and OpenML could not be reached")
    assert "datasets/3/" in message and "--cache-dir" in message and "cache_dir=" in message
    assert "ConnectionError" in message
    with pytest.raises(DatasetLoadError, match=r"OpenML task 2 .*could not be reached.* "
                       r"OpenML dataset 2 is in the cache: load_dataset\(2\) loads it"):
        source.load_task(2)
    assert offline  # no request got through

    def no_such_dataset(session, request, **kwargs):  # OpenML's answer to an unknown id
        response = requests.Response()
        response.status_code, response.url = 412, request.url
        response._content = (b'<oml:error xmlns:oml="http://openml.org/openml"><oml:code>111'
                             b'</oml:code><oml:message>Unknown dataset</oml:message></oml:error>')
        return response

    monkeypatch.setattr(requests.Session, "send", no_such_dataset)
    with pytest.raises(DatasetLoadError) as err:
        source.load_dataset(999999999)
    assert "Unknown dataset" in str(err.value) and "could not be reached" not in str(err.value)


def test_once_openml_is_found_unreachable_loads_try_it_once(
        openml_cache, shared_data, offline, monkeypatch, tmp_path):
    """Each uncached id, offline, waited for openml's retries (5 attempts, 10 s of
    pauses): a build of the 72 tasks of openml-cc18 took 12 minutes to fail."""
    import threading
    from pathlib import PurePosixPath
    from urllib.parse import urlparse

    import openml
    import requests

    from metaopt.data import sources

    monkeypatch.setattr(sources, "_unreachable_seen", threading.Event(), raising=False)
    monkeypatch.setattr(openml.config, "connection_n_retries", 3)  # the caller's policy
    monkeypatch.setattr(openml._api_calls, "_human_delay", lambda n: 0)
    source = OpenMLSource(cache_dir=openml_cache)
    with pytest.raises(DatasetLoadError, match="could not be reached"):
        source.load_dataset(3)
    assert len(offline) == 3  # openml's retries, the first time
    for load in (OpenMLSource(cache_dir=tmp_path).load_dataset, source.load_task):
        with pytest.raises(DatasetLoadError, match="could not be reached"):
            load(31)
    assert len(offline) == 5  # then one attempt each, from any source
    assert openml.config.connection_n_retries == 3
    assert source.load_dataset(2).name == "anneal"  # from the cache: OpenML still unknown
    with pytest.raises(DatasetLoadError):
        source.load_dataset(4)
    assert len(offline) == 6

    files = shared_data / "openml-cache" / "org" / "openml" / "www" / "datasets" / "2"

    def serve_dataset_2(session, request, **kwargs):  # the network is back
        path = PurePosixPath(urlparse(request.url).path)
        response = requests.Response()
        response.status_code, response.url = 200, request.url
        name = ("dataset.arff" if "download" in path.parts
                else "features.xml" if "features" in path.parts else "description.xml")
        response._content = (files / name).read_bytes()
        return response

    monkeypatch.setattr(requests.Session, "send", serve_dataset_2)
    assert OpenMLSource(cache_dir=tmp_path / "empty").load_dataset(2).name == "anneal"
    assert not sources._unreachable_seen.is_set()  # retries as openml's policy says again


def test_a_stalled_openml_server_fails_the_load_after_the_timeout(
        openml_cache, monkeypatch):
    """openml-python sends its requests without a timeout: a server that took the
    connection and never answered held a load (build-kb, benchmark run) for good."""
    import socket

    import openml
    import requests

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # the kernel accepts connections; nothing ever answers them
    url = f"http://127.0.0.1:{server.getsockname()[1]}/api/v1/xml"
    monkeypatch.setattr(openml.config, "server", url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    files = sorted(p for p in openml_cache.rglob("*") if p.is_file())
    source = OpenMLSource(cache_dir=openml_cache, timeout=0.5)
    try:
        for load, kind in ((source.load_dataset, "dataset"), (source.load_task, "task")):
            start = time.perf_counter()
            with pytest.raises(DatasetLoadError) as err:
                load(31)
            assert time.perf_counter() - start < 10
            assert str(err.value).startswith(
                f"could not load OpenML {kind} 31 (cache: {openml_cache}): OpenML did not "
                f"answer within 0.5 s ({url}/{'data' if kind == 'dataset' else 'task'}/31)")
            assert "OpenMLSource(timeout=...)" in str(err.value)
    finally:
        server.close()
    assert sorted(p for p in openml_cache.rglob("*") if p.is_file()) == files  # all kept
    assert openml._api_calls.requests is requests  # the caller's openml as it was
    with pytest.raises(ValueError, match=r"^timeout must be a finite number of seconds > 0"):
        OpenMLSource(timeout=0)


def test_an_openml_answer_that_stalls_midway_fails_the_load_after_the_timeout(
        openml_cache, monkeypatch):
    """requests reports a read timeout in the answer's body as a ConnectionError: openml
    retried it and the load said OpenML could not be reached, and later loads of the
    process then tried OpenML once."""
    import socket
    import threading

    import openml

    from metaopt.data import sources

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    connections = []

    def answer_a_part():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # closed
                return
            connections.append(connection)
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<oml:")

    threading.Thread(target=answer_a_part, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/api/v1/xml"
    monkeypatch.setattr(openml.config, "server", url)
    monkeypatch.setattr(openml.config, "connection_n_retries", 3)
    monkeypatch.setattr(openml._api_calls, "_robot_delay", lambda n: 0)
    monkeypatch.setattr(openml._api_calls, "_human_delay", lambda n: 0)
    monkeypatch.setattr(sources, "_unreachable_seen", threading.Event(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        with pytest.raises(DatasetLoadError) as err:
            OpenMLSource(cache_dir=openml_cache, timeout=0.5).load_dataset(31)
    finally:
        server.close()
        for connection in connections:
            connection.close()
    assert str(err.value).startswith(
        f"could not load OpenML dataset 31 (cache: {openml_cache}): OpenML did not answer "
        f"within 0.5 s ({url}/data/31)")
    assert len(connections) == 1  # no retry: a stall, as one before the answer
    assert not sources._unreachable_seen.is_set()


def test_a_dataset_cached_without_its_feature_metadata_loads_offline(openml_cache, offline):
    """load_dataset asked openml for features.xml, which openml.datasets.get_dataset(i,
    download_data=True) does not fetch: a dataset is_cached called cached failed
    offline, and openml then deleted its cached files."""
    folder = openml_cache / "org" / "openml" / "www" / "datasets" / "2"
    for name in ("features.xml", "qualities.xml"):
        (folder / name).unlink()
    source = OpenMLSource(cache_dir=openml_cache)
    assert source.is_cached(dataset_id=2)
    ds = source.load_dataset(2)
    assert (ds.name, ds.task, ds.X.shape, len(ds.categorical_columns)) == (
        "anneal", "classification", (898, 38), 32)
    assert offline == [] and (folder / "dataset.arff").is_file()


def test_a_task_is_cached_only_with_its_splits_and_its_dataset(openml_cache):
    """is_cached(task_id=) used to look at task.xml alone, so a task whose splits or
    dataset had never been downloaded counted as cached and load_task then failed."""
    source = OpenMLSource(cache_dir=openml_cache)
    folder = openml_cache / "org" / "openml" / "www" / "tasks" / "59"
    folder.mkdir(parents=True)

    def task_xml(dataset_id):
        (folder / "task.xml").write_text(
            '<oml:task xmlns:oml="http://openml.org/openml"><oml:task_id>59</oml:task_id>'
            '<oml:input name="source_data"><oml:data_set>'
            f'<oml:data_set_id>{dataset_id}</oml:data_set_id>'
            '<oml:target_feature>class</oml:target_feature></oml:data_set></oml:input>'
            '</oml:task>')

    task_xml(2)
    assert not source.is_cached(task_id=59)  # no splits
    (folder / "datasplits.arff").write_text("@relation splits\n")
    assert source.is_cached(task_id=59)
    task_xml(3)  # a dataset not in the cache
    assert not source.is_cached(task_id=59)
    (folder / "task.xml").write_text("<oml:task")  # truncated download
    assert not source.is_cached(task_id=59)


def test_a_task_whose_dataset_is_not_cached_keeps_its_cached_files(openml_cache, offline):
    """openml.tasks.get_task deletes the task's cache folder when anything inside fails:
    a task copied into the cache without its dataset lost its task.xml and splits to an
    offline load_task."""
    folder = openml_cache / "org" / "openml" / "www" / "tasks" / "59"
    folder.mkdir(parents=True)
    (folder / "task.xml").write_text(  # as OpenML serves it, less the optional parts
        '<oml:task xmlns:oml="http://openml.org/openml"><oml:task_id>59</oml:task_id>'
        '<oml:task_type_id>1</oml:task_type_id>'
        '<oml:task_type>Supervised Classification</oml:task_type>'
        '<oml:input name="source_data"><oml:data_set><oml:data_set_id>3</oml:data_set_id>'
        '<oml:target_feature>class</oml:target_feature></oml:data_set></oml:input>'
        '<oml:input name="estimation_procedure"><oml:estimation_procedure><oml:id>1</oml:id>'
        '<oml:type>crossvalidation</oml:type><oml:data_splits_url>https://api.openml.org/'
        'api_splits/get/59/Task_59_splits.arff</oml:data_splits_url>'
        '<oml:parameter name="number_repeats">1</oml:parameter>'
        '<oml:parameter name="number_folds">10</oml:parameter></oml:estimation_procedure>'
        '</oml:input></oml:task>')
    (folder / "datasplits.arff").write_text("@relation splits\n")
    with pytest.raises(DatasetLoadError, match=r"OpenML task 59 .*could not be reached.*"
                       r"holds org/openml/www/tasks/59/ and datasets/3/ "):
        OpenMLSource(cache_dir=openml_cache).load_task(59)
    assert sorted(p.name for p in folder.iterdir()) == ["datasplits.arff", "task.xml"]


@pytest.mark.parametrize("name, keep_pickle, remedy", [
    ("dataset.pkl.py3", True, "openml makes dataset.pkl.py3 again from dataset.arff"),
    ("dataset.arff", False, "downloads"),
    ("description.xml", True, "downloads"),
])
def test_a_damaged_cache_file_is_named_with_what_to_delete(
        openml_cache, offline, name, keep_pickle, remedy):
    """A cached file cut short failed as "UnpicklingError: pickle data was truncated" or
    "BadDataFormat: Bad @DATA instance format in line 394", naming no file; a damaged
    description.xml made openml download it again and, offline, delete the dataset's
    cached files, then said the dataset was not in the cache."""
    folder = openml_cache / "org" / "openml" / "www" / "datasets" / "2"
    source = OpenMLSource(cache_dir=openml_cache)
    if keep_pickle:  # openml writes dataset.pkl.py3 from dataset.arff on a first load
        source.load_dataset(2)
        assert (folder / "dataset.pkl.py3").is_file()
    damaged = folder / name
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    with pytest.raises(DatasetLoadError) as err:
        source.load_dataset(2)
    message = str(err.value)
    assert message.startswith(f"could not load OpenML dataset 2 (cache: {openml_cache}): "
                              f"damaged cache file(s): {damaged} (")
    assert "Delete it and load again" in message and remedy in message
    assert "not in the cache" not in message
    assert offline == [] and (folder / "dataset.arff").is_file()  # the cache kept
    if name == "dataset.pkl.py3":  # deleted as the message says: made again, offline
        damaged.unlink()
        assert source.load_dataset(2).X.shape == (898, 38) and damaged.is_file()


def test_local_source_reads_pmlb_layout(pmlb_root):
    source = LocalSource(pmlb_root)
    manifest = source.manifest()
    assert {"name", "task"} <= set(manifest.columns) and len(manifest) > 200
    ds = source.load("adult")
    assert ds.task == "classification" and ds.source == "local"
    assert ds.n_samples == 48842
    assert "workclass" in ds.categorical_columns  # from metadata.yaml
    assert ds.X["age"].dtype == float
    reg = source.load("1027_ESL")
    assert reg.task == "regression" and reg.y.dtype == float
    with pytest.raises(DatasetLoadError, match="dataset 'manifest' not found"):
        source.load("manifest")  # it read the manifest as a dataset


def test_local_source_without_manifest_and_parquet(tmp_path):
    pd.DataFrame({"a": [1.0, 2, 3, 4], "color": ["r", "g", "r", "g"], "target": [0, 1, 0, 1]}).to_parquet(
        tmp_path / "toy.parquet"
    )
    source = LocalSource(tmp_path)
    assert source.names() == ["toy"]
    ds = source.load("toy")
    assert ds.task == "classification" and "color" in ds.categorical_columns
    with pytest.raises(DatasetLoadError, match="'nope' not found"):
        source.load("nope")
    with pytest.raises(ValueError, match="existing directory"):
        LocalSource(tmp_path / "missing")


def test_load_table_errors(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"x": [1, 2, 3], "y": [1.0, 2.5, 3.7]}).to_csv(path, index=False)
    assert load_table(path, "y").task == "regression"
    with pytest.raises(DatasetLoadError, match="no target column 'label'"):
        load_table(path, "label")
    with pytest.raises(ValueError, match="does not exist"):
        load_table(tmp_path / "nothing.csv", "y")
    with pytest.raises(ValueError, match="is a directory: give one table file in it"):
        load_table(tmp_path, "y")  # it said "does not exist"
    pd.DataFrame({"y": [1.0, 2.5, 3.7]}).to_csv(tmp_path / "only_y.csv", index=False)
    with pytest.raises(ValueError, match="0 columns: give at least one feature column besides"):
        load_table(tmp_path / "only_y.csv", "y")



def test_load_table_drops_a_saved_pandas_index(pmlb_root, tmp_path):
    """A CSV written by to_csv without index=False held the row numbers as a feature
    (column 'Unnamed: 0'), which metaopt suggest and its meta-features used."""
    table = pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t")
    table.to_csv(tmp_path / "with_index.csv")
    with pytest.warns(UserWarning, match=r"row numbers 0 to 999 \(a saved pandas index\)"):
        ds = load_table(tmp_path / "with_index.csv", "target")
    assert list(ds.X.columns) == list(table.columns.drop("target"))
    # an unnamed first column of other values is data: kept
    table.set_index(table.index + 1).to_csv(tmp_path / "numbered_from_1.csv")
    assert "Unnamed: 0" in load_table(tmp_path / "numbered_from_1.csv", "target").X.columns


def test_load_table_reads_a_csv_date_column_as_the_parquet_one(pmlb_root, tmp_path):
    """A CSV's date column (text: pandas parses no dates unless told) was a category per
    date, 625 of them on credit_g, so `metaopt suggest --data credit.csv` computed other
    meta-features (max_categories 625 instead of 10, other landmarks) and nearest
    datasets than for the same table as parquet or as the DataFrame it was written from.
    ISO 8601 date text is now the seconds a datetime column is."""
    from metaopt import metafeatures

    table = pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t")
    days = np.random.default_rng(0).integers(0, 1000, len(table))
    table.insert(0, "applied", pd.Timestamp("2020-01-01") + pd.to_timedelta(days, "D"))
    table.insert(1, "signed", table["applied"].dt.tz_localize("Europe/Paris")
                 + pd.to_timedelta(days % 24, "h"))
    table.loc[::7, ["applied", "signed"]] = pd.NaT
    table.to_csv(tmp_path / "credit.csv", index=False)
    table.to_parquet(tmp_path / "credit.parquet")
    csv = load_table(tmp_path / "credit.csv", "target")
    parquet = load_table(tmp_path / "credit.parquet", "target")
    assert csv.categorical_columns == parquet.categorical_columns == []
    pd.testing.assert_frame_equal(csv.X, parquet.X, check_dtype=False)
    pd.testing.assert_series_equal(metafeatures.compute(csv.X, csv.y, csv.task),
                                   metafeatures.compute(parquet.X, parquet.y, parquet.task))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_numbers_with_a_missing_value_marker_are_warned_about_and_na_values_reads_them(
        suffix, pmlb_root, tmp_path):
    """credit_g with its missing values written as '?' (as UCI and ARFF files have them):
    every column became text, a category per value (pct_categorical_features 1.0
    instead of 0.0, max_categories 879 instead of 0), without a word. validate now warns, naming the columns, the marker and how to
    make it missing, and load_table(na_values=...) (the CLI's --na-values) reads the
    file as the one with empty cells."""
    from metaopt import metafeatures

    table = pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t")
    gaps = np.random.default_rng(0).random(table.shape) < 0.05
    gaps[:, list(table.columns).index("target")] = False
    with_gaps = table.mask(gaps)
    marked = with_gaps.astype(object).where(~gaps, "?")
    marked[["duration", "age"]] = marked[["duration", "age"]].astype(str)  # parquet: one type
    if suffix == ".csv":
        marked.to_csv(tmp_path / f"marked{suffix}", index=False)
    else:
        marked.astype(str).to_parquet(tmp_path / f"marked{suffix}")
    with pytest.warns(UserWarning, match=r"X columns 'checking_status' \('\?' in \d+ of 1000 "
                      r"rows\), .*'age' .* hold numbers but for a few text values, .*"
                      r"X.replace\(\['\?'\], np.nan\) .*--na-values '\?' on the command"):
        marked_ds = load_table(tmp_path / f"marked{suffix}", "target")
    assert "age" in marked_ds.categorical_columns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read = load_table(tmp_path / f"marked{suffix}", "target", na_values=["?"])
    with_gaps.to_csv(tmp_path / "gaps.csv", index=False)
    expected = load_table(tmp_path / "gaps.csv", "target")
    assert read.categorical_columns == expected.categorical_columns == []
    pd.testing.assert_frame_equal(read.X, expected.X, check_dtype=False)
    pd.testing.assert_series_equal(metafeatures.compute(read.X, read.y, read.task),
                                   metafeatures.compute(expected.X, expected.y, expected.task))


def test_load_table_names_the_target_a_typo_missed(pmlb_root, tmp_path):
    """credit_g's target is its 21st column: the error listed the first 10 columns only,
    cut without saying so, and a wrong-case target name got no hint."""
    path = tmp_path / "credit.csv"
    pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t").to_csv(path, index=False)
    for wrong in ("Target", "target ", "targt"):
        with pytest.raises(DatasetLoadError, match=r"did you mean 'target'\? \(21 columns: "
                           r"'checking_status', .*, \.\.\., .*'foreign_worker', 'target'\)"):
            load_table(path, wrong)
    with pytest.raises(DatasetLoadError, match=r"no target column 'label' \(21 columns"):
        load_table(path, "label")
    # a ';'-separated file reads as one column: the error now says why
    semicolons = tmp_path / "semicolons.csv"
    pd.read_csv(path).to_csv(semicolons, index=False, sep=";")
    with pytest.raises(DatasetLoadError, match=r"its one column holds ';'"):
        load_table(semicolons, "target")


def test_a_parquet_file_without_columns_or_cut_short_says_so(pmlb_root, tmp_path):
    """A parquet file of no columns said "has no target column 'target' (0 columns: )",
    one cut short pyarrow's "could not read FILE: ArrowInvalid: Could not open Parquet
    input source 'FILE': Parquet magic bytes not found in footer. ..."."""
    none = tmp_path / "none.parquet"
    pd.DataFrame().to_parquet(none)
    with pytest.raises(DatasetLoadError) as info:
        load_table(none, "target")
    assert str(info.value) == f"{none} is empty: its table has no columns"
    table = pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t")
    table.to_parquet(tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    cut = tmp_path / "cut.parquet"
    damaged = f"{cut} is not a readable parquet file (truncated or damaged): "
    for size, reason in [(5, "Parquet file size is 5 bytes, smaller than the minimum file "
                             "footer (8 bytes)"),
                         (len(data) // 2, "Parquet magic bytes not found in footer. Either "
                                          "the file is corrupted or this is not a parquet "
                                          "file."),
                         (len(data) - 1, "Parquet magic bytes not found")]:
        cut.write_bytes(data[:size])
        with pytest.raises(DatasetLoadError) as info:
            load_table(cut, "target")
        assert str(info.value).startswith(damaged + reason), size
    with pytest.raises(DatasetLoadError, match=re.escape(damaged)):  # in a suite too
        LocalSource(tmp_path).load("cut")


def test_a_parquet_file_of_damaged_data_pages_says_so(pmlb_root, tmp_path):
    """With its footer intact, a file whose data pages were damaged said pyarrow's "could
    not read FILE: OSError: Corrupt snappy compressed data." (or "Couldn't deserialize
    thrift: ...")."""
    pd.read_csv(pmlb_root / "credit_g" / "credit_g.tsv.gz", sep="\t").to_parquet(
        tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    bad = tmp_path / "bad.parquet"
    for start in (len(data) // 10, len(data) // 2):
        bad.write_bytes(data[:start] + b"\xff" * 64 + data[start + 64:])
        with pytest.raises(DatasetLoadError) as info:
            load_table(bad, "target")
        assert str(info.value).startswith(f"{bad} is not a readable parquet file (truncated "
                                          "or damaged): "), start
        assert "OSError" not in str(info.value)


def test_load_table_reads_the_file_it_is_given(tmp_path):
    """`same.parquet` used to load `same.csv` beside it, `shadow.csv` the file of a
    folder `shadow/`, and an unrelated manifest.csv broke loading."""
    pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]}).to_csv(tmp_path / "same.csv", index=False)
    pd.DataFrame({"x": [1.0, 2.0], "z": [3.0, 4.0], "y": [0.5, 1.5]}).to_parquet(
        tmp_path / "same.parquet")
    (tmp_path / "shadow").mkdir()
    pd.DataFrame({"a": [1, 2], "y": [1, 0]}).to_csv(tmp_path / "shadow" / "shadow.csv",
                                                  index=False)
    pd.DataFrame({"b": [5, 6, 7], "y": [1, 0, 1]}).to_csv(tmp_path / "shadow.csv", index=False)
    pd.DataFrame({"file": ["x"]}).to_csv(tmp_path / "manifest.csv", index=False)
    assert list(load_table(tmp_path / "same.parquet", "y").X.columns) == ["x", "z"]
    assert list(load_table(tmp_path / "same.csv", "y").X.columns) == ["x"]
    assert list(load_table(tmp_path / "shadow.csv", "y").X.columns) == ["b"]


def test_suites(pmlb_root, openml_cache, offline):
    assert {"openml-cc18", "amlb-classification", "openml-ctr23", "pmlb-classification"} <= set(list_suites())
    cc18 = get_suite("openml-cc18", cache_dir=openml_cache)
    assert len(cc18) == 72 and cc18[0].key.startswith("openml-task/")
    assert len(get_suite("openml-ctr23")) == 35
    with pytest.raises(DatasetLoadError, match="OpenML task"):
        cc18[0].load()
    pmlb = get_suite("pmlb-classification", root=pmlb_root)
    assert all(ref.task == "classification" for ref in pmlb)
    small = pmlb.select(limit=3)
    assert [r.key for r in small] == [r.key for r in pmlb][:3]
    assert small[0].load().task == "classification"
    assert len(pmlb.select(names=["iris" if "iris" in [r.name for r in pmlb] else "adult"])) == 1
    # one name as a string (it was split into letters: "names not in suite: ['a', ...]")
    assert [r.name for r in pmlb.select(names="hepatitis")] == ["hepatitis"]
    # a misspelt name gets the nearest one (build-kb --datasets said only which failed)
    # it said "names not in suite 'pmlb-classification': ['hepatitus', 'zzzzzz'] (...)"
    with pytest.raises(ValueError, match=r"^suite 'pmlb-classification' has no datasets "
                       r"named 'hepatitus', 'zzzzzz' \('hepatitus': did you mean "
                       r"'hepatitis'\?\)$"):
        pmlb.select(names=["hepatitus", "zzzzzz"])
    with pytest.raises(ValueError, match=r"^suite 'pmlb-classification' has no dataset "
                       r"named 'hepatitus' \(did you mean 'hepatitis'\?\)$"):
        pmlb.select(names="hepatitus")
    assert len(pmlb.select(limit=np.int64(2))) == 2
    with pytest.raises(ValueError, match="limit must be an integer"):
        pmlb.select(limit=2.5)
    with pytest.raises(ValueError, match="pass its directory"):
        get_suite("pmlb-regression")
    with pytest.raises(ValueError, match="unknown suite"):
        get_suite("nope")


@pytest.mark.parametrize("name, meant", [
    ("OpenML-CC18", "'openml-cc18'"), ("cc18", "'openml-cc18'"), ("99", "'openml-cc18'"),
    ("CTR23", "'openml-ctr23'"), ("amlb", "'amlb-classification'"),
    ("pmlb", "'pmlb-classification' or 'pmlb-regression'"),
])
def test_an_unknown_suite_name_says_which_suite_was_meant(openml_cache, name, meant):
    """get_suite("OpenML-CC18"), OpenML's own name of the suite, its short name "cc18" or
    its OpenML id 99 said "unknown suite" and listed the names, with no hint."""
    with pytest.raises(ValueError, match=rf"^unknown suite {name!r}; known suites: "
                       rf"\[.*\]; did you mean {re.escape(meant)}\?$"):
        get_suite(name, cache_dir=openml_cache)


def test_a_task_id_for_a_suite_dataset_name_says_its_name(openml_cache):
    """select(names="3") (CLI --datasets 3), the id of openml-cc18's task 3, said "no
    dataset named '3'", with no hint."""
    suite = get_suite("openml-cc18", cache_dir=openml_cache)
    with pytest.raises(ValueError, match=r"^suite 'openml-cc18' has no dataset named '3' "
                       r"\(did you mean 'task-3'\?\)$"):
        suite.select(names="3")
    assert [r.key for r in suite.select(names=["task-3", "openml-task/6"])] == [
        "openml-task/3", "openml-task/6"]


def test_get_suite_refuses_an_argument_the_suite_would_not_use(pmlb_root, openml_cache):
    """get_suite("pmlb-classification", root=..., cache_dir=...) read root and never looked
    at cache_dir, and get_suite("openml-cc18", root=...) ignored root, without a word."""
    with pytest.raises(ValueError, match=r"^cache_dir: not used with suite 'pmlb-classific"
                       r"ation' \(a local directory suite, read from root; cache_dir is "
                       r"openml's cache, used by the OpenML suites only: amlb-classification"):
        get_suite("pmlb-classification", root=pmlb_root, cache_dir=openml_cache)
    with pytest.raises(ValueError, match="^cache_dir: not used with suite 'pmlb-regression'"):
        get_suite("pmlb-regression", cache_dir=openml_cache)  # before "pass its directory"
    for name in ("openml-cc18", "amlb-classification", "openml-ctr23"):
        with pytest.raises(ValueError, match=rf"^root: not used with suite '{name}' \(an "
                           "OpenML suite, loaded through openml's cache: cache_dir sets it; "
                           "root is the directory of a local suite, used by "
                           "pmlb-classification, pmlb-regression only"):
            get_suite(name, root=pmlb_root, cache_dir=openml_cache)
    # each with its own argument, as before
    assert len(get_suite("openml-cc18", cache_dir=openml_cache)) == 72
    assert len(get_suite("pmlb-classification", root=pmlb_root)) > 0


def test_a_suite_keeps_the_cache_directory_it_was_built_with(pmlb_root, openml_cache):
    """A suite did not say which OpenML cache its tasks load from, so benchmark.run
    looked for them in another one (openml's own, or its own cache_dir=)."""
    from metaopt.data.suites import Suite

    cc18 = get_suite("openml-cc18", cache_dir=str(openml_cache))
    assert cc18.cache_dir == openml_cache  # a Path
    selected = cc18.select(limit=2, names=["openml-task/3", "openml-task/6", "task-11"],
                           smallest_first=True)
    assert [r.key for r in selected] == ["openml-task/3", "openml-task/6"]
    assert selected.cache_dir == openml_cache
    assert get_suite("openml-cc18").cache_dir is None  # openml's own cache
    assert get_suite("pmlb-classification", root=pmlb_root).select(limit=1).cache_dir is None
    assert Suite("mine", cc18.refs[:1]).cache_dir is None  # as it was built before
    assert Suite("mine", (), cache_dir=openml_cache) != Suite("mine", ())


@pytest.mark.parametrize("text", ["- a list\n", "features:\n  - a string\n", "features: 3\n"])
def test_malformed_metadata_is_a_load_error(tmp_path, text):
    """A metadata.yaml that parsed but was not a mapping of feature mappings raised
    AttributeError (a traceback from the CLI)."""
    (tmp_path / "toy").mkdir()
    pd.DataFrame({"a": [1.0, 2, 3, 4], "target": [0, 1, 0, 1]}).to_csv(
        tmp_path / "toy" / "toy.csv", index=False)
    (tmp_path / "toy" / "metadata.yaml").write_text(text)
    with pytest.raises(DatasetLoadError, match="is not PMLB metadata"):
        LocalSource(tmp_path).load("toy")


def test_malformed_metadata_does_not_break_the_listing(pmlb_root, tmp_path):
    """One malformed metadata.yaml in a directory without manifest.csv made listing the
    source (names, get_suite) fail for every dataset; it is a dataset of unknown task."""
    shutil.copytree(pmlb_root / "1027_ESL", tmp_path / "1027_ESL")
    (tmp_path / "toy").mkdir()
    pd.DataFrame({"a": [1.0, 2, 3, 4], "target": [0, 1, 0, 1]}).to_csv(
        tmp_path / "toy" / "toy.csv", index=False)
    (tmp_path / "toy" / "metadata.yaml").write_text("- a list\n")
    assert LocalSource(tmp_path).names() == ["1027_ESL", "toy"]
    with pytest.warns(UserWarning, match="no known task .*'toy'"):
        assert [r.name for r in get_suite("pmlb-regression", root=tmp_path)] == ["1027_ESL"]
    with pytest.raises(DatasetLoadError, match="is not PMLB metadata"):
        LocalSource(tmp_path).load("toy")


def test_manifest_names_that_look_like_numbers(tmp_path):
    """Dataset names such as "1" were read from manifest.csv as integers: a suite's
    datasets then failed to load (TypeError: PosixPath / int)."""
    for name in ("1", "2"):
        pd.DataFrame({"a": [1.0, 2, 3, 4], "target": [0, 1, 0, 1]}).to_csv(
            tmp_path / f"{name}.csv", index=False)
    (tmp_path / "manifest.csv").write_text("name,task\n1,classification\n2,regression\n")
    source = LocalSource(tmp_path)
    assert source.names() == ["1", "2"]
    assert source.load("2").task == "regression"  # the manifest's task, not inferred
    suite = get_suite("pmlb-classification", root=tmp_path)
    assert [r.name for r in suite] == ["1"] and suite[0].load().name == "1"


def test_local_suite_without_manifest_reads_metadata_tasks(pmlb_root, tmp_path):
    """A PMLB copy without manifest.csv gave empty pmlb-* suites, silently."""
    for name in ("hepatitis", "1027_ESL", "vote"):
        shutil.copytree(pmlb_root / name, tmp_path / name)
    pd.DataFrame({"a": [1.0, 2, 3, 4], "target": [0, 1, 0, 1]}).to_csv(
        tmp_path / "toy.csv", index=False)  # no metadata: task unknown
    source = LocalSource(tmp_path)
    tasks = source.manifest().set_index("name")["task"]
    assert tasks.drop("toy").to_dict() == {
        "1027_ESL": "regression", "hepatitis": "classification", "vote": "classification"}
    assert pd.isna(tasks["toy"])
    with pytest.warns(UserWarning, match=r"1 dataset\(s\) .* no known task .*'toy'"):
        clf = get_suite("pmlb-classification", root=tmp_path)
    assert [r.name for r in clf] == ["hepatitis", "vote"]
    with pytest.warns(UserWarning, match="no known task"):
        assert [r.name for r in get_suite("pmlb-regression", root=tmp_path)] == ["1027_ESL"]
    assert source.load("toy").task == "classification"  # inferred


def test_boolean_column_with_missing_values_is_categorical(tmp_path):
    """A True/False column with a missing cell is read as objects: it became a float
    column, while the same column without the gap was categorical."""
    path = tmp_path / "flags.csv"
    path.write_text("full,gappy,target\nTrue,True,0\nFalse,,1\nTrue,False,0\nFalse,True,1\n")
    ds = load_table(path, "target")
    assert ds.categorical_columns == ["full", "gappy"]
    assert ds.X["gappy"].isna().tolist() == [False, True, False, False]


def test_a_missing_local_dataset_names_the_one_meant(pmlb_root, tmp_path):
    """LocalSource.load("adlt") said only where it looked, though --datasets of the
    command line suggests the name meant."""
    source = LocalSource(pmlb_root)
    for typed in ("adlt", "Adult"):
        with pytest.raises(DatasetLoadError, match=r"not found under .*; did you mean 'adult'\?$"):
            source.load(typed)
    with pytest.raises(DatasetLoadError) as error:
        source.load("zzzzqq")
    assert "did you mean" not in str(error.value)
    # a directory without a manifest: its tables' names
    (tmp_path / "iris.csv").write_text("a,target\n1,0\n2,1\n")
    with pytest.raises(DatasetLoadError, match="did you mean 'iris'"):
        LocalSource(tmp_path).load("irs")
