"""Tests for course_utils.data.rossmann (loaders, gaps, Kaggle CLI) and rossmann_sim (the stand-in).

Tiny fixtures are written here in Kaggle's exact formats (quoted headers, CRLF, StateHoliday
mixing 0 and "0"); nothing from the real data set is committed. One test uses the real
mirror and is skipped unless COURSE_DATA is set.
"""

import dataclasses
import math
import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils.data import DataError, rossmann, rossmann_kaggle
from course_utils.data.rossmann import (
    KAGGLE_TRAIN_ROWS,
    STATE_NAMES,
    close_gaps,
    fetch_kaggle,
    load_rossmann,
    read_googletrend,
    read_store_states,
    read_train,
    read_weather,
    state_names,
)
from course_utils.data.rossmann_schema import TRAIN_COLUMNS
from course_utils.data.rossmann_sim import (
    SimParams,
    describe_params,
    expected_rows,
    noise_floor,
    simulate_train,
    simulated_train_csv,
    write_kaggle_csv,
)

STATES = {1: "HE", 2: "HB,NI", 3: "BY"}  # fixture store -> state
WEATHER_HEADER = (
    "Date;Max_TemperatureC;Mean_TemperatureC;Min_TemperatureC;Max_Humidity;"
    "Mean_Humidity;Min_Humidity;Max_Wind_SpeedKm_h;Mean_Wind_SpeedKm_h;"
    "Precipitationmm;CloudCover;Events"
)


def _write(path: Path, lines: list[str], eol: str) -> None:
    path.write_bytes((eol.join(lines) + eol).encode())


def write_fixture(folder: Path, layout: str = "per_state", train: bool = True) -> Path:
    """A tiny Rossmann folder in Kaggle's formats; weather and trends cover 2013..2015-09."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "store.csv",
        [
            '"Store","StoreType","Assortment","CompetitionDistance","CompetitionOpenSinceMonth",'
            '"CompetitionOpenSinceYear","Promo2","Promo2SinceWeek","Promo2SinceYear","PromoInterval"',
            '1,"c","a",1270,9,2008,0,,,""',
            '2,"a","a",570,11,2014,1,13,2010,"Jan,Apr,Jul,Oct"',
            '3,"b","c",,,,1,14,2011,"Mar,Jun,Sept,Dec"',
        ],
        "\n",
    )
    _write(
        folder / "store_states.csv",
        ["Store,State", *[f'{s},"{st}"' if "," in st else f"{s},{st}" for s, st in STATES.items()]],
        "\r\n",
    )
    _write(
        folder / "test.csv",
        [
            '"Id","Store","DayOfWeek","Date","Open","Promo","StateHoliday","SchoolHoliday"',
            '1,1,4,2015-09-17,1,1,"0","0"',
            '2,3,4,2015-09-17,,1,"0","0"',
            '3,1,3,2015-09-16,0,1,"a","1"',
        ],
        "\r\n",
    )
    if train:
        _write(
            folder / "train.csv",
            [
                '"Store","DayOfWeek","Date","Sales","Customers","Open","Promo","StateHoliday",'
                '"SchoolHoliday"',
                '1,5,2015-07-31,5263,555,1,1,"0","1"',
                '2,5,2015-07-31,6064,625,1,1,0,"1"',  # an unquoted 0
                '3,4,2015-07-30,0,0,0,0,"a","0"',
                '1,3,2013-01-02,4000,500,1,0,"0","1"',
            ],
            "\r\n",
        )
    days = pd.date_range("2013-01-01", "2015-09-30")
    weeks = pd.date_range("2012-12-30", "2015-09-27", freq="7D")  # Sundays
    rng = np.random.default_rng(0)
    trends = {
        f: [
            f"{w:%Y-%m-%d} - {w + pd.Timedelta(days=6):%Y-%m-%d},{rng.integers(50, 100)}"
            for w in weeks
        ]
        for f in ["Rossmann_DE", "Rossmann_DE_HE", "Rossmann_DE_NI", "Rossmann_DE_BY"]
    }
    weather = {
        name: [
            f"{d:%Y-%m-%d};{10 + i % 25};8;4;90;70;50;20;10;0.5;6;"
            + ('"Rain"' if i % 3 == 0 else "")
            for i, d in enumerate(days)
        ]
        for name in ["Hessen", "Niedersachsen", "Bayern"]
    }
    if layout == "per_state":
        (folder / "googletrend").mkdir(exist_ok=True)
        (folder / "weather").mkdir(exist_ok=True)
        for f, rows in trends.items():
            _write(
                folder / "googletrend" / f"{f}.csv", ["Woche,Dez. 2012 - Sep. 2015", *rows], "\n"
            )
        for name, rows in weather.items():
            _write(folder / "weather" / f"{name}.csv", [WEATHER_HEADER, *rows], "\r\n")
    else:  # fast.ai's bundle: one file each, with a `file` column
        _write(
            folder / "googletrend.csv",
            ["file,week,trend", *[f"{f},{r}" for f, rows in trends.items() for r in rows]],
            "\n",
        )
        header = "file," + WEATHER_HEADER.replace(";", ",")
        _write(
            folder / "weather.csv",
            [header, *[f"{n}," + r.replace(";", ",") for n, rows in weather.items() for r in rows]],
            "\n",
        )
    return folder


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Search only the given folder for train.csv and extras (not the user's data/)."""
    for module in (rossmann, rossmann_kaggle):  # load_rossmann's extras, find_train_csv
        monkeypatch.setattr(module, "candidate_folders", lambda name, path=None: [Path(path)])
    return tmp_path


