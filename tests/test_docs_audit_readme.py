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
