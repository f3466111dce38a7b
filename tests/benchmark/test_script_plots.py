"""The benchmark scripts' plots are written whole or not at all: a save that fails
midway (a crash, a Ctrl-C) keeps the PNG that was there, and leaves no temporary file."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"
PNG = b"\x89PNG\r\n\x1a\n"


def _estimator_vs_peers(module, path: Path) -> None:
    table = pd.DataFrame({"method": ["metaopt", "metaopt", "flaml", "flaml"],
                          "budget": [10.0, 30.0, 10.0, 30.0], "rank": [1.5, 1.2, 1.5, 1.8]})
    module._plot(table, "regression", path.parent)


def _sampler_overhead(module, path: Path) -> None:
    frame = pd.DataFrame({"sampler": ["tpe", "tpe", "meta", "meta"],
                          "n_trials": [10, 100, 10, 100], "seconds": [0.01, 0.02, 0.03, 0.05]})
    module.plot(frame, ["tpe", "meta"], path)


def _kb_learning_curve(module, path: Path) -> None:
    curve = pd.DataFrame({"@1": [0.3, 0.2], "@5": [0.1, 0.05]}, index=[5, 10])
    module.plot({"classification": curve}, str(path))


def _nas_prior(module, path: Path) -> None:
    frame = pd.DataFrame({"dataset": ["a", "a", "b", "b"], "method": ["tpe", "meta"] * 2,
                          5: [0.7, 0.8, 0.6, 0.65], 10: [0.75, 0.8, 0.62, 0.7],
                          20: [0.8, 0.82, 0.7, 0.7]})
    module.plot(frame, None, path)


#: script, the PNG its plot writes in a folder, a call of the plot writing it there
PLOTS = [("estimator_vs_peers", "estimator_vs_peers_regression.png", _estimator_vs_peers),
         ("sampler_overhead", "sampler_overhead.png", _sampler_overhead),
         ("kb_learning_curve", "curves.png", _kb_learning_curve),
         ("nas_prior", "nas_prior.png", _nas_prior)]


@pytest.fixture
def script(request, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    return importlib.import_module(request.param)


@pytest.mark.parametrize(("script", "name", "plot"), PLOTS, indirect=["script"],
                         ids=[p[0] for p in PLOTS])
def test_a_save_that_fails_midway_keeps_the_earlier_png(script, name, plot, tmp_path,
                                                        monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / name
    path.write_bytes(b"the published plot")

    def truncated(self, fname, *args, **kwargs):
        Path(fname).write_bytes(PNG)  # the first bytes of a PNG, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", truncated)
    with pytest.raises(KeyboardInterrupt):
        plot(script, path)
    assert path.read_bytes() == b"the published plot"
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize(("script", "name", "plot"), PLOTS, indirect=["script"],
                         ids=[p[0] for p in PLOTS])
def test_a_save_replaces_the_earlier_file_with_a_png(script, name, plot, tmp_path):
    path = tmp_path / name
    path.write_bytes(b"the published plot")
    plot(script, path)
    assert path.read_bytes().startswith(PNG)
    assert [p.name for p in tmp_path.iterdir()] == [name]
