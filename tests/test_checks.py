import numpy as np
import pytest

from metaopt._checks import check_seconds


@pytest.mark.parametrize("value", [1, 0.5, 1e-3, np.float32(2.5), np.int64(3)])
def test_seconds_accepts_finite_positive_numbers(value):
    check_seconds(value, "time_budget")
    check_seconds(value, "budget_seconds", allow_none=False)


def test_seconds_accepts_none_only_when_allowed():
    check_seconds(None, "time_budget")
    with pytest.raises(ValueError, match=r"^budget_seconds must be a finite number of "
                                         r"seconds > 0, got None$"):
        check_seconds(None, "budget_seconds", allow_none=False)


@pytest.mark.parametrize(("value", "shown"), [
    (0, "0"), (-1, "-1"), (np.float64(-1), "-1.0"), (float("nan"), "nan"),
    (float("inf"), "inf"), (float("-inf"), "-inf"), (True, "True"), (False, "False"),
    ("10", "'10'"), ([5], r"\[5\]"),
])
def test_seconds_refuses_the_rest_in_one_wording(value, shown):
    with pytest.raises(ValueError, match=r"^time_budget must be a finite number of seconds "
                                         rf"> 0 or None, got {shown}$"):
        check_seconds(value, "time_budget")
