"""Facts about Kaggle's Rossmann files and the German states that the readers
(`rossmann_readers.py`), the Kaggle download (`rossmann_kaggle.py`), the loader
(`rossmann.py`) and the simulated stand-in (`rossmann_sim.py`) share."""

from __future__ import annotations

import pandas as pd

KAGGLE_COMPETITION = "rossmann-store-sales"
KAGGLE_URL = f"https://www.kaggle.com/competitions/{KAGGLE_COMPETITION}/data"
KAGGLE_TRAIN_ROWS = 1_017_209  # rows of Kaggle's train.csv
TRAIN_START = pd.Timestamp("2013-01-01")  # first and last day of Kaggle's train.csv
TRAIN_END = pd.Timestamp("2015-07-31")

TRAIN_COLUMNS = [
    "Store",
    "DayOfWeek",
    "Date",
    "Sales",
    "Customers",
    "Open",
    "Promo",
    "StateHoliday",
    "SchoolHoliday",
]
TEST_COLUMNS = [
    "Id",
    "Store",
    "DayOfWeek",
    "Date",
    "Open",
    "Promo",
    "StateHoliday",
    "SchoolHoliday",
]
STORE_COLUMNS = [
    "Store",
    "StoreType",
    "Assortment",
    "CompetitionDistance",
    "CompetitionOpenSinceMonth",
    "CompetitionOpenSinceYear",
    "Promo2",
    "Promo2SinceWeek",
    "Promo2SinceYear",
    "PromoInterval",
]
WEATHER_COLUMNS = [
    "Date",
    "Max_TemperatureC",
    "Mean_TemperatureC",
    "Min_TemperatureC",
    "Max_Humidity",
    "Mean_Humidity",
    "Min_Humidity",
    "Max_Wind_SpeedKm_h",
    "Mean_Wind_SpeedKm_h",
    "Precipitationmm",
    "CloudCover",
    "Events",
]
STATE_HOLIDAY_CODES = ("0", "a", "b", "c")  # none, public holiday, Easter, Christmas

# The 16 German states: code -> the name used in the weather file names (state_names.csv).
STATE_NAMES: dict[str, str] = {
    "BW": "BadenWuerttemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "MecklenburgVorpommern",
    "NI": "Niedersachsen",
    "NW": "NordrheinWestfalen",
    "RP": "RheinlandPfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "SachsenAnhalt",
    "SH": "SchleswigHolstein",
    "TH": "Thueringen",
}
# store_states.csv merges Bremen into Lower Saxony ("HB,NI"); like the 2018 notebook we use
# Lower Saxony's weather, trend and holidays for those stores.
MERGED_STATES: dict[str, str] = {"HB,NI": "NI"}


def state_names() -> pd.DataFrame:
    """fast.ai's `state_names.csv` as a table: `StateName`, `State` (16 rows)."""
    return pd.DataFrame({"StateName": list(STATE_NAMES.values()), "State": list(STATE_NAMES)})


def base_state(code: str) -> str:
    """The real state code behind a store_states value ("HB,NI" -> "NI", "BY" -> "BY")."""
    return MERGED_STATES.get(code, code)
