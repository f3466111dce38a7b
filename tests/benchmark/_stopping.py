"""A benchmark method that stops itself on its third run, for the tests of what an
interrupted benchmark keeps."""

from __future__ import annotations


def _ctrl_c() -> None:
    raise KeyboardInterrupt


class StopsOnItsThirdRun:
    """Evaluates the first configurations, and calls ``stop`` on its third run (default:
    a Ctrl-C)."""

    def __init__(self, stop=_ctrl_c) -> None:
        self.stop = stop

    def fit(self, train):
        self.runs = 0

    def run(self, problem, budget, seed):
        self.runs += 1
        if self.runs == 3:
            self.stop()
        for i in range(budget):
            problem.evaluate(i)
