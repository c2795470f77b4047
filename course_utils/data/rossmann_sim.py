"""An honest offline stand-in for Kaggle's Rossmann `train.csv`.

Kaggle's `train.csv` cannot be redistributed and many students have no Kaggle account, so
without it the course simulates one. The simulated file has exactly Kaggle's schema and
quirks (see `simulate_train`) for the 1,115 real stores of `store.csv`, and every sale is
driven by something real: the store's type, assortment, competitor and Promo2 from
`store.csv`, its state from `store_states.csv`, that state's real daily weather and weekly
Google Trends, German public holidays and school holidays per state (the `holidays`
package), and Rossmann's chain-wide promotion rhythm (every other week, Monday to Friday, in
phase with the last week of Kaggle's train.csv).

The model is multiplicative, i.e. additive in log space:

    log(Sales) = log(base_sales) + store + state + growth * years
                 + day-of-week(store type) + month + pre-Christmas ramp
                 + promo (+ extra on promo Mondays) + Promo2 in its months
                 + competition (fades in over months, stronger when closer)
                 + school holiday + day before / after a public holiday
                 + rain / snow / thunderstorm / heat + Google Trends (state and national)
                 + noise ~ Normal(0, noise_sd)

Every effect size is a named, documented field of `SimParams` (`describe_params()` lists
them). The noise is the only thing no feature can explain (apart from the slow store-level
growth and random closures), so `noise_floor(noise_sd)` is the best RMSPE any model can
reach on it. Same parameters, same seed, same file: `simulated_train_csv` caches the
result under `data/rossmann/simulated/`, keyed by the parameters and the input tables.

`SimParams`, `describe_params`, `noise_floor` and `expected_rows` live in
`rossmann_sim_params` (imported here), the real inputs per state or store and day (holidays,
weather, trends, Promo2 months) in `rossmann_sim_inputs`; this module holds the simulation,
step by step, and its cached file.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.data.errors import DataError
from course_utils.data.fetch import data_dir
from course_utils.data.rossmann_schema import STATE_NAMES, TRAIN_COLUMNS, base_state
from course_utils.data.rossmann_sim_inputs import (
    log_trend,
    promo2_days,
    state_calendar,
    state_weather,
)
from course_utils.data.rossmann_sim_params import (
    SIM_VERSION,
    SimParams,
    describe_params,
    expected_rows,
    noise_floor,
)
from course_utils.files import atomic_write

__all__ = [
    "SIM_VERSION",
    "SimParams",
    "describe_params",
    "expected_rows",
    "noise_floor",
    "simulate_train",
    "simulated_train_csv",
    "write_kaggle_csv",
]


# --------------------------------------------------------------------------- the simulation


def _state_index(st: pd.DataFrame, store_states: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The states of the stores (sorted codes) and each store's index into them, `(n_stores,)`.

    Every per-state input is computed once per state and indexed by store, so a store without
    a state is an error here, not a silent NaN later.
    """
    states = st["Store"].map(store_states.set_index("Store")["State"])
    if states.isna().any():
        raise DataError(
            f"store_states.csv, column 'Store': no state for store(s) "
            f"{st['Store'][states.isna()].head(5).tolist()}."
        )
    uniq = sorted(states.unique())
    return uniq, states.map({s: i for i, s in enumerate(uniq)}).to_numpy()


