from __future__ import annotations

import json

from metaopt.cli import main


def test_tabrepo_cli_writes_json_and_plot(tabrepo_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["benchmark", "tabrepo", "--train", str(tabrepo_dir), "--cv", "5",
                 "--methods", "random,portfolio", "--budgets", "1,5", "--seeds", "1",
                 "--json", str(out), "--plot", str(tmp_path / "r.png"), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "portfolio" in printed and "mean normalized regret" in printed
    assert "portfolio (the last method) against each other one" in printed
    saved = json.loads(out.read_text())
    assert set(saved["table"]) == {"1", "5"}
    assert set(saved["paired"]) == {"1 random", "5 random"}
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_cli_errors_are_one_line(tmp_path, capsys):
    code = main(["benchmark", "run", "--suite", "nope", "--budget-trials", "2",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "unknown suite 'nope'" in capsys.readouterr().err
