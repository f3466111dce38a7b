"""Progress bars: a log's pace off a terminal, tqdm's own in a terminal or a notebook."""
import io

import pytest

from metaopt._progress import LOG_SECONDS, progress_bar


class _NotebookStream(io.StringIO):
    """Stands for ipykernel's ``OutStream``: a notebook cell's stderr, no terminal."""


_NotebookStream.__module__ = "ipykernel.iostream"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stream, pace", [
    (io.StringIO(), LOG_SECONDS),  # a log file or pipe
    (_Terminal(), 0.1),  # tqdm's default
    # without ipywidgets tqdm.auto draws a text bar into the notebook's stream, which says
    # it is no terminal: it was redrawn every 30 s there, as into a log
    (_NotebookStream(), 0.1),
])
def test_a_bar_is_redrawn_at_a_log_s_pace_only_into_a_log(stream, pace, monkeypatch):
    monkeypatch.delenv("TQDM_MININTERVAL", raising=False)
    monkeypatch.delenv("TQDM_MAXINTERVAL", raising=False)
    with progress_bar(total=3, file=stream) as bar:
        assert bar.mininterval == pace
