"""Deep learning on tables (the Rossmann lesson): joins, date and event features, inputs, the
entity-embedding network of Guo & Berkhahn (2016) and Kaggle's Rossmann metric RMSPE."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from course_utils import checks
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


# --------------------------------------------------------------------------- joins and dates


def left_join(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_on: str | Sequence[str],
    right_on: str | Sequence[str] | None = None,
    suffix: str = "_y",
    name: str = "the right table",
) -> pd.DataFrame:
    """`left.merge(right, how="left")` that keeps `left`'s rows in order and loses nothing.

    Raises `ValueError` (naming the keys, with examples) if a key is duplicated in `right`
    (rows would be duplicated), a row of `left` has no match (it would get NaNs) or a missing
    key (pandas would match it to a missing key in `right`). Columns in both tables get `suffix`
    on the right-hand copy; `name` names `right` in the errors.
    """
    left_on = checks.column_names(left_on, "left_on", "left_join")
    right_on = (
        left_on if right_on is None else checks.column_names(right_on, "right_on", "left_join")
    )
    if len(right_on) != len(left_on):
        raise ValueError(
            f"left_join: left_on {left_on} and right_on {right_on} must name as many columns, "
            "matched in order."
        )
    check_columns(checks.frame(left, "left_join", "left"), left_on, "the left table")
    check_columns(checks.frame(right, "left_join", "right"), right_on, name)
    # pandas matches a missing key to a missing key (NaN to NaN): neither is a store or a day
    checks.no_missing(left, left_on, "left_join (the left table)")
    dupes = right.duplicated(right_on)
    if dupes.any():
        example = right.loc[dupes, right_on].head(3).to_dict("records")
        raise ValueError(
            f"left_join: {name} has {int(dupes.sum())} duplicated key(s) on {right_on} "
            f"(e.g. {example}), so the join would duplicate rows. Make the keys unique first."
        )
    flag = "_join"  # the merge's marker column, under a name neither table uses
    while flag in left.columns or flag in right.columns:
        flag += "_"
    out = left.merge(
        right,
        how="left",
        left_on=left_on,
        right_on=right_on,
        suffixes=("", suffix),
        indicator=flag,
    )
    missing = out[flag] == "left_only"
    if missing.any():
        example = out.loc[missing, left_on].drop_duplicates().head(5).to_dict("records")
        raise ValueError(
            f"left_join: {int(missing.sum()):,} of {len(out):,} rows found no match in {name} "
            f"on {left_on} -> {right_on}, so they would get nulls; unmatched keys e.g. "
            f"{example}. Check the key columns' values and types."
        )
    return out.drop(columns=flag)


def add_datepart(
    df: pd.DataFrame, field: str, drop: bool = True, prefix: str | None = None
) -> pd.DataFrame:
    """Expand the date column `field` into model features (fastai's `add_datepart`): `Year, Month,
    Week` (ISO), `Day, Dayofweek` (Monday=0), `Dayofyear`, six `Is_*_start/end` flags, `Elapsed`
    (days since 1970), named with `prefix` (default: `field` less a trailing "Date"). Returns a new
    frame; `drop=False` keeps `field`. Raises `ValueError` naming the column and an example value
    if one is missing or not a date, and rather than overwrite another column of the same name
    (a `Year` already there, with other values)."""
    field = checks.column_names(field, "field", "add_datepart", many=False)[0]
    if prefix is None:
        prefix = field[:-4] if field.lower().endswith("date") else field
    col = check_columns(checks.frame(df, "add_datepart"), [field], "the table")[field]
    d = checks.date_column(col, field, "add_datepart")  # numbers and time zones: say which
    parts = {
        "Year": d.dt.year,
        "Month": d.dt.month,
        "Week": d.dt.isocalendar().week.astype("int64"),
        "Day": d.dt.day,
        "Dayofweek": d.dt.day_of_week,
        "Dayofyear": d.dt.day_of_year,
        "Is_month_end": d.dt.is_month_end,
        "Is_month_start": d.dt.is_month_start,
        "Is_quarter_end": d.dt.is_quarter_end,
        "Is_quarter_start": d.dt.is_quarter_start,
        "Is_year_end": d.dt.is_year_end,
        "Is_year_start": d.dt.is_year_start,
        "Elapsed": (d - pd.Timestamp("1970-01-01")).dt.days,
    }
    new = {prefix + k: v for k, v in parts.items()}
    clash = [c for c, v in new.items() if c in df.columns and c != field and not df[c].equals(v)]
    if clash:
        raise ValueError(
            f"add_datepart would overwrite the column(s) {clash} already in the table: pass "
            f"prefix='{field}_' (or another), or rename those columns first."
        )
    out = df.assign(**new)
    return out.drop(columns=field) if drop else out


# --------------------------------------------------------------------------- events in time


def _event_columns(
    df: pd.DataFrame, event: str, by: str, date: str, who: str
) -> tuple[np.ndarray, pd.Series]:
    """The checked event flags (bool, `(n,)`) and dates (datetime64) of an event helper's table:
    names that are names, no missing values, flags 0/1 or True/False, dates that are dates."""
    names = [
        checks.column_names(v, k, who, many=False)[0]
        for k, v in (("event", event), ("by", by), ("date", date))
    ]
    check_columns(checks.frame(df, who), names, "the table")
    checks.no_missing(df, names, who)
    return checks.event_flags(df[event], who), checks.date_column(df[date], date, who)


def _days_to_event(df: pd.DataFrame, event: str, by: str, date: str, forward: bool) -> np.ndarray:
    """Days from each row to its group's last (`forward`: next) event, aligned with `df`."""
    who = "days_until" if forward else "days_since"
    flags, dates = _event_columns(df, event, by, date, who)
    order = np.lexsort((dates.to_numpy(), df[by].to_numpy()))  # by group, then date
    d = dates.iloc[order].reset_index(drop=True)
    g = df[by].iloc[order].reset_index(drop=True)
    event_dates = d.where(flags[order]).groupby(g)
    gap = (event_dates.bfill() - d) if forward else (d - event_dates.ffill())
    out = np.empty(len(df))
    out[order] = gap.dt.days.to_numpy(dtype=float, na_value=np.nan)
    return out


def days_since(df: pd.DataFrame, event: str, by: str = "Store", date: str = "Date") -> pd.Series:
    """Days since the last row of the same group `by` where `event` was true (0 on the day).

    The 2018 notebook's `get_elapsed`, vectorised; rows in any order; NaN before the first event.
    A missing event flag, group or date is an error (neither an event nor its absence): fill it.
    The flags must be 0/1 or True/False ("no" would count as an event); dates may be text.
    """
    out = _days_to_event(df, event, by, date, forward=False)
    return pd.Series(out, index=df.index, name=f"days_since_{event}")


def days_until(df: pd.DataFrame, event: str, by: str = "Store", date: str = "Date") -> pd.Series:
    """Days until the next row of the same group where `event` is true; NaN after the last.
    A missing event flag, group or date is an error, as in `days_since`."""
    out = _days_to_event(df, event, by, date, forward=True)
    return pd.Series(out, index=df.index, name=f"days_until_{event}")


def rolling_count(
    df: pd.DataFrame,
    event: str,
    window: int = 7,
    by: str = "Store",
    date: str = "Date",
    forward: bool = False,
) -> pd.Series:
    """How many rows of the same group with `event` true lie within `window` calendar days.

    Backward (default): the days ending on the row's date; forward: the days starting on it.
    After sorting by (group, date) each row's key is `group * 10**6 + day number`; the window's
    ends are found with `searchsorted` and counted with one cumulative sum. A missing event
    flag, group or date is an error, as in `days_since`.
    """
    flags, dates = _event_columns(df, event, by, date, "rolling_count")
    window = checks.whole_number(window, "window (days)", example="7")
    forward = checks.on_off(forward, "forward")
    order = np.lexsort((dates.to_numpy(), df[by].to_numpy()))
    day = dates.to_numpy()[order].astype("datetime64[D]").astype(np.int64)
    group = pd.factorize(df[by].to_numpy()[order])[0].astype(np.int64)  # ascending after sort
    key = group * 1_000_000 + (day - day.min())
    cum = np.concatenate([[0], np.cumsum(flags[order].astype(np.int64))])
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


# --------------------------------------------------------------------------- inputs and the model


def emb_size(cardinality: int) -> int:
    """Embedding width for a column of `cardinality` codes (missing included): the 2018
    course's rule of thumb, half the number of codes, rounded up, at most 50."""
    n = checks.whole_number(
        cardinality, "emb_size's cardinality", example="len(codes) + 1, the 0 for missing"
    )
    return min(50, (n + 1) // 2)


@dataclass
class TabularProcessor:
    """Turns a table into the two arrays a `MixedInputModel` takes, with training statistics.

    `fit(train)` records, from the training rows only, each categorical column's sorted values
    (code `i + 1` is the i-th value, 0 is missing or never seen, so a value only in the test set
    gets no new meaning) and each continuous column's median (fills gaps), mean and std.
    `transform(df)` returns int64 codes `(n, n_cat)` and float32 normalised values `(n, n_cont)`.
    Never fit on the validation or test set: its statistics would leak into the inputs, and a
    category seen only there would get a code the model was trained on. A continuous column of
    text, with inf, or empty in training is an error (its statistics would be NaN), and so is a
    categorical column none of whose values training saw, of another type (text "1" for 1).
    """

    cat_vars: list[str]
    cont_vars: list[str]
    categories: dict[str, pd.Index] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # one name is a list of one; a column in both lists would be fed to the model twice
        self.cat_vars = checks.column_names(
            self.cat_vars, "cat_vars", "TabularProcessor", empty_ok=True
        )
        self.cont_vars = checks.column_names(
            self.cont_vars, "cont_vars", "TabularProcessor", empty_ok=True
        )
        if both := sorted(set(self.cat_vars) & set(self.cont_vars)):
            raise ValueError(
                f"TabularProcessor: {both} are in both cat_vars and cont_vars: a column is "
                "either categorical (an embedding) or continuous (a number), not both."
            )

    def fit(self, df: pd.DataFrame) -> TabularProcessor:
        check_columns(
            checks.frame(df, "TabularProcessor.fit"),
            [*self.cat_vars, *self.cont_vars],
            "the training table",
        )
        if len(df) == 0:
            raise ValueError("TabularProcessor.fit: the training table has no rows.")
        for c in self.cat_vars:
            self.categories[c] = pd.Index(sorted(df[c].dropna().unique()))
        for c in self.cont_vars:
            x = checks.numeric_column(df[c], "TabularProcessor.fit")
            if x.isna().all():
                raise ValueError(
                    f"TabularProcessor.fit: continuous column {c!r} has no value in the "
                    "training table (all missing): drop it from cont_vars."
                )
            self.medians[c] = float(x.median())
            x = x.fillna(self.medians[c])
            self.means[c], std = float(x.mean()), float(x.std())
            self.stds[c] = std if std > 0 else 1.0
        return self

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if (self.cat_vars and not self.categories) or (self.cont_vars and not self.medians):
            raise RuntimeError("TabularProcessor.transform before fit: call fit(train) first.")
        check_columns(
            checks.frame(df, "TabularProcessor.transform"),
            [*self.cat_vars, *self.cont_vars],
            "the table",
        )
        cats = np.zeros((len(df), len(self.cat_vars)), dtype=np.int64)
        for i, c in enumerate(self.cat_vars):
            cats[:, i] = self.categories[c].get_indexer(df[c]) + 1  # unseen/NaN: -1 -> code 0
            checks.same_kind(df[c], cats[:, i], self.categories[c])
        conts = np.zeros((len(df), len(self.cont_vars)), dtype=np.float32)
        for i, c in enumerate(self.cont_vars):
            x = checks.numeric_column(df[c], "TabularProcessor.transform").fillna(self.medians[c])
            conts[:, i] = (x - self.means[c]) / self.stds[c]
        return cats, conts

    def cardinalities(self) -> dict[str, int]:
        """Number of codes per categorical column, the 0 for missing/unseen included."""
        return {c: len(self.categories[c]) + 1 for c in self.cat_vars}

    def emb_szs(self) -> list[tuple[int, int]]:
        """`(cardinality, width)` per categorical column, by `emb_size`."""
        return [(n, emb_size(n)) for n in self.cardinalities().values()]


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

    def __init__(
        self,
        emb_szs: Sequence[tuple[int, int]],
        n_cont: int,
        emb_drop: float,
        out_sz: int,
        szs: Sequence[int],
        drops: Sequence[float],
        y_range: tuple[float, float] | None = None,
        use_bn: bool = False,
    ) -> None:
        super().__init__()
        checks.mixed_input_sizes(emb_szs, n_cont, emb_drop, out_sz, szs, drops)
        self.embs = nn.ModuleList([nn.Embedding(n, w) for n, w in emb_szs])
        for e in self.embs:  # small uniform init, scaled by width (as fastai did)
            bound = 2 / (e.embedding_dim + 1)
            nn.init.uniform_(e.weight, -bound, bound)
        self.n_emb = sum(w for _, w in emb_szs)
        self.emb_drop = nn.Dropout(emb_drop)
        self.n_cont = n_cont
        self.bn_cont = nn.BatchNorm1d(n_cont) if n_cont else nn.Identity()  # none to normalise
        widths = [self.n_emb + n_cont, *szs]
        self.lins = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths[:-1], szs, strict=True)])
        for lin in self.lins:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        self.bns = nn.ModuleList([nn.BatchNorm1d(w) for w in szs]) if use_bn else None
        self.drops = nn.ModuleList([nn.Dropout(p) for p in drops])
        self.out = nn.Linear(widths[-1], out_sz)
        nn.init.kaiming_normal_(self.out.weight)
        self.y_range = checks.value_range(y_range, "MixedInputModel's y_range")

    def forward(self, x_cat: Tensor, x_cont: Tensor) -> Tensor:
        # (bs, n_cat) codes -> (bs, sum of widths): each column looks up its own table
        sizes = [e.num_embeddings for e in self.embs]
        checks.category_codes(x_cat, sizes, self.training, "MixedInputModel")
        checks.continuous_inputs(x_cont, self.n_cont, len(x_cat), "MixedInputModel")
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
    """Each categorical code replaced by its learned embedding vector, for trees or k-NN:
    `cats` `(n, n_cat)` int codes -> float32 `(n, model.n_emb)`."""
    cats = torch.as_tensor(cats).cpu()
    sizes = [e.num_embeddings for e in model.embs]
    checks.category_codes(cats, sizes, training=False, who="embedding_features")
    cols = [e.weight.detach().cpu().float()[cats[:, i]] for i, e in enumerate(model.embs)]
    return torch.cat(cols, dim=1).numpy()  # float32 already: no second copy of (n, n_emb)


# --------------------------------------------------------------------------- metric


def exp_rmspe(pred: Tensor, targ: Tensor) -> Tensor:
    """Kaggle's RMSPE `sqrt(mean(((y - y_hat) / y) ** 2))` of `exp(pred)` against `exp(targ)`
    (the model predicts log sales), as `1 - exp(pred - targ)`: no large numbers formed."""
    checks.matching_shapes(pred, targ, "exp_rmspe")
    pct = 1 - torch.exp(pred.float() - targ.float())
    return torch.sqrt((pct**2).mean())


def rmspe(y_pred: np.ndarray | pd.Series, y_true: np.ndarray | pd.Series) -> float:
    """RMSPE on sales themselves (rows with true sales 0 must be left out beforehand)."""
    y_pred = checks.finite_values(y_pred, "y_pred", "rmspe")
    y_true = checks.finite_values(y_true, "y_true", "rmspe")
    if y_pred.shape != y_true.shape:
        raise ValueError(
            f"rmspe: y_pred has shape {y_pred.shape}, y_true {y_true.shape}: "
            "pass one prediction per true value, in the same order."
        )
    if (y_true == 0).any():
        raise ValueError("rmspe is undefined where the true value is 0 (Kaggle ignored those).")
    return float(np.sqrt(np.mean(((y_true - y_pred) / y_true) ** 2)))
