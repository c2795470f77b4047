"""Deep learning on tables: date and event features, categorical and continuous inputs, and
the mixed-input network of Guo & Berkhahn, "Entity Embeddings of Categorical Variables" (2016).

The Rossmann lesson (notebooks/lesson3-rossmann.ipynb) uses everything here:

* `left_join`: a `merge(how="left")` that refuses to silently lose information: the result
  has exactly the left table's rows, in order, and every row found its match.
* `add_datepart`: one date column becomes year, month, week, day, weekday, day of year, the
  month/quarter/year start and end flags, and the days elapsed since 1970.
* `days_since`, `days_until`, `rolling_count`: how far each row is from the last and the next
  event (a promotion, a holiday) of its group, and how many events fall within a week of it.
* `TabularProcessor`: categorical columns become integer codes fixed on the training set
  (0 = missing or never seen), continuous columns become normalised floats, with training
  statistics only.
* `emb_size`: the embedding-width rule of thumb `min(50, (cardinality + 1) // 2)`.
* `MixedInputModel`: one embedding per categorical column, batch-normalised continuous
  inputs, a stack of linear + ReLU + dropout layers, an output squashed into `y_range`.
* `exp_rmspe` / `rmspe`: Kaggle's Rossmann metric, root mean squared percentage error.
* `embedding_features`: replace each categorical code by its learned embedding vector, to
  feed other models (trees, k-NN) with what the network learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from course_utils.data import check_columns
from course_utils.learner import sigmoid_range

__all__ = [
    "MixedInputModel",
    "TabularProcessor",
    "add_datepart",
    "days_since",
    "days_until",
    "emb_size",
    "embedding_features",
    "exp_rmspe",
    "left_join",
    "rmspe",
    "rolling_count",
]


# --------------------------------------------------------------------------- joins


def left_join(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_on: str | Sequence[str],
    right_on: str | Sequence[str] | None = None,
    suffix: str = "_y",
    name: str = "the right table",
) -> pd.DataFrame:
    """`left.merge(right, how="left")`, checked so that no row gained nulls.

    A left join keeps every row of `left`; a row without a partner in `right` silently gets
    NaN in all of `right`'s columns, and a key that appears twice in `right` silently
    duplicates rows. Both are bugs in feature engineering, so both raise a `ValueError`
    that names the keys and shows unmatched examples. Columns present in both tables get
    `suffix` on the right-hand copy (drop them after the join).

    Returns the joined frame with the rows of `left` in their original order.
    """
    left_on = [left_on] if isinstance(left_on, str) else list(left_on)
    right_on = left_on if right_on is None else ([right_on] if isinstance(right_on, str)
                                                 else list(right_on))
    check_columns(left, left_on, "the left table")
    check_columns(right, right_on, name)
    dupes = right.duplicated(right_on)
    if dupes.any():
        example = right.loc[dupes, right_on].head(3).to_dict("records")
        raise ValueError(
            f"left_join: {name} has {int(dupes.sum())} duplicated key(s) on {right_on} "
            f"(e.g. {example}), so the join would duplicate rows. Make the keys unique first."
        )
    out = left.merge(right, how="left", left_on=left_on, right_on=right_on,
                     suffixes=("", suffix), indicator="_join")
    missing = out["_join"] == "left_only"
    if missing.any():
        example = out.loc[missing, left_on].drop_duplicates().head(5).to_dict("records")
        raise ValueError(
            f"left_join: {int(missing.sum()):,} of {len(out):,} rows found no match in {name} "
            f"on {left_on} -> {right_on}, so they would get nulls; unmatched keys e.g. "
            f"{example}. Check the key columns' values and types."
        )
    return out.drop(columns="_join")


# --------------------------------------------------------------------------- dates


DATEPART_ATTRS = ("Year", "Month", "Week", "Day", "Dayofweek", "Dayofyear", "Is_month_end",
                  "Is_month_start", "Is_quarter_end", "Is_quarter_start", "Is_year_end",
                  "Is_year_start")


def add_datepart(df: pd.DataFrame, field: str, drop: bool = True,
                 prefix: str | None = None) -> pd.DataFrame:
    """Expand the date column `field` into the parts a model can use (fastai's `add_datepart`).

    Adds `Year, Month, Week` (ISO week), `Day, Dayofweek` (Monday=0), `Dayofyear`, the six
    `Is_*_start/end` flags and `Elapsed` (days since 1970-01-01), each named with `prefix`
    (default: `field` without a trailing "Date", so "Date" gives plain "Year", ...).
    Returns a new frame; `drop=False` keeps the original column.
    """
    if prefix is None:
        prefix = field[:-4] if field.lower().endswith("date") else field
    d = pd.to_datetime(check_columns(df, [field], "the table")[field])
    parts = {
        "Year": d.dt.year, "Month": d.dt.month, "Week": d.dt.isocalendar().week.astype("int64"),
        "Day": d.dt.day, "Dayofweek": d.dt.day_of_week, "Dayofyear": d.dt.day_of_year,
        "Is_month_end": d.dt.is_month_end, "Is_month_start": d.dt.is_month_start,
        "Is_quarter_end": d.dt.is_quarter_end, "Is_quarter_start": d.dt.is_quarter_start,
        "Is_year_end": d.dt.is_year_end, "Is_year_start": d.dt.is_year_start,
        "Elapsed": (d - pd.Timestamp("1970-01-01")).dt.days,
    }
    out = df.assign(**{prefix + k: v for k, v in parts.items()})
    return out.drop(columns=field) if drop else out


# --------------------------------------------------------------------------- events in time


def _sorted_order(df: pd.DataFrame, by: str, date: str) -> np.ndarray:
    """Row positions that sort `df` by group, then date (stable)."""
    return np.lexsort((df[date].to_numpy(), df[by].to_numpy()))


def _days_to_event(df: pd.DataFrame, event: str, by: str, date: str, forward: bool) -> np.ndarray:
    """Days from each row to its group's last (or, `forward`, next) event, aligned with `df`.

    Within each group `by`, in date order, remember the date of the last event (`ffill`) or
    take the next one (`bfill`) and subtract. NaN where there is none.
    """
    order = _sorted_order(check_columns(df, [event, by, date], "the table"), by, date)
    d = df[date].iloc[order].reset_index(drop=True)
    g = df[by].iloc[order].reset_index(drop=True)
    event_dates = d.where(df[event].iloc[order].astype(bool).to_numpy()).groupby(g)
    gap = (event_dates.bfill() - d) if forward else (d - event_dates.ffill())
    out = np.empty(len(df))
    out[order] = gap.dt.days.to_numpy(dtype=float, na_value=np.nan)
    return out


def days_since(df: pd.DataFrame, event: str, by: str = "Store", date: str = "Date") -> pd.Series:
    """Days since the last row of the same group `by` where `event` was true (0 on the day).

    The `get_elapsed` of the 2018 notebook, vectorised. NaN before a group's first event.
    Works on rows in any order; returns a Series aligned with `df`.
    """
    out = _days_to_event(df, event, by, date, forward=False)
    return pd.Series(out, index=df.index, name=f"days_since_{event}")


def days_until(df: pd.DataFrame, event: str, by: str = "Store", date: str = "Date") -> pd.Series:
    """Days until the next row of the same group where `event` is true (0 on the day).

    The backward-looking twin of `days_since`; NaN after a group's last event.
    """
    out = _days_to_event(df, event, by, date, forward=True)
    return pd.Series(out, index=df.index, name=f"days_until_{event}")


def rolling_count(df: pd.DataFrame, event: str, window: int = 7, by: str = "Store",
                  date: str = "Date", forward: bool = False) -> pd.Series:
    """How many rows of the same group with `event` true lie within `window` days.

    Backward (default): the window is the `window` days ending on the row's date;
    forward: the `window` days starting on it. Both include the row itself. The window is
    measured in calendar days, not rows, so a missing day is simply not counted.

    Vectorised with one cumulative sum: after sorting by (group, date) each row's key is
    `group * 10**6 + day number`, and the window's ends are found with `searchsorted`.
    """
    order = _sorted_order(df, by, date)
    day = (df[date].to_numpy()[order].astype("datetime64[D]").astype(np.int64))
    group = pd.factorize(df[by].to_numpy()[order])[0].astype(np.int64)  # ascending after sort
    key = group * 1_000_000 + (day - day.min())
    cum = np.concatenate([[0], np.cumsum(df[event].to_numpy()[order].astype(np.int64))])
    i = np.arange(len(df))
    if forward:
        end = np.searchsorted(key, key + (window - 1), side="right")
        counts = cum[end] - cum[i]
    else:
        start = np.searchsorted(key, key - (window - 1), side="left")
        counts = cum[i + 1] - cum[start]
    out = np.empty(len(df), dtype=np.int64)
    out[order] = counts
    return pd.Series(out, index=df.index, name=f"{event}_{'fw' if forward else 'bw'}")


# --------------------------------------------------------------------------- inputs


def emb_size(cardinality: int, max_size: int = 50) -> int:
    """Embedding width for a categorical variable with `cardinality` codes (missing included).

    The 2018 course's rule of thumb: half the number of codes, rounded up, at most 50.
    """
    return min(max_size, (cardinality + 1) // 2)


@dataclass
class TabularProcessor:
    """Turns a table into the two arrays a `MixedInputModel` takes, with training statistics.

    `fit(train)` records, from the training rows only:
      * for each categorical column, its sorted distinct values; code `i + 1` stands for
        the i-th value and 0 for missing or never-seen values (so a value that only
        appears in the test set maps to 0 instead of silently getting a new meaning);
      * for each continuous column, the median (to fill gaps), mean and standard deviation.
    `transform(df)` then returns `(cats, conts)`: int64 codes `(n, n_cat)` and float32
    normalised values `(n, n_cont)`. Never fit on the validation or test set.
    """

    cat_vars: list[str]
    cont_vars: list[str]
    categories: dict[str, pd.Index] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)

    def fit(self, df: pd.DataFrame) -> TabularProcessor:
        check_columns(df, [*self.cat_vars, *self.cont_vars], "the training table")
        for c in self.cat_vars:
            self.categories[c] = pd.Index(sorted(df[c].dropna().unique()))
        for c in self.cont_vars:
            x = df[c].astype("float64")
            self.medians[c] = float(x.median())
            x = x.fillna(self.medians[c])
            self.means[c], std = float(x.mean()), float(x.std())
            self.stds[c] = std if std > 0 else 1.0
        return self

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if not self.categories and self.cat_vars:
            raise RuntimeError("TabularProcessor.transform before fit: call fit(train) first.")
        check_columns(df, [*self.cat_vars, *self.cont_vars], "the table")
        cats = np.stack(
            [self.categories[c].get_indexer(df[c]) + 1 for c in self.cat_vars], axis=1
        ).astype(np.int64)  # get_indexer gives -1 for unseen/NaN -> code 0
        conts = np.stack(
            [((df[c].astype("float64").fillna(self.medians[c]) - self.means[c]) / self.stds[c])
             .to_numpy() for c in self.cont_vars], axis=1,
        ).astype(np.float32)
        return cats, conts

    def cardinalities(self) -> dict[str, int]:
        """Number of codes per categorical column, the 0 for missing/unseen included."""
        return {c: len(self.categories[c]) + 1 for c in self.cat_vars}

    def emb_szs(self) -> list[tuple[int, int]]:
        """`(cardinality, width)` per categorical column, by `emb_size`."""
        return [(n, emb_size(n)) for n in self.cardinalities().values()]


# --------------------------------------------------------------------------- the model


class MixedInputModel(nn.Module):
    """The entity-embedding network for tables (Guo & Berkhahn 2016; fastai 0.7's model).

    Args:
        emb_szs: `(cardinality, width)` for each categorical input, in column order.
        n_cont: number of continuous inputs.
        emb_drop: dropout on the concatenated embeddings.
        out_sz: number of outputs (1 for regression).
        szs: hidden layer widths, e.g. `(1000, 500)`.
        drops: dropout after each hidden layer (same length as `szs`).
        y_range: `(low, high)`: squash the output into this range with a sigmoid.
        use_bn: batch norm after each hidden layer's ReLU.

    `forward(x_cat, x_cont)` takes int64 codes `(bs, n_cat)` and floats `(bs, n_cont)` and
    returns `(bs, out_sz)`, or `(bs,)` when `out_sz == 1`.
    """

    def __init__(self, emb_szs: Sequence[tuple[int, int]], n_cont: int, emb_drop: float,
                 out_sz: int, szs: Sequence[int], drops: Sequence[float],
                 y_range: tuple[float, float] | None = None, use_bn: bool = False) -> None:
        super().__init__()
        if len(szs) != len(drops):
            raise ValueError(f"One dropout per hidden layer: szs={szs}, drops={drops}.")
        self.embs = nn.ModuleList([nn.Embedding(n, w) for n, w in emb_szs])
        for e in self.embs:  # small uniform init, scaled by width (as fastai did)
            bound = 2 / (e.embedding_dim + 1)
            nn.init.uniform_(e.weight, -bound, bound)
        self.n_emb = sum(w for _, w in emb_szs)
        self.emb_drop = nn.Dropout(emb_drop)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        widths = [self.n_emb + n_cont, *szs]
        self.lins = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:],
                                                                    strict=True)])
        for lin in self.lins:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        self.bns = nn.ModuleList([nn.BatchNorm1d(w) for w in szs]) if use_bn else None
        self.drops = nn.ModuleList([nn.Dropout(p) for p in drops])
        self.out = nn.Linear(widths[-1], out_sz)
        nn.init.kaiming_normal_(self.out.weight)
        self.y_range = y_range

    def forward(self, x_cat: Tensor, x_cont: Tensor) -> Tensor:
        # (bs, n_cat) codes -> (bs, sum of widths): each column looks up its own table
        x = torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embs)], dim=1)
        x = self.emb_drop(x)
        x = torch.cat([x, self.bn_cont(x_cont)], dim=1)  # (bs, n_emb + n_cont)
        for i, (lin, drop) in enumerate(zip(self.lins, self.drops, strict=True)):
            x = torch.relu(lin(x))
            if self.bns is not None:
                x = self.bns[i](x)
            x = drop(x)
        x = self.out(x)  # (bs, out_sz)
        x = sigmoid_range(x, self.y_range)
        return x.squeeze(-1) if x.shape[-1] == 1 else x


def embedding_features(model: MixedInputModel, cats: np.ndarray | Tensor) -> np.ndarray:
    """Replace each categorical code by its learned embedding vector.

    `cats` `(n, n_cat)` int codes -> float32 array `(n, model.n_emb)`: the concatenated rows
    of each column's embedding table, ready for a tree ensemble or k-NN.
    """
    cats = torch.as_tensor(np.asarray(cats) if not isinstance(cats, Tensor) else cats)
    with torch.no_grad():
        cols = [e.weight.detach().cpu()[cats[:, i].cpu()] for i, e in enumerate(model.embs)]
    return torch.cat(cols, dim=1).numpy().astype(np.float32)


# --------------------------------------------------------------------------- metric


def exp_rmspe(pred: Tensor, targ: Tensor) -> Tensor:
    """Root mean squared percentage error of `exp(pred)` against `exp(targ)`.

    The model predicts log sales; Kaggle scored sales by RMSPE,
    `sqrt(mean(((y - y_hat) / y) ** 2))`. With `y = exp(targ)`, `y_hat = exp(pred)` the
    ratio is `1 - exp(pred - targ)`, computed without ever forming large numbers.
    """
    pct = 1 - torch.exp(pred.float() - targ.float())
    return torch.sqrt((pct**2).mean())


def rmspe(y_pred: np.ndarray | pd.Series, y_true: np.ndarray | pd.Series) -> float:
    """RMSPE on sales themselves (rows with true sales 0 must be left out beforehand)."""
    y_pred, y_true = np.asarray(y_pred, dtype=float), np.asarray(y_true, dtype=float)
    if (y_true == 0).any():
        raise ValueError("rmspe is undefined where the true value is 0 (Kaggle ignored those).")
    return float(np.sqrt(np.mean(((y_true - y_pred) / y_true) ** 2)))
