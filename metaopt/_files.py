"""Files written whole: a temporary file beside the target, renamed onto it. Light on
imports (the knowledge base's store uses it without torch)."""

from __future__ import annotations

import os
import secrets
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