# --------------------------------------------------------------------------- readers


def test_read_train_kaggle_format(tmp_path):
    folder = write_fixture(tmp_path / "r")
    df = read_train(folder / "train.csv", expected_rows=None, stores=[1, 2, 3])
    assert list(df.columns) == TRAIN_COLUMNS and len(df) == 4
    assert df["StateHoliday"].tolist() == ["0", "0", "a", "0"]  # 0 and "0" are one value
    assert df["Date"].dtype.kind == "M" and df["SchoolHoliday"].tolist() == [1, 1, 0, 1]
    with pytest.raises(DataError, match=f"{KAGGLE_TRAIN_ROWS:,}"):
        read_train(folder / "train.csv")  # the default checks Kaggle's row count
    with pytest.raises(DataError, match=r"'Store'.*\['3'\]"):
        read_train(folder / "train.csv", expected_rows=None, stores=[1, 2])


def test_read_train_wrong_header_and_values(tmp_path):
    bad = tmp_path / "train.csv"
    _write(
        bad,
        [
            '"Store","DayOfWeek","Date","Sales","Customers","Open","Promo","Holiday",'
            '"SchoolHoliday"',
            '1,5,2015-07-31,5263,555,1,1,"0","1"',
        ],
        "\r\n",
    )
    with pytest.raises(DataError, match=r"train.csv is missing column\(s\) 'StateHoliday'"):
        read_train(bad, expected_rows=None)
    _write(
        bad,
        [
            '"Store","DayOfWeek","Date","Sales","Customers","Open","Promo","StateHoliday",'
            '"SchoolHoliday"',
            '1,5,2015-07-31,5263,555,1,1,"x","1"',
        ],
        "\r\n",
    )
    with pytest.raises(DataError, match=r"train.csv, column 'StateHoliday'.*'x'"):
        read_train(bad, expected_rows=None)
    _write(
        bad,
        [
            '"Store","DayOfWeek","Date","Sales","Customers","Open","Promo","StateHoliday",'
            '"SchoolHoliday"',
            '1,1,2015-07-31,5263,555,1,1,"0","1"',
        ],
        "\r\n",
    )
    with pytest.raises(DataError, match="DayOfWeek"):
        read_train(bad, expected_rows=None)


def test_store_without_state_is_named(tmp_path):
    folder = write_fixture(tmp_path / "r")
    with pytest.raises(DataError, match=r"store_states.csv, column 'Store'.*\[4\]"):
        read_store_states(folder / "store_states.csv", stores=[1, 2, 3, 4])
    assert read_store_states(folder / "store_states.csv", stores=[1, 2, 3])["State"].tolist() == [
        "HE",
        "HB,NI",
        "BY",
    ]


