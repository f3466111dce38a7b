"""The commands the documentation shows (README.md, docs/*.md, the model and knowledge-base
cards, builds/*/README.md, the benchmark scripts' docstrings and comments) against the
argparse parsers they would meet: `metaopt <command>` and `python -m metaopt` against
metaopt.cli's, `python benchmarks/<script>.py` and `python -m metaopt.<module>` against
the parser the script's main() builds (caught at parse_args, so nothing runs).

Every option must exist under its full name; a command that sits in a code block or shows
two options or more is meant to be run, so it must parse as written (required options
given, each option with its value; type and choice errors only where no placeholder
such as `DIR`, `<data>` or `...` stands in), its `--methods` of `metaopt benchmark` must
be known methods, and the repository files it reads must exist. A command whose paragraph
says it "no longer runs" is left out. Fast: no subprocess, no benchmark runs."""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import os
import re
import shlex
import sys
from itertools import pairwise
from pathlib import Path
from unittest import mock

import pytest

from metaopt.benchmark._methods import list_methods
from metaopt.benchmark._runner import _check_methods
from metaopt.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs").glob("optunahub/*/README.md")),
         *sorted(ROOT.glob("metaopt/**/CARD.md")), *sorted(ROOT.glob("builds/**/CARD.md")),
         *sorted(ROOT.glob("builds/*/README.md")), *sorted((ROOT / "benchmarks").glob("*.py"))]
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
COMMAND = r"(python3? (?:benchmarks/\w+\.py|-m metaopt[\w.]*)|(?<![\w.-])metaopt (?=[a-z-]))"
START = {".md": re.compile(rf"(?:^\s*(?:\$\s*)?|(?:&&|;|\|)\s*){COMMAND}"),  # a shell line's
         ".py": re.compile(COMMAND)}  # anywhere in a docstring or comment
