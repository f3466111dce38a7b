"""Episodic task sampling: shapes, disjoint splits, reproducibility, input validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from metaopt.meta import (
    ClassificationTasks,
    RegressionTasks,
    SinusoidTasks,
    pad_tasks,
    split_labels,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


def test_classification_episode_shapes_and_labels(digits):
    X, y = digits
    ep = ClassificationTasks(X, y, n_way=5, k_shot=3, n_query=4, seed=0).sample(6)
    assert ep.support_x.shape == (6, 15, 64) and ep.query_x.shape == (6, 20, 64)
    assert ep.support_y.shape == (6, 15) and ep.query_y.shape == (6, 20)
    assert ep.support_x.dtype == torch.float32 and ep.support_y.dtype == torch.int64
    assert torch.equal(ep.support_y[0], torch.arange(5).repeat_interleave(3))
    # support and query rows never overlap within an episode, and each episode's
    # relabelled classes are consistent between support and query
    for t in range(6):
        s = {tuple(r) for r in ep.support_x[t].tolist()}
        q = {tuple(r) for r in ep.query_x[t].tolist()}
        assert len(s & q) <= 1  # digits has a few duplicate rows
        true = {
            int(y[np.flatnonzero((X == np.asarray(r)).all(1))[0]])
            for r in ep.support_x[t, :3].tolist()
        }
        assert len(true) == 1


def test_class_splits_are_disjoint_and_episodes_respect_them(digits):
    X, y = digits
    train, valid, test = split_labels(y, fractions=(0.5, 0.2, 0.3), seed=3)
    assert len(train) + len(valid) + len(test) == 10
    assert not (set(train) & set(valid) or set(train) & set(test) or set(valid) & set(test))
    tasks = ClassificationTasks(X, y, n_way=2, k_shot=1, n_query=1, classes=test, seed=0)
    assert set(tasks.classes_) == set(test)
    ep = tasks.sample(20)
    rows = {tuple(r) for r in X[np.isin(y, test)].astype(np.float32).tolist()}
    assert all(tuple(r) in rows for r in ep.query_x.reshape(-1, 64).tolist())


def test_split_labels_gives_every_split_a_value_whenever_there_are_enough():
    # 4 values in 3 splits: the two small fractions round up to one value each, which
    # used to leave none for the first split and raise although (1, 1, 2) fits
    sizes = [len(s) for s in split_labels(np.arange(4), fractions=(0.01, 0.01, 0.98), seed=0)]
    assert sizes == [1, 1, 2]
    sizes = [len(s) for s in split_labels(np.arange(10), fractions=(0.05, 0.05, 0.05, 0.85))]
    assert sizes == [1, 1, 1, 7]
    assert [len(s) for s in split_labels(np.arange(10), fractions=(0.5, 0.2, 0.3))] == [5, 2, 3]


def test_seeds_reproduce_episodes(digits):
    X, y = digits
    a = ClassificationTasks(X, y, seed=7).sample(3)
    b = ClassificationTasks(X, y, seed=7).sample(3)
    c = ClassificationTasks(X, y, seed=8).sample(3)
    assert torch.equal(a.support_x, b.support_x) and torch.equal(a.query_x, b.query_x)
    assert not torch.equal(a.support_x, c.support_x)
    assert torch.equal(
        SinusoidTasks(seed=1).sample(2).query_y, SinusoidTasks(seed=1).sample(2).query_y
    )
    assert split_labels(y, seed=2)[0].tolist() == split_labels(y, seed=2)[0].tolist()


def test_sinusoid_tasks_follow_the_paper_ranges():
    ep = SinusoidTasks(k_shot=5, n_query=7, seed=0).sample(500)
    assert ep.support_x.shape == (500, 5, 1) and ep.query_y.shape == (500, 7, 1)
    assert ep.support_x.min() >= -5 and ep.support_x.max() <= 5
    assert ep.query_y.abs().max() <= 5 and ep.query_y.abs().max() > 4.5


def test_sinusoid_tasks_in_the_model_dtype_train_a_float64_learner():
    """SinusoidTasks had no dtype, unlike the other samplers: a float64 learner could not
    be meta-trained on them (MetaTrainer's episodes were refused as float32)."""
    from torch import nn

    from metaopt.meta import MAML, MetaTrainer

    single = SinusoidTasks(k_shot=5, seed=0).sample(3)
    double = SinusoidTasks(k_shot=5, seed=0, dtype=torch.float64).sample(3)
    assert double.support_x.dtype == double.query_y.dtype == torch.float64
    assert torch.equal(double.support_x.float(), single.support_x)  # the same tasks
    torch.testing.assert_close(double.query_y.float(), single.query_y)
    torch.manual_seed(0)
    learner = MAML(nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1)).double())
    MetaTrainer(learner, iterations=2, meta_batch_size=2, valid_tasks_count=2,
                progress=False).fit(SinusoidTasks(dtype=torch.float64, seed=0),
                                    SinusoidTasks(dtype=torch.float64, seed=1))
    with pytest.raises(ValueError, match="dtype must be a floating"):
        SinusoidTasks(dtype=torch.int64)


