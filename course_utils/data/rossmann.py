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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.data import (
    DataError,
    atomic_write,
    candidate_folders,
    check_columns,
    data_dir,
    find_dataset,
    rossmann_sim,
)
from course_utils.data.rossmann_schema import (
    MERGED_STATES,
    STATE_HOLIDAY_CODES,
    STATE_NAMES,
    STORE_COLUMNS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    WEATHER_COLUMNS,
    base_state,
    state_names,
)

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

KAGGLE_COMPETITION = "rossmann-store-sales"
KAGGLE_URL = f"https://www.kaggle.com/competitions/{KAGGLE_COMPETITION}/data"
KAGGLE_TRAIN_ROWS = 1_017_209
TRAIN_START, TRAIN_END = pd.Timestamp("2013-01-01"), pd.Timestamp("2015-07-31")

# --------------------------------------------------------------------------- readers


def _read_csv(file: Path, **kwargs) -> pd.DataFrame:
    """`pd.read_csv` whose failures name the file."""
    try:
        return pd.read_csv(file, **kwargs)
    except FileNotFoundError:
        raise DataError(f"{file} does not exist.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{file} could not be read as a Kaggle-format CSV: {e}") from None


def _check_header(df: pd.DataFrame, expected: list[str], file: Path) -> None:
    check_columns(df, expected, file)
    extra = [c for c in df.columns if c not in expected]
    if extra:
        raise DataError(
            f"{file} has unexpected column(s) {extra}; Kaggle's file has exactly "
            f"{expected}. Is it the right file?"
        )


def _check_values(df: pd.DataFrame, col: str, allowed: Iterable, file: Path) -> None:
    bad = ~df[col].isin(list(allowed))
    if bad.any():
        raise DataError(
            f"{file}, column {col!r}: unexpected value(s) "
            f"{sorted(map(str, df.loc[bad, col].unique()))[:5]} "
            f"(allowed: {list(allowed)}), first at data row {int(np.argmax(bad)) + 1}."
        )


def _parse_dates(df: pd.DataFrame, file: Path, col: str = "Date") -> pd.Series:
    try:
        return pd.to_datetime(df[col], format="%Y-%m-%d")
    except (ValueError, TypeError) as e:
        raise DataError(f"{file}, column {col!r}: dates must look like 2015-07-31 ({e}).") from None


def _state_holiday(df: pd.DataFrame, file: Path) -> pd.Series:
    # Kaggle's StateHoliday mixes 0 and "0" (and 'a', 'b', 'c'); read as text, one kind of "0".
    s = df["StateHoliday"].astype("str").str.strip().replace({"0.0": "0"})
    _check_values(s.to_frame(), "StateHoliday", STATE_HOLIDAY_CODES, file)
    return s


