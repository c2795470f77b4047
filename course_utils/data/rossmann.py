"""The Rossmann Store Sales data: Kaggle's files, the forum extras, and an offline stand-in.

Kaggle's competition (2015) gave `train.csv` (1,017,209 store-days, 2013-01-01 to
2015-07-31), `test.csv` (41,088 store-days to predict, 2015-08-01 to 2015-09-17) and
`store.csv` (1,115 stores). Competitors added `store_states.csv` (the German state of each
store), Google Trends and weather per state; fast.ai bundled them in `rossmann.tgz`.

`load_rossmann()` returns all of them as pandas tables (`RossmannData`):

* `store.csv`, `test.csv`, `store_states.csv` come from `find_dataset("rossmann")`
  (sha256-verified; `COURSE_DATA` or `data/rossmann/`).
* The extras are read in either layout: fast.ai's bundle (`googletrend.csv` and
  `weather.csv`, each with a `file` column naming the source file) or one file per state
  (`googletrend/Rossmann_DE_BY.csv`, `weather/Bayern.csv`, ...). Both give the same tables.
* `state_names.csv` is 16 facts, so it lives in code: `STATE_NAMES` / `state_names()`.
* `train.csv` has no pinned hash (Kaggle never published one); it is looked up in every data
  folder (`find_train_csv`) and checked by schema, values and row count instead.
* Without `train.csv` a simulated one with exactly Kaggle's schema and quirks is generated
  from the real stores, states, weather and trends (`course_utils.data.rossmann_sim`), cached
  under `data/rossmann/simulated/`, and the result says so loudly (`RossmannData.banner`).

Getting the real files: `fetch_kaggle()` runs `kaggle competitions download -c
rossmann-store-sales` when the optional `kaggle` package and an API token are there (and
explains what is missing otherwise); or download them from the competition page and drop
`train.csv` into `data/rossmann/` (or into `$COURSE_DATA/rossmann/`).

This module holds `load_rossmann`, `RossmannData`, `close_gaps` and `save_submission`, and
imports the rest of the Rossmann API so that one import gives all of it: the readers
(`read_train`, `read_store`, ...) live in `rossmann_readers`, `find_train_csv`,
`fetch_kaggle` and `kaggle_instructions` in `rossmann_kaggle`, the schema and the states in
`rossmann_schema`, the stand-in in `rossmann_sim`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.checks import column_names, date_column, finite_values, frame
from course_utils.data import rossmann_sim
from course_utils.data.errors import DataError, check_columns
from course_utils.data.fetch import candidate_folders, data_dir, find_dataset
from course_utils.data.rossmann_kaggle import fetch_kaggle, find_train_csv, kaggle_instructions
from course_utils.data.rossmann_readers import (
    read_googletrend,
    read_store,
    read_store_states,
    read_test,
    read_train,
    read_weather,
)
from course_utils.data.rossmann_schema import (
    KAGGLE_COMPETITION,
    KAGGLE_TRAIN_ROWS,
    MERGED_STATES,
    STATE_NAMES,
    state_names,
)
from course_utils.files import atomic_write

__all__ = [
    "save_submission",
    "KAGGLE_COMPETITION",
    "KAGGLE_TRAIN_ROWS",
    "MERGED_STATES",
    "STATE_NAMES",
    "RossmannData",
    "close_gaps",
    "fetch_kaggle",
    "find_train_csv",
    "kaggle_instructions",
    "load_rossmann",
    "read_googletrend",
    "read_store",
    "read_store_states",
    "read_test",
    "read_train",
    "read_weather",
    "state_names",
]


@dataclass
class RossmannData:
    """All Rossmann tables, and where `train` came from."""

    train: pd.DataFrame
    test: pd.DataFrame
    store: pd.DataFrame
    store_states: pd.DataFrame
    state_names: pd.DataFrame
    googletrend: pd.DataFrame
    weather: pd.DataFrame
    train_file: Path
    simulated: bool
    sim_params: object | None = None  # rossmann_sim.SimParams when simulated

    @property
    def label(self) -> str:
        """Names the data behind every printed number: simulated stand-in or real Kaggle."""
        return "SIMULATED stand-in data" if self.simulated else "real Kaggle data"

    def banner(self) -> str:
        """A boxed notice of which train.csv this is (loud when simulated)."""
        if not self.simulated:
            lines = [
                f"Real Kaggle train.csv: {self.train_file}",
                f"{len(self.train):,} rows; metrics are comparable to the 2018 lesson.",
            ]
        else:
            lines = [
                "SIMULATED DATA - NOT KAGGLE'S train.csv",
                "No train.csv was found, so course_utils.data.rossmann_sim generated a stand-in",
                "with Kaggle's exact schema from the real stores, states, weather and trends.",
                "Every metric below measures the simulator, not Rossmann's real sales.",
                f"Simulator parameters: seed {getattr(self.sim_params, 'seed', '?')}, key "
                f"{self.sim_params.key() if self.sim_params is not None else '?'}"
                " (rossmann_sim.SimParams)",
                "Real data: put Kaggle's train.csv in data/rossmann/ (or $COURSE_DATA/rossmann/)",
                "and re-run; see course_utils.data.rossmann.kaggle_instructions().",
            ]
        width = max(map(len, lines))
        edge = "#" * (width + 4)
        return "\n".join([edge, *[f"# {line:<{width}} #" for line in lines], edge])


def load_rossmann(
    path: str | os.PathLike | None = None,
    train: str | os.PathLike = "auto",
    sim_params: object | None = None,
    cache_dir: str | os.PathLike | None = None,
    verify: bool = True,
    verbose: bool = True,
) -> RossmannData:
    """Load every Rossmann table; simulate `train.csv` when the real one is absent.

    Args:
        path: a folder holding the Rossmann files (or a mirror with `rossmann/`); default:
            the usual search (`COURSE_DATA`, then `data/`).
        train: "auto" (real train.csv if found, else simulated), "real" (error with
            instructions if absent), "simulated" (always the stand-in) or the path of a
            train.csv-format file (schema-checked, any number of rows, e.g. a sample).
        sim_params: a `rossmann_sim.SimParams` (default parameters if None).
        cache_dir: where simulated files are cached (default `data/rossmann/simulated/`).
        verify: check the pinned sha256 of store.csv/test.csv/store_states.csv
            (`find_dataset`); `False` reads `path` as is (tiny test fixtures).
        verbose: say when the simulator runs.
    """
    _check_train_choice(train, sim_params)
    if verify:
        folder = find_dataset("rossmann", path)
    else:
        if path is None:
            raise ValueError("load_rossmann(verify=False) needs the folder as `path`.")
        folder = Path(path)
    extras_folders = list(dict.fromkeys([folder, *candidate_folders("rossmann", path)]))
    store = read_store(folder / "store.csv")
    store_states = read_store_states(folder / "store_states.csv", stores=store["Store"])
    states = store_states["State"].unique()
    googletrend = read_googletrend(extras_folders, states)
    weather = read_weather(extras_folders, states)
    test = read_test(folder / "test.csv", stores=store["Store"])

    expected = KAGGLE_TRAIN_ROWS
    if train not in ("auto", "real", "simulated"):  # a file you chose: schema checks only
        train_file, simulated, expected = Path(train), False, None
    else:
        train_file = None if train == "simulated" else find_train_csv(path)
        simulated = train_file is None
        if simulated and train == "real":
            raise DataError(
                "Kaggle's train.csv was not found in "
                f"{[str(f) for f in candidate_folders('rossmann', path)]}.\n"
                + kaggle_instructions()
            )
    params = None
    if simulated:
        params = sim_params or rossmann_sim.SimParams()
        train_file = rossmann_sim.simulated_train_csv(
            store, store_states, googletrend, weather, params, cache_dir=cache_dir, verbose=verbose
        )
        expected = rossmann_sim.expected_rows(store, params)
    df = read_train(train_file, expected_rows=expected, stores=store["Store"])
    return RossmannData(
        train=df,
        test=test,
        store=store,
        store_states=store_states,
        state_names=state_names(),
        googletrend=googletrend,
        weather=weather,
        train_file=train_file,
        simulated=simulated,
        sim_params=params,
    )


def _check_train_choice(train: object, sim_params: object) -> None:
    """`train` one of the three modes or a path, `sim_params` None or a `SimParams`: checked
    before anything is read (train="Real" would be taken for a file name)."""
    modes = ("auto", "real", "simulated")
    if not isinstance(train, str | os.PathLike):
        raise TypeError(f"train must be 'auto', 'real', 'simulated' or a file path, got {train!r}.")
    if isinstance(train, str) and train not in modes and not Path(train).exists():
        raise ValueError(
            f"train={train!r} is neither 'auto', 'real', 'simulated' (lower case) nor a file "
            "that exists."
        )
    if sim_params is not None and not isinstance(sim_params, rossmann_sim.SimParams):
        raise TypeError(
            f"sim_params must be a rossmann_sim.SimParams, got a {type(sim_params).__name__}: "
            "e.g. SimParams(seed=1)."
        )


# --------------------------------------------------------------------------- store-day gaps


def close_gaps(
    events: pd.DataFrame,
    store_states: pd.DataFrame,
    same_day: Iterable[str] = ("Promo",),
    same_state_day: Iterable[str] = ("StateHoliday", "SchoolHoliday"),
) -> pd.DataFrame:
    """Give every store one row per day, from its first row to the last date in `events`.

    180 stores have no rows from 2014-07-01 to 2014-12-31, and the 259 stores missing from
    test.csv have none after 2015-07-31. Without rows, "days until the next promo" jumps
    across the hole (or runs into the unknown at the end) and 7-day counts undercount. The
    added rows take the `same_day` columns (chain-wide, like Promo) from the other stores
    that day, and the `same_state_day` columns (holidays) from the stores of the same state
    that day; 0 where no store says. A `Filled` column marks the added rows. `events`
    needs Store, Date and the 0/1 event columns; returns them sorted by Store, Date.
    """
    same_day = column_names(same_day, "same_day", "close_gaps", empty_ok=True)
    same_state_day = column_names(same_state_day, "same_state_day", "close_gaps", empty_ok=True)
    needed = ["Store", "Date", *same_day, *same_state_day]
    check_columns(frame(events, "close_gaps", "events"), needed, "events")
    check_columns(
        frame(store_states, "close_gaps", "store_states"), ["Store", "State"], "store_states"
    )
    events = events.assign(Date=date_column(events["Date"], "Date", "close_gaps"))
    stateless = np.setdiff1d(events["Store"].unique(), store_states["Store"])
    if same_state_day and len(stateless):
        raise ValueError(
            f"close_gaps: store(s) {stateless[:5].tolist()} have no row in store_states, so "
            "their holidays cannot be filled: pass the full store_states table."
        )
    first = events.groupby("Store")["Date"].min()
    end = events["Date"].max()
    lengths = ((end - first).dt.days + 1).to_numpy()
    starts = np.repeat(first.to_numpy(), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    grid = pd.DataFrame(
        {
            "Store": np.repeat(first.index.to_numpy(), lengths),
            "Date": starts + offsets.astype("timedelta64[D]"),
        }
    )
    grid["Date"] = grid["Date"].astype(events["Date"].dtype)
    out = grid.merge(events, how="left", on=["Store", "Date"], indicator=True)
    out["Filled"] = out.pop("_merge") == "left_only"
    state_of = store_states.set_index("Store")["State"]
    state, ev_state = out["Store"].map(state_of), events["Store"].map(state_of)
    for c in same_day:
        by_day = events.groupby("Date")[c].max()
        out[c] = out[c].fillna(out["Date"].map(by_day)).fillna(0)
    for c in same_state_day:
        by_state_day = events.assign(State=ev_state).groupby(["State", "Date"])[c].max()
        key = pd.MultiIndex.from_arrays([state, out["Date"]])
        out[c] = (
            out[c]
            .fillna(pd.Series(by_state_day.reindex(key).to_numpy(), index=out.index))
            .fillna(0)
        )
    for c in [*same_day, *same_state_day]:
        out[c] = out[c].astype(events[c].dtype)
    return out


def save_submission(submission: pd.DataFrame, path: str | os.PathLike | None = None) -> Path:
    """Write a Kaggle submission (`Id`, `Sales`) to `path` (default `data/submission.csv`).

    Written to a temporary file beside it, then moved into place: a failed write never leaves
    a half-written submission (or destroys the previous one).
    """
    check_columns(
        frame(submission, "save_submission", "the submission"), ["Id", "Sales"], "the submission"
    )
    sales = finite_values(submission["Sales"], "the Sales column", "save_submission")
    if (sales < 0).any():
        raise ValueError(
            "save_submission: Sales has negative values: the model predicts log(Sales); undo it "
            "with np.exp (np.expm1 if you used log1p)."
        )
    twice = submission["Id"][submission["Id"].duplicated()]
    if len(twice):
        raise ValueError(
            f"save_submission: Id {twice.iloc[0]} is there twice: one row per Id of test.csv."
        )
    path = Path(path) if path is not None else data_dir() / "submission.csv"
    with atomic_write(path) as tmp:
        submission[["Id", "Sales"]].to_csv(tmp, index=False)
    return path
