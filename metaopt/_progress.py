"""Progress bars: tqdm's (``tqdm.auto``: a widget in Jupyter), redrawn at a log's pace
when the text bar goes to a file or pipe rather than a terminal."""

from __future__ import annotations

import os
import sys

from tqdm import autonotebook, std
from tqdm.auto import tqdm

#: seconds between the redraws of a text bar whose file is not a terminal (a log, CI):
#: tqdm's 0.1 s wrote ~10 carriage-return updates a second into it
LOG_SECONDS = 30.0


def progress_bar(*args, **kwargs) -> tqdm:
    """``tqdm.auto.tqdm(*args, **kwargs)``, redrawn at most every :data:`LOG_SECONDS`
    (``mininterval``, and ``maxinterval``, after which tqdm's monitor thread redraws)
    when it is a text bar whose file (stderr by default) is neither a terminal nor a
    notebook's output stream, unless the call or ``TQDM_MININTERVAL`` /
    ``TQDM_MAXINTERVAL`` set them."""
    file = kwargs.get("file") or sys.stderr
    isatty = getattr(file, "isatty", None)
    # a notebook's stream (ipykernel's, when ipywidgets is missing) is no terminal either
    notebook = type(file).__module__.startswith("ipykernel")
    if autonotebook.tqdm is std.tqdm and not (isatty and isatty()) and not notebook:
        for option in ("mininterval", "maxinterval"):
            if f"TQDM_{option.upper()}" not in os.environ:
                kwargs.setdefault(option, LOG_SECONDS)
    return tqdm(*args, **kwargs)