def read_train(
    file: str | os.PathLike,
    expected_rows: int | None = KAGGLE_TRAIN_ROWS,
    stores: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Kaggle's `train.csv`, checked (it has no published hash, so we check its content).

    Checks the exact header, types, value sets (StateHoliday '0'/'a'/'b'/'c', 0/1 flags,
    DayOfWeek 1-7 matching the date), the date range 2013-01-01..2015-07-31, that every
    store is in `stores` (if given) and, unless `expected_rows=None`, the row count.
    Returns Date as datetime64 and StateHoliday as text.
    """
    file = Path(file)
    df = _read_csv(file, dtype={"StateHoliday": "str"}, low_memory=False)
    _check_header(df, TRAIN_COLUMNS, file)
    if expected_rows is not None and len(df) != expected_rows:
        raise DataError(
            f"{file} has {len(df):,} data rows; Kaggle's train.csv has {expected_rows:,}. It is "
            f"truncated or a different file: download it again from {KAGGLE_URL}."
        )
    for c in ["Store", "DayOfWeek", "Sales", "Customers", "Open", "Promo", "SchoolHoliday"]:
        if df[c].isna().any() or not pd.api.types.is_numeric_dtype(df[c]):
            raise DataError(f"{file}, column {c!r}: expected whole numbers on every row.")
        df[c] = df[c].astype("int64")
    for c in ["Open", "Promo", "SchoolHoliday"]:
        _check_values(df, c, (0, 1), file)
    df["StateHoliday"] = _state_holiday(df, file)
    df["Date"] = _parse_dates(df, file)
    if df["Date"].min() < TRAIN_START or df["Date"].max() > TRAIN_END:
        raise DataError(
            f"{file}, column 'Date': dates run {df['Date'].min().date()}.."
            f"{df['Date'].max().date()}, outside Kaggle's 2013-01-01..2015-07-31."
        )
    if (df["Date"].dt.day_of_week + 1 != df["DayOfWeek"]).any():
        raise DataError(
            f"{file}, column 'DayOfWeek': must be 1 (Monday) .. 7 (Sunday) matching the Date."
        )
    if stores is not None:
        _check_values(df, "Store", stores, file)
    _check_sales(df, file)
    return df


def _check_sales(df: pd.DataFrame, file: Path) -> None:
    """One row per store and day, no negative sales or customers, none on a closed day."""
    problems = {
        "rows repeat a (Store, Date) pair": df.duplicated(["Store", "Date"]),
        "rows have negative Sales or Customers": (df["Sales"] < 0) | (df["Customers"] < 0),
        "rows have Sales on a closed day (Open=0)": (df["Open"] == 0) & (df["Sales"] > 0),
    }
    for what, bad in problems.items():
        if bad.any():
            row = df[bad].iloc[0]
            raise DataError(
                f"{file}: {int(bad.sum()):,} {what}, e.g. store {row['Store']} on "
                f"{pd.Timestamp(row['Date']).date()}: it is not Kaggle's train.csv (or it was "
                "edited); download it again or fix those rows."
            )


def read_test(file: str | os.PathLike) -> pd.DataFrame:
    """Kaggle's `test.csv` (41,088 rows; `Open` is missing on 11 rows of store 622)."""
    file = Path(file)
    df = _read_csv(file, dtype={"StateHoliday": "str"})
    _check_header(df, TEST_COLUMNS, file)
    for c in ["Id", "Store", "DayOfWeek", "Promo", "SchoolHoliday"]:
        df[c] = df[c].astype("int64")
    df["StateHoliday"] = _state_holiday(df, file)
    df["Date"] = _parse_dates(df, file)
    return df


def read_store(file: str | os.PathLike) -> pd.DataFrame:
    """Kaggle's `store.csv`: one row per store with its type, assortment, competition, Promo2."""
    file = Path(file)
    df = _read_csv(file)
    _check_header(df, STORE_COLUMNS, file)
    if df["Store"].duplicated().any():
        raise DataError(f"{file}, column 'Store': store ids must be unique.")
    _check_values(df, "StoreType", ("a", "b", "c", "d"), file)
    _check_values(df, "Assortment", ("a", "b", "c"), file)
    return df


def read_store_states(file: str | os.PathLike, stores: Iterable[int] | None = None) -> pd.DataFrame:
    """`store_states.csv`: `Store`, `State` (a state code, or "HB,NI").

    With `stores`, checks that every store has exactly one known state.
    """
    file = Path(file)
    df = _read_csv(file)
    _check_header(df, ["Store", "State"], file)
    known = set(STATE_NAMES) | set(MERGED_STATES)
    _check_values(df, "State", sorted(known), file)
    if stores is not None:
        stores = pd.Index(list(stores))
        missing = stores.difference(df["Store"])
        if len(missing):
            raise DataError(
                f"{file}, column 'Store': {len(missing)} store(s) of store.csv have no state, "
                f"e.g. {missing[:5].tolist()}. Every store needs one row 'Store,State'."
            )
        dupes = df["Store"][df["Store"].duplicated()]
        if len(dupes):
            raise DataError(
                f"{file}, column 'Store': stores listed twice, e.g. {dupes.head(5).tolist()}."
            )
    return df


def _find_extra(folders: list[Path], names: list[str]) -> Path | None:
    for folder in folders:
        for name in names:
            if (folder / name).exists():
                return folder / name
    return None


def _locate_extra(
    folders: Path | list[Path], what: str, folder_layout: str
) -> tuple[list[Path], Path]:
    """The first `<what>.csv` (fast.ai's bundle) or `<what>/` folder in `folders`."""
    folders = [folders] if isinstance(folders, Path) else folders
    found = _find_extra(folders, [f"{what}.csv", what])
    if found is None:
        raise _extras_missing(what, folders, f"{what}.csv, or {folder_layout}")
    return folders, found


def _extras_missing(what: str, folders: list[Path], layouts: str) -> DataError:
    searched = "\n".join(f"  - {f}" for f in folders)
    return DataError(
        f"The Rossmann extra {what!r} was not found. Expected {layouts}.\nFolders searched:\n"
        f"{searched}\nThese forum extras come from fast.ai's rossmann.tgz "
        "(https://files.fast.ai/part2/lesson14/rossmann.tgz): unpack it into data/rossmann/, or "
        "set COURSE_DATA to a mirror that has them."
    )


def read_googletrend(folders: Path | list[Path], states: Iterable[str] = ()) -> pd.DataFrame:
    """Google Trends for "Rossmann", in fast.ai's `googletrend.csv` layout: file, week, trend.

    Reads `googletrend.csv` (the bundle) or else every `googletrend/Rossmann_DE*.csv` (one
    per state, header "Woche,...", the file name becoming the `file` column) from the first
    of `folders` that has either. `states` (codes as in store_states.csv) must all be there,
    as must the national series `Rossmann_DE`.
    """
    folders, found = _locate_extra(
        folders, "googletrend", "a folder googletrend/ with Rossmann_DE*.csv"
    )
    if found.is_file():
        df = _read_csv(found)
        _check_header(df, ["file", "week", "trend"], found)
    else:
        parts = []
        for f in sorted(found.glob("Rossmann_DE*.csv")):
            part = _read_csv(f)
            if len(part.columns) != 2 or part.columns[0] not in ("Woche", "Week"):
                raise DataError(
                    f"{f}: expected Google Trends' 2-column export with header "
                    f"'Woche,...' (week, interest); got columns {list(part.columns)}."
                )
            parts.append(part.set_axis(["week", "trend"], axis=1).assign(file=f.stem))
        if not parts:
            raise _extras_missing("googletrend", folders, f"Rossmann_DE*.csv files in {found}")
        df = pd.concat(parts, ignore_index=True)[["file", "week", "trend"]]
    have = set(df["file"])
    need = ["Rossmann_DE"] + [f"Rossmann_DE_{base_state(s)}" for s in sorted(set(states))]
    missing = [n for n in need if n not in have]
    if missing:
        raise DataError(
            f"{found}, column 'file': no Google Trends series for {missing} "
            f"(expected {', '.join(n + '.csv' for n in missing)})."
        )
    if not df["week"].astype(str).str.fullmatch(r"\d{4}-\d\d-\d\d - \d{4}-\d\d-\d\d").all():
        raise DataError(f"{found}, column 'week': weeks must look like '2012-12-02 - 2012-12-08'.")
    return df


def read_weather(folders: Path | list[Path], states: Iterable[str] = ()) -> pd.DataFrame:
    """Daily weather per state in fast.ai's `weather.csv` layout: `file` (state name), Date, ...

    Reads `weather.csv` (the bundle, comma-separated) or else every `weather/*.csv` (one per
    state, ';'-separated, named by `STATE_NAMES`). `states` (codes as in store_states.csv)
    must all have weather. Date is parsed to datetime64.
    """
    folders, found = _locate_extra(
        folders, "weather", "a folder weather/ with one <StateName>.csv per state"
    )
    if found.is_file():
        df = _read_csv(found)
        check_columns(df, ["file", *WEATHER_COLUMNS], found)
        df["Date"] = _parse_dates(df, found)
    else:
        parts = []
        for f in sorted(found.glob("*.csv")):
            part = _read_csv(f, sep=";")
            check_columns(part, WEATHER_COLUMNS, f)
            part["Date"] = _parse_dates(part, f)
            parts.append(part.assign(file=f.stem))
        if not parts:
            raise _extras_missing("weather", folders, f"<StateName>.csv files in {found}")
        df = pd.concat(parts, ignore_index=True)
        df = df[["file", *[c for c in df.columns if c != "file"]]]
    have = set(df["file"])
    missing = sorted({STATE_NAMES[base_state(s)] for s in states} - have)
    if missing:
        raise DataError(
            f"{found}, column 'file': no weather for state(s) {missing} "
            f"(expected {', '.join(m + '.csv' for m in missing)})."
        )
    return df


# --------------------------------------------------------------------------- train.csv


def find_train_csv(path: str | os.PathLike | None = None) -> Path | None:
    """The first `rossmann/train.csv` in the data folders (explicit path, COURSE_DATA, data/)."""
    for folder in candidate_folders("rossmann", path):
        if (folder / "train.csv").is_file():
            return folder / "train.csv"
    return None


def kaggle_instructions(dest: Path | None = None) -> str:
    """How to get Kaggle's train.csv, step by step."""
    dest = dest or data_dir() / "rossmann"
    return (
        "To use Kaggle's real train.csv:\n"
        f"  1. Sign in at kaggle.com and accept the rules at {KAGGLE_URL}\n"
        "  2. Either download train.csv from that page by hand, or use the Kaggle CLI:\n"
        "       pip install kaggle      (or: pip install -e '.[kaggle]')\n"
        "       create an API token (kaggle.com > Settings > API) and save it as\n"
        "       ~/.kaggle/kaggle.json (or set KAGGLE_USERNAME and KAGGLE_KEY)\n"
        "       python -c 'from course_utils.data.rossmann import fetch_kaggle; fetch_kaggle()'\n"
        f"       (it runs: kaggle competitions download -c {KAGGLE_COMPETITION}, then unzips)\n"
        f"  3. Put train.csv in {dest}/ (or in $COURSE_DATA/rossmann/) and re-run."
    )


def _kaggle_credentials() -> bool:
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))
    return (config / "kaggle.json").is_file() or (config / "access_token").is_file()


