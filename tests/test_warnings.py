"""metaopt._warnings.warn: the warning names the user's line."""

import importlib.util
import sys
import warnings

from metaopt._warnings import warn


def test_a_warning_under_an_import_names_the_users_line(tmp_path):
    """warnings.warn skips the frames of importlib's bootstrap when it counts stacklevel,
    and warn counted them: a warning of a metaopt module run by an import named a line
    past the user's (off the stack: 'sys', line 1)."""
    probe = tmp_path / "probe.py"
    probe.write_text("from metaopt._warnings import warn\nwarn('probe')\n")
    spec = importlib.util.spec_from_file_location("metaopt._probe", probe)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def test_a_warning_names_the_first_frame_outside_metaopt():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        warn("here")
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def test_code_whose_globals_name_no_module_does_not_break_warn():
    """exec'd code may have __name__ None in its globals: warn raised AttributeError
    ('NoneType' object has no attribute 'partition') instead of warning; such code is
    the user's (Python's warnings show nothing for it, as for warnings.warn there)."""
    code = compile("warn('from exec')", "<user code>", "exec")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        exec(code, {"__name__": None, "warn": warn})
