"""A regression target too large to standardise is refused (it was silently NaN)."""

import numpy as np
import pytest

from metaopt.data import LocalSource
from metaopt.nas import MetaMLPRegressor, MLPRegressor

MESSAGE = (r"^y holds finite values too large to standardise \(up to 1\.15e\+163, beyond "
           r"1\.3e\+154: squared, they overflow to inf\); rescale, e\.g\. y / 1e163$")


@pytest.fixture(scope="module")
def machine_cpu(pmlb_root):
    return LocalSource(pmlb_root).load("230_machine_cpu", "regression")


@pytest.mark.parametrize("model", [MLPRegressor(max_epochs=2, random_state=0),
                                   MetaMLPRegressor(n_trials=1, cv=2, max_epochs=2,
                                                    random_state=0)])
def test_a_target_beyond_float64_squares_is_refused(machine_cpu, model):
    """``230_machine_cpu``'s target x 1e160: its standard deviation overflowed to inf,
    every trial scored R² 0 and the model predicted NaN; x 1e150 fits as x 1."""
    with pytest.raises(ValueError, match=MESSAGE):
        model.fit(machine_cpu.X, machine_cpu.y * 1e160)
    model.fit(machine_cpu.X, machine_cpu.y * 1e150)
    assert np.isfinite(model.predict(machine_cpu.X)).all()