def test_extras_in_both_layouts_are_the_same(tmp_path):
    a = write_fixture(tmp_path / "per_state", "per_state")
    b = write_fixture(tmp_path / "bundle", "bundle")
    ga, gb = read_googletrend(a, STATES.values()), read_googletrend(b, STATES.values())
    pd.testing.assert_frame_equal(
        ga.sort_values(["file", "week"]).reset_index(drop=True),
        gb.sort_values(["file", "week"]).reset_index(drop=True),
    )
    wa, wb = read_weather(a, STATES.values()), read_weather(b, STATES.values())
    cols = ["file", "Date", "Max_TemperatureC", "CloudCover", "Events"]
    pd.testing.assert_frame_equal(
        wa[cols].sort_values(cols[:2]).reset_index(drop=True),
        wb[cols].sort_values(cols[:2]).reset_index(drop=True),
    )
    assert set(wa["file"]) == {"Hessen", "Niedersachsen", "Bayern"}


def test_missing_or_malformed_extras_are_named(tmp_path):
    folder = write_fixture(tmp_path / "r")
    (folder / "weather" / "Bayern.csv").unlink()
    with pytest.raises(DataError, match=r"no weather for state\(s\) \['Bayern'\].*Bayern.csv"):
        read_weather(folder, STATES.values())
    (folder / "googletrend" / "Rossmann_DE_BY.csv").write_text("Week;Interest\n2013;1\n")
    with pytest.raises(DataError, match=r"Rossmann_DE_BY.csv.*'Woche,...'"):
        read_googletrend(folder, STATES.values())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"extra 'googletrend' was not found(.|\n)*rossmann.tgz"):
        read_googletrend(empty)
    (folder / "weather" / "Hessen.csv").write_text("Date;Max_TemperatureC\n2013-01-01;3\n")
    with pytest.raises(DataError, match=r"Hessen.csv is missing column\(s\) 'Mean_TemperatureC'"):
        read_weather(folder)


def test_state_names_in_code():
    names = state_names()
    assert len(names) == 16 and len(STATE_NAMES) == 16
    assert names.set_index("State").loc["NW", "StateName"] == "NordrheinWestfalen"


# --------------------------------------------------------------------------- load_rossmann


def test_load_real_train_file(tmp_path, isolated):
    folder = write_fixture(tmp_path / "r")
    with pytest.raises(DataError, match="1,017,209"):
        load_rossmann(folder, verify=False, verbose=False)  # a 4-row train.csv is not Kaggle's
    data = load_rossmann(folder, train=folder / "train.csv", verify=False, verbose=False)
    assert not data.simulated and data.label == "real Kaggle data"
    assert "SIMULATED" not in data.banner()
    assert data.test["Open"].isna().sum() == 1 and len(data.state_names) == 16


def test_load_without_train_needs_instructions_or_simulates(tmp_path, isolated):
    folder = write_fixture(tmp_path / "r", train=False)
    with pytest.raises(DataError, match=r"train.csv was not found(.|\n)*kaggle competitions"):
        load_rossmann(folder, train="real", verify=False)
    params = SimParams(
        gap_stores=1,
        extra_sunday_stores=0,
        open_zero_sales_rows=2,
        missing_rows=[[3, "2013-01-01"]],
    )
    cache = tmp_path / "cache"
    data = load_rossmann(folder, sim_params=params, cache_dir=cache, verify=False, verbose=False)
    assert data.simulated and data.label == "SIMULATED stand-in data"
    assert "SIMULATED DATA" in data.banner()
    assert len(data.train) == expected_rows(data.store, params) == 3 * 942 - 184 - 1
    first = data.train_file.stat().st_mtime_ns
    again = load_rossmann(folder, sim_params=params, cache_dir=cache, verify=False, verbose=False)
    assert again.train_file == data.train_file and data.train_file.stat().st_mtime_ns == first
    other = load_rossmann(
        folder,
        sim_params=dataclasses.replace(params, seed=1),
        cache_dir=cache,
        verify=False,
        verbose=False,
    )
    assert other.train_file != data.train_file  # the cache is keyed by the parameters


# --------------------------------------------------------------------------- the simulator


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = write_fixture(tmp_path_factory.mktemp("sim"))
    store = rossmann.read_store(folder / "store.csv")
    states = read_store_states(folder / "store_states.csv")
    gt, wx = read_googletrend(folder, STATES.values()), read_weather(folder, STATES.values())
    params = SimParams(
        gap_stores=1,
        extra_sunday_stores=0,
        open_zero_sales_rows=2,
        missing_rows=[[3, "2013-01-01"]],
        refurb_share=0.0,
    )
    return store, states, gt, wx, params, simulate_train(store, states, gt, wx, params)


