"""Files written whole: a temporary file beside the target, renamed onto it. Light on
imports (the knowledge base's store uses it without torch)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file next to ``path``, to be renamed onto it: its open descriptor
    and name. Created with a plain file's permissions (0666 less the umask, which the
    system applies), not ``mkstemp``'s private 0600; reading the umask instead means
    setting it, process-wide, and a file another thread created meanwhile got none."""
    while True:
        name = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666), name
        except FileExistsError:
            continue


def write_whole(path: str | os.PathLike, write: Callable[[str], object]) -> None:
    """Write ``path`` whole or not at all: ``write(name)`` writes a temporary file next to
    it (:func:`temp_beside`; its name does not end as ``path``'s, so a writer that infers
    a format from the name is told the format), renamed onto ``path`` once written. If
    ``write`` raises, ``path`` keeps its earlier content and the temporary file is
    removed."""
    fd, tmp = temp_beside(Path(path))
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