def test_regression_tasks_with_variable_support_sizes():
    rng = np.random.default_rng(0)
    X, y, groups = rng.normal(size=(300, 3)), rng.normal(size=300), np.repeat(np.arange(10), 30)
    ep = RegressionTasks(X, y, groups, k_shot=(2, 6), n_query=5, seed=0).sample(40)
    assert ep.support_x.shape == (40, 6, 3) and ep.query_y.shape == (40, 5)
    counts = ep.support_weight.sum(1)
    assert counts.min() >= 2 and counts.max() <= 6 and len(set(counts.tolist())) > 1
    assert torch.all(ep.support_weight[:, :2] == 1)
    fixed = RegressionTasks(X, y, groups, k_shot=4, n_query=5, tasks=[0, 1], seed=0)
    assert fixed.sample(3).support_weight is None and set(fixed.tasks_) == {0, 1}


def test_pad_tasks_marks_padding_with_zero_weight():
    x, y, w = pad_tasks([(np.ones((2, 3)), np.ones(2)), (np.zeros((4, 3)), np.zeros(4))])
    assert x.shape == (2, 4, 3) and y.shape == (2, 4)
    assert w.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"k_shot": 200}, "k_shot"),
        ({"n_way": 11}, "n_way"),
        ({"n_way": 1}, "n_way"),
        ({"n_query": 0}, "n_query"),
    ],
)
def test_bad_classification_arguments_raise_value_error_naming_them(digits, kwargs, argument):
    X, y = digits
    with pytest.raises(ValueError, match=argument):
        ClassificationTasks(X, y, **kwargs)


def test_bad_data_raises_value_error_naming_the_argument(digits):
    X, y = digits
    with pytest.raises(ValueError, match="X is empty"):
        ClassificationTasks(np.empty((0, 4)), np.empty(0))
    with pytest.raises(ValueError, match="rows"):
        ClassificationTasks(X, y[:-1])
    with pytest.raises(ValueError, match="k_shot"):
        RegressionTasks(X, y, y, k_shot=500, n_query=1)
    with pytest.raises(ValueError, match="k_shot"):
        RegressionTasks(X, y, y, k_shot=(5, 2), n_query=1)
    with pytest.raises(ValueError, match="n_tasks"):
        SinusoidTasks().sample(0)
    with pytest.raises(ValueError, match="fractions"):
        split_labels(y, fractions=(0.5, -1))
    for fractions in [(np.nan, 0.2, 0.2), (0.6, np.nan, 0.2), (np.inf, 1, 1)]:
        # NaN and inf passed the check, giving (8, 1, 1) of 10 labels without a word
        with pytest.raises(ValueError, match="positive finite numbers"):
            split_labels(y, fractions=fractions)
    with pytest.raises(ValueError, match="tasks is empty"):
        pad_tasks([])


def test_classes_with_too_few_rows_are_refused_when_asked_for_and_reported_otherwise(digits):
    """They were dropped silently, even when named in classes=."""
    X, y = digits
    few = np.concatenate([np.flatnonzero(y != 3), np.flatnonzero(y == 3)[:4]])
    with pytest.raises(ValueError, match=r"fewer than k_shot \+ n_query = 6 rows \(e.g. \[3\]\); "
                                         "they were asked for"):
        ClassificationTasks(X[few], y[few], n_way=2, k_shot=1, n_query=5, classes=[1, 2, 3])
    with pytest.warns(UserWarning, match="left out of the episodes"):
        tasks = ClassificationTasks(X[few], y[few], k_shot=1, n_query=5)
    assert 3 not in tasks.classes_ and len(tasks.classes_) == 9