def test_simulated_schema_and_quirks(sim):
    store, _, _, _, params, df = sim
    assert list(df.columns) == TRAIN_COLUMNS and len(df) == expected_rows(store, params)
    assert df["Date"].min() == pd.Timestamp("2013-01-01")
    assert df["Date"].max() == pd.Timestamp("2015-07-31")
    assert df["Date"].iloc[0] == df["Date"].max() and df["Store"].iloc[:3].tolist() == [1, 2, 3]
    assert (df["DayOfWeek"] == df["Date"].dt.day_of_week + 1).all()
    assert set(df["StateHoliday"]) == {"0", "a", "b", "c"}
    gap = df["Date"].between("2014-07-01", "2014-12-31")
    assert df.loc[gap, "Store"].nunique() == 2  # one store has no rows in the gap
    assert not ((df["Store"] == 3) & (df["Date"] == "2013-01-01")).any()
    closed = df["Open"] == 0
    assert (df.loc[closed, ["Sales", "Customers"]] == 0).all().all()
    assert ((df["Open"] == 1) & (df["Sales"] == 0)).sum() == 2
    sundays = df[df["DayOfWeek"] == 7]
    assert (sundays.loc[sundays["Store"] != 3, "Open"] == 0).all()  # store 3 is type b
    assert (sundays.loc[sundays["Store"] == 3, "Open"] == 1).mean() > 0.9
    assert (df.loc[df["DayOfWeek"] == 7, "Promo"] == 0).all()
    by_date = df.set_index(["Store", "Date"])["StateHoliday"]
    assert by_date[(1, pd.Timestamp("2014-12-25"))] == "c"
    assert by_date[(1, pd.Timestamp("2015-04-03"))] == "b"  # Good Friday
    assert by_date[(1, pd.Timestamp("2015-06-04"))] == "a"  # Corpus Christi in Hesse
    assert by_date[(2, pd.Timestamp("2015-06-04"))] == "0"  # ... not in Lower Saxony
    opened = df[df["Open"] == 1]
    assert np.corrcoef(opened["Sales"], opened["Customers"])[0, 1] > 0.8
    promo = opened[opened["DayOfWeek"] < 6].groupby("Promo")["Sales"].median()
    assert promo[1] > 1.1 * promo[0]


def test_simulation_is_deterministic_and_seeded(sim):
    store, states, gt, wx, params, df = sim
    pd.testing.assert_frame_equal(df, simulate_train(store, states, gt, wx, params))
    other = simulate_train(store, states, gt, wx, dataclasses.replace(params, seed=7))
    assert not df["Sales"].equals(other["Sales"])


def test_simulated_csv_has_kaggle_format(sim, tmp_path):
    store, states, gt, wx, params, df = sim
    file = simulated_train_csv(store, states, gt, wx, params, cache_dir=tmp_path, verbose=False)
    raw = file.read_bytes()
    assert raw.startswith(b'"Store","DayOfWeek","Date","Sales"') and b"\r\n" in raw
    assert raw.splitlines()[1].endswith(b',"0","1"') or raw.splitlines()[1].endswith(b',"0","0"')
    back = read_train(file, expected_rows=len(df))
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert file.with_suffix(".json").is_file()
    write_kaggle_csv(df.head(2), tmp_path / "small.csv")
    assert (tmp_path / "small.csv").read_bytes().count(b"\r\n") == 3


def test_noise_floor_matches_monte_carlo():
    sd = 0.1
    e = np.random.default_rng(0).normal(0, sd, 400_000)
    c = math.exp(-1.5 * sd**2)  # the best multiple of the expected sales
    assert noise_floor(sd) == pytest.approx(np.sqrt(np.mean((1 - c * np.exp(-e)) ** 2)), rel=1e-2)
    assert noise_floor(SimParams()) == pytest.approx(math.sqrt(1 - math.exp(-0.01)))


def test_every_parameter_is_documented():
    table = describe_params()
    assert len(table) == len(dataclasses.fields(SimParams))
    assert table["meaning"].str.len().min() > 5


# --------------------------------------------------------------------------- close_gaps


