"""Unit tests for course_utils.tabular: dates, joins, elapsed events, encoding, the model."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils.data import DataError
from course_utils.tabular import (
    MixedInputModel,
    TabularProcessor,
    add_datepart,
    days_since,
    days_until,
    emb_size,
    embedding_features,
    exp_rmspe,
    left_join,
    rmspe,
    rolling_count,
)

# --------------------------------------------------------------------------- add_datepart


def test_add_datepart_parts_and_flags():
    df = pd.DataFrame(
        {"Date": pd.to_datetime(["2015-07-31", "2015-12-31", "2013-01-01"]), "x": [1, 2, 3]}
    )
    out = add_datepart(df, "Date")
    assert "Date" not in out and "Date" in df  # new frame, input untouched
    r = out.iloc[1]
    assert (r.Year, r.Month, r.Week, r.Day, r.Dayofweek, r.Dayofyear) == (2015, 12, 53, 31, 3, 365)
    assert r.Is_year_end and r.Is_quarter_end and r.Is_month_end and not r.Is_year_start
    assert out.iloc[2].Is_year_start and out.iloc[2].Is_quarter_start
    assert out.iloc[0].Week == 31 and out.iloc[0].Dayofweek == 4  # a Friday
    assert out["Elapsed"].tolist() == [16647, 16800, 15706]  # days since 1970-01-01
    assert out["x"].tolist() == [1, 2, 3]


def test_add_datepart_prefix_and_keep():
    df = pd.DataFrame({"SaleDate": ["2014-02-03"]})
    out = add_datepart(df, "SaleDate", drop=False)
    assert {"SaleDate", "SaleYear", "SaleWeek", "SaleElapsed"} <= set(out.columns)
    assert add_datepart(df, "SaleDate", prefix="s_").columns.tolist()[0] == "s_Year"


def test_add_datepart_names_the_column_and_a_bad_value():
    df = pd.DataFrame({"SaleDate": ["2015-01-01", "2015-02-30", "2015-03-01", "soon"]})
    with pytest.raises(ValueError, match=r"'SaleDate' has 2 missing or non-date .*'2015-02-30'"):
        add_datepart(df, "SaleDate")


# --------------------------------------------------------------------------- left_join


def test_left_join_keeps_rows_and_order():
    left = pd.DataFrame({"k": [3, 1, 2, 1], "a": list("wxyz")})
    right = pd.DataFrame({"k": [1, 2, 3], "b": [10, 20, 30], "a": ["r1", "r2", "r3"]})
    out = left_join(left, right, "k")
    assert out["k"].tolist() == [3, 1, 2, 1]
    assert out["b"].tolist() == [30, 10, 20, 10]
    assert out["a"].tolist() == list("wxyz") and out["a_y"].tolist() == ["r3", "r1", "r2", "r1"]


def test_left_join_different_key_names():
    left = pd.DataFrame({"file": ["Bayern", "Berlin"]})
    right = pd.DataFrame({"StateName": ["Berlin", "Bayern"], "State": ["BE", "BY"]})
    assert left_join(left, right, "file", "StateName")["State"].tolist() == ["BY", "BE"]


def test_left_join_refuses_rows_that_would_gain_nulls():
    left = pd.DataFrame({"State": ["BY", "HB,NI"], "Date": [1, 1]})
    right = pd.DataFrame({"State": ["BY"], "Date": [1], "t": [5]})
    with pytest.raises(ValueError, match=r"1 of 2 rows found no match in weather.*HB,NI"):
        left_join(left, right, ["State", "Date"], name="weather")


def test_left_join_refuses_duplicated_right_keys():
    left = pd.DataFrame({"k": [1, 2]})
    right = pd.DataFrame({"k": [1, 1, 2], "b": [1, 2, 3]})
    with pytest.raises(ValueError, match="duplicated key"):
        left_join(left, right, "k")


# --------------------------------------------------------------------------- elapsed events


def _events() -> pd.DataFrame:
    # two stores, shuffled rows; store 2 has a missing day (Jan 4)
    d = pd.to_datetime
    rows = [
        (1, d("2015-01-01"), 0),
        (1, d("2015-01-02"), 1),
        (1, d("2015-01-03"), 0),
        (1, d("2015-01-04"), 0),
        (1, d("2015-01-05"), 1),
        (1, d("2015-01-06"), 0),
        (2, d("2015-01-01"), 1),
        (2, d("2015-01-02"), 0),
        (2, d("2015-01-03"), 0),
        (2, d("2015-01-05"), 1),
    ]
    df = pd.DataFrame(rows, columns=["Store", "Date", "Promo"])
    return df.sample(frac=1, random_state=0)  # order must not matter


def test_days_since_and_until():
    df = _events()
    out = df.assign(since=days_since(df, "Promo"), until=days_until(df, "Promo"))
    out = out.sort_values(["Store", "Date"])
    s1 = out[out.Store == 1]
    assert np.isnan(s1["since"].iloc[0]) and s1["since"].iloc[1:].tolist() == [0, 1, 2, 0, 1]
    assert s1["until"].iloc[:5].tolist() == [1, 0, 2, 1, 0] and np.isnan(s1["until"].iloc[5])
    s2 = out[out.Store == 2]
    assert s2["since"].tolist() == [0, 1, 2, 0]  # counted in calendar days, not rows
    assert s2["until"].tolist() == [0, 3, 2, 0]
    assert days_since(df, "Promo").index.equals(df.index)


def test_rolling_count_backward_forward_and_gaps():
    df = _events()
    out = df.assign(
        bw=rolling_count(df, "Promo", 3), fw=rolling_count(df, "Promo", 3, forward=True)
    ).sort_values(["Store", "Date"])
    s1 = out[out.Store == 1]
    assert s1["bw"].tolist() == [0, 1, 1, 1, 1, 1]
    assert s1["fw"].tolist() == [1, 1, 1, 1, 1, 0]
    s2 = out[out.Store == 2]  # the missing Jan 4 is not counted; stores never mix
    assert s2["bw"].tolist() == [1, 1, 1, 1]
    assert s2["fw"].tolist() == [1, 0, 1, 1]


def test_rolling_count_matches_pandas_rolling_on_complete_days():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "Store": np.repeat([1, 2], 50),
            "Date": np.tile(pd.date_range("2014-01-01", periods=50), 2),
            "Promo": rng.integers(0, 2, 100),
        }
    )
    expected = df.groupby("Store")["Promo"].transform(lambda s: s.rolling(7, min_periods=1).sum())
    assert (rolling_count(df, "Promo", 7).to_numpy() == expected.to_numpy()).all()


# --------------------------------------------------------------------------- encoding


def test_emb_size_rule():
    assert [emb_size(n) for n in (1, 3, 8, 13, 53, 1116)] == [1, 2, 4, 7, 27, 50]
    for bad in (0, -3):
        with pytest.raises(ValueError, match=f"at least 1, got cardinality={bad}"):
            emb_size(bad)


def test_tabular_processor_uses_training_statistics_only():
    train = pd.DataFrame({"c": ["a", "b", "a", None], "x": [1.0, 2.0, 3.0, np.nan]})
    test = pd.DataFrame({"c": ["b", "z", None], "x": [np.nan, 100.0, 2.0]})
    proc = TabularProcessor(["c"], ["x"]).fit(train)
    cats, conts = proc.transform(test)
    assert cats[:, 0].tolist() == [2, 0, 0]  # 'b' -> 2, unseen 'z' and missing -> 0
    assert proc.cardinalities() == {"c": 3} and proc.emb_szs() == [(3, 2)]
    # x: median 2 fills the gap; mean and std are those of the filled training column
    mean, std = np.mean([1, 2, 3, 2]), np.std([1, 2, 3, 2], ddof=1)
    assert conts.dtype == np.float32 and cats.dtype == np.int64
    np.testing.assert_allclose(
        conts[:, 0], [(2 - mean) / std, (100 - mean) / std, (2 - mean) / std], rtol=1e-6
    )


def test_tabular_processor_needs_fit():
    with pytest.raises(RuntimeError, match="fit"):
        TabularProcessor(["c"], []).transform(pd.DataFrame({"c": [1]}))


# --------------------------------------------------------------------------- model and metric


def _model(out_sz=1, use_bn=False):
    torch.manual_seed(0)
    return MixedInputModel(
        [(5, 3), (4, 2)],
        n_cont=3,
        emb_drop=0.1,
        out_sz=out_sz,
        szs=(16, 8),
        drops=(0.1, 0.1),
        y_range=(0.0, 2.0),
        use_bn=use_bn,
    )


def test_mixed_input_model_shapes_range_and_gradients():
    m = _model(use_bn=True)
    x_cat = torch.tensor([[0, 1], [4, 3], [2, 2], [1, 0]])
    x_cont = torch.randn(4, 3)
    out = m(x_cat, x_cont)
    assert out.shape == (4,) and (out >= 0).all() and (out <= 2).all()
    out.sum().backward()
    assert m.embs[0].weight.grad is not None and m.embs[0].weight.grad[4].abs().sum() > 0
    assert _model(out_sz=3)(x_cat, x_cont).shape == (4, 3)
    with pytest.raises(ValueError, match="dropout"):
        MixedInputModel([(5, 3)], 1, 0.0, 1, (8, 4), (0.1,))


def test_embedding_features_concatenates_rows():
    m = _model()
    cats = np.array([[1, 3], [4, 0]])
    f = embedding_features(m, cats)
    assert f.shape == (2, 5) and f.dtype == np.float32
    np.testing.assert_allclose(f[0, :3], m.embs[0].weight[1].detach().numpy())
    np.testing.assert_allclose(f[1, 3:], m.embs[1].weight[0].detach().numpy())


def test_exp_rmspe_and_rmspe():
    targ = torch.log(torch.tensor([100.0, 200.0]))
    pred = torch.log(torch.tensor([90.0, 240.0]))  # -10% and +20%
    expected = math.sqrt((0.1**2 + 0.2**2) / 2)
    assert exp_rmspe(pred, targ).item() == pytest.approx(expected, rel=1e-5)
    assert rmspe(np.array([90.0, 240.0]), np.array([100.0, 200.0])) == pytest.approx(expected)
    with pytest.raises(ValueError, match="undefined"):
        rmspe([1.0], [0.0])


@pytest.mark.parametrize("n_pred", [1, 3])  # 1 would broadcast silently
def test_rmspe_refuses_different_lengths(n_pred):
    with pytest.raises(ValueError, match=rf"y_pred has shape \({n_pred},\), y_true \(2,\)"):
        rmspe(np.ones(n_pred), [1.0, 2.0])


def test_rolling_count_names_a_missing_column():
    df = pd.DataFrame({"Store": [1], "Date": pd.to_datetime(["2015-01-01"])})
    with pytest.raises(DataError, match="Promo"):
        rolling_count(df, "Promo")
