"""Warnings shown at the user's line: the first frame outside metaopt and the libraries
that call into it (Optuna runs a sampler, scikit-learn and joblib an estimator). Python
3.12's ``warnings.warn(skip_file_prefixes=)`` does this; metaopt supports 3.11, and a
fixed ``stacklevel`` named Optuna's or metaopt's own lines whenever the call path
changed."""

from __future__ import annotations

import sys
import warnings

# top-level modules whose frames are not the user's: metaopt, its callers, and the
# machinery between them (decorators, threads of study.optimize(n_jobs=2), imports)
_LIBRARIES = frozenset({"metaopt", "optuna", "sklearn", "joblib", "contextlib",
                        "functools", "threading", "concurrent", "importlib"})


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` at the user's line (the outermost frame when every frame is a
    library's, as in a worker thread)."""
    frame, level = sys._getframe(1), 2  # stacklevel 2: the caller of this function
    while frame.f_back is not None and _library(frame):
        frame = frame.f_back
        level += not _bootstrap(frame)  # warnings.warn does not count those
    warnings.warn(message, category, stacklevel=level)


def _library(frame) -> bool:
    name = frame.f_globals.get("__name__")  # absent, or None, in code run by exec
    return isinstance(name, str) and name.partition(".")[0] in _LIBRARIES


def _bootstrap(frame) -> bool:
    """Whether ``frame`` is importlib's bootstrap, which ``warnings.warn`` skips when it
    counts ``stacklevel`` (a warning under an import named a line past the user's)."""
    name = frame.f_code.co_filename
    return "importlib" in name and "_bootstrap" in name
