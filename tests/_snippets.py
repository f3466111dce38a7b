"""The ```python blocks of a Markdown page, for the tests that check or run them
(test_readme.py, test_docs_snippets.py): found in page order, and run in order in one
namespace, in a fresh interpreter in the reader's folder, each block with the code
that stands for the reader's own data before it, text replaced in it (budgets cut,
what cannot run offline), and the checks of what the page says after it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_snippets(page: Path) -> list[tuple[int, str]]:
    """``(line, code)`` of each ```python block of ``page``, in page order; ``line`` is
    the page's line number of the block's first line of code."""
    text = page.read_text()
    return [(text.count("\n", 0, block.start(1)) + 1, block.group(1))
            for block in PYTHON_BLOCK.finditer(text)]


RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for name, code in json.load(open(sys.argv[1])):
    exec(compile(code, name, "exec"), namespace)
"""


def program(page: Path, name: str, *, variables: dict[str, str],
            preludes: dict[int, str], replacements: dict[int, list[tuple[str, str]]],
            checks: dict[int, str]) -> list[tuple[str, str]]:
    """(name for tracebacks, code) to run in order for ``page`` (``name``: how the
    tracebacks call it). Keyed by the block's index among the page's python blocks:
    ``preludes`` run just before their block, with ``variables`` (name -> str value)
    defined; each ``(old, new)`` of ``replacements`` is applied to its block, and fails
    if ``old`` is not in it; ``checks`` run just after their block. A block keeps its
    page line numbers in tracebacks."""
    defined = "".join(f"{key} = {value!r}\n" for key, value in variables.items())
    steps = []
    for index, (line, code) in enumerate(python_snippets(page)):
        if index in preludes:
            steps.append((f"<prelude of {name} block {index}>",
                          defined + textwrap.dedent(preludes[index])))
        for old, new in replacements.get(index, []):
            assert old in code, f"{name} block {index} (line {line}) no longer holds {old!r}"
            code = code.replace(old, new)
        steps.append((f"{name} block {index} (line {line})", "\n" * (line - 1) + code))
        steps.append((f"<checks of {name} block {index}>",
                      textwrap.dedent(checks.get(index, ""))))
    return steps


def child_env() -> dict[str, str]:
    """The environment of a documented program's own interpreter: no screen (Agg); its
    thread count is the tests' (conftest.py)."""
    return {**os.environ, "MPLBACKEND": "Agg"}


def run(steps: list[tuple[str, str]], folder: Path, program_file: Path,
        timeout: float = 500) -> None:
    """Run ``steps`` (see :func:`program`) in a fresh interpreter in ``folder``, from
    ``program_file`` (kept out of ``folder``, the reader's); fail with the traceback."""
    program_file.write_text(json.dumps(steps))
    done = subprocess.run([sys.executable, "-c", RUNNER, str(program_file)], cwd=folder,
                          env=child_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