def test_pad_tasks_keeps_labels_integer_and_takes_the_model_dtype():
    from metaopt.meta import pad_tasks

    x, y, w = pad_tasks([(np.zeros((3, 2)), np.array([0, 1, 1])), (np.ones((5, 2)), np.arange(5))])
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and tuple(w.shape) == (2, 5)
    x, y, w = pad_tasks([(np.zeros((3, 2)), np.zeros(3))], dtype=torch.float64)
    assert x.dtype == y.dtype == w.dtype == torch.float64
    with pytest.raises(ValueError, match="mix integer labels"):
        pad_tasks([(np.zeros((3, 2)), np.array([0, 1, 1])), (np.zeros((2, 2)), np.zeros(2))])


def test_regression_tasks_say_which_groups_they_leave_out():
    X, y = np.zeros((60, 2)), np.zeros(60)
    groups = np.repeat([0, 1, 2], [40, 15, 5])
    with pytest.warns(UserWarning, match=r"2 group\(s\) have fewer than .* = 20 rows"):
        tasks = RegressionTasks(X, y, groups, k_shot=10, n_query=10)
    assert list(tasks.tasks_) == [0]
    with pytest.raises(ValueError, match=r"tasks contains ids absent from groups: \[99\]"):
        RegressionTasks(X, y, groups, k_shot=2, n_query=2, tasks=[0, 99])
    with pytest.raises(ValueError, match="asked for in tasks="):
        RegressionTasks(X, y, groups, k_shot=10, n_query=10, tasks=[0, 2])


def test_missing_labels_and_groups_are_refused(digits):
    # a NaN class matched no row (nan != nan): its episodes repeated row 0 of X
    X, y = digits
    labels = y.astype(float)
    labels[y == 3] = np.nan
    with pytest.raises(ValueError, match=r"y has \d+ missing value\(s\)"):
        ClassificationTasks(X, labels, n_way=10, k_shot=1, n_query=1)
    with pytest.raises(ValueError, match="groups has .* missing"):
        RegressionTasks(X, y, labels, k_shot=5, n_query=5)
    with pytest.raises(ValueError, match="labels has .* missing"):
        split_labels(labels)
    named = np.array([f"digit {v}" for v in y], dtype=object)
    named[7] = None
    with pytest.raises(ValueError, match="first at row 7"):
        ClassificationTasks(X, named)


def test_nan_and_non_numeric_inputs_are_refused_naming_the_row(digits):
    """A NaN in X (or in a regression target) was sampled as it was: every loss of an
    episode drawing its row was NaN, and the meta-gradient poisoned the model."""
    X, y = digits
    X = X.copy()
    X[12, 5] = np.nan
    with pytest.raises(ValueError, match="X has 1 row.* NaN or infinite.* first row 12"):
        ClassificationTasks(X, y, n_way=5, k_shot=1, n_query=1)
    X[12, 5] = np.inf
    with pytest.raises(ValueError, match="X has 1 row.*first row 12"):
        RegressionTasks(X, y, y % 3, k_shot=2, n_query=2)
    target = y.astype(float)
    target[40] = np.nan
    with pytest.raises(ValueError, match="y has 1 row.*first row 40"):
        RegressionTasks(digits[0], target, y % 3, k_shot=2, n_query=2)
    with pytest.raises(ValueError, match=r"tasks\[1\] X has 1 row"):
        pad_tasks([(digits[0][:3], y[:3]), (X[10:14], y[10:14])])
    mixed = np.array([["1.5", "red"], ["2.0", "blue"]] * 10, dtype=object)
    with pytest.raises(ValueError, match="X must be numeric.*object"):
        ClassificationTasks(mixed, np.arange(20) % 2, n_way=2, k_shot=1, n_query=1)


def test_a_read_only_array_from_pandas_is_taken_without_a_warning(digits):
    """torch warned that it does not support non-writable arrays (pandas' copy-on-write
    arrays are read-only) when the sampler took X as it was."""
    X, y = digits
    X = X.astype(np.float32)
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ClassificationTasks(X, y, n_way=5, k_shot=1, n_query=1).sample(1)
        RegressionTasks(X, X[:, 10], y, k_shot=2, n_query=2).sample(1)