PLACEHOLDER = re.compile(r"<[^>]*>|\.\.\.|…|[A-Z][A-Z_.]*|\$\w+|\{.*\}")
OUTPUTS = {"--out", "--plot", "--export", "--store"}


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _snippets(page: Path) -> list[tuple[str, bool]]:
    """(text, in a code block) of each code line and code span of a page; for a script,
    each line of its docstrings and comments (none of them a block)."""
    text = page.read_text()
    if page.suffix == ".py":
        tree = ast.parse(text)
        docs = [ast.get_docstring(node, clean=False) or "" for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))]
        docs += [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
        return [(line.replace("`", ""), False)
                for doc in docs for line in doc.replace("\\\n", " ").splitlines()]
    paragraphs = re.split(r"\n\s*\n", text.replace("\\\n", " "))
    kept = "\n\n".join(p for p in paragraphs if "no longer runs" not in p or "```" in p)
    blocks = [(line, True) for block in FENCE.findall(kept) for line in block.splitlines()]
    return blocks + [(span.replace("\n", " "), False)
                     for span in re.findall(r"`([^`]+)`", FENCE.sub("", kept))]


def _commands(page: Path) -> list[tuple[str, bool]]:
    found = []
    for code, block in _snippets(page):
        starts = [m.start(1) for m in START[page.suffix].finditer(code)]
        for start, end in pairwise([*starts, len(code)]):
            command = re.split(r"\s(?:&&|\|\|?|;|2?>|#)\s", code[start:end])[0]
            found.append((command.strip().rstrip(".,;:)"), block))
    return found


class _Parsed(Exception):
    pass


def _stop(parser, *args, **kwargs):
    raise _Parsed(parser)


_SCRIPT_PARSERS: dict[str, argparse.ArgumentParser] = {}


def _script_parser(target: str) -> argparse.ArgumentParser:
    """The parser a benchmark script's (or a module's) main() builds, before it runs."""
    if target not in _SCRIPT_PARSERS:
        if target.endswith(".py"):
            sys.path.insert(0, str(ROOT / "benchmarks"))  # their `from _common import ...`
            spec = importlib.util.spec_from_file_location(f"_doc_{Path(target).stem}", ROOT / target)
            module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
            # metafeatures*.py set thread variables for their own process at import: kept,
            # the later tests' processes inherited them (torch on one thread in a child)
            with mock.patch.dict(os.environ):
                spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
        with mock.patch.object(argparse.ArgumentParser, "parse_args", _stop), \
                mock.patch.object(argparse.ArgumentParser, "parse_known_args", _stop):
            with pytest.raises(_Parsed) as caught:
                module.main()
        _SCRIPT_PARSERS[target] = caught.value.args[0]
    return _SCRIPT_PARSERS[target]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _resolve(tokens: list[str], prose: bool) -> tuple[str, argparse.ArgumentParser, list[str]] | None:
    """(name, parser, arguments) of a command; None for prose ("metaopt is ahead")."""
    if tokens[0].startswith("python") and tokens[2:3] != ["metaopt"]:
        target = tokens[2] if tokens[1] == "-m" else tokens[1]
        argv = tokens[3:] if tokens[1] == "-m" else tokens[2:]
        if target.endswith(".py"):
            assert (ROOT / target).exists(), f"no script {target}"
        else:
            assert importlib.util.find_spec(target), f"no module {target}"
        return f"python {target}", _script_parser(target), argv
    argv = tokens[3:] if tokens[0].startswith("python") else tokens[1:]
    name, parser = "metaopt", build_parser()
    for _ in range(2):
        commands = _subparsers(parser)
        if not argv or argv[0].startswith("-") or PLACEHOLDER.fullmatch(argv[0]):
            break
        if argv[0] not in commands:
            if prose and "-" not in argv[0] and not any(
                    t.startswith("-") for t in argv):
                return None
            raise AssertionError(f"{name}: no command {argv[0]!r} (has {sorted(commands)})")
        name, parser, argv = f"{name} {argv[0]}", commands[argv[0]], argv[1:]
    return name, parser, argv


def _problems(command: str, block: bool, prose: bool) -> list[str]:
    tokens = [t.strip("[]") for t in shlex.split(command) if t.strip("[]")]  # [--opt X]: optional
    resolved = _resolve(tokens, prose)
    if resolved is None:
        return []
    name, parser, argv = resolved
    known = {option for action in parser._actions for option in action.option_strings}
    options = [t.split("=")[0] for t in argv if re.match(r"--?[a-zA-Z]", t)]
    problems = [f"{name}: no option {o}" for o in options if o not in known]
    if problems or not (block or len(options) >= 2):
        return problems  # a mention of an option in prose need not be a whole command
    placeholders = any(PLACEHOLDER.fullmatch(t) for t in argv)
    errors: list[str] = []
    with mock.patch.object(parser, "error", side_effect=lambda m: errors.append(m) or sys.exit(2)), \
            contextlib.suppress(SystemExit):
        parser.parse_args(argv)
    problems += [f"{name}: {e}" for e in errors
                 if not placeholders or re.search(r"required|expected", e)]
    methods = next((value for option, value in pairwise(argv) if option == "--methods"), None)
    if name.startswith("metaopt benchmark") and methods and not PLACEHOLDER.search(methods):
        if name.endswith(" run"):
            try:
                _check_methods(methods)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        problems += [f"{name}: no method {m!r}" for m in methods.split(",")
                     if not name.endswith(" run") and m not in list_methods()]
    for previous, token in pairwise(["", *argv]):
        path = token.split("=")[-1].lstrip("@")
        if (previous not in OUTPUTS and path.split("/")[0] in {"benchmarks", "builds", "docs",
                                                               "examples", "metaopt", "tests"}
                and "/" in path and not PLACEHOLDER.search(path) and not (ROOT / path).exists()):
            problems.append(f"{name}: no file {path}")
    return problems


def test_there_are_commands():
    assert sum(len(_commands(page)) for page in PAGES) >= 100


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_documented_commands_parse(page):
    problems = [f"`{command}`: {problem}" for command, block in _commands(page)
                for problem in _problems(command, block, prose=page.suffix == ".py" or not block)]
    assert not problems, problems


@pytest.mark.parametrize(("command", "problem"), [
    ("metaopt benchmark tabrepo --train X --budget 5", "no option --budget"),
    ("metaopt benchmark yahpo --scenario lcbench --methods metaopt", "required: --data"),
    ("metaopt benchmark tabrepo --train X --methods random,metaopt-refine", "no method"),
    ("metaopt train-ranker --out DIR", "no command 'train-ranker'"),
    ("python benchmarks/sinusoid.py --quick --shot 5", "no option --shot"),
    ("python benchmarks/kb_learning_curve.py --kb builds/none.parquet --space all", "no file"),
])
def test_a_wrong_command_is_reported(command, problem):
    try:
        found = _problems(command, block=True, prose=False)
    except AssertionError as exc:
        found = [str(exc)]
    assert any(problem in p for p in found), found