def fetch_kaggle(dest: str | os.PathLike | None = None, timeout: float = 1800) -> Path:
    """Download and unzip Kaggle's Rossmann files with the `kaggle` CLI; return `train.csv`.

    Needs the optional `kaggle` package (`pip install kaggle`) and an API token, and your
    account must have accepted the competition rules. Whatever is missing, the `DataError`
    says what to do; the CLI's own message is included when the download itself fails.
    """
    dest = Path(dest) if dest is not None else data_dir() / "rossmann"
    exe = shutil.which("kaggle")
    if exe is None:
        raise DataError("The `kaggle` command is not installed.\n" + kaggle_instructions(dest))
    if not _kaggle_credentials():
        raise DataError(
            "No Kaggle API token found (~/.kaggle/kaggle.json or KAGGLE_USERNAME/"
            "KAGGLE_KEY).\n" + kaggle_instructions(dest)
        )
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "competitions", "download", "-c", KAGGLE_COMPETITION, "-p", str(dest)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DataError(
            f"Running {' '.join(cmd)} failed: {e}\n" + kaggle_instructions(dest)
        ) from None
    if res.returncode != 0:
        msg = (res.stderr or res.stdout).strip()[-800:]
        hint = (
            " (403 Forbidden usually means the competition rules were not accepted yet)"
            if "403" in msg
            else ""
        )
        raise DataError(
            f"`{' '.join(cmd)}` failed with exit code {res.returncode}{hint}:\n"
            f"{msg}\n" + kaggle_instructions(dest)
        )
    for archive in sorted(dest.glob("*.zip")):  # replace every file: an old one may be truncated
        try:
            with zipfile.ZipFile(archive) as z:
                for member in (m for m in z.namelist() if Path(m).name == m):
                    with (
                        z.open(member) as src,
                        atomic_write(dest / member) as tmp,
                        open(tmp, "wb") as out,
                    ):
                        shutil.copyfileobj(src, out)
        except (zipfile.BadZipFile, EOFError, zlib.error) as e:
            archive.unlink()
            raise DataError(
                f"{archive} from Kaggle is damaged ({e}); it was deleted, the files "
                "already there were kept. Run fetch_kaggle() again."
            ) from None
    train = dest / "train.csv"
    if not train.is_file():
        raise DataError(
            f"The Kaggle download finished but {train} is not there; found "
            f"{sorted(p.name for p in dest.iterdir())}.\n" + kaggle_instructions(dest)
        )
    return train


# --------------------------------------------------------------------------- everything


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
    test = read_test(folder / "test.csv")
    _check_values(test, "Store", store["Store"], folder / "test.csv")

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
    same_day, same_state_day = list(same_day), list(same_state_day)
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
    check_columns(submission, ["Id", "Sales"], "the submission")
    path = Path(path) if path is not None else data_dir() / "submission.csv"
    with atomic_write(path) as tmp:
        submission[["Id", "Sales"]].to_csv(tmp, index=False)
    return path
