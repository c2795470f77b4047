"""The guard rails, second round of probes (issue 20): the table functions (joins, dates, event
features, the processor, MixedInputModel, the Rossmann metrics), the exercise checkers off the
main thread and the notebook runner. One fast test per class, parametrized over the functions
it covers; everything here runs in well under a second on a CPU."""

from __future__ import annotations

import io
import threading
import time
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils import checks, tabular
from course_utils.exercises import core
from tools import run_notebooks


def events(**columns):
    df = pd.DataFrame(
        {"Store": [1, 1, 1, 2], "Date": pd.date_range("2015-01-01", periods=4), "ev": [1, 0, 1, 0]}
    )
    return df.assign(**columns)


def stores():
    return pd.DataFrame({"Store": [1, 2, 3], "x": [10, 20, 30]})


def model(**kw):
    args = {"emb_szs": [(3, 2)], "n_cont": 1, "emb_drop": 0.0, "out_sz": 1, "szs": [4]}
    return tabular.MixedInputModel(**{**args, "drops": [0.0], **kw})


def processor_fit(df, cat_vars=(), cont_vars=("x",)):
    return tabular.TabularProcessor(list(cat_vars), list(cont_vars)).fit(df)


# --------------------------------------------------------------------------- names and tables


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tabular.left_join(stores(), stores(), 5), "left_on must be a column name"),
        (
            lambda: tabular.left_join({"Store": [1]}, stores(), "Store"),
            "must be a pandas DataFrame",
        ),
        (lambda: tabular.add_datepart(events(), 0), "field must be one column name"),
        (lambda: tabular.add_datepart(events()["Date"], "Date"), "got a Series"),
        (lambda: tabular.days_since(events(), ["ev"]), "event must be one column name"),
        (lambda: tabular.rolling_count(events(), "ev", by=1), "by must be one column name"),
        (lambda: tabular.TabularProcessor([1], []), "cat_vars must be a column name"),
    ],
)
def test_names_and_tables_are_what_they_should_be(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize("helper", [tabular.days_since, tabular.days_until, tabular.rolling_count])
@pytest.mark.parametrize("flags", [["yes", "no", "no", "no"], [0.5, 0, 0, 0], [2, 0, 0, 0]])
def test_event_helpers_take_flags_only(helper, flags):
    with pytest.raises(ValueError, match="'ev' must hold event flags, 0 or 1"):
        helper(events(ev=flags), "ev")


@pytest.mark.parametrize("helper", [tabular.days_since, tabular.days_until, tabular.rolling_count])
def test_event_helpers_read_bool_flags_and_text_dates(helper):
    want = helper(events(), "ev")
    text_dates = events(ev=[True, False, True, False])
    text_dates["Date"] = text_dates["Date"].dt.strftime("%Y-%m-%d")  # "2015-01-01", ...
    pd.testing.assert_series_equal(helper(text_dates, "ev"), want)


def test_left_join_keys():
    with pytest.raises(ValueError, match="must name as many columns"):
        tabular.left_join(stores(), stores(), ["Store", "x"], ["Store"])
    nan_keys = pd.DataFrame({"Store": [1.0, np.nan], "x": [1, 2]})
    with pytest.raises(ValueError, match="'Store' has 1 missing"):
        tabular.left_join(nan_keys, nan_keys.rename(columns={"x": "y"}), "Store")
    marked = stores().assign(_join=1)  # the merge's own marker takes another name
    assert list(tabular.left_join(stores(), marked, "Store").columns) == [
        "Store",
        "x",
        "x_y",
        "_join",
    ]


def test_add_datepart_never_overwrites_other_columns():
    df = pd.DataFrame({"Date": pd.date_range("2015-01-01", periods=2), "Year": [7, 7]})
    with pytest.raises(ValueError, match=r"overwrite the column\(s\) \['Year'\]"):
        tabular.add_datepart(df, "Date")
    twice = tabular.add_datepart(tabular.add_datepart(df, "Date", False, "D"), "Date", False, "D")
    assert twice["DYear"].tolist() == [2015, 2015]  # the same values again: nothing lost


# --------------------------------------------------------------------------- numbers and sizes


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: tabular.emb_size(2.5), "cardinality"),
        (lambda: tabular.emb_size(True), "cardinality"),
        (lambda: tabular.emb_size("3"), "cardinality"),
        (lambda: model(n_cont=-1), "n_cont"),
        (lambda: model(out_sz=0), "out_sz"),
        (lambda: model(szs=[0]), r"szs\[0\]"),
        (lambda: model(emb_szs=[(3, 0)]), r"emb_szs\[0\]'s width"),
        (lambda: model(emb_drop=1.5), "emb_drop"),
        (lambda: model(drops=[-0.1]), r"drops\[0\]"),
        (lambda: model(y_range=(5.0, 1.0)), "y_range"),
    ],
)
def test_sizes_probabilities_and_ranges(call, param):
    with pytest.raises(ValueError, match=f"{param}.* must be"):
        call()


def test_numpy_integers_and_flags():
    assert type(tabular.emb_size(np.int64(7))) is int
    with pytest.raises(TypeError, match="forward must be True or False"):
        tabular.rolling_count(events(), "ev", forward="yes")
    assert tabular.rolling_count(events(), "ev", forward=np.bool_(True)).name == "ev_fw"


