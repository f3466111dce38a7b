"""The ```python blocks of a Markdown page, for the tests that check or run them
(test_readme.py, test_docs_snippets.py)."""

from __future__ import annotations

import re
from pathlib import Path

PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_snippets(page: Path) -> list[tuple[int, str]]:
    """``(line, code)`` of each ```python block of ``page``, in page order; ``line`` is
    the page's line number of the block's first line of code."""
    text = page.read_text()
    return [(text.count("\n", 0, block.start(1)) + 1, block.group(1))
            for block in PYTHON_BLOCK.finditer(text)]
