"""Reliability: nothing lost on a failed write, nothing silently wrong, every failure explained.

Each test is one probe of a bad input or a fault: wrong types, empty inputs, NaN, wrong
shapes, unknown ids, missing or corrupt files, and writes that fail midway. The "nothing
lost" tests make a real write fail (a subprocess with a file-size limit, `RLIMIT_FSIZE`, so
that the disk looks full) or make the writer raise, and check that the old file is intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils.data as cdata
from course_utils import char_models, checks, device, files, optim, schedules, tabular, text
from course_utils.collab import (
    EmbeddingDotBias,
    UnknownIdError,
    collab_data,
    train_collab,
    unseen_in_training,
)
from course_utils.data import DataError, atomic_write, rossmann, rossmann_sim
from course_utils.device_data import DeviceData
from course_utils.history import TrainingDiverged
from course_utils.interpret import cosine_neighbours
from course_utils.learner import fit, predict
from course_utils.recommend import popularity_fallback, recommend
from course_utils.schedules import lr_find

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- fixtures


class Lin(nn.Module):
    """y = a*x + b for inputs (n, 1); output (n,)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)[:, 0]


def line(n: int = 40, y_shape: str = "(n,)", **kw) -> DeviceData:
    torch.manual_seed(0)
    x = torch.rand(n, 1)
    y = 2 * x + 1 if y_shape == "(n, 1)" else 2 * x[:, 0] + 1
    k = n * 4 // 5
    return DeviceData(x[:k], y[:k], x[k:], y[k:], bs=8, device="cpu", **kw)


def sgd(model: nn.Module, lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr)


def ratings(n_users: int = 20, n_movies: int = 30, scale: float = 5.0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"userId": rng.integers(1, n_users + 1, 300), "movieId": rng.integers(1, n_movies + 1, 300)}
    )
    df["rating"] = (rng.integers(1, int(2 * scale) + 1, len(df)) / 2).astype("float32")
    return df.drop_duplicates(["userId", "movieId"]).reset_index(drop=True)


def no_temp_files(folder: Path) -> bool:
    """No temporary file or folder left behind (they are hidden: `.<name>...`)."""
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- nothing lost


