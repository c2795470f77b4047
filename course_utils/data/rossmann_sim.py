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
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

from course_utils.data import DataError, atomic_write, data_dir
from course_utils.data.rossmann_schema import STATE_NAMES, TRAIN_COLUMNS, base_state

__all__ = [
    "SIM_VERSION",
    "SimParams",
    "describe_params",
    "expected_rows",
    "noise_floor",
    "simulate_train",
    "simulated_train_csv",
]

SIM_VERSION = 1  # bump when the simulation code changes what it writes


def _p(default, doc: str):
    """A parameter with its documentation (read by `describe_params`)."""
    if isinstance(default, dict | list):
        return field(default_factory=lambda: default.copy(), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class SimParams:
    """Every knob of the simulator. Effects are additive in log(Sales): 0.10 means +10.5%."""

    seed: int = _p(42, "seed of every random draw (same seed, same file)")
    start: str = _p("2013-01-01", "first day of train.csv (Kaggle's)")
    end: str = _p("2015-07-31", "last day of train.csv (Kaggle's)")
    gap_stores: int = _p(180, "stores with no rows from gap_start to gap_end (Kaggle quirk)")
    gap_start: str = _p("2014-07-01", "first day of the gap")
    gap_end: str = _p("2014-12-31", "last day of the gap")
    missing_rows: list = _p(
        [[988, "2013-01-01"]], "single (store, date) rows absent, as in Kaggle's file"
    )
    # --- store level
    base_sales: float = _p(5800.0, "typical daily sales of a type-a store on an ordinary day")
    store_type_effect: dict = _p(
        {"a": 0.0, "b": 0.45, "c": 0.02, "d": 0.05}, "log effect of StoreType (b: large stores)"
    )
    assortment_effect: dict = _p(
        {"a": 0.0, "b": 0.10, "c": 0.08}, "log effect of Assortment (b extra, c extended)"
    )
    distance_effect: float = _p(-0.04, "per standard deviation of log(CompetitionDistance)")
    store_sd: float = _p(0.30, "sd of each store's own level (unobserved, learnable)")
    state_sd: float = _p(0.05, "sd of each state's own level")
    growth_mean: float = _p(0.02, "mean yearly growth of a store (log per year)")
    growth_sd: float = _p(0.02, "sd of the yearly growth across stores")
    # --- calendar
    dow_effect: list = _p(
        [0.12, 0.01, -0.02, -0.04, 0.02, -0.08, 0.10],
        "Monday..Sunday (Sunday only matters for stores open on Sundays)",
    )
    dow_effect_type_b: list = _p(
        [-0.06, -0.02, 0.0, 0.0, 0.0, 0.06, 0.15], "added for StoreType b (busy at weekends)"
    )
    month_effect: list = _p(
        [-0.05, -0.06, -0.02, 0.0, 0.0, 0.0, 0.02, -0.01, -0.02, -0.02, 0.01, 0.08],
        "January..December",
    )
    christmas_boost: float = _p(0.35, "extra on 23 December, ramping up from 0")
    christmas_days: int = _p(12, "length of the pre-Christmas ramp in days")
    short_day_effect: float = _p(-0.30, "24 and 31 December (shops close early)")
    # --- promotions, competition, holidays
    promo_anchor: str = _p("2015-07-27", "a promo Monday; promo weeks alternate from it")
    promo_effect: float = _p(0.22, "chain-wide promotion day")
    promo_monday_effect: float = _p(0.06, "extra on the Monday a promotion starts")
    promo2_effect: float = _p(0.03, "Promo2 store, after Promo2Since, in a PromoInterval month")
    competition_effect: float = _p(-0.15, "a competitor next door, once fully established")
    competition_reach_m: float = _p(2000.0, "the competition effect decays as exp(-distance/reach)")
    competition_ramp_months: float = _p(6.0, "months for a new competitor's effect to build up")
    school_holiday_effect: float = _p(0.04, "school holiday in the store's state")
    before_holiday_effect: float = _p(0.10, "day before a public holiday (stocking up)")
    after_holiday_effect: float = _p(0.06, "day after a public holiday")
    # --- weather and search interest
    rain_effect: float = _p(-0.03, "Events mentions Rain")
    snow_effect: float = _p(-0.05, "Events mentions Snow")
    storm_effect: float = _p(-0.03, "Events mentions Thunderstorm")
    heat_effect: float = _p(-0.004, "per degree of Max_TemperatureC above heat_threshold")
    heat_threshold: float = _p(25.0, "degrees C")
    trend_elasticity: float = _p(0.2, "per unit of log(state Google Trend / its mean)")
    national_trend_elasticity: float = _p(0.1, "per unit of log(national trend / its mean)")
    # --- openings and closures
    sunday_store_types: list = _p(["b"], "store types that open on Sundays and holidays")
    extra_sunday_stores: int = _p(16, "further random stores open on Sundays and holidays")
    refurb_share: float = _p(0.05, "share of stores closed once for refurbishment")
    refurb_days: list = _p([14, 120], "min and max length of a refurbishment closure")
    closure_prob: float = _p(0.0015, "chance of a random single-day closure")
    open_zero_sales_rows: int = _p(54, "open store-days with zero sales (Kaggle quirk)")
    # --- customers
    basket: float = _p(9.5, "average sale per customer of a type-a store")
    basket_type_effect: dict = _p(
        {"a": 0.0, "b": -0.55, "c": 0.0, "d": 0.15}, "log effect of StoreType on the basket"
    )
    basket_sd: float = _p(0.10, "sd of each store's own basket (log)")
    promo_basket_effect: float = _p(-0.05, "promotions bring more, smaller baskets")
    customer_noise_sd: float = _p(0.04, "day-to-day noise of customers per sale (log)")
    # --- noise
    noise_sd: float = _p(0.10, "sd of the daily multiplicative noise, log(Sales) ~ +N(0, sd)")

    def key(self) -> str:
        """A short hash of the parameters (part of the cache file name)."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True) + f"v{SIM_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def describe_params(params: SimParams | None = None) -> pd.DataFrame:
    """The parameters as a table: name, value, meaning."""
    params = params or SimParams()
    return pd.DataFrame(
        [(f.name, getattr(params, f.name), f.metadata["doc"]) for f in dataclasses.fields(params)],
        columns=["parameter", "value", "meaning"],
    ).set_index("parameter")


def noise_floor(noise_sd: float | SimParams) -> float:
    """The lowest RMSPE any prediction can reach when Sales = m * exp(Normal(0, sd)).

    For a prediction `c * m`, E[(1 - c * exp(-e))**2] = 1 - 2c exp(sd²/2) + c² exp(2 sd²),
    smallest at c = exp(-3 sd²/2), where it equals 1 - exp(-sd²). Even a model that knew
    every effect exactly could not do better.
    """
    sd = noise_sd.noise_sd if isinstance(noise_sd, SimParams) else float(noise_sd)
    return math.sqrt(1 - math.exp(-(sd**2)))


def expected_rows(store: pd.DataFrame, params: SimParams) -> int:
    """How many rows `simulate_train` writes for these stores (1,017,209 for Kaggle's)."""
    days = len(pd.date_range(params.start, params.end))
    gap = len(pd.date_range(params.gap_start, params.gap_end))
    stores = set(store["Store"])
    missing = sum(1 for s, _ in params.missing_rows if s in stores)
    return len(stores) * days - min(params.gap_stores, len(stores)) * gap - missing


# --------------------------------------------------------------------------- inputs per state


def _state_calendar(code: str, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Kaggle-style StateHoliday codes and the school-holiday flag of one state, per date."""
    years = sorted(set(dates.year))
    cats = ("public", "catholic") if code == "BY" else ("public",)  # BY: Assumption Day
    public = holidays.Germany(subdiv=code, years=years, categories=cats)
    try:
        school = holidays.Germany(subdiv=code, years=years, categories=("school",))
    except ValueError:  # older `holidays` releases have no German school calendar
        raise RuntimeError(
            f"The simulator needs German school holidays from the `holidays` package, which "
            f"this version ({holidays.__version__}) lacks: pip install -U 'holidays>=0.109'."
        ) from None
    codes = np.full(len(dates), "0", dtype=object)
    for i, day in enumerate(dates.date):
        if day in public:
            e = easter(day.year)
            if (day - e).days in (-2, 1):  # Good Friday, Easter Monday
                codes[i] = "b"
            elif day.month == 12 and day.day in (25, 26):
                codes[i] = "c"
            else:
                codes[i] = "a"
    school_flag = np.array([d in school for d in dates.date])
    return codes, school_flag


def _weather_arrays(
    weather: pd.DataFrame, name: str, dates: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    w = weather[weather["file"] == name].set_index("Date").reindex(dates)
    if w["Max_TemperatureC"].isna().any():
        first = w.index[w["Max_TemperatureC"].isna()][0].date()
        raise DataError(
            f"Weather for {name} lacks Max_TemperatureC on {first}; the simulator "
            "needs every day from 2013-01-01 to 2015-07-31."
        )
    events = w["Events"].fillna("").astype(str)
    return {
        "max_temp": w["Max_TemperatureC"].to_numpy(float),
        "rain": events.str.contains("Rain").to_numpy(),
        "snow": events.str.contains("Snow").to_numpy(),
        "storm": events.str.contains("Thunderstorm").to_numpy(),
    }


def _log_trend(googletrend: pd.DataFrame, file: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """log(trend) of the week holding each date, minus its mean over the dates."""
    g = googletrend[googletrend["file"] == file]
    week_start = pd.to_datetime(g["week"].str.split(" - ").str[0])
    s = pd.Series(g["trend"].to_numpy(float), index=week_start)
    sunday = dates - pd.to_timedelta((dates.day_of_week + 1) % 7, unit="D")  # weeks start Sunday
    v = s.reindex(sunday).to_numpy()
    if np.isnan(v).any():
        raise DataError(f"Google Trends {file} lacks the week of {dates[np.isnan(v)][0].date()}.")
    lv = np.log(np.maximum(v, 1.0))
    return lv - lv.mean()


# --------------------------------------------------------------------------- the simulation


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
    state_of = store_states.set_index("Store")["State"]
    states = st["Store"].map(state_of)
    if states.isna().any():
        raise DataError(
            f"store_states.csv, column 'Store': no state for store(s) "
            f"{st['Store'][states.isna()].head(5).tolist()}."
        )
    uniq = sorted(states.unique())
    s_idx = states.map({s: i for i, s in enumerate(uniq)}).to_numpy()

    # ---- per-state inputs: (n_states, n_days) arrays
    cal = [_state_calendar(base_state(s), dates) for s in uniq]
    hol_code = np.stack([c for c, _ in cal])
    school = np.stack([f for _, f in cal])
    wx = [_weather_arrays(weather, STATE_NAMES[base_state(s)], dates) for s in uniq]
    trend = np.stack([_log_trend(googletrend, f"Rossmann_DE_{base_state(s)}", dates) for s in uniq])
    trend_de = _log_trend(googletrend, "Rossmann_DE", dates)
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
    )  # (n_states, n_days)

    # ---- calendar: (n_days,) arrays
    dow = dates.day_of_week.to_numpy()  # Monday = 0
    years = (dates - dates[0]).days.to_numpy() / 365.25
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
        + p.national_trend_elasticity * trend_de
    )

    # ---- store attributes: (n_stores,) arrays; random draws in a fixed order
    store_level = rng.normal(0, p.store_sd, n)
    state_level = rng.normal(0, p.state_sd, len(uniq))[s_idx]
    growth = rng.normal(p.growth_mean, p.growth_sd, n)
    basket_own = rng.normal(0, p.basket_sd, n)
    stype = st["StoreType"].to_numpy()
    dist = st["CompetitionDistance"].fillna(100_000.0).to_numpy(float)
    log_d = np.log(dist)
    level = (
        math.log(p.base_sales)
        + st["StoreType"].map(p.store_type_effect).to_numpy()
        + st["Assortment"].map(p.assortment_effect).to_numpy()
        + p.distance_effect * (log_d - log_d.mean()) / (log_d.std() or 1.0)
        + store_level
        + state_level
    )
    dow_tab = np.asarray(p.dow_effect)[None, :] + np.outer(stype == "b", p.dow_effect_type_b)

    # competition: fades in over competition_ramp_months after the competitor opened
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
    comp = p.competition_effect * np.exp(-dist / p.competition_reach_m)[:, None] * comp_ramp

    # Promo2: from the Monday of Promo2SinceWeek, in the months of PromoInterval
    months = {
        "Jan": 1,
        "Feb": 2,
        "Mar": 3,
        "Apr": 4,
        "May": 5,
        "Jun": 6,
        "Jul": 7,
        "Aug": 8,
        "Sept": 9,
        "Sep": 9,
        "Oct": 10,
        "Nov": 11,
        "Dec": 12,
    }
    promo2 = np.zeros((n, n_days), dtype=bool)
    for i, row in enumerate(st.itertuples()):
        if row.Promo2 == 1 and isinstance(row.PromoInterval, str):
            since = pd.Timestamp.fromisocalendar(
                int(row.Promo2SinceYear), int(row.Promo2SinceWeek), 1
            )
            in_months = np.isin(dates.month, [months[m] for m in row.PromoInterval.split(",")])
            promo2[i] = in_months & (dates >= since)

    # ---- expected log sales and the noisy draw: (n_stores, n_days)
    log_mu = (
        level[:, None]
        + growth[:, None] * years[None, :]
        + dow_tab[:, dow]
        + day_eff[None, :]
        + state_eff[s_idx]
        + comp
        + p.promo2_effect * promo2
    )
    noise = rng.normal(0, p.noise_sd, (n, n_days))
    sales = np.rint(np.exp(log_mu + noise))
    log_basket = (
        math.log(p.basket) + st["StoreType"].map(p.basket_type_effect).to_numpy() + basket_own
    )[:, None] + p.promo_basket_effect * promo[None, :]
    customers = np.rint(
        sales / np.exp(log_basket + rng.normal(0, p.customer_noise_sd, (n, n_days)))
    )

    # ---- openings: Sundays, holidays, refurbishments, random closures
    sunday_store = np.isin(stype, p.sunday_store_types)
    others = np.flatnonzero(~sunday_store)
    sunday_store[rng.choice(others, min(p.extra_sunday_stores, len(others)), replace=False)] = True
    closed = (~sunday_store[:, None]) & ((dow == 6)[None, :] | hol[s_idx])
    n_refurb = round(p.refurb_share * n)
    lo, hi = p.refurb_days
    for i, length in zip(
        rng.choice(n, n_refurb, replace=False), rng.integers(lo, hi + 1, n_refurb), strict=True
    ):
        first = rng.integers(0, n_days - length)
        closed[i, first : first + length] = True
    closed |= rng.random((n, n_days)) < p.closure_prob
    open_ = ~closed
    sales[closed], customers[closed] = 0, 0
    zero = rng.choice(np.flatnonzero(open_), p.open_zero_sales_rows, replace=False)
    sales.flat[zero], customers.flat[zero] = 0, 0

    # ---- rows that exist: everything but the gap and the missing rows
    keep = np.ones((n, n_days), dtype=bool)
    gap_days = (dates >= p.gap_start) & (dates <= p.gap_end)
    gap = rng.choice(n, min(p.gap_stores, n), replace=False)
    keep[np.ix_(gap, np.flatnonzero(gap_days))] = False
    pos = {s: i for i, s in enumerate(st["Store"])}
    for s, d in p.missing_rows:
        if s in pos and pd.Timestamp(d) in dates:
            keep[pos[s], dates.get_loc(pd.Timestamp(d))] = False

    # ---- flatten newest day first, stores ascending (Kaggle's order)
    def flat(a: np.ndarray) -> np.ndarray:
        return a[:, ::-1].T.ravel()

    k = flat(keep)
    grid_store = np.broadcast_to(st["Store"].to_numpy()[:, None], (n, n_days))
    grid_day = np.broadcast_to(np.arange(n_days)[None, :], (n, n_days))
    di = flat(grid_day)[k]
    out = pd.DataFrame(
        {
            "Store": flat(grid_store)[k].astype(np.int64),
            "DayOfWeek": (dow[di] + 1).astype(np.int64),
            "Date": dates[di],
            "Sales": flat(sales)[k].astype(np.int64),
            "Customers": flat(customers)[k].astype(np.int64),
            "Open": flat(open_)[k].astype(np.int64),
            "Promo": promo[di].astype(np.int64),
            "StateHoliday": flat(hol_code[s_idx])[k],
            "SchoolHoliday": flat(school[s_idx])[k].astype(np.int64),
        }
    )
    return out


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
