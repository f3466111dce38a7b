"""Where a space object is taken, a registered space's name is taken too: combine() and
MetaModel.restrict()."""

from __future__ import annotations

import pytest

from metaopt.ranker import load_meta_model
from metaopt.spaces import combine, get_space


def test_combine_takes_registered_names_beside_objects():
    both = combine(["svm", get_space("knn")])
    assert both.to_json_dict() == get_space("svm+knn").to_json_dict()


def test_restrict_takes_a_combination_s_name():
    model = load_meta_model("all", "classification")
    by_name, by_space = model.restrict("svm+knn"), model.restrict(get_space("svm+knn"))
    assert by_name.sampling_space.name == "svm+knn"
    assert by_name.portfolio.config_ids_ == by_space.portfolio.config_ids_
    with pytest.raises(ValueError, match="restrict takes a combination .* got 'svm'"):
        model.restrict("svm")
