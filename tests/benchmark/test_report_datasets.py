"""The report's "Datasets" section names the datasets the run covered; job files of
before 2026-12-05 (no versions) are reported without pandas' warnings."""

from __future__ import annotations

import json
import warnings

from metaopt.benchmark import report

_SETTINGS = {"suite": "pmlb-classification", "budget_trials": 2, "budget_seconds": None,
             "folds": 2, "cv_folds": 3, "spaces": "all", "max_rows": None,
             "time_limit": None, "split_seed": 0, "methods": ["tpe", "random"], "seeds": 1,
             "excluded": []}


def _write_run(out, datasets: dict, broken: str | None = None, old: bool = False,
               **settings) -> None:
    """A `benchmark run` directory by hand: ``datasets`` maps a name to its (train, test)
    rows per outer fold; every job of ``broken`` failed to load its dataset; ``old`` job
    files say no metaopt, meta-model or peer library version."""
    settings = {**_SETTINGS, **settings}
    keys = [f"pmlb/{name}" for name in [*datasets, *([broken] if broken else [])]]
    (out / "run.json").write_text(json.dumps(
        {**settings, "unseen": {key: False for key in keys}}))
    (out / "jobs").mkdir()
    for key in keys:
        name = key.split("/")[1]
        for method_index, method in enumerate(settings["methods"]):
            for fold in range(settings["folds"]):
                job = f"pmlb_{name}__{method}__s0__f{fold}"
                base = {"job": job, "dataset_key": key, "dataset": name, "method": method,
                        "seed": 0, "fold": fold}
                if not old:
                    base |= {"metaopt_version": "0.1.0"} | (
                        {"meta_model": "all"} if method == "metaopt"
                        else {"peer_version": "optuna 4.0.0"})
                if name == broken:
                    rows = [{**base, "trial": 0, "status": "job_failed",
                             "error": "DatasetLoadError: no such table"}]
                else:
                    n_train, n_test = datasets[name]
                    rows = [{**base, "trial": trial, "task": "classification",
                             "n_train": n_train, "n_test": n_test, "space": "linear",
                             "params": {"C": 1.0}, "status": "ok", "cv_score": 0.5,
                             "eval_time": 0.1, "elapsed": 0.1 * trial, "error": None,
                             "incumbent_test_score": 0.6 + 0.1 * method_index + 0.01 * fold}
                            for trial in (1, 2)]
                (out / "jobs" / f"{job}.jsonl").write_text(
                    "".join(json.dumps(r) + "\n" for r in rows))


def _datasets_section(text: str) -> str:
    return text.split("## Datasets\n", 1)[1].split("\n## ", 1)[0]


def test_the_datasets_section_lists_each_dataset_with_its_task_and_rows(tmp_path):
    """The section only said "Unseen by the meta-model: 0 of 1 (none)": the report
    never named the datasets it covered."""
    _write_run(tmp_path, {"iris": (100, 50), "analcatdata_happiness": (40, 20)},
               broken="gone")
    section = _datasets_section(report(tmp_path).read_text())
    assert ("| dataset | task | rows |\n|---|---|---|\n"
            "| analcatdata_happiness | classification | 60 |\n"
            "| gone | ? | ? |\n"
            "| iris | classification | 150 |\n") in section
    assert "Unseen by the meta-model: 0 of 3 (none)." in section
    assert "subsampled" not in section


def test_the_datasets_section_says_rows_were_subsampled(tmp_path):
    _write_run(tmp_path, {"iris": (66, 34)}, max_rows=100)
    section = _datasets_section(report(tmp_path).read_text())
    assert "| iris | classification | 100 |" in section
    assert "Rows as benchmarked: subsampled to at most 100." in section


def test_job_files_without_versions_are_reported_without_warnings(tmp_path):
    """Their columns are all missing (float NaN): filling them with text warned
    "Pandas4Warning: 'str' is not supported as a fill value for float64 dtype" (an error
    in pandas 4)."""
    _write_run(tmp_path, {"iris": (100, 50)}, old=True, methods=["tpe", "metaopt"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = report(tmp_path).read_text()
    assert ("Produced by an unknown version (4 jobs). Job files without a version were "
            "written before 2026-12-05. The `metaopt` method's meta-model: unknown (2 jobs). "
            "Peer methods' libraries: `tpe`: unknown (2 jobs).") in text
