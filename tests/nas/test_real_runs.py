"""Real training runs for the architecture prior: runs on real pmlb data, resume without
redoing work, align with the prior's draws, and a prior trains on partial rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaopt.nas import LCBENCH_SPACE, ArchitecturePrior, random_configs
from metaopt.nas._build_prior import random_beaten_by, select_training, with_real_runs
from metaopt.nas._real_runs import build_runs, config_sha, read_runs, runs_matrix

CONFIGS = random_configs(LCBENCH_SPACE, 40, np.random.default_rng(0))


@pytest.fixture(scope="module")
def runs(pmlb_root, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("runs") / "runs.csv"
    build_runs(pmlb_root, ["haberman", "new_thyroid"], CONFIGS, out, n_configs=2,
               max_epochs=3, patience=2)
    # resuming with more configurations only trains the missing ones
    return build_runs(pmlb_root, ["haberman", "new_thyroid"], CONFIGS, out, n_configs=3,
                      max_epochs=3, patience=2)


def test_runs_train_real_data_and_resume(runs):
    assert len(runs) == 6  # 2 datasets x 3 configurations, none twice
    assert not runs.duplicated(["dataset", "config_index"]).any()
    assert runs["score"].between(0, 1).all() and (runs["score"] > 0.3).all()
    sizes = runs.groupby("dataset")[["n_instances", "n_classes"]].first()
    assert sizes.loc["haberman"].tolist() == [306.0, 2.0]
    assert sizes.loc["new_thyroid"].tolist() == [215.0, 3.0]


def test_runs_align_with_the_draws_they_came_from(runs):
    mf, scores = runs_matrix(runs, CONFIGS)
    assert list(mf.index) == ["haberman", "new_thyroid"]
    assert scores.shape == (2, 40)
    assert np.isfinite(scores[:, :3]).all() and np.isnan(scores[:, 3:]).all()
    other = random_configs(LCBENCH_SPACE, 40, np.random.default_rng(1))
    with pytest.raises(ValueError, match="does not match the training configurations"):
        runs_matrix(runs, other)


def test_a_file_that_is_not_a_runs_file_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"dataset": ["a"], "score": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="not a real-runs file"):
        read_runs(path)


def test_a_runs_file_cut_short_is_refused_not_taken_as_done(runs, tmp_path, pmlb_root):
    """A kill in the middle of an append left a cut last row: it loaded with a NaN score,
    the resume took that run as done, and glued the next dataset's rows to it."""
    out = tmp_path / "runs.csv"
    text = runs.to_csv(index=False)
    out.write_text(text[:text.rstrip("\n").rfind(",", 0, len(text) - 30)])
    with pytest.raises(ValueError, match=r"incomplete runs \(line\(s\) 7"):
        read_runs(out)
    with pytest.raises(ValueError, match="incomplete runs"):
        build_runs(pmlb_root, ["haberman", "new_thyroid", "corral"], CONFIGS, out,
                   n_configs=3, max_epochs=3, patience=2)
    out.write_text(text + "haberman,3,x,0.5,1,2,3,4new_thyroid,0,x,0.5,1,2,3,4\n")
    with pytest.raises(ValueError, match="not a readable real-runs file"):
        read_runs(out)


def test_resuming_with_other_settings_or_draws_is_refused(tmp_path, pmlb_root):
    """Runs resumed with other training settings were added to the file beside the
    earlier ones (haberman's rows then held 100 and 306 rows' runs), without a word."""
    out = tmp_path / "runs.csv"
    settings = dict(max_epochs=2, patience=1, max_rows=100)
    build_runs(pmlb_root, ["haberman"], CONFIGS, out, n_configs=1, **settings)
    with pytest.raises(ValueError, match=r"other settings .*'max_epochs': \(2, 3\)"):
        build_runs(pmlb_root, ["haberman"], CONFIGS, out, n_configs=2,
                   **{**settings, "max_epochs": 3})
    other = random_configs(LCBENCH_SPACE, 40, np.random.default_rng(1))
    with pytest.raises(ValueError, match="does not match the training configurations"):
        build_runs(pmlb_root, ["haberman"], other, out, n_configs=2, **settings)
    runs = build_runs(pmlb_root, ["haberman"], CONFIGS, out, n_configs=2, **settings)
    assert runs["config_index"].tolist() == [0, 1] and (runs["n_instances"] == 100).all()


def test_prior_trains_on_lcbench_like_rows_plus_partial_real_rows(runs):
    rng = np.random.default_rng(0)
    mf = pd.DataFrame({"n_instances": [2000.0, 50000.0], "n_features": [20.0, 100.0],
                       "n_classes": [2.0, 10.0]}, index=["a", "b"])
    scores, times = rng.random((2, 40)), rng.random((2, 40)) + 0.1
    all_mf, all_scores, all_times = with_real_runs(mf, CONFIGS, scores, times, runs)
    assert list(all_mf.index) == ["a", "b", "pmlb/haberman", "pmlb/new_thyroid"]
    assert all_scores.shape == all_times.shape == (4, 40)
    assert np.isnan(all_scores[2:, 3:]).all() and (all_times[2:] == 1).all()
    prior = ArchitecturePrior(n_members=1, iterations=20, n_pool=64, batch_configs=16,
                              cost_weight=1.0).fit(all_mf, CONFIGS, all_scores,
                                                   costs=all_times)
    assert np.isfinite(prior.training_["final_listwise_loss"]).all()
    # draws among given candidates come from them, seeded
    picks = prior.sample(all_mf.iloc[2], 3, seed=0, native=True, candidates=CONFIGS[:10])
    assert all(c in CONFIGS[:10] for c in picks)
    assert picks == prior.sample(all_mf.iloc[2], 3, seed=0, native=True,
                                 candidates=CONFIGS[:10])


