"""The documentation (README.md, docs/*.md, the OptunaHub page) against the code: every
relative link and `#anchor` resolves, every repository path in a code span exists, and
every public name of metaopt's packages has a docstring and is named on some page.
Guards against files moved, headings retitled and new exports left
undocumented (the commands shown: test_doc_commands.py). Fast: no subprocess, no
network."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs").glob("optunahub/*/README.md"))]
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
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
