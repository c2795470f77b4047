"""The parameters of the Rossmann stand-in (`rossmann_sim`), and what they imply.

Every effect size of the simulator is a named, documented field of `SimParams`
(`describe_params()` lists them). `noise_floor` is the best RMSPE any model can reach on the
simulated sales, `expected_rows` how many rows the simulated train.csv has.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

import pandas as pd

from course_utils.checks import real_number, whole_number
from course_utils.data.errors import check_columns

__all__ = ["SIM_VERSION", "SimParams", "describe_params", "expected_rows", "noise_floor"]

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

    def __post_init__(self) -> None:
        """Check the knobs a typo breaks silently (frozen: checks only, nothing assigned): a
        negative sd or a probability of 1.5 would simulate nonsense without a word."""
        whole_number(self.seed, "seed", minimum=0, example="42")
        whole_number(self.gap_stores, "gap_stores", minimum=0, example="180")
        for name in ("noise_sd", "store_sd", "state_sd", "growth_sd", "basket_sd"):
            real_number(getattr(self, name), name, 0, None, example="0.1")
        real_number(self.customer_noise_sd, "customer_noise_sd", 0, None, example="0.04")
        real_number(self.closure_prob, "closure_prob", 0, 1, example="0.0015")
        real_number(self.refurb_share, "refurb_share", 0, 1, example="0.05")
        if pd.Timestamp(self.start) > pd.Timestamp(self.end):
            raise ValueError(f"SimParams: start {self.start} is after end {self.end}.")
        for name, n in (("dow_effect", 7), ("dow_effect_type_b", 7), ("month_effect", 12)):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"SimParams: {name} needs {n} values (one per day or month), got "
                    f"{len(getattr(self, name))}."
                )

    def key(self) -> str:
        """A short hash of the parameters (part of the cache file name)."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True) + f"v{SIM_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def describe_params(params: SimParams | None = None) -> pd.DataFrame:
    """The parameters as a table: name, value, meaning."""
    params = params or SimParams()
    if not isinstance(params, SimParams):
        raise TypeError(f"describe_params takes a SimParams, got a {type(params).__name__}.")
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
    if isinstance(noise_sd, SimParams):
        sd = noise_sd.noise_sd
    else:
        sd = real_number(noise_sd, "noise_sd", 0, None, example="0.1")
    return math.sqrt(1 - math.exp(-(sd**2)))


def expected_rows(store: pd.DataFrame, params: SimParams) -> int:
    """How many rows `simulate_train` writes for these stores (1,017,209 for Kaggle's)."""
    check_columns(store, ["Store"], "store")
    days = len(pd.date_range(params.start, params.end))
    gap = len(pd.date_range(params.gap_start, params.gap_end))
    stores = set(store["Store"])
    missing = sum(1 for s, _ in params.missing_rows if s in stores)
    return len(stores) * days - min(params.gap_stores, len(stores)) * gap - missing