def _state_days(
    p: SimParams,
    uniq: list[str],
    dates: pd.DatetimeIndex,
    googletrend: pd.DataFrame,
    weather: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each state's day: holiday code, school-holiday flag and log effect, `(n_states, n_days)`.

    Holidays and school holidays differ by state, and so do the real weather and Google Trends
    that drive the effect: school holidays, stocking up the day before a public holiday and
    shopping the day after, rain, snow, storms, heat, and the state's search interest.
    """
    cal = [state_calendar(base_state(s), dates) for s in uniq]
    hol_code = np.stack([c for c, _ in cal])
    school = np.stack([f for _, f in cal])
    wx = [state_weather(weather, STATE_NAMES[base_state(s)], dates) for s in uniq]
    trend = np.stack([log_trend(googletrend, f"Rossmann_DE_{base_state(s)}", dates) for s in uniq])
    hol = hol_code != "0"
    before = np.zeros_like(hol)
    before[:, :-1] = hol[:, 1:] & ~hol[:, :-1]
    after = np.zeros_like(hol)
    after[:, 1:] = hol[:, :-1] & ~hol[:, 1:]
    weather_eff = np.stack(
        [
            p.rain_effect * w["rain"]
            + p.snow_effect * w["snow"]
            + p.storm_effect * w["storm"]
            + p.heat_effect * np.maximum(0, w["max_temp"] - p.heat_threshold)
            for w in wx
        ]
    )
    state_eff = (
        p.school_holiday_effect * school
        + p.before_holiday_effect * before
        + p.after_holiday_effect * after
        + weather_eff
        + p.trend_elasticity * trend
    )
    return hol_code, school, state_eff


def _chain_days(
    p: SimParams, dates: pd.DatetimeIndex, googletrend: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """The promotion flag and the log effect every store shares each day, `(n_days,)`.

    The chain-wide calendar: month of the year, the pre-Christmas ramp, the short days of
    24 and 31 December, promotions (and their Mondays) and national search interest.
    """
    dow = dates.day_of_week.to_numpy()  # Monday = 0
    # Kaggle's train.csv ends in a promo week (27-31 July 2015; its weekly Google Trends
    # peak in promo weeks); promotions alternate weekly from there, Monday to Friday.
    anchor = pd.Timestamp(p.promo_anchor)
    promo = ((dates - anchor).days.to_numpy() // 7 % 2 == 0) & (dow < 5)
    month = np.asarray(p.month_effect)[dates.month.to_numpy() - 1]
    dec = dates.month.to_numpy() == 12
    day = dates.day.to_numpy()
    ramp = np.clip(1 - (24 - day) / p.christmas_days, 0, 1) * (dec & (day < 24))
    short = dec & ((day == 24) | (day == 31))
    day_eff = (
        month
        + p.christmas_boost * ramp
        + p.short_day_effect * short
        + p.promo_effect * promo
        + p.promo_monday_effect * (promo & (dow == 0))
        + p.national_trend_elasticity * log_trend(googletrend, "Rossmann_DE", dates)
    )
    return promo, day_eff


def _store_levels(
    p: SimParams, st: pd.DataFrame, s_idx: np.ndarray, n_states: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each store's log level, yearly growth and own basket size, `(n_stores,)` each.

    The level comes from what store.csv says (type, assortment, competitor distance) plus an
    unobserved store and state level that a model can only learn from the sales. The draws
    come in a fixed order, so the same seed gives the same stores.
    """
    store_level = rng.normal(0, p.store_sd, len(st))
    state_level = rng.normal(0, p.state_sd, n_states)[s_idx]
    growth = rng.normal(p.growth_mean, p.growth_sd, len(st))
    basket_own = rng.normal(0, p.basket_sd, len(st))
    log_d = np.log(st["CompetitionDistance"].fillna(100_000.0).to_numpy(float))
    level = (
        math.log(p.base_sales)
        + st["StoreType"].map(p.store_type_effect).to_numpy()
        + st["Assortment"].map(p.assortment_effect).to_numpy()
        + p.distance_effect * (log_d - log_d.mean()) / (log_d.std() or 1.0)
        + store_level
        + state_level
    )
    return level, growth, basket_own


def _competition(p: SimParams, st: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """The log effect of each store's competitor on each day, `(n_stores, n_days)`.

    Stronger when closer (decaying with distance), and fading in over
    `competition_ramp_months` after the competitor opened (CompetitionOpenSince*), as a new
    competitor takes customers gradually.
    """
    dist = st["CompetitionDistance"].fillna(100_000.0).to_numpy(float)
    has_open = st["CompetitionOpenSinceYear"].notna().to_numpy()
    opened = pd.to_datetime(
        pd.DataFrame(
            {
                "year": st["CompetitionOpenSinceYear"].fillna(1900).astype(int),
                "month": st["CompetitionOpenSinceMonth"].fillna(1).astype(int),
                "day": 15,
            }
        )
    )
    months_open = (
        (dates.to_numpy()[None, :] - opened.to_numpy()[:, None]) / np.timedelta64(1, "D") / 30.44
    )
    comp_ramp = np.where(
        has_open[:, None], np.clip(months_open / p.competition_ramp_months, 0, 1), 1
    )
    return p.competition_effect * np.exp(-dist / p.competition_reach_m)[:, None] * comp_ramp


def _sales_and_customers(
    p: SimParams,
    rng: np.random.Generator,
    st: pd.DataFrame,
    log_mu: np.ndarray,
    basket_own: np.ndarray,
    promo: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Whole-euro sales and customers of every store-day, `(n_stores, n_days)` each.

    Sales are the expected log sales plus Normal(0, noise_sd) noise, the part no feature
    explains; customers are sales over a basket that depends on the store and shrinks in
    promotions, with noise of its own.
    """
    shape = log_mu.shape
    noise = rng.normal(0, p.noise_sd, shape)
    sales = np.rint(np.exp(log_mu + noise))
    log_basket = (
        math.log(p.basket) + st["StoreType"].map(p.basket_type_effect).to_numpy() + basket_own
    )[:, None] + p.promo_basket_effect * promo[None, :]
    customers = np.rint(sales / np.exp(log_basket + rng.normal(0, p.customer_noise_sd, shape)))
    return sales, customers


def _closed_days(
    p: SimParams, rng: np.random.Generator, stype: np.ndarray, dow: np.ndarray, hol: np.ndarray
) -> np.ndarray:
    """Which store-days are closed, `(n_stores, n_days)` bool; `hol`: public holidays per store.

    As in Kaggle's file: most stores close on Sundays and public holidays (type b and a few
    others open), some close for weeks for a refurbishment, and any may close on a random day.
    """
    n, n_days = hol.shape
    sunday_store = np.isin(stype, p.sunday_store_types)
    others = np.flatnonzero(~sunday_store)
    sunday_store[rng.choice(others, min(p.extra_sunday_stores, len(others)), replace=False)] = True
    closed = (~sunday_store[:, None]) & ((dow == 6)[None, :] | hol)
    n_refurb = round(p.refurb_share * n)
    lo, hi = p.refurb_days
    for i, length in zip(
        rng.choice(n, n_refurb, replace=False), rng.integers(lo, hi + 1, n_refurb), strict=True
    ):
        first = rng.integers(0, n_days - length)
        closed[i, first : first + length] = True
    closed |= rng.random((n, n_days)) < p.closure_prob
    return closed


def _rows_kept(
    p: SimParams, rng: np.random.Generator, st: pd.DataFrame, dates: pd.DatetimeIndex
) -> np.ndarray:
    """Which store-days have a row, `(n_stores, n_days)` bool.

    Kaggle's file lacks every row of `gap_stores` stores from `gap_start` to `gap_end` and a
    few single rows (`missing_rows`); the lessons have to cope with both.
    """
    n = len(st)
    keep = np.ones((n, len(dates)), dtype=bool)
    gap_days = (dates >= p.gap_start) & (dates <= p.gap_end)
    gap = rng.choice(n, min(p.gap_stores, n), replace=False)
    keep[np.ix_(gap, np.flatnonzero(gap_days))] = False
    pos = {s: i for i, s in enumerate(st["Store"])}
    for s, d in p.missing_rows:
        if s in pos and pd.Timestamp(d) in dates:
            keep[pos[s], dates.get_loc(pd.Timestamp(d))] = False
    return keep


def _newest_first(a: np.ndarray) -> np.ndarray:
    """A `(n_stores, n_days)` grid as Kaggle's rows run: newest day first, stores ascending."""
    return a[:, ::-1].T.ravel()


def simulate_train(
    store: pd.DataFrame,
    store_states: pd.DataFrame,
    googletrend: pd.DataFrame,
    weather: pd.DataFrame,
    params: SimParams | None = None,
) -> pd.DataFrame:
    """A train.csv-shaped table for the stores of `store`, as Kaggle's file would have it.

    Schema: Store, DayOfWeek (1 = Monday), Date, Sales, Customers, Open, Promo,
    StateHoliday ('0', 'a' public, 'b' Easter, 'c' Christmas), SchoolHoliday; one row per
    store and day from `start` to `end`, newest day first, stores ascending. Quirks kept:
    `gap_stores` stores have no rows in the gap, `missing_rows` are absent, closed days
    have Sales = Customers = 0, a few open days have zero sales, most stores close on
    Sundays and public holidays, some close for weeks (refurbishment).
    Vectorised over a (stores, days) grid; about a million rows in seconds.
    """
    p = params or SimParams()
    rng = np.random.default_rng(p.seed)
    dates = pd.date_range(p.start, p.end)
    n_days = len(dates)
    st = store.sort_values("Store").reset_index(drop=True)
    n = len(st)
    uniq, s_idx = _state_index(st, store_states)
    hol_code, school, state_eff = _state_days(p, uniq, dates, googletrend, weather)
    promo, day_eff = _chain_days(p, dates, googletrend)
    dow = dates.day_of_week.to_numpy()  # Monday = 0
    years = (dates - dates[0]).days.to_numpy() / 365.25
    level, growth, basket_own = _store_levels(p, st, s_idx, len(uniq), rng)
    stype = st["StoreType"].to_numpy()
    dow_tab = np.asarray(p.dow_effect)[None, :] + np.outer(stype == "b", p.dow_effect_type_b)

    # ---- expected log sales, (n_stores, n_days), then the noisy draw
    log_mu = (
        level[:, None]
        + growth[:, None] * years[None, :]
        + dow_tab[:, dow]
        + day_eff[None, :]
        + state_eff[s_idx]
        + _competition(p, st, dates)
        + p.promo2_effect * promo2_days(st, dates)
    )
    sales, customers = _sales_and_customers(p, rng, st, log_mu, basket_own, promo)

    # ---- closed days sell nothing; a few open days sell nothing too (a Kaggle quirk)
    closed = _closed_days(p, rng, stype, dow, hol_code[s_idx] != "0")
    open_ = ~closed
    sales[closed] = 0
    customers[closed] = 0
    zero = rng.choice(np.flatnonzero(open_), p.open_zero_sales_rows, replace=False)
    sales.flat[zero] = 0
    customers.flat[zero] = 0

    keep = _newest_first(_rows_kept(p, rng, st, dates))
    grid_store = np.broadcast_to(st["Store"].to_numpy()[:, None], (n, n_days))
    grid_day = np.broadcast_to(np.arange(n_days)[None, :], (n, n_days))
    di = _newest_first(grid_day)[keep]
    return pd.DataFrame(
        {
            "Store": _newest_first(grid_store)[keep].astype(np.int64),
            "DayOfWeek": (dow[di] + 1).astype(np.int64),
            "Date": dates[di],
            "Sales": _newest_first(sales)[keep].astype(np.int64),
            "Customers": _newest_first(customers)[keep].astype(np.int64),
            "Open": _newest_first(open_)[keep].astype(np.int64),
            "Promo": promo[di].astype(np.int64),
            "StateHoliday": _newest_first(hol_code[s_idx])[keep],
            "SchoolHoliday": _newest_first(school[s_idx])[keep].astype(np.int64),
        }
    )


def write_kaggle_csv(df: pd.DataFrame, file: Path) -> None:
    """Write a train.csv as Kaggle's files look: quoted header, CRLF, quoted flag columns."""
    body = df.assign(
        Date=df["Date"].dt.strftime("%Y-%m-%d"),
        StateHoliday='"' + df["StateHoliday"].astype(str) + '"',
        SchoolHoliday='"' + df["SchoolHoliday"].astype(str) + '"',
    )
    with open(file, "w", newline="") as f:
        f.write(",".join(f'"{c}"' for c in TRAIN_COLUMNS) + "\r\n")
        body.to_csv(
            f,
            header=False,
            index=False,
            lineterminator="\r\n",
            quoting=csv.QUOTE_NONE,
            quotechar="|",
        )


def _inputs_hash(*tables: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for t in tables:
        h.update(pd.util.hash_pandas_object(t, index=False).to_numpy().tobytes())
    return h.hexdigest()[:12]


def simulated_train_csv(
    store: pd.DataFrame,
    store_states: pd.DataFrame,
    googletrend: pd.DataFrame,
    weather: pd.DataFrame,
    params: SimParams | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: bool = True,
) -> Path:
    """The simulated train.csv for these inputs and parameters: cached, else written now.

    The file is `train_<params>_<inputs>.csv` under `cache_dir` (default
    `data/rossmann/simulated/`, git-ignored), with the parameters beside it as JSON. It is
    written to a temporary name and renamed when complete, so a crash never leaves half a file.
    """
    p = params or SimParams()
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "rossmann" / "simulated"
    if folder.exists() and not folder.is_dir():
        raise DataError(
            f"cache_dir {folder} is a file, not a folder: pass a folder (it is created if missing)."
        )
    file = folder / f"train_{p.key()}_{_inputs_hash(store, store_states, googletrend, weather)}.csv"
    if file.is_file():
        return file
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    df = simulate_train(store, store_states, googletrend, weather, p)
    with atomic_write(file.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(dataclasses.asdict(p), indent=1))
    with atomic_write(file) as tmp:
        write_kaggle_csv(df, tmp)
    if verbose:
        print(f"Simulated {len(df):,} rows into {file} in {time.perf_counter() - t:.1f} s")
    return file
