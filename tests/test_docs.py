"""The documentation (README.md, docs/*.md, the OptunaHub page) against the code: every
relative link and `#anchor` resolves, every `--option` of a `metaopt <command>` or a
`python benchmarks/<script>.py` that the docs show exists in that command or script, and
every public name of metaopt's packages has a docstring and is named on some page.
Guards against options renamed or removed, headings retitled and new exports left
undocumented. Fast: no subprocess, no network."""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
from pathlib import Path

import pytest

from metaopt.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs").glob("optunahub/*/README.md"))]
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
OPTION = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)")
PACKAGES = ["metaopt", "metaopt.meta", "metaopt.ranker", "metaopt.samplers", "metaopt.nas",
            "metaopt.kb", "metaopt.data", "metaopt.spaces", "metaopt.benchmark",
            "metaopt.metafeatures"]


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces
    to `-`, a repeated heading suffixed `-1`, `-2`, ..."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", page.read_text()).splitlines():
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).replace("`", "")
            slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            anchors.add(slug if count == 0 else f"{slug}-{count}")
            seen[slug] = count + 1
    return anchors


def _code(page: Path) -> list[str]:
    """The code the page shows: each line of a fenced block (a `\\` continuation joined
    to the next) and each inline code span."""
    text = page.read_text().replace("\\\n", " ")
    lines = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return lines + [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", FENCE.sub("", text))]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_there_are_pages():
    assert len(PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_relative_links_and_anchors_resolve(page):
    broken = []
    for target in re.findall(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)", FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (dest.suffix != ".md" or anchor not in _anchors(dest)):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_paths_in_code_spans_exist(page):
    """`metaopt/_models/...`, `benchmarks/results/...`, `examples/...` named on a page."""
    missing = []
    for span in re.findall(r"`((?:docs|examples|benchmarks|metaopt|tests|builds)/[^`\s]*)`",
                           page.read_text()):
        if not any(c in span for c in "<>{}*") and not (ROOT / span).exists():
            missing.append(span)
    assert not missing, missing


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_cli_options_in_docs_exist(page):
    top = build_parser()
    commands = {}
    for name, parser in _subcommands(top).items():
        commands[name] = _options(parser)
        for sub, subparser in _subcommands(parser).items():
            commands[f"{name} {sub}"] = _options(subparser)
    unknown = []
    for code in _code(page):
        for match in re.finditer(r"(?:^|[\s(])metaopt ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?(.*)", code):
            command, sub, rest = match.groups()
            if command not in commands:
                continue
            key = f"{command} {sub}" if f"{command} {sub}" in commands else command
            rest = re.split(r" metaopt | python ", rest)[0]
            unknown += [f"metaopt {key} {option}" for option in OPTION.findall(rest)
                        if option not in commands[key]]
    assert not unknown, unknown


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_benchmark_script_options_in_docs_exist(page):
    unknown = []
    for code in _code(page):
        for script, rest in re.findall(r"python (benchmarks/\w+\.py)(.*)", code):
            assert (ROOT / script).exists(), script
            source = (ROOT / script).read_text()
            known = set(re.findall(r"""add_argument\(\s*["'](--[a-z0-9-]+)["']""", source))
            rest = re.split(r" metaopt | python ", rest)[0]
            unknown += [f"{script} {option}" for option in OPTION.findall(rest)
                        if option not in known | {"--help"}]
    assert not unknown, unknown


@pytest.mark.parametrize("package", PACKAGES)
def test_public_names_have_docstrings_and_are_documented(package):
    text = "\n".join(page.read_text() for page in PAGES)
    module = importlib.import_module(package)
    undocumented = []
    for name in module.__all__:
        obj = getattr(module, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not (obj.__doc__ or "").strip():
            undocumented.append(f"{name}: no docstring")
        if not name.startswith("__") and not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            undocumented.append(f"{name}: on no page")
    assert not undocumented, undocumented