def test_close_gaps_fills_from_same_day_and_same_state():
    d = pd.to_datetime
    events = pd.DataFrame(
        {
            "Store": [1, 1, 1, 2, 2, 2, 3, 3],
            "Date": d(
                [
                    "2015-01-01",
                    "2015-01-02",
                    "2015-01-03",
                    "2015-01-01",
                    "2015-01-02",
                    "2015-01-03",
                    "2015-01-01",
                    "2015-01-04",
                ]
            ),
            "Promo": [0, 1, 0, 0, 1, 0, 0, 1],
            "StateHoliday": [0, 0, 1, 0, 0, 0, 0, 0],
            "SchoolHoliday": [1, 1, 1, 0, 0, 0, 1, 0],
        }
    )
    states = pd.DataFrame({"Store": [1, 2, 3], "State": ["BY", "HE", "BY"]})
    out = close_gaps(events, states).set_index(["Store", "Date"])
    assert len(out) == 4 + 4 + 4 and out["Filled"].sum() == 4  # every store up to Jan 4
    r = out.loc[(3, d("2015-01-02"))]
    assert r.Filled and r.Promo == 1 and r.SchoolHoliday == 1  # from store 1 (BY) that day
    assert out.loc[(3, d("2015-01-03")), "StateHoliday"] == 1
    assert out.loc[(1, d("2015-01-04")), "Promo"] == 1  # chain-wide promo from store 3
    assert out["Promo"].dtype == events["Promo"].dtype


# --------------------------------------------------------------------------- Kaggle CLI


def test_fetch_kaggle_explains_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(DataError, match=r"kaggle` command is not installed(.|\n)*pip install"):
        fetch_kaggle(tmp_path)


def _fake_kaggle(bin_dir: Path, rc: int = 0) -> None:
    """A stand-in `kaggle` CLI: writes the competition zip into -p, or fails with 403."""
    bin_dir.mkdir()
    script = bin_dir / "kaggle"
    script.write_text(f"""#!{sys.executable}
import sys, zipfile
from pathlib import Path
if {rc}:
    print("403 - Forbidden", file=sys.stderr)
    sys.exit({rc})
dest = Path(sys.argv[sys.argv.index("-p") + 1])
with zipfile.ZipFile(dest / "rossmann-store-sales.zip", "w") as z:
    z.writestr("train.csv", "x")
    z.writestr("store.csv", "y")
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name == "nt", reason="uses a script with a shebang as fake CLI")
def test_fetch_kaggle_with_a_fake_cli(tmp_path, monkeypatch):
    _fake_kaggle(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nocreds"))
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(DataError, match="No Kaggle API token"):
        fetch_kaggle(tmp_path / "dest")
    monkeypatch.setenv("KAGGLE_USERNAME", "me")
    monkeypatch.setenv("KAGGLE_KEY", "secret")
    train = fetch_kaggle(tmp_path / "dest")
    assert train == tmp_path / "dest" / "train.csv" and train.read_text() == "x"
    assert zipfile.is_zipfile(tmp_path / "dest" / "rossmann-store-sales.zip")


@pytest.mark.skipif(os.name == "nt", reason="uses a script with a shebang as fake CLI")
def test_fetch_kaggle_reports_cli_failure(tmp_path, monkeypatch):
    _fake_kaggle(tmp_path / "bin", rc=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KAGGLE_USERNAME", "me")
    monkeypatch.setenv("KAGGLE_KEY", "secret")
    with pytest.raises(DataError, match=r"exit code 1 \(403 Forbidden usually means"):
        fetch_kaggle(tmp_path / "dest")


# --------------------------------------------------------------------------- the real mirror


@pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="needs the data mirror (COURSE_DATA)")
def test_simulation_on_the_real_stores_has_kaggles_shape():
    folder = rossmann.find_dataset("rossmann")
    store = rossmann.read_store(folder / "store.csv")
    states = read_store_states(folder / "store_states.csv", stores=store["Store"])
    gt = read_googletrend(folder, states["State"])
    wx = read_weather(folder, states["State"])
    df = simulate_train(store, states, gt, wx)
    assert len(df) == KAGGLE_TRAIN_ROWS == expected_rows(store, SimParams())
    assert df["Store"].nunique() == 1115
    gap = df["Date"].between("2014-07-01", "2014-12-31")
    assert 1115 - df.loc[gap, "Store"].nunique() == 180
    assert 0.8 < df["Open"].mean() < 0.86  # Kaggle: 83.0% of store-days open
    assert 6000 < df.loc[df["Open"] == 1, "Sales"].mean() < 8000  # Kaggle: 6,955