def test_rows_drawn_are_those_of_a_full_shuffle_without_its_cost():
    """Each class's rows are the ones with the smallest random keys, in key order: the
    same episodes as sorting every key, which took seconds and 768 MB with one class of
    200,000 rows; now a partition finds them (the published few-shot figures stand)."""
    from metaopt.meta.tasks import _draw_rows, _row_table

    y = np.r_[np.zeros(3000, int), np.repeat(np.arange(1, 8), [5, 9, 12, 40, 7, 6, 300])]
    table, valid = _row_table(y, np.unique(y))
    owners = np.argsort(np.random.default_rng(0).random((16, 8)), axis=1)[:, :5]
    for count in (1, 5, table.shape[1]):
        fewest = min(int(valid[o].sum()) for o in owners.ravel())
        if count > fewest:
            owners = np.zeros_like(owners)  # only class 0 has that many rows
        keys = np.random.default_rng(1).random((*owners.shape, table.shape[1]))
        keys[~valid[owners]] = np.inf
        expected = np.take_along_axis(table[owners], np.argsort(keys, axis=-1)[..., :count], -1)
        drawn = _draw_rows(table, valid, owners, count, np.random.default_rng(1))
        assert np.array_equal(drawn, expected)
        assert all(len(set(r)) == count and set(r) <= set(np.flatnonzero(y == y[r[0]]))
                   for r in drawn.reshape(-1, count))


@pytest.mark.parametrize("make", [
    lambda X, y, dtype: ClassificationTasks(X, y, dtype=dtype),
    lambda X, y, dtype: RegressionTasks(X, X[:, 0], y, k_shot=2, n_query=2, dtype=dtype),
    lambda X, y, dtype: pad_tasks([(X, y)], dtype=dtype),
], ids=["ClassificationTasks", "RegressionTasks", "pad_tasks"])
def test_an_integer_dtype_is_refused_not_truncating_the_data(digits, make):
    """dtype=torch.int64 turned load_digits' pixels in [0, 1] into 0 and 1 (and a
    regression target into its integer part) without a word; SinusoidTasks refused it."""
    X, y = digits
    with pytest.raises(ValueError, match="dtype must be a floating torch dtype"):
        make(X[:200] / 16, y[:200], torch.int64)


@pytest.mark.parametrize(("name", "bounds"), [
    ("amplitude", (5.0, 0.1)), ("phase", (float("nan"), 1.0)), ("x_range", (-5.0, float("inf"))),
    ("amplitude", (1.0,)), ("x_range", "ab"),
])
def test_sinusoid_ranges_are_checked_when_built(name, bounds):
    """A reversed or NaN range was taken, and the first sample() failed with torch's
    'uniform_ expects to return a [from, to) range' or 'from is out of bounds'."""
    with pytest.raises(ValueError, match=rf"^{name} must be a \(low, high\) pair"):
        SinusoidTasks(**{name: bounds})
    assert SinusoidTasks(amplitude=(1, 1), seed=0).sample(2).support_x.shape == (2, 10, 1)


@pytest.mark.parametrize(("make", "name"), [
    (lambda X, y: split_labels(y), "labels"),
    (lambda X, y: ClassificationTasks(X, y, n_way=2, k_shot=2, n_query=2), "y"),
    (lambda X, y: RegressionTasks(X, X[:, 0], y, k_shot=2, n_query=2), "groups"),
], ids=["split_labels", "ClassificationTasks", "RegressionTasks"])
def test_labels_mixing_strings_and_numbers_are_refused_by_name(digits, make, name):
    """numpy could not sort them: "TypeError: '<' not supported between instances of
    'int' and 'str'"."""
    X, y = digits
    mixed = np.array([v if v < 5 else f"digit {v}" for v in y[:200]], dtype=object)
    with pytest.raises(ValueError, match=rf"^Mix of label input types \(string and number\) "
                                         rf"in {name}:.* e\.g\. {name}\.astype\(str\)"):
        make(X[:200], mixed)


def test_pad_tasks_names_a_task_whose_rows_have_another_shape():
    """torch.stack failed with 'stack expects each tensor to be equal size, but got
    [4, 2] at entry 0 and [4, 3] at entry 1'."""
    with pytest.raises(ValueError, match=r"^tasks\[1\] X has rows of shape \(3,\), tasks\[0\] X "
                                         r"\(2,\)"):
        pad_tasks([(np.zeros((3, 2)), np.zeros(3)), (np.zeros((4, 3)), np.zeros(4))])
    with pytest.raises(ValueError, match=r"^tasks\[1\] y has rows of shape \(2,\), tasks\[0\] y"):
        pad_tasks([(np.zeros((3, 2)), np.zeros(3)), (np.zeros((4, 2)), np.zeros((4, 2)))])
