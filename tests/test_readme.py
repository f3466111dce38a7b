"""README.md's Python snippets: each runs on its own when copied (no name it leaves
undefined). The sampler snippet used X and y without defining them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _snippets import python_snippets

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = [code for _, code in python_snippets(README)]


def test_the_readme_has_python_snippets():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_a_snippet_defines_every_name_it_uses(number):
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "F821", "--no-cache",
         "--stdin-filename", f"README_snippet_{number}.py", "-"],
        input=BLOCKS[number], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
