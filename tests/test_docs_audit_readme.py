"""Every `metaopt` subcommand and option is documented: named in README.md or a page of
docs/ (the README's command table, or the page of the command); the README's commands
refuse a bad number before they read the table or import their work."""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from metaopt.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
TEXT = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, parser) of ``metaopt`` and every subcommand under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_subcommand_is_documented():
    commands = [path for path, _ in _commands(build_parser()) if path]
    assert len(commands) >= 12  # the 8 commands, kb's 2 actions, benchmark's 4
    missing = [" ".join(path) for path in commands
               if f"metaopt {' '.join(path)}" not in TEXT]
    assert not missing, missing


def test_every_option_is_documented():
    missing = []
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            for option in action.option_strings:
                if option in ("-h", "--help"):
                    continue
                if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", TEXT):
                    missing.append(f"metaopt {' '.join(path)} {option}".replace("  ", " "))
    assert not missing, missing


# runs `metaopt ...` in a fresh interpreter: its exit code and whether it imported the
# heavy modules (the README's commands refuse a bad option in about a second)
_WRAPPER = """
import json, sys
from metaopt.cli import main
code = main(sys.argv[1:])
print(json.dumps([code, 'torch' in sys.modules, 'sklearn' in sys.modules]))
"""


def _run(tmp_path, *args: str) -> tuple[int, bool, bool, str]:
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60, check=False)
    code, torch, sklearn = json.loads(done.stdout.strip().splitlines()[-1])
    return code, torch, sklearn, done.stderr


@pytest.mark.parametrize(("args", "error"), [
    (["suggest", "--data", "t.csv", "--target", "y", "--space", "knn", "-n", "0"],
     "metaopt suggest: error: -n must be an integer >= 1, got 0\n"),
    (["metafeatures", "--data", "t.csv", "--target", "y", "--seed", "-1"],
     "metaopt metafeatures: error: --seed must be an integer in [0, 4294967295] (the seed of "
     "the meta-features' subsamples and landmarker folds), got -1\n"),
    (["demo", "--trials", "0"], "metaopt demo: error: --trials must be an integer >= 1, got 0\n"),
    (["demo", "--seed", "-1"], "metaopt demo: error: --seed must be an integer >= 0, got -1\n"),
    (["demo", "--seed", str(2**32)],
     "metaopt demo: error: --seed must be an integer in [0, 4294967295] (the seed of the "
     "demo's meta-features, sampler and models), got 4294967296\n"),
], ids=["suggest -n 0", "metafeatures --seed -1", "demo --trials 0", "demo --seed -1",
        "demo --seed 2**32"])
def test_a_bad_number_is_refused_before_the_table_and_the_imports(tmp_path, args, error):
    # a table with a row id: read, it would be warned about before the error
    (tmp_path / "t.csv").write_text("id,a,y\n" + "".join(f"{i},{i % 3},{i % 2}\n"
                                                          for i in range(1, 31)))
    code, torch, sklearn, err = _run(tmp_path, *args)
    assert (code, err) == (2, error)
    assert not torch and not sklearn


def test_the_task_option_says_when_a_target_reads_as_classes():
    """--task's help said "at most 20 whole values reads as classes": 10 whole values in 30
    rows read as a regression target (at most one value per 5 rows)."""
    import pandas as pd

    from metaopt.data import infer_task

    suggest = next(a.choices["suggest"] for a in build_parser()._actions
                   if isinstance(a, argparse._SubParsersAction))
    text = " ".join(next(a.help for a in suggest._actions if a.dest == "task").split())
    assert "at most 20 whole values and at most one per 5 rows" in text
    assert infer_task(pd.Series(range(30)) % 10) == "regression"
    assert infer_task(pd.Series(range(50)) % 10) == "classification"


def test_the_demo_s_description_names_every_source_of_its_trials():
    """`metaopt demo --help` named the portfolio and the adapted ranker: its 7th trial (of
    8 by default) is a random pick that explores (every 4th after the warm start)."""
    demo = next(a.choices["demo"] for a in build_parser()._actions
                if isinstance(a, argparse._SubParsersAction))
    text = " ".join(demo.description.split())
    assert "portfolio, adapted ranker, or a random pick that explores" in text
