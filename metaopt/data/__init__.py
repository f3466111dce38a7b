"""Datasets: one validated record, the sources that produce it, and named suites."""

from metaopt.data._dataset import TASK_TYPES, Dataset, from_arrays, infer_task, validate
from metaopt.data.sources import DatasetLoadError, LocalSource, OpenMLSource, load_table
from metaopt.data.suites import DatasetRef, Suite, get_suite, list_suites, openml_suites

__all__ = [
    "TASK_TYPES",
    "Dataset",
    "DatasetLoadError",
    "DatasetRef",
    "LocalSource",
    "OpenMLSource",
    "Suite",
    "from_arrays",
    "get_suite",
    "infer_task",
    "list_suites",
    "load_table",
    "openml_suites",
    "validate",
]