LIMITED = """
import json, resource, signal, sys
from pathlib import Path
import nbformat, torch
from torch import nn
from course_utils.files import save_model
import tools.run_notebooks as rn
import tools.workbooks.__main__ as wb

folder = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # "the disk is full" at 20 kB
errors = {}

def attempt(name, fn):
    try:
        fn()
    except Exception as e:  # torch, nbformat and openpyxl each report "disk full" their own way
        errors[name] = f"{type(e).__name__}: {e}"

attempt("save_model", lambda: save_model(nn.Linear(200, 200), folder / "model.pt"))

class BigOutputClient:  # runs no kernel: gives the notebook a 100 kB output instead
    def __init__(self, nb, **kw):
        self.nb = nb
    def execute(self):
        self.nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="x" * 100_000)]

rn.NotebookClient = BigOutputClient
attempt("notebook", lambda: rn.execute(folder / "lesson.ipynb"))
wb.EXCEL = folder
attempt("workbook", lambda: wb.main(["graddesc.xlsx", "--no-values"]))
print(json.dumps(errors))
"""


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory) -> tuple[Path, dict, dict[str, bytes]]:
    """Old files in a folder, then one subprocess that overwrites each with the disk "full"."""
    folder = tmp_path_factory.mktemp("disk_full")
    torch.manual_seed(0)
    files.save_model(nn.Linear(2, 2), folder / "model.pt")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    nbformat.write(nb, folder / "lesson.ipynb")
    (folder / "graddesc.xlsx").write_bytes(b"the committed workbook")
    old = {p.name: p.read_bytes() for p in folder.iterdir()}
    res = subprocess.run(
        [sys.executable, "-c", LIMITED, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return folder, json.loads(res.stdout.strip().splitlines()[-1]), old


@pytest.mark.parametrize(
    "name, file",
    [("save_model", "model.pt"), ("notebook", "lesson.ipynb"), ("workbook", "graddesc.xlsx")],
)
def test_a_write_that_fails_midway_leaves_the_old_file(disk_full, name, file):
    folder, errors, old = disk_full
    assert name in errors, f"the {name} write should have failed (file too large)"
    assert (folder / file).read_bytes() == old[file]
    assert no_temp_files(folder)


def test_old_weights_still_load_after_a_failed_save(disk_full):
    folder, _, old = disk_full
    model = files.load_model(nn.Linear(2, 2), folder / "model.pt")
    torch.manual_seed(0)
    torch.testing.assert_close(model.weight, nn.Linear(2, 2).weight)


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old" and no_temp_files(tmp_path)
    with atomic_write(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and no_temp_files(tmp_path)


def _fails_midway(real):
    def write(obj, path, *args, **kwargs):
        Path(path).write_bytes(b"half a fi")
        raise OSError(28, "No space left on device")

    return write


def test_save_model_killed_midway_keeps_previous_weights(tmp_path, monkeypatch):
    path = files.save_model(nn.Linear(2, 2), tmp_path / "m.pt")
    before = path.read_bytes()
    monkeypatch.setattr(files.torch, "save", _fails_midway(torch.save))
    with pytest.raises(OSError, match="No space"):
        files.save_model(nn.Linear(2, 2), path)
    assert path.read_bytes() == before and no_temp_files(tmp_path)


def test_save_submission_failure_keeps_previous(tmp_path, monkeypatch):
    path = tmp_path / "submission.csv"
    rossmann.save_submission(pd.DataFrame({"Id": [1], "Sales": [2.0]}), path)
    before = path.read_bytes()
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, p, **kw: _fails_midway(None)(self, p))
    with pytest.raises(OSError):
        rossmann.save_submission(pd.DataFrame({"Id": [1], "Sales": [3.0]}), path)
    assert path.read_bytes() == before and no_temp_files(tmp_path)


def test_simulated_train_csv_failure_leaves_no_file(tmp_path, monkeypatch):
    df = pd.DataFrame(
        {"Date": pd.to_datetime(["2015-07-31"]), "StateHoliday": ["0"], "SchoolHoliday": [0]}
    )
    monkeypatch.setattr(rossmann_sim, "simulate_train", lambda *a, **k: df)
    monkeypatch.setattr(rossmann_sim, "write_kaggle_csv", _fails_midway(None))
    tables = [pd.DataFrame({"a": [1]})] * 4
    with pytest.raises(OSError):
        rossmann_sim.simulated_train_csv(*tables, cache_dir=tmp_path, verbose=False)
    assert not list(tmp_path.glob("*.csv")) and no_temp_files(tmp_path)


# --------------------------------------------------------------------------- Kaggle download


def _kaggle_cli(tmp_path: Path, monkeypatch, zip_bytes: bytes) -> Path:
    """A fake `kaggle` CLI that drops `zip_bytes` as the competition zip into -p."""
    (tmp_path / "payload.zip").write_bytes(zip_bytes)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kaggle"
    script.write_text(f'#!/bin/sh\ncp {tmp_path / "payload.zip"} "$6/rossmann-store-sales.zip"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KAGGLE_USERNAME", "me")
    monkeypatch.setenv("KAGGLE_KEY", "secret")
    dest = tmp_path / "rossmann"
    dest.mkdir()
    return dest


def _zip(**files: str) -> bytes:
    path = Path(os.devnull)
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name.replace("_", "."), content)
    del path
    return buf.getvalue()


@pytest.mark.skipif(os.name == "nt", reason="fake CLI is a shell script")
def test_fetch_kaggle_replaces_a_stale_truncated_train_csv(tmp_path, monkeypatch):
    dest = _kaggle_cli(tmp_path, monkeypatch, _zip(train_csv="FRESH,COMPLETE"))
    (dest / "train.csv").write_text("STA")  # an earlier, interrupted download
    assert rossmann.fetch_kaggle(dest).read_text() == "FRESH,COMPLETE"
    assert no_temp_files(dest)


@pytest.mark.skipif(os.name == "nt", reason="fake CLI is a shell script")
def test_fetch_kaggle_corrupt_zip_is_named_and_keeps_old_files(tmp_path, monkeypatch):
    dest = _kaggle_cli(tmp_path, monkeypatch, b"PK\x03\x04 not really a zip")
    (dest / "train.csv").write_text("OLD")
    with pytest.raises(DataError, match=r"rossmann-store-sales.zip from Kaggle is damaged"):
        rossmann.fetch_kaggle(dest)
    assert (dest / "train.csv").read_text() == "OLD"
    assert not (dest / "rossmann-store-sales.zip").exists()  # deleted, so a rerun downloads anew


@pytest.mark.skipif(os.name == "nt", reason="fake CLI is a shell script")
def test_fetch_kaggle_member_with_bad_crc_keeps_old_file(tmp_path, monkeypatch):
    good = _zip(train_csv="NEW" * 1000)
    i = good.index(b"PK\x01\x02")  # flip a byte of the compressed data, before the directory
    bad = good[: i - 5] + bytes([good[i - 5] ^ 0xFF]) + good[i - 4 :]
    dest = _kaggle_cli(tmp_path, monkeypatch, bad)
    (dest / "train.csv").write_text("OLD")
    with pytest.raises(DataError, match="damaged"):
        rossmann.fetch_kaggle(dest)
    assert (dest / "train.csv").read_text() == "OLD" and no_temp_files(dest)


# --------------------------------------------------------------------------- data layer


def _mirror(tmp_path: Path, monkeypatch, content: bytes) -> Path:
    spec = cdata.Dataset(
        name="tiny",
        urls=("https://example.org/tiny",),
        archive=None,
        files={"t.txt": hashlib.sha256(content).hexdigest()},
    )
    monkeypatch.setitem(cdata.DATASETS, "tiny", spec)
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "t.txt").write_bytes(content)
    return folder


@pytest.mark.parametrize("how", ["os.replace, same mtime", "rewritten in place, mtime restored"])
def test_verified_cache_notices_a_replaced_file(tmp_path, monkeypatch, how):
    folder = _mirror(tmp_path, monkeypatch, b"good data")
    assert cdata.find_dataset("tiny", tmp_path, download=False) == folder
    f = folder / "t.txt"
    st = f.stat()
    if how.startswith("os.replace"):
        (folder / "new").write_bytes(b"bad! data")
        os.utime(folder / "new", ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(folder / "new", f)
    else:
        f.write_bytes(b"bad! data")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(DataError, match="corrupt or a different release"):
        cdata.find_dataset("tiny", tmp_path, download=False)


@pytest.mark.parametrize(
    "argv, code",
    [
        (["fetch"], 2),
        (["bogus"], 2),
        (["fetch", "imagenet"], 2),
        (["--help"], 0),
        (["list", "--nonsense"], 2),
    ],
)
def test_data_cli_refuses_what_it_does_not_understand(argv, code, capsys):
    with pytest.raises(SystemExit) as e:
        cdata.main(argv)
    assert e.value.code == code
    out = capsys.readouterr()
    assert "usage: python -m course_utils.data" in out.out + out.err


def test_data_cli_runs_as_a_module():
    res = subprocess.run(
        [sys.executable, "-m", "course_utils.data", "fetch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2 and "required: NAME" in res.stderr


@pytest.mark.parametrize("argv", [["--bogus"], ["no_such.ipynb"], ["README.md"]])
def test_run_notebooks_cli_errors(argv, capsys):
    from tools import run_notebooks

    with pytest.raises(SystemExit) as e:
        run_notebooks.main(argv)
    assert e.value.code == 2 and "usage: python -m tools.run_notebooks" in capsys.readouterr().err


def test_cli_help_and_unknown_workbook(capsys):
    from tools import run_notebooks
    from tools.workbooks import __main__ as workbooks

    for main in (run_notebooks.main, workbooks.main):
        with pytest.raises(SystemExit) as e:
            main(["--help"])
        assert e.value.code == 0 and "usage:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        workbooks.main(["nope.xlsx"])
    assert e.value.code == 2 and "unknown workbook" in capsys.readouterr().err


# --------------------------------------------------------------------------- devices


@pytest.mark.parametrize("value", ["gpu", "banana", "cuda:x"])
def test_course_device_that_is_not_a_device_names_the_variable(value, monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", value)
    with pytest.raises(
        ValueError, match=rf"'{value}' \(from the environment variable COURSE_DEVICE\)"
    ):
        device.get_device()
    with pytest.raises(ValueError, match=rf"^'{value}' is not a device"):
        device.get_device(value)


# --------------------------------------------------------------------------- DeviceData


@pytest.mark.parametrize("kind", ["numpy float64", "DataFrame + Series", "nested lists"])
def test_numpy_and_pandas_inputs_train(kind):
    x = np.linspace(0, 1, 40)[:, None]
    y = 2 * x[:, 0] + 1
    if kind == "DataFrame + Series":
        x, y = pd.DataFrame({"x": x[:, 0]}), pd.Series(y)
    elif kind == "nested lists":
        x, y = x.tolist(), y.tolist()
    d = DeviceData(x[:32], y[:32], x[32:], y[32:], bs=8, device="cpu")
    assert d.train_x[0].shape == (32, 1) and d.train_x[0].dtype == torch.float32
    model = Lin()
    hist = fit(model, d, 2, sgd(model), F.mse_loss, progress=False)
    assert np.isfinite(hist["valid_loss"]).all()


def test_float64_tensors_against_float32_weights_are_a_clear_error():
    x = torch.rand(40, 1, dtype=torch.float64)
    d = DeviceData(x, 2 * x[:, 0], device="cpu")
    model = Lin()
    with pytest.raises(TypeError, match=r"torch.float64.*weights torch.float32.*x.float\(\)"):
        fit(model, d, 1, sgd(model), F.mse_loss, progress=False)


@pytest.mark.parametrize(
    "x, match",
    [
        (pd.DataFrame({"a": ["x", "y", "z"]}), "must be numbers"),
        (pd.Series([1, None, 3], dtype="Int64"), "must be numbers|NaN"),
        (torch.tensor(1.0), "single number"),
        (None, "must be numbers"),
        ((torch.zeros(3, 1), None), "must be numbers"),
    ],
)
def test_inputs_that_are_not_numbers(x, match):
    with pytest.raises((TypeError, ValueError), match=match):
        DeviceData(x, torch.zeros(3), device="cpu")


@pytest.mark.parametrize("valid", ["x only", "y only"])
def test_half_a_validation_set_is_an_error(valid):
    x = torch.rand(10, 1)
    vx, vy = (x, None) if valid == "x only" else (None, x[:, 0])
    with pytest.raises(ValueError, match="Give both valid_x and valid_y"):
        DeviceData(x, x[:, 0], vx, vy, device="cpu")


@pytest.mark.parametrize("where", ["train_x", "train_y", "valid_y"])
def test_nan_or_inf_in_the_data_is_reported_with_its_row(where):
    x, y, vx, vy = torch.rand(10, 2), torch.rand(10), torch.rand(5, 2), torch.rand(5)
    {"train_x": x, "train_y": y, "valid_y": vy}[where][3] = float(
        "nan" if where != "train_x" else "inf"
    )
    with pytest.raises(ValueError, match="NaN or inf in 1 row.*first is row 3"):
        DeviceData(x, y, vx, vy, device="cpu")


def test_drop_last_with_a_batch_larger_than_the_data():
    with pytest.raises(ValueError, match="drop_last=True with bs=64 > 10 training rows"):
        DeviceData(torch.rand(10, 1), torch.rand(10), bs=64, drop_last=True, device="cpu")


# --------------------------------------------------------------------------- fit


@pytest.mark.parametrize("model, y_shape", [(Lin(), "(n, 1)"), (nn.Linear(1, 1), "(n,)")])
def test_outputs_and_targets_of_different_shapes(model, y_shape):
    with pytest.raises(ValueError, match="broadcast"):
        fit(model, line(y_shape=y_shape), 1, sgd(model), F.mse_loss, progress=False)


@pytest.mark.parametrize(
    "epochs, sched", [(0, schedules.one_cycle(0.1)), (0, None), (1.5, None), (-1, None)]
)
def test_epochs_must_be_a_positive_whole_number(epochs, sched):
    model = Lin()
    with pytest.raises(ValueError, match="epochs must be a whole number of at least 1"):
        fit(model, line(), epochs, sgd(model), F.mse_loss, sched=sched, progress=False)


def test_fit_setup_mistakes_are_named():
    model = Lin()
    with pytest.raises(ValueError, match="optimizer holds none of this model's parameters"):
        fit(model, line(), 1, sgd(Lin()), F.mse_loss, progress=False)
    with pytest.raises(ValueError, match=r"loss_fn must return one number.*reduction='mean'"):
        fit(
            model,
            line(),
            1,
            sgd(model),
            lambda o, t: F.mse_loss(o, t, reduction="none"),
            progress=False,
        )
    x = torch.rand(10, 1)
    with pytest.raises(TypeError, match=r"2 input\(s\) per batch but Lin.forward"):
        fit(model, DeviceData((x, x), x[:, 0], device="cpu"), 1, sgd(model), F.mse_loss)
    with pytest.raises(TypeError, match="data must be a DeviceData"):
        fit(model, (x, x[:, 0]), 1, sgd(model), F.mse_loss)


def test_a_metric_that_is_not_one_number():
    model = Lin()
    with pytest.raises(ValueError, match=r"metric\(s\) \['<lambda>'\] must return one number"):
        fit(model, line(), 1, sgd(model), F.mse_loss, metrics=[lambda p, t: p - t], progress=False)


def test_the_setup_check_leaves_random_state_and_results_alone():
    model = nn.Sequential(nn.Linear(1, 8), nn.Dropout(0.5), nn.Linear(8, 1), nn.Flatten(0))
    data = line()
    state = torch.get_rng_state()
    checks.check_setup(model, data, sgd(model), F.mse_loss)
    assert torch.equal(state, torch.get_rng_state()) and model.training


def test_ratings_outside_y_range_are_an_error():
    r = ratings(scale=10.0)  # a 10-point scale
    data, users, movies = collab_data(r.iloc[:200], r.iloc[200:], bs=32, device="cpu")
    model = EmbeddingDotBias(len(users), len(movies), 4)  # y_range (0, 5.5)
    with pytest.raises(ValueError, match=r"targets run from 0.5 to 10.*y_range \(0.0, 5.5\)"):
        train_collab(model, data, 1, 1e-2, progress=False)


# --------------------------------------------------------------------------- lr_find


def test_lr_find_that_diverges_at_once_says_so():
    model = Lin()
    with pytest.raises(TrainingDiverged, match=r"exploded after \d step\(s\).*lower start_lr"):
        lr_find(model, line(), sgd(model), F.mse_loss, start_lr=1e8, end_lr=1e9, plot=False)
    data = line()
    data.train_y[:] = float("nan")  # past DeviceData's checks
    with pytest.raises(TrainingDiverged, match=r"after 0 step"):
        lr_find(model, data, sgd(model), F.mse_loss, plot=False)


@pytest.mark.parametrize("kw", [{"num_it": 0}, {"start_lr": 0}, {"start_lr": 1, "end_lr": 1e-3}])
def test_lr_find_arguments(kw):
    model = Lin()
    with pytest.raises(ValueError, match=f"{next(iter(kw))}=|start_lr < end_lr"):
        lr_find(model, line(), sgd(model), F.mse_loss, plot=False, **kw)


# --------------------------------------------------------------------------- save / load


@pytest.mark.parametrize("damage", ["truncated", "text", "empty", "folder"])
def test_unreadable_weights_name_the_path(tmp_path, damage):
    path = files.save_model(nn.Linear(30, 30), tmp_path / "w.pt")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:2000])
    elif damage == "text":
        path.write_text("not weights")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
        path.mkdir()
    with pytest.raises(RuntimeError, match=rf"{path} is not a readable weights file"):
        files.load_model(nn.Linear(30, 30), path)


def test_predict_inputs():
    with pytest.raises(ValueError, match="predict needs the model's inputs"):
        predict(Lin())
    assert predict(Lin(), np.zeros((3, 1))).dtype == torch.float32  # float64 NumPy is fine
    assert predict(Lin().double(), torch.zeros(3, 1)).dtype == torch.float64


# --------------------------------------------------------------------------- collab


@pytest.fixture
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    r = ratings()
    valid_only = pd.DataFrame({"userId": [99, 1], "movieId": [1, 999], "rating": [4.0, 5.0]})
    return r, pd.concat([r.iloc[:20], valid_only], ignore_index=True)


def test_unseen_ids_are_counted_reported_and_droppable(split, capsys):
    train, valid = split
    mask = unseen_in_training(train, valid)
    assert mask.tolist() == [False] * 20 + [True, True]
    data, users, movies = collab_data(train, valid, device="cpu", report=True)
    assert capsys.readouterr().out.startswith(
        "2 of 22 validation ratings (9.1%) involve 1 user(s) or 1 movie(s) that training never saw."
    )
    assert data.n_valid == 22 and 99 in users
    data, users, movies = collab_data(train, valid, device="cpu", drop_unseen=True)
    assert data.n_valid == 20 and 99 not in users and 999 not in movies


def test_recommend_refuses_ids_training_never_moved(split):
    train, valid = split
    data, users, movies = collab_data(train, valid, device="cpu")
    model = EmbeddingDotBias(len(users), len(movies), 4)
    with torch.no_grad():  # make the untrained movie the most attractive one
        model.movie_bias.weight[movies.encode(999)] = 10.0
    with pytest.raises(UnknownIdError, match="user id 99 is only in the validation set"):
        recommend(model, 99, users, movies)
    assert 999 not in set(recommend(model, 1, users, movies, n=50)["movieId"])
    with pytest.raises(UnknownIdError, match="movie id 999 is only in the validation set"):
        recommend(model, 1, users, movies, candidates=[1, 999])


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda r: r.assign(rating=np.nan), ValueError, "NaN or inf"),
        (lambda r: r.assign(rating=r["rating"].astype(str)), TypeError, "must be numbers"),
        (lambda r: r.drop(columns="rating"), DataError, "missing column"),
    ],
)
def test_bad_ratings_tables(change, error, match):
    r = ratings()
    with pytest.raises(error, match=match):
        collab_data(change(r), r, device="cpu")


