"""Every `metaopt` subcommand and option is documented: named in README.md or a page of
docs/ (the README's command table, or the page of the command)."""

import argparse
import re
from pathlib import Path

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
