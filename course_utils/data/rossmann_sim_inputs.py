"""What the Rossmann stand-in (`rossmann_sim`) reads from the real world, per state and day.

German public holidays (as Kaggle's StateHoliday codes) and school holidays come from the
`holidays` package; the daily weather and the weekly Google Trends come from the forum
extras; the Promo2 months of each store from store.csv. Each function turns one of them into
arrays over the simulated dates.
"""

from __future__ import annotations

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

from course_utils.data.errors import DataError

__all__ = ["log_trend", "promo2_days", "state_calendar", "state_weather"]


def state_calendar(code: str, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
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


def state_weather(
    weather: pd.DataFrame, name: str, dates: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    """The weather of state `name` per date: max_temp (degrees C) and rain/snow/storm flags."""
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


def log_trend(googletrend: pd.DataFrame, file: str, dates: pd.DatetimeIndex) -> np.ndarray:
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


_PROMO_MONTHS = {
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
}  # PromoInterval's month names (store.csv writes September as "Sept")


def promo2_days(store: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """Whether each store (a row of `store`) runs Promo2 on each day, `(n_stores, n_days)` bool.

    As store.csv describes it: from the Monday of Promo2SinceWeek of Promo2SinceYear, in the
    months of PromoInterval.
    """
    promo2 = np.zeros((len(store), len(dates)), dtype=bool)
    for i, row in enumerate(store.itertuples()):
        if row.Promo2 == 1 and isinstance(row.PromoInterval, str):
            since = pd.Timestamp.fromisocalendar(
                int(row.Promo2SinceYear), int(row.Promo2SinceWeek), 1
            )
            months = [_PROMO_MONTHS[m] for m in row.PromoInterval.split(",")]
            promo2[i] = np.isin(dates.month, months) & (dates >= since)
    return promo2
