"""The killable worker that runs time-budgeted trials: kept warm between searches."""

import glob
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import BrokenExecutor, wait
from functools import partial

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from metaopt import _isolated
from metaopt._isolated import KillableWorker, TrialTimeout, cv_score


def _pid() -> int:
    return os.getpid()


def _meet(directory, n: int = 2) -> int:
    """This worker's pid, once ``n`` workers have called it with ``directory`` (an empty
    one per meeting; 30 s at most): the calls of a meeting run in ``n`` distinct workers,
    however late one of them starts (a sleep left one worker to take both on a loaded
    machine)."""
    open(os.path.join(directory, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 30
    while len(os.listdir(directory)) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()


def _gone(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _die() -> None:
    os._exit(1)


def test_a_second_search_reuses_the_warm_workers():
    with KillableWorker() as worker:
        first = worker.call(_pid, seconds=60)
    with KillableWorker() as worker:
        assert worker.call(_pid, seconds=60) == first  # the same process, already started


def _late_second_start(directory: str, parent: int) -> None:
    """The workers' initializer, of which the second to start ends 1 s after the first
    has (30 s at most): each leaves a file named ``up-PID`` in ``directory`` when done."""
    try:
        os.close(os.open(os.path.join(directory, "first"), os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        deadline = time.monotonic() + 30
        while not any(name.startswith("up-") for name in os.listdir(directory)) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(1.0)
    _isolated._worker_started(parent)
    open(os.path.join(directory, f"up-{os.getpid()}"), "w").close()


def test_ready_waits_for_every_worker(tmp_path, monkeypatch):
    """With 2 workers, ready() returned once one had started (it sent one call), and a
    trial's time began while the other still imported its libraries."""
    _isolated._stop_idle()
    monkeypatch.setattr(_isolated, "_worker_started", partial(_late_second_start,
                                                              str(tmp_path)))
    try:
        with KillableWorker(2) as worker:
            worker.ready(60)
            assert len([name for name in os.listdir(tmp_path) if name.startswith("up-")]) == 2
        assert not glob.glob(_isolated._ready_mark(os.getpid(), "*", "*"))  # removed
    finally:
        _isolated._stop_idle()  # workers of this initializer are not kept


def _ready_marks() -> list[str]:
    return glob.glob(_isolated._ready_mark(os.getpid(), "*", "*"))


def _met_after_ready_returned(worker: KillableWorker) -> None:
    """ready() out of time before the (new) workers met; they meet after it returned,
    and their marks stay behind."""
    worker.ready(0.0)
    assert wait(worker._up, timeout=60).done == set(worker._up)
    assert len(_ready_marks()) == 2


def test_a_search_out_of_time_at_ready_leaves_no_marks():
    """They stayed in the temporary directory after the search, and after the process,
    until a later search's share() removed the files of gone processes."""
    _isolated._stop_idle()
    with KillableWorker(2) as worker:
        _met_after_ready_returned(worker)
    assert not _ready_marks()


def test_killed_workers_leave_no_marks_of_ready():
    """A time-out's kill after ready() ran out of time: the next ready() met with new
    marks, and those of the killed workers stayed."""
    _isolated._stop_idle()
    with KillableWorker(2) as worker:
        _met_after_ready_returned(worker)
        with pytest.raises(TrialTimeout):
            worker.call(time.sleep, 30, seconds=0.1)
        assert not _ready_marks()


@pytest.mark.parametrize("processes", [1, 2])
def test_workers_still_starting_are_kept_for_the_next_search(processes):
    """A search that ended while its workers were still starting (ready() out of time,
    as after a kill on a loaded machine) stopped them, and the next search started new
    ones and waited for those: in a loop of 15 fits of 5 s beside two busy loops, 12-13
    started new workers and waited about 4 s for them."""
    _isolated._stop_idle()
    with KillableWorker(processes) as worker:
        worker.ready(0.0)  # out of time: no process has started yet
        starting = worker._active
    with KillableWorker(processes) as worker:
        assert worker._active is starting  # still starting, or started since
        worker.ready(60)
        assert all(future.done() for future in worker._up)
    assert not _ready_marks()


def test_ready_says_when_a_worker_never_starts(monkeypatch):
    # in the workers the test above kept, if it ran: their start costs it nothing
    with KillableWorker(2) as worker:
        worker.ready(60)
        worker._up = []  # as after a kill, but one worker stays busy: it never meets
        worker._active.submit(time.sleep, 30)
        monkeypatch.setattr(_isolated, "_START_SECONDS", 1.0)
        with pytest.raises(RuntimeError, match="^1 of the 2 worker processes had started "
                                               "after 1 s"):
            worker.ready(60)
        monkeypatch.undo()
        worker.ready(60)  # the spares took over
        assert not worker._up[0].exception()


def _torch_fit_pid() -> int:
    from sklearn.datasets import load_iris

    from metaopt.nas import MLPClassifier

    MLPClassifier(max_epochs=2, random_state=0).fit(*load_iris(return_X_y=True))
    return os.getpid()


def test_workers_survive_importing_torch_for_the_mlp_family():
    """Imported by a call, torch grows a worker past loky's memory-leak limit: loky
    stopped it after every mlp trial (with a warning) and the next one started over."""
    pytest.importorskip("psutil")  # loky's memory check needs it
    with KillableWorker() as worker:
        pids = {worker.call(_torch_fit_pid, seconds=120) for _ in range(3)}
    assert len(pids) == 1


def test_a_killed_or_dead_worker_is_replaced():
    with KillableWorker() as worker:
        first = worker.call(_pid, seconds=60)
        with pytest.raises(TrialTimeout):
            worker.call(time.sleep, 30, seconds=0.5)
        second = worker.call(_pid, seconds=60)
        assert second != first
        with pytest.raises(BrokenExecutor):
            worker.call(_die, seconds=60)
        assert worker.call(_pid, seconds=60) not in (first, second)


def test_a_kill_starts_no_process_until_the_next_call(monkeypatch):
    """The spare takes over from killed workers at once, and a new spare starts with the
    next call, not at the kill: started then, it imported scikit-learn beside the refit
    that follows a search's last, killed, trial."""
    with KillableWorker() as worker:
        worker.call(_pid, seconds=60)  # the spare starts with the first call
        starts = []
        real = _isolated._started
        monkeypatch.setattr(_isolated, "_started", lambda n: starts.append(n) or real(n))
        with pytest.raises(TrialTimeout):
            worker.call(time.sleep, 30, seconds=0.5)
        assert starts == []  # the warm spare took over; no new process yet
        worker.call(_pid, seconds=60)
        assert starts == [1]  # the next call started the new spare


def test_kept_workers_are_reused_only_by_a_search_of_the_same_size(tmp_path):
    # the single worker (and its spare) the test above kept, if it ran: a start saved
    with KillableWorker(1) as worker:
        single = worker.call(_pid, seconds=60)
    with KillableWorker(2) as worker:  # the kept single worker is stopped, not reused
        (tmp_path / "a").mkdir()
        pair = set(worker.map(_meet, [(tmp_path / "a",)] * 2, seconds=60))
    assert len(pair) == 2 and single not in pair
    assert _gone(single)
    with KillableWorker(2) as worker:
        (tmp_path / "b").mkdir()
        assert set(worker.map(_meet, [(tmp_path / "b",)] * 2, seconds=60)) == pair


@pytest.mark.parametrize("processes", [1, 2])
def test_a_worker_that_died_between_calls_is_replaced(processes):
    """A worker killed while idle (the out-of-memory killer, a kill): its executor refused
    every later call with loky's TerminatedWorkerError, so every later trial failed, and
    so did every later search in the process, given the same broken workers."""
    _isolated._stop_idle()
    with KillableWorker(processes) as worker:
        worker.ready(60)
        dead = worker.map(_pid, [()] * processes, seconds=60)[0]
        os.kill(dead, 9)
        assert _gone(dead)
        time.sleep(0.5)  # loky's manager thread sees the death
        worker.ready(60)
        assert dead not in worker.map(_pid, [()] * processes, seconds=60)
    with KillableWorker(processes) as worker:  # the next search, in the kept workers
        worker.ready(60)
        assert dead not in worker.map(_pid, [()] * processes, seconds=60)


_unpickled = 0  # in a worker: how many _Counted it unpickled


def _unpickle(values):
    global _unpickled
    _unpickled += 1
    return _Counted(values)


class _Counted:
    """Values that count their pickling (in the caller) and unpickling (in a worker)."""

    pickled = 0

    def __init__(self, values):
        self.values = values

    def __reduce__(self):
        _Counted.pickled += 1
        return _unpickle, (self.values,)


def _seen(data: _Counted, offset: float, directory, n: int = 2
          ) -> tuple[int, float, int, list[str]]:
    _meet(directory, n)  # the calls of a map (n of them) each in a worker of its own
    return os.getpid(), float(data.values.sum()) + offset, _unpickled, list(_isolated._loaded)


def test_a_search_sends_its_data_to_each_worker_once(tmp_path):
    """Every trial pickled X, y and the fit parameters to its workers again (1.3-4 s a
    trial for a 400 MB X). Shared, they are written once; each worker reads them at its
    first call, a worker that replaced a killed one too, and keeps one search's only."""
    _isolated._stop_idle()
    def meeting():  # an empty directory for the calls of one map to meet in
        return tempfile.mkdtemp(dir=tmp_path)

    data = _Counted(np.arange(10.0))
    with KillableWorker(2) as worker:
        worker.share(data)
        seen = []
        for _ in range(3):
            directory = meeting()
            seen += worker.map(_seen, [(data, 0, directory), (data, 1, directory)],
                               seconds=60)
        worker.share(data)  # the same object: not written again
        assert _Counted.pickled == 1
        assert {total for _, total, *_ in seen} == {45.0, 46.0}
        assert len({pid for pid, *_ in seen}) == 2
        assert {count for _, _, count, _ in seen} == {1}  # one unpickling per worker
        with pytest.raises(TrialTimeout):
            worker.call(time.sleep, 30, seconds=0.5)
        pid, total, count, first = worker.call(_seen, data, 0, meeting(), 1, seconds=60)
        assert pid not in {pid for pid, *_ in seen} and (total, count) == (45.0, 1)
        assert _Counted.pickled == 1
    assert not os.path.exists(first[0])  # removed at the end of the search
    with KillableWorker(2) as worker:  # the next search, in the kept workers
        other = _Counted(np.ones(3))
        worker.share(other)
        directory = meeting()
        seen = worker.map(_seen, [(other, 0, directory), (other, 0, directory)], seconds=60)
    assert {total for _, total, *_ in seen} == {3.0}
    assert max(count for _, _, count, _ in seen) == 2  # the worker that read the first
    caches = {tuple(cache) for *_, cache in seen}
    assert len(caches) == 1 and len(caches.pop()) == 1  # this search's objects only
    assert first[0] not in seen[0][3]


def _fold_or_sleep(i: int, slow: int) -> tuple[float, float, str]:
    if i == slow:
        time.sleep(30)
    return i / 10, 0.5, "predictions"


# 2 first: in the pair of workers the test above kept, if it ran; then 1, whose workers
# the next test takes over (a start each saved)
@pytest.mark.parametrize(("processes", "finished"), [(2, [0, 1, 3]), (1, [0, 1])])
def test_a_stopped_map_says_what_its_finished_calls_reported(processes, finished):
    """A trial stopped by the time budget lost the folds it had finished: each call's
    report (a fold's score and fit time) now comes with the TrialTimeout, and its files
    are gone. With 2 workers, calls 0, 2, 4 go to one and 1, 3 to the other."""
    with KillableWorker(processes) as worker:
        worker.ready(60)
        with pytest.raises(TrialTimeout) as stopped:
            worker.map(_fold_or_sleep, [(i, 2) for i in range(5)], seconds=3,
                       report=_isolated.fold_score)
    assert stopped.value.done == {i: (i / 10, 0.5) for i in finished}
    assert not glob.glob(os.path.join(tempfile.gettempdir(),
                                      _isolated._data_file(os.getpid(), "done*")))


def test_without_room_for_the_file_the_data_goes_with_every_call(monkeypatch, tmp_path):
    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_isolated.joblib, "dump", full)
    _Counted.pickled = 0
    data = _Counted(np.arange(4.0))
    with KillableWorker() as worker:
        worker.share(data)
        assert [worker.call(_seen, data, 0, tmp_path, 1, seconds=60)[1]
                for _ in range(2)] == [6.0, 6.0]
    assert _Counted.pickled == 2


def _mixed_tables(wine) -> list:
    frame = wine.X.copy()
    frame["band"] = pd.cut(frame.iloc[:, 0], 3, labels=["low", "mid", "high"])
    frame["name"] = frame.iloc[:, 1].round().astype(int).map("n{}".format)
    return [frame, sp.csr_matrix(wine.X.to_numpy())]


def test_shared_tables_of_every_kind_score_as_in_process(pmlb_root):
    """A DataFrame with categorical and string columns and a sparse matrix, read by the
    workers from the shared file (numeric parts memory-mapped, read-only), score as the
    same tables fitted in this process do."""
    from metaopt.data import LocalSource
    from metaopt.spaces import get_space

    wine = LocalSource(pmlb_root).load("wine_recognition", "classification")
    y, weights = wine.y.to_numpy(), {"model__sample_weight": np.linspace(1, 2, len(wine.y))}
    space = get_space("linear")
    params = space.default("classification")
    with KillableWorker() as worker:
        for X in _mixed_tables(wine):
            worker.share(X, y, weights)
            shared = cv_score(space, params, "classification", X, y, 3, None, weights, 0, 1,
                              fold_map=partial(worker.map, seconds=60))
            local = cv_score(space, params, "classification", X, y, 3, None, weights, 0, 1)
            assert shared[0] == pytest.approx(local[0])


def test_a_budgeted_fit_writes_its_data_once(pmlb_root, monkeypatch):
    from metaopt import MetaOptClassifier
    from metaopt.data import LocalSource

    wine = LocalSource(pmlb_root).load("wine_recognition", "classification")
    written = []
    dump = _isolated.joblib.dump
    monkeypatch.setattr(_isolated.joblib, "dump",
                        lambda value, path: written.append(path) or dump(value, path))
    model = MetaOptClassifier(n_trials=4, spaces="linear", time_budget=60, cv=3,
                              random_state=0).fit(wine.X, wine.y)
    assert len(model.study_.trials) == 4 and len(written) == 1
    assert not os.path.exists(written[0])  # removed after the search


def test_workers_interrupted_mid_call_are_not_kept():
    _isolated._stop_idle()
    with pytest.raises(KeyboardInterrupt), KillableWorker() as worker:
        worker.call(_pid, seconds=60)
        worker._running = [worker._active.submit(time.sleep, 30)]  # a call still running
        time.sleep(0.5)
        raise KeyboardInterrupt
    assert not _isolated._idle


def test_no_worker_outlives_the_interpreter():
    script = ("from metaopt._isolated import KillableWorker\n"
              "import os\n"
              "with KillableWorker() as worker:\n"
              "    print(worker.call(os.getpid, seconds=60))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    assert _gone(int(out.stdout.split()[-1]))  # the kept worker was stopped at exit


def test_the_interpreter_exits_without_waiting_for_a_busy_kept_worker():
    # a kept worker still busy at exit (a spare importing the libraries after a kill:
    # seconds on a loaded machine) is killed; loky's exit hook, which runs before
    # atexit's, used to wait for it (10-17 s after a budgeted fit on a loaded machine)
    script = ("from metaopt import _isolated\n"
              "import os, time\n"
              "with _isolated.KillableWorker() as worker:\n"
              "    worker.call(os.getpid, seconds=60)\n"
              "_isolated._idle[0].active.submit(time.sleep, 60)\n"
              "time.sleep(1)\n"
              "print(time.time())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    assert time.time() - float(out.stdout.split()[-1]) < 20


def test_parallel_folds_are_killed_together_and_leave_nothing_behind():
    # a 3-fold CV on 2 workers, killed at its limit; loky used to report the semaphores
    # of a pool that a killed worker had started for its folds as leaked at exit
    script = ("import os, tempfile, time\n"
              "from functools import partial\n"
              "from metaopt._isolated import KillableWorker, TrialTimeout, cv_score\n"
              "from metaopt.spaces import get_space\n"
              "from sklearn.datasets import make_classification\n"
              "X, y = make_classification(4000, 40, random_state=0)\n"
              "space = get_space('random_forest')\n"
              "params = {**space.default('classification'), 'n_estimators': 512,\n"
              "          'max_features': 1.0}\n"
              "def meet(directory):  # (the tests' _meet)\n"
              "    open(os.path.join(directory, str(os.getpid())), 'w').close()\n"
              "    deadline = time.monotonic() + 30\n"
              "    while len(os.listdir(directory)) < 2 and time.monotonic() < deadline:\n"
              "        time.sleep(0.01)\n"
              "    return os.getpid()\n"
              "with KillableWorker(2) as worker, tempfile.TemporaryDirectory() as directory:\n"
              "    pids = worker.map(meet, [(directory,)] * 2, seconds=60)\n"
              "    print(len(set(pids)))\n"
              "    fast = {**params, 'n_estimators': 16}\n"
              "    print(cv_score(space, fast, 'classification', X[:300], y[:300], 3, None,\n"
              "                   {}, 0, 1, fold_map=partial(worker.map, seconds=60)))\n"
              "    try:\n"
              "        cv_score(space, params, 'classification', X, y, 3, None, {}, 0, 1,\n"
              "                 fold_map=partial(worker.map, seconds=1.5))\n"
              "    except TrialTimeout:\n"
              "        print('killed')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    lines = out.stdout.split("\n")
    assert lines[0] == "2"  # both workers took calls
    assert lines[2] == "killed"
    assert "leaked" not in out.stderr, out.stderr


def _budgeted_fit_error() -> str:
    from sklearn.datasets import load_wine

    from metaopt import MetaOptClassifier

    X, y = load_wine(return_X_y=True)
    try:
        MetaOptClassifier(spaces="linear", time_budget=5, random_state=0).fit(X, y)
    except ValueError as exc:
        return str(exc)
    return "no error"


@pytest.mark.skipif(sys.platform == "win32", reason="a forked process")
def test_a_time_budget_in_a_daemonic_process_says_why_it_cannot_run():
    """In a multiprocessing.Pool worker (daemonic: it may not start processes) a fit with
    a time_budget failed with 'AssertionError: daemonic processes are not allowed to have
    children', naming neither the budget nor a remedy."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        error = pool.apply(_budgeted_fit_error)
    assert "this process is daemonic (a multiprocessing.Pool worker)" in error
    assert "give n_trials without time_budget" in error


def test_fits_on_threads_leave_the_callers_warnings_filters():
    """fitting() ignores convergence warnings with warnings.catch_warnings, which swaps
    the process-wide filters: fits on threads at once (joblib's threading backend) put
    them back out of order and left an "ignore ConvergenceWarning" filter behind, unless
    the caller's callers_threads() restores them."""
    import threading
    import warnings

    from metaopt._isolated import callers_threads, fitting

    def fit_many():
        for _ in range(60):
            with fitting():
                time.sleep(0)

    before = list(warnings.filters)
    with callers_threads():
        threads = [threading.Thread(target=fit_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert warnings.filters == before


def test_fits_are_silent_about_a_searched_fractional_max_samples():
    """A forest's max_samples is searched: on small folds scikit-learn warned, once per
    fold and trial, that the fraction draws few bootstrap rows (30 times on 30 rows with
    LeaveOneOut), about a setting the user never made."""
    import warnings

    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    from metaopt._isolated import fitting

    X, y = load_iris(return_X_y=True)
    rows = np.r_[0:10, 50:60, 100:110]
    forest = RandomForestClassifier(n_estimators=5, max_samples=0.2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forest.fit(X[rows], y[rows])  # outside a search: scikit-learn's warning
        if not any("fractional value max_samples" in str(w.message) for w in caught):
            pytest.skip("scikit-learn < 1.9 has no such warning for a forest")
        caught.clear()
        with fitting():
            forest.fit(X[rows], y[rows])
    assert not caught