def test_cosine_neighbours_of_a_row_that_is_not_there():
    with pytest.raises(IndexError, match="Row 9 is out of range: the vectors have 5 rows"):
        cosine_neighbours(np.ones((5, 3)), 9)


def test_popularity_fallback_names_missing_columns():
    with pytest.raises(DataError, match="missing column.*'rating'"):
        popularity_fallback(ratings().drop(columns="rating"))


# --------------------------------------------------------------------------- text


VOCAB = text.Vocab.from_text("hello world. ")


def char_model(pad_bias: float = 0.0) -> text.CharStatefulRnn:
    torch.manual_seed(0)
    m = text.CharStatefulRnn(len(VOCAB), 4, 8)
    with torch.no_grad():
        m.l_out.bias[0] = pad_bias
    return m


@pytest.mark.parametrize("temperature", [0.0, 1.0, 1e9, float("inf")])
def test_sample_text_never_emits_the_padding_character(temperature):
    g = torch.Generator().manual_seed(0)
    out = text.sample_text(char_model(pad_bias=5.0), "he", 200, VOCAB, temperature, generator=g)
    assert text.PAD not in out and len(out) == 202


def test_sample_text_nan_temperature():
    with pytest.raises(ValueError, match="temperature must be a number in"):
        text.sample_text(char_model(), "he", 5, VOCAB, float("nan"))