def test_random_beaten_by_is_exact():
    values = np.array([0.1, 0.5, 0.2, 0.9, 0.7])
    # best of 2 of 5: every pair equally likely
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    best = [max(values[i], values[j]) for i, j in pairs]
    assert random_beaten_by(values, 2) == pytest.approx(
        np.mean([np.mean(values > b) for b in best]))
    assert random_beaten_by(values, 5) == 0.0
    assert random_beaten_by(values, 1) == pytest.approx(np.mean(np.arange(5) / 5))


def test_selection_compares_training_data_and_sampling_per_source():
    rng = np.random.default_rng(1)
    # synthetic runs: 10 configurations on each of 4 datasets
    runs = pd.DataFrame([
        {"dataset": f"d{d}", "config_index": i, "config_sha": config_sha(CONFIGS[i]),
         "score": rng.random(), "seconds": 1.0, "n_instances": 100.0 * (d + 1),
         "n_features": 5.0, "n_classes": 2.0} for d in range(4) for i in range(10)])
    mf = pd.DataFrame({"n_instances": [500.0, 2000.0, 9000.0, 40000.0], "n_features": 20.0,
                       "n_classes": 2.0}, index=["a", "b", "c", "d"])
    scores, times = rng.random((4, 40)), rng.random((4, 40)) + 0.1
    table = select_training(mf, CONFIGS, scores, times, runs,
                            dict(n_members=1, iterations=3, n_pool=64, batch_configs=8),
                            temperatures=(1.0,), n_folds=2, n_repeats=2)
    assert list(table.columns) == ["lcbench", "real runs", "mean"]
    assert table.index[-2:].get_level_values(0).tolist() == ["random, best of 5",
                                                             "random, best of 20"]
    settings = table.iloc[:-2]
    assert set(settings.index.get_level_values("data")) == {"lcbench", "lcbench + real runs"}
    assert settings.notna().all().all() and settings.to_numpy().max() <= 1
    # random search finds more of the best with 20 draws than with 5
    assert (table.iloc[-1, :2] < table.iloc[-2, :2]).all()


def test_the_command_says_a_user_error_in_one_line(tmp_path, capsys, pmlb_root):
    """`python -m metaopt.nas._real_runs --pmlb WRONG` (the command nas.md shows) ended
    in a traceback ("ValueError: root must be an existing directory") after writing the
    runs' settings file; a resume with other draws too. Both are one line, exit 2, and
    a wrong --pmlb writes nothing; every option's help says what it does."""
    from metaopt.nas._real_runs import main

    out = tmp_path / "runs.csv"
    with pytest.raises(SystemExit) as stopped:
        main(["--pmlb", str(tmp_path / "nosuch"), "--out", str(out)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"python -m metaopt.nas._real_runs: error: --pmlb {str(tmp_path / 'nosuch')!r} is "
        "no directory: give the pmlb data directory (a folder NAME/ with NAME.tsv.gz per "
        "dataset)")
    assert list(tmp_path.iterdir()) == []
    build_runs(pmlb_root, ["haberman"], CONFIGS, out, n_configs=1, max_epochs=2, patience=1)
    with pytest.raises(SystemExit) as stopped:  # the command's draws are not CONFIGS
        main(["--pmlb", str(pmlb_root), "--out", str(out), "--n-configs", "1"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "python -m metaopt.nas._real_runs: error: ")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "(default 200)" in capsys.readouterr().out


def test_the_prior_build_says_a_user_error_in_one_line(tmp_path, capsys, shared_data):
    """`python -m metaopt.nas._build_prior` with a wrong --yahpo or --real-runs ended in a
    traceback (ValueError, FileNotFoundError); a missing runs file was read only after
    the lcbench data. Both are one line, exit 2, nothing written."""
    from metaopt.nas._build_prior import main

    out = tmp_path / "prior"
    for args, error in [
            (["--yahpo", str(tmp_path / "nosuch")],
             f"{str(tmp_path / 'nosuch' / 'lcbench')!r} has no YAHPO model.onnx for "
             "'lcbench'"),
            (["--yahpo", str(shared_data / "yahpo"), "--real-runs", str(tmp_path / "r.csv")],
             f"[Errno 2] No such file or directory: {str(tmp_path / 'r.csv')!r}")]:
        with pytest.raises(SystemExit) as stopped:
            main([*args, "--out", str(out)])
        assert stopped.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"python -m metaopt.nas._build_prior: error: {error}")
    assert not out.exists()
