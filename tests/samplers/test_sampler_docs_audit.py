"""docs/sampler.md against MetaSampler: what its arguments accept and how it refuses the
others ("Bad arguments")."""

from __future__ import annotations

import numpy as np
import pytest

from metaopt.samplers import MetaSampler


@pytest.mark.parametrize("value", ["0", [0.0], True])
def test_a_worst_value_that_is_no_number_is_refused_naming_it(value):
    """``worst_value="0"`` failed with numpy's "ufunc 'isfinite' not supported for the
    input types", naming no argument; ``True`` was taken as 1.0."""
    with pytest.raises(ValueError) as raised:
        MetaSampler(space="svm", worst_value=value)
    assert str(raised.value) == f"worst_value must be a finite number or None, got {value!r}"


@pytest.mark.parametrize("value", [0, 0.0, np.float32(-1.5), np.int64(2)])
def test_a_finite_worst_value_of_any_number_type_is_taken(value):
    assert MetaSampler(space="svm", worst_value=value)._worst_value == value
