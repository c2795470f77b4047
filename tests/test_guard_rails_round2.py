"""The guard rails, second round of probes (issue 20): the table functions (joins, dates, event
features, the processor, MixedInputModel, the Rossmann metrics), the exercise checkers off the
main thread, the notebook runner; then the Rossmann readers, loader, gaps and submission, the
simulator's parameters, the data and bench commands, and collaborative filtering (ids, sizes,
rates, recommendations, a new user's row, neighbours). One fast test per class, parametrized
over the functions it covers; everything here runs in a few seconds on a CPU."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils import checks, collab, interpret, recommend, tabular
from course_utils.data import DataError, fetch, rossmann, rossmann_sim
from course_utils.exercises import core
from tools import bench, run_notebooks


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


# the checker the first round's tests use, and what it prints for a student's function
from test_guard_rails import verdict  # noqa: E402


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


# --------------------------------------------------------------------------- Rossmann files


TRAIN_HEADER = (
    '"Store","DayOfWeek","Date","Sales","Customers","Open","Promo","StateHoliday","SchoolHoliday"'
)
TEST_HEADER = '"Id","Store","DayOfWeek","Date","Open","Promo","StateHoliday","SchoolHoliday"'


def csv_file(folder, name, header, *rows):
    f = folder / name
    f.write_text("\r\n".join([header, *rows]) + "\r\n")
    return f


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda d: rossmann.read_train(d, None), "is a folder: pass the CSV file inside it"),
        (
            lambda d: rossmann.read_train(
                csv_file(d, "t.csv", TRAIN_HEADER, '1,5,2015-07-31,5263.5,555,1,1,"0","1"'), None
            ),
            "column 'Sales': expected whole numbers",
        ),
        (
            lambda d: rossmann.read_test(
                csv_file(d, "t.csv", TEST_HEADER, '1,,4,2015-09-17,1,1,"0","0"')
            ),
            "column 'Store': expected whole numbers",
        ),
        (lambda d: rossmann.read_googletrend(d, ["XX"]), r"Unknown state code\(s\) \['XX'\]"),
        (lambda d: rossmann.read_weather(d, ["XX"]), r"Unknown state code\(s\) \['XX'\]"),
        (lambda d: rossmann.read_weather(str(d)), "'weather' was not found(.|\n)*  - /"),
    ],
)
def test_rossmann_readers_name_the_file_and_the_fix(tmp_path, call, match):
    with pytest.raises(DataError, match=match):
        call(tmp_path)


def test_rossmann_reader_of_a_header_only_file_and_a_row_count_as_text(tmp_path):
    assert len(rossmann.read_train(csv_file(tmp_path, "t.csv", TRAIN_HEADER), None)) == 0
    with pytest.raises(ValueError, match="expected_rows must be a whole number"):
        rossmann.read_train(csv_file(tmp_path, "t.csv", TRAIN_HEADER), expected_rows="2")


@pytest.mark.parametrize(
    "kw, error, match",
    [
        ({"train": "Real"}, ValueError, "neither 'auto', 'real', 'simulated'"),
        ({"train": None}, TypeError, "train must be 'auto', 'real', 'simulated' or a file path"),
        ({"sim_params": {"seed": 1}}, TypeError, "sim_params must be a rossmann_sim.SimParams"),
    ],
)
def test_load_rossmann_checks_its_choices_first(tmp_path, kw, error, match):
    with pytest.raises(error, match=match):
        rossmann.load_rossmann(tmp_path, verify=False, verbose=False, **kw)


def gaps_events(**columns):
    df = pd.DataFrame(
        {
            "Store": [1, 1, 2],
            "Date": pd.to_datetime(["2015-01-01", "2015-01-03", "2015-01-03"]),
            "Promo": [1, 0, 0],
            "StateHoliday": [0, 0, 0],
            "SchoolHoliday": [0, 0, 0],
        }
    )
    return df.assign(**columns)


STATES_OF = pd.DataFrame({"Store": [1, 2], "State": ["HE", "BY"]})


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: rossmann.close_gaps(gaps_events().drop(columns="Store"), STATES_OF),
            DataError,
            "events is missing column",
        ),
        (
            lambda: rossmann.close_gaps(gaps_events(), STATES_OF.iloc[:1]),
            ValueError,
            r"store\(s\) \[2\] have no row in store_states",
        ),
        (lambda: rossmann.close_gaps(gaps_events(), STATES_OF, 5), TypeError, "same_day must be"),
        (
            lambda: rossmann.close_gaps(gaps_events(Date=[1, 2, 3]), STATES_OF),
            TypeError,
            "'Date' holds numbers",
        ),
        (lambda: rossmann.close_gaps(gaps_events(), {"Store": [1]}), TypeError, "DataFrame"),
    ],
)
def test_close_gaps_checks_its_tables(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_close_gaps_takes_one_name_and_text_dates():
    want = rossmann.close_gaps(gaps_events(), STATES_OF)
    text = gaps_events(Date=["2015-01-01", "2015-01-03", "2015-01-03"])
    pd.testing.assert_frame_equal(rossmann.close_gaps(text, STATES_OF, same_day="Promo"), want)
    assert len(want) == 4 and want["Filled"].sum() == 1


@pytest.mark.parametrize(
    "sub, match",
    [
        ({"Id": [1, 2], "Sales": [1.0, np.nan]}, "Sales column has NaN"),
        ({"Id": [1, 2], "Sales": [-1.0, 2.0]}, "negative values(.|\n)*np.exp"),
        ({"Id": [1, 1], "Sales": [1.0, 2.0]}, "Id 1 is there twice"),
    ],
)
def test_save_submission_refuses_what_kaggle_would(tmp_path, sub, match):
    f = tmp_path / "sub.csv"
    f.write_text("old")
    with pytest.raises(ValueError, match=match):
        rossmann.save_submission(pd.DataFrame(sub), f)
    assert f.read_text() == "old"


# --------------------------------------------------------------------------- the simulator


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rossmann_sim.SimParams(noise_sd=-0.1), r"noise_sd must be a number in \[0, inf\)"),
        (
            lambda: rossmann_sim.SimParams(closure_prob=1.5),
            r"closure_prob must be a number in \[0, 1\]",
        ),
        (lambda: rossmann_sim.SimParams(seed="abc"), "seed must be a whole number"),
        (lambda: rossmann_sim.SimParams(gap_stores=-5), "gap_stores must be a whole number"),
        (lambda: rossmann_sim.SimParams(start="2015-07-31", end="2013-01-01"), "is after end"),
        (lambda: rossmann_sim.SimParams(dow_effect=[0.0] * 6), "dow_effect needs 7 values"),
        (lambda: rossmann_sim.noise_floor(-0.1), "noise_sd must be a number"),
        (lambda: rossmann_sim.noise_floor(float("nan")), "noise_sd must be a number"),
        (lambda: rossmann_sim.noise_floor("0.1"), "noise_sd must be a number"),
    ],
)
def test_sim_params_refuse_nonsense(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sim_helpers_name_what_they_need(tmp_path):
    with pytest.raises(TypeError, match="describe_params takes a SimParams, got a str"):
        rossmann_sim.describe_params("x")
    with pytest.raises(DataError, match="store is missing column"):
        rossmann_sim.expected_rows(pd.DataFrame({"x": [1]}), rossmann_sim.SimParams())
    f = tmp_path / "cachefile"
    f.write_text("x")
    empty = pd.DataFrame()
    with pytest.raises(DataError, match="is a file, not a folder"):
        rossmann_sim.simulated_train_csv(empty, empty, empty, empty, cache_dir=f, verbose=False)
    assert rossmann_sim.SimParams(seed=np.int64(3)).seed == 3  # NumPy integers still pass


def test_data_command_with_course_data_a_file(tmp_path, monkeypatch, capsys):
    f = tmp_path / "hostname"
    f.write_text("x")
    monkeypatch.setenv("COURSE_DATA", str(f))
    assert fetch.main([]) == 2
    out = capsys.readouterr()
    assert "error: COURSE_DATA=" in out.err and "is a file" in out.err


# --------------------------------------------------------------------------- collab


def ratings_table(n=40):
    rng = np.random.default_rng(0)
    users, movies = rng.integers(1, 6, n), rng.integers(10, 18, n)
    return pd.DataFrame({"userId": users, "movieId": movies, "rating": rng.integers(1, 11, n) / 2})


def tiny_model():
    data, users, movies = collab.collab_data(ratings_table(), ratings_table(), device="cpu")
    return collab.EmbeddingDotBias(len(users), len(movies), 4), data, users, movies


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: collab.IdMap([1.0, np.nan, 2.0], "user"), ValueError, "user ids have missing"),
        (lambda: collab.IdMap([1, "1", 2], "user"), TypeError, "user ids mix number and text"),
        (lambda: collab.IdMap([5, 7, 9]).decode(-1), IndexError, r"in 0..2, got \[-1\]"),
        (lambda: collab.IdMap([5, 7, 9]).decode(10), IndexError, r"in 0..2, got \[10\]"),
        (lambda: collab.IdMap([5, 7, 9]).decode(np.array([1.0])), IndexError, "whole numbers"),
    ],
)
def test_id_maps_refuse_missing_mixed_and_out_of_range(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_id_maps_still_take_text_and_tensors():
    assert collab.IdMap(["b", "a", np.str_("c")]).ids.tolist() == ["a", "b", "c"]
    assert collab.IdMap([5, 7, 9]).decode(torch.tensor([2, 0])).tolist() == [9, 5]


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: collab.top_crosstab(ratings_table(), n_users=-1), "n_users"),
        (lambda: collab.top_crosstab(ratings_table(), n_movies=0), "n_movies"),
        (lambda: collab.split_ratings(ratings_table(), "0.2"), "valid_pct"),
        (lambda: collab.EmbeddingDotBias(5, 5, n_factors=-1), "n_factors"),
        (lambda: collab.EmbeddingDot(2.5, 5), "n_users"),
        (lambda: collab.EmbeddingDotBias(5, 5, y_range=(5.0, 0.0)), "y_range"),
        (lambda: collab.EmbeddingNet(5, 5, p1=1.5), "p1"),
        (lambda: collab.EmbeddingNet(5, 5, n_hidden=0), "n_hidden"),
        (lambda: collab.l2_loss(collab.EmbeddingDot(5, 5), -0.1), "l2"),
        (lambda: collab.train_collab(*tiny_model()[:2], 1, 1e-2, wd=-1), "wd"),
        (lambda: collab.train_collab(*tiny_model()[:2], 1, "1e-2"), "lr"),
        (lambda: collab.train_collab(*tiny_model()[:2], 1, 1e-2, l2=float("nan")), "l2"),
        (lambda: collab.train_collab(*tiny_model()[:2], 1, 1e-2, eps=0), "eps"),
        (lambda: recommend.recommend(*tiny_model()[::2], 1, tiny_model()[3], n=-1), "n"),
        (lambda: recommend.popularity_fallback(ratings_table(), n=-1), "n"),
        (lambda: recommend.popularity_fallback(ratings_table(), prior=-20), "prior"),
        (lambda: recommend.popularity_fallback(ratings_table(), min_ratings=-1), "min_ratings"),
        (lambda: interpret.cosine_neighbours(np.eye(5), 0, k=-1), "k"),
        (lambda: interpret.cosine_neighbours(np.eye(5), 2.5), "i"),
    ],
)
def test_collab_sizes_and_rates_are_checked_before_torch_sees_them(call, param):
    with pytest.raises(ValueError, match=f"^{param}.* must be"):
        call()


def fit_new(model=None, idx=(0, 1), target=(4.0, 5.0), **kw):
    model = model or tiny_model()[0]
    return recommend.fit_new_user(model, idx, torch.tensor(target), **{"steps": 2, **kw})


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fit_new(steps=0), ValueError, "steps must be a whole number"),
        (lambda: fit_new(lr=0), ValueError, "lr must be a number"),
        (lambda: fit_new(collab.EmbeddingDot(5, 5)), TypeError, "needs an EmbeddingDotBias"),
        (lambda: fit_new(idx=torch.tensor([0, 99])), IndexError, "movie_idx .* in 0..7"),
        (lambda: fit_new(idx=torch.tensor([0.0, 1.0])), IndexError, "movie_idx"),
        (lambda: fit_new(target=(4.0, np.nan)), ValueError, "ratings has NaN"),
        (lambda: collab.rmse(torch.zeros(4), torch.zeros(4, 1)), ValueError, "shape"),
        (lambda: collab.split_ratings(ratings_table().iloc[:0]), ValueError, "empty table"),
        (
            lambda: recommend.popularity_fallback(ratings_table().assign(rating=np.nan)),
            ValueError,
            "rating column has NaN",
        ),
        (
            lambda: interpret.genre_correlations(
                pd.DataFrame({"s": [1.0]}, index=[1]),
                pd.DataFrame({"movieId": [1], "genres": ["A"]}),
                -1,
            ),
            ValueError,
            "min_movies must be a whole number",
        ),
    ],
)
def test_collab_use_refuses_what_would_be_silently_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_collab_defaults_still_work():
    model, _, users, movies = tiny_model()
    assert fit_new(model, idx=[0, 1])[0].shape == (4,)  # a list of rows is fine
    assert len(recommend.recommend(model, int(users.ids[0]), users, movies, exclude=None)) > 0


# --------------------------------------------------------------------------- bench arguments


@pytest.mark.parametrize(
    "args, says",
    [
        (["fit", "--repeats", "0"], "--repeats: '0' is not a whole number of at least 1"),
        (["fit", "--batch-size", "2.5"], "--batch-size: '2.5' is not a whole number"),
        (["notebooks", "--timeout", "-1"], "--timeout: '-1' is not a whole number"),
        (["rnn", "--budget", "0"], "--budget: '0' is not a number of seconds above 0"),
        (["step", "--step-seconds", "nan"], "--step-seconds: 'nan' is not a number of seconds"),
    ],
)
def test_bench_arguments_are_checked_by_argparse(capsys, args, says):
    with pytest.raises(SystemExit):
        bench.parser().parse_args(args)
    assert says in capsys.readouterr().err