def _edit_sidecar(path: Path, **changes) -> None:
    meta_path = path.with_suffix(".pt.json")
    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    meta_path.write_text(json.dumps(meta))


def test_char_model_sidecar_that_does_not_match_the_weights(tmp_path):
    path = text.save_char_model(char_model(), VOCAB, tmp_path / "c.pt")
    model, vocab = text.load_char_model(path)
    assert vocab == VOCAB
    _edit_sidecar(path, chars="".join(VOCAB.chars[:-2]))
    with pytest.raises(ValueError, match="do not belong together"):
        text.load_char_model(path)
    text.save_char_model(char_model(), VOCAB, path)
    files.save_model(char_model(pad_bias=3.0), path)  # other weights, same sizes
    with pytest.raises(ValueError, match="do not belong together"):
        text.load_char_model(path)
    (tmp_path / "c.pt.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"c.pt.json is damaged"):
        text.load_char_model(path)


def test_char_model_saved_before_the_weights_hash_still_loads(tmp_path):
    path = text.save_char_model(char_model(), VOCAB, tmp_path / "c.pt")
    meta = json.loads(path.with_suffix(".pt.json").read_text())
    del meta["weights_sha256"]
    path.with_suffix(".pt.json").write_text(json.dumps(meta))
    assert text.load_char_model(path)[1] == VOCAB


def test_save_char_model_with_the_wrong_vocabulary(tmp_path):
    with pytest.raises(ValueError, match="vocabulary has 5 characters, the model 10"):
        text.save_char_model(char_model(), text.Vocab.from_text("abcd"), tmp_path / "c.pt")
    assert not list(tmp_path.iterdir())


def test_text_windows_too_short_and_empty_start():
    with pytest.raises(ValueError, match="no window of 8"):
        text.seq_windows(VOCAB.encode("hel"), 8)
    with pytest.raises(ValueError, match="at least one character"):
        text.get_next_n(char_models.CharRnn(len(VOCAB), 4, 8), "", 3, VOCAB)


# --------------------------------------------------------------------------- tabular, optim


@pytest.mark.parametrize(
    "call",
    [
        lambda: tabular.left_join(pd.DataFrame({"k": [1]}), pd.DataFrame({"j": [1]}), "k"),
        lambda: tabular.add_datepart(pd.DataFrame({"x": [1]}), "Date"),
        lambda: tabular.days_since(
            pd.DataFrame({"Store": [1], "Date": pd.to_datetime(["2015-01-01"])}), "Promo"
        ),
        lambda: tabular.TabularProcessor(["a"], ["b"]).fit(pd.DataFrame({"a": ["x"]})),
        lambda: (
            tabular.TabularProcessor(["a"], ["b"])
            .fit(pd.DataFrame({"a": ["x"], "b": [1.0]}))
            .transform(pd.DataFrame({"a": ["x"]}))
        ),
    ],
    ids=["left_join", "add_datepart", "days_since", "fit", "transform"],
)
def test_tabular_missing_columns_are_named(call):
    with pytest.raises(DataError, match="missing column"):
        call()


@pytest.mark.parametrize(
    "cls, kw",
    [
        (optim.SGD, {"lr": -1}),
        (optim.Adam, {"betas": (1.5, 0.9)}),
        (optim.RMSProp, {"eps": -1e-8}),
        (optim.SGD, {"lr": None}),
        (optim.AdamW, {"weight_decay": -0.1}),
    ],
)
def test_optimizer_hyperparameters_that_cannot_be_meant(cls, kw):
    with pytest.raises(ValueError, match=f"{cls.__name__} {next(iter(kw))} must be"):
        cls([torch.zeros(1, requires_grad=True)], **kw)