@pytest.mark.parametrize(
    "x_cont, match",
    [
        (torch.zeros(2, 2), r"shape \(2, 1\)"),
        (torch.zeros(3, 1), r"shape \(2, 1\)"),
        (torch.zeros(2), r"shape \(2, 1\)"),
        (torch.zeros(2, 1, dtype=torch.long), "float tensor"),
        (np.zeros((2, 1)), "float tensor"),
    ],
)
def test_mixed_input_model_checks_its_continuous_inputs(x_cont, match):
    with pytest.raises((TypeError, ValueError), match=match):
        model().eval()(torch.tensor([[0], [1]]), x_cont)


def test_mixed_input_model_without_continuous_inputs():
    out = model(n_cont=0).eval()(torch.tensor([[0], [1]]), torch.zeros(2, 0))
    assert out.shape == (2,)


@pytest.mark.parametrize(
    "cats, match",
    [
        (np.array([[5]]), "codes from 5 to 5"),
        (np.array([[1.0]]), "integer"),
        (np.ones((1, 2), dtype=np.int64), r"shape \(rows, 1\)"),
    ],
)
def test_embedding_features_checks_its_codes(cats, match):
    with pytest.raises((TypeError, ValueError), match=match):
        tabular.embedding_features(model(), cats)


# --------------------------------------------------------------------------- statistics, metrics


def table(**columns):
    return pd.DataFrame({"c": ["a", "b", "a", None], "x": [1.0, 2.0, np.nan, 4.0]}).assign(
        **columns
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: processor_fit(table().iloc[:0]), "no rows"),
        (lambda: processor_fit(table(x=np.nan)), "no value in the training table"),
        (lambda: processor_fit(table(x=[1, np.inf, 2, 3])), "'x' has inf in 1 row"),
        (lambda: processor_fit(table(), cont_vars=["c"]), "'c' must hold numbers"),
        (lambda: tabular.TabularProcessor(["x"], ["x"]), "in both cat_vars and cont_vars"),
        (lambda: tabular.TabularProcessor([], ["x"]).transform(table()), "before fit"),
        (
            lambda: processor_fit(table(x=[1, 2, 3, 4]), ["x"], []).transform(
                table(x=["1", "2", "3", "4"])
            ),
            "no value of column 'x' was seen in training",
        ),
        (lambda: processor_fit(table()).transform(table(x=[np.inf] * 4)), "'x' has inf"),
    ],
)
def test_processor_statistics_come_from_numbers(call, match):
    with pytest.raises((TypeError, ValueError, RuntimeError), match=match):
        call()


def test_processor_takes_one_name_and_keeps_unseen_codes_at_zero():
    proc = tabular.TabularProcessor("cat", []).fit(table().rename(columns={"c": "cat"}))
    assert proc.cat_vars == ["cat"]
    assert proc.transform(pd.DataFrame({"cat": ["z"]}))[0].tolist() == [[0]]


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: tabular.exp_rmspe(torch.zeros(4), torch.zeros(4, 1)),
            r"\(4,\) and the targets \(4, 1\)",
        ),
        (lambda: tabular.exp_rmspe(torch.zeros(0), torch.zeros(0)), "not be empty"),
        (lambda: tabular.rmspe([1.0, np.nan], [1.0, 2.0]), "y_pred has NaN"),
        (lambda: tabular.rmspe([], []), "y_pred is empty"),
        (lambda: tabular.rmspe(["a"], [1.0]), "y_pred must be numbers"),
    ],
)
def test_metrics_refuse_broadcasts_and_nan(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# --------------------------------------------------------------------------- checkers


@core.checker("fine")
def check_double(fn):
    core.compare(fn(torch.arange(4)), torch.arange(4) * 2)


def verdict(fn):
    out = io.StringIO()
    with redirect_stdout(out):
        check_double(fn)
    return out.getvalue()


def endless(x):
    while True:
        time.sleep(0.01)


@pytest.mark.parametrize("fn, says", [(endless, "was stopped"), (lambda x: x * 2, "✓ double")])
def test_checker_off_the_main_thread(monkeypatch, fn, says):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.3)
    got = []
    worker = threading.Thread(target=lambda: got.append(verdict(fn)), daemon=True)
    worker.start()
    worker.join(5)
    assert got and says in got[0]


def test_checker_restores_the_default_dtype_and_detaches_lists():
    def meddle(x):
        torch.set_default_dtype(torch.float64)
        return [t.float().requires_grad_() * 2 for t in x]  # a list of tensors needing grad

    assert "✓ double" in verdict(meddle)
    assert torch.get_default_dtype() == torch.float32


@pytest.mark.parametrize("guess", [float("nan"), float("inf")])
def test_check_prediction_wants_a_finite_number(capsys, guess):
    core.check_prediction("p", guess, 3.0, "why")
    assert "write your prediction as a number" in capsys.readouterr().out


# --------------------------------------------------------------------------- the notebook runner


@pytest.mark.parametrize("text", ["{ not json", '{"cells": 5}'])
def test_run_notebooks_names_a_file_that_is_not_a_notebook(tmp_path, capsys, text):
    nb = tmp_path / "broken.ipynb"
    nb.write_text(text)
    assert run_notebooks.main([str(nb)]) == 1
    out = capsys.readouterr().out
    assert "left unchanged: it is not a valid notebook" in out and "Traceback" not in out
    assert nb.read_text() == text


def test_the_table_guard_rails_are_reached_through_checks():
    for name in ("column_names", "event_flags", "frame", "numeric_column", "same_kind"):
        assert getattr(checks, name).__module__ == "course_utils.table_checks"
