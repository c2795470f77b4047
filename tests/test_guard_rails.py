"""The guard rails as one mechanism (issue 20): one fast test per class, parametrized over the
public functions it covers. Every case runs in well under a second on a CPU."""

from __future__ import annotations

import io
import os
import random
import stat
import sys
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils import checks, files, tabular, text
from course_utils.exercises import core


def data(**kw):
    torch.manual_seed(0)
    x = torch.randn(40, 3)
    y = x.sum(1, keepdim=True)
    return cu.DeviceData(x[:32], y[:32], x[32:], y[32:], device="cpu", **kw)


def linear():
    torch.manual_seed(0)
    m = nn.Linear(3, 1)
    return m, torch.optim.SGD(m.parameters(), lr=0.1)


def fit(**kw):
    m, opt = linear()
    return cu.fit(m, data(), kw.pop("epochs", 1), opt, F.mse_loss, progress=False, **kw)


# --------------------------------------------------------------------------- lose nothing


def test_atomic_write_goes_through_a_symlink_and_keeps_the_mode(tmp_path):
    real = tmp_path / "real.sh"
    real.write_text("old")
    real.chmod(0o750)
    link = tmp_path / "link.sh"
    link.symlink_to(real)
    with files.atomic_write(link) as tmp:
        tmp.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.sh", "real.sh"]


def test_atomic_write_ignores_a_planted_temporary_name_and_fits_long_names(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    target = tmp_path / "t.txt"
    (tmp_path / f".t.txt.{os.getpid()}.tmp").symlink_to(victim)  # the old predictable name
    with files.atomic_write(target) as tmp:
        tmp.write_text("x")
    assert victim.read_text() == "keep" and target.read_text() == "x"
    long = tmp_path / ("a" * 250)  # a legal name; the temporary file's must fit too
    with files.atomic_write(long) as tmp:
        tmp.write_text("y")
    assert long.read_text() == "y"


def test_atomic_write_refuses_a_read_only_file(tmp_path):
    f = tmp_path / "ro.txt"
    f.write_text("old")
    f.chmod(0o444)
    with pytest.raises(PermissionError, match="read-only"), files.atomic_write(f) as tmp:
        tmp.write_text("new")
    assert f.read_text() == "old"


@pytest.mark.parametrize("name", ["../../x.pt", "/tmp/x.pt", "", "a/../../b.pt"])
def test_model_path_stays_in_data_models(name):
    with pytest.raises(ValueError, match="model_path"):
        files.model_path(name)


def test_save_char_model_checks_before_the_first_write(tmp_path):
    vocab = text.Vocab.from_text("abc") if hasattr(text.Vocab, "from_text") else None
    if vocab is None:
        pytest.skip("no Vocab.from_text")
    model = text.CharStatefulRnn(len(vocab), 4, 8)
    model.config = lambda: (_ for _ in ()).throw(RuntimeError("cannot describe"))
    with pytest.raises(RuntimeError, match="cannot describe"):
        text.save_char_model(model, vocab, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


def test_load_model_on_a_missing_gpu_says_so(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    m = nn.Linear(2, 1)
    files.save_model(m, tmp_path / "w.pt")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        files.load_model(m, tmp_path / "w.pt", device="cuda")


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: fit(clip=-1), "clip"),
        (lambda: fit(clip=0), "clip"),
        (lambda: fit(beta=1.0), "beta"),
        (lambda: fit(beta=-0.1), "beta"),
        (lambda: fit(sync_every=0), "sync_every"),
        (lambda: fit(epochs=2.0), "epochs"),
        (lambda: cu.one_cycle(0), "max_lr"),
        (lambda: cu.one_cycle([0.1, -1]), "max_lr"),
        (lambda: cu.one_cycle(0.1, pct_start=1.5), "pct_start"),
        (lambda: cu.one_cycle(0.1, pct_start=0), "pct_start"),
        (lambda: cu.one_cycle(0.1, div_factor=0), "div_factor"),
        (lambda: cu.sgdr(0), "cycle_len"),
        (lambda: cu.sgdr(1, cycle_mult=2.0), "cycle_mult"),
        (lambda: cu.sgdr(1, eta_min=-1), "eta_min"),
        (lambda: cu.predict(nn.Linear(3, 1), torch.randn(5, 3), bs=0), "bs"),
        (lambda: data(bs=-1), "bs"),
        (lambda: cu.lr_find(*linear()[:1], data(), linear()[1], F.mse_loss, num_it=2.5), "num_it"),
        (lambda: cu.set_threads(-1), "n"),
        (lambda: cu.set_seed("a"), "seed"),
        (lambda: tabular.rolling_count(events(), "ev", window=0), "window"),
    ],
)
def test_numbers_at_public_boundaries(call, param):
    with pytest.raises(ValueError, match=rf"must be a .*number.*got {param}="):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: fit(epochs=np.int64(1)),
        lambda: fit(sched=cu.sgdr(1, cycle_mult=np.int64(2))),
        lambda: cu.predict(nn.Linear(3, 1), torch.randn(5, 3), bs=np.int64(2)),
        lambda: data(bs=np.int32(8)),
    ],
)
def test_numpy_integers_are_whole_numbers(call):
    call()


@pytest.mark.parametrize("sched", [cu.one_cycle(0.5), cu.sgdr(0.5)])
def test_fit_restores_the_optimizer_settings(sched):
    m, opt = linear()
    opt.add_param_group({"params": [nn.Parameter(torch.zeros(1))], "lr": 0.01})
    before = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    cu.fit(m, data(), 2, opt, F.mse_loss, sched=sched, progress=False)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    "value, want", [("false", False), ("off", False), ("No", False), ("on", True)]
)
def test_env_flag_spellings(monkeypatch, value, want):
    monkeypatch.setenv("COURSE_PROGRESS", value)
    assert checks.env_flag("COURSE_PROGRESS", not want) is want


@pytest.mark.parametrize(
    "name, value, call",
    [
        ("COURSE_PROGRESS", "maybe", lambda: checks.env_flag("COURSE_PROGRESS", True)),
        ("COURSE_THREADS", "-1", lambda: cu.set_threads()),
        ("COURSE_THREADS", "two", lambda: cu.set_threads()),
        ("COURSE_DATA", "/etc/hostname", lambda: cu.data.search_dirs()),
        ("COURSE_DATA", "/no/such/folder", lambda: cu.find_dataset("nietzsche", download=False)),
        ("COURSE_DEVICE", "gpu", lambda: cu.get_device()),
    ],
)
def test_odd_environment_variables_are_named(monkeypatch, name, value, call):
    monkeypatch.setenv(name, value)
    with pytest.raises((ValueError, RuntimeError), match=name):
        call()


# --------------------------------------------------------------------------- fit's inputs


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x):
        return self.lin(x), None


def frozen():
    m, opt = linear()
    for p in m.parameters():
        p.requires_grad_(False)
    return cu.fit(m, data(), 1, opt, F.mse_loss, progress=False)


def pair():
    m = Pair()
    return cu.fit(m, data(), 1, torch.optim.SGD(m.parameters(), lr=0.1), F.mse_loss, progress=False)


def scheduler_object():
    m, opt = linear()
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    return cu.fit(m, data(), 1, opt, F.mse_loss, sched=sched, progress=False)


def float_loss():
    m, opt = linear()
    return cu.fit(m, data(), 1, opt, lambda o, y: F.mse_loss(o, y).item(), progress=False)


def mae(o, y):
    return (o - y).abs().mean()


def valid_loss(o, y):
    return (o - y).abs().mean()


@pytest.mark.parametrize(
    "call, match",
    [
        (frozen, "frozen"),
        (pair, "returns a tuple"),
        (scheduler_object, "schedule factory"),
        (float_loss, "must return a tensor"),
        (lambda: fit(metrics=[lambda o, y: mae(o, y), lambda o, y: mae(o, y)]), "Two metrics"),
        (lambda: fit(metrics=[valid_loss]), "column fit already writes"),
        (lambda: fit(metrics=[mae, mae]), "Two metrics"),
        (lambda: cu.predict(nn.Linear(3, 1), torch.randn(0, 3)), "zero rows"),
    ],
)
def test_fit_and_predict_say_what_is_wrong(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_a_stateful_model_on_shuffled_batches_warns():
    class Stateful(nn.Linear):
        def reset(self):
            pass

    m = Stateful(3, 1)
    with pytest.warns(UserWarning, match="shuffle=False"):
        cu.fit(m, data(), 1, torch.optim.SGD(m.parameters(), lr=0.1), F.mse_loss, progress=False)


# --------------------------------------------------------------------------- tables


def events():
    return pd.DataFrame(
        {"Store": [1, 1, 1, 2], "Date": pd.date_range("2015-01-01", periods=4), "ev": [1, 0, 1, 0]}
    )


@pytest.mark.parametrize(
    "column, match",
    [
        (pd.Series([852_076_800, 852_163_200]), "unit='s'"),
        (pd.Series(pd.to_datetime(["2015-01-01", "2015-01-02"]).tz_localize("UTC")), "time zone"),
        (pd.Series(["2015-01-01", None]), "missing or non-date"),
    ],
)
def test_add_datepart_refuses_ambiguous_dates(column, match):
    with pytest.raises((TypeError, ValueError), match=match):
        tabular.add_datepart(pd.DataFrame({"Date": column}), "Date")


@pytest.mark.parametrize("helper", [tabular.days_since, tabular.days_until, tabular.rolling_count])
@pytest.mark.parametrize("column", ["ev", "Date"])
def test_event_helpers_refuse_missing_values(helper, column):
    df = events()
    df[column] = df[column].astype(object)
    df.loc[1, column] = None
    with pytest.raises(ValueError, match=f"{column!r} has 1 missing"):
        helper(df, "ev")


@pytest.mark.parametrize(
    "x_cat, match",
    [
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "integer tensor"),
        (torch.tensor([[0, 5], [1, 0]]), "column 1 has codes from 0 to 5"),
        (torch.tensor([[-1, 0], [1, 0]]), "column 0"),
        (torch.tensor([[0, 1, 0]]), "shape"),
    ],
)
def test_mixed_input_model_checks_its_codes(x_cat, match):
    model = tabular.MixedInputModel([(3, 2), (4, 2)], 1, 0.0, 1, [4], [0.0]).eval()
    with pytest.raises((TypeError, ValueError), match=match):
        model(x_cat, torch.zeros(len(x_cat), 1))


def test_mixed_input_model_refuses_a_training_batch_of_one_row():
    model = tabular.MixedInputModel([(3, 2)], 1, 0.0, 1, [4], [0.0]).train()
    with pytest.raises(ValueError, match="batch of one row"):
        model(torch.tensor([[1]]), torch.zeros(1, 1))


def test_unique_labels_keep_duplicate_titles_apart():
    assert checks.unique_labels(["Emma (1996)", "Heat", "Emma (1996)"]) == [
        "Emma (1996)",
        "Heat",
        "Emma (1996) #2",
    ]


# --------------------------------------------------------------------------- checkers


@core.checker("fine")
def check_double(fn):
    core.compare(fn(torch.arange(4)), torch.arange(4) * 2)


def verdict(fn):
    out = io.StringIO()
    with redirect_stdout(out):
        check_double(fn)
    return out.getvalue()


@pytest.mark.parametrize(
    "fn, says",
    [
        (lambda x: {"a": 1}, "returned a dict"),
        (lambda x: (v for v in x), "returned a generator"),
        (torch.arange(4) * 2, "pass the function itself"),
        (lambda x: sys.exit(1), "sys.exit()"),
        (lambda x: x * 3, "returned [0 3 6 9] where [0 2 4 6]"),
        (lambda x: x * 2, "✓ double"),
    ],
)
def test_checker_verdicts(fn, says):
    assert says in verdict(fn)


def test_checker_time_limit(monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.2)
    assert "stopped" in verdict(lambda x: [0 for _ in iter(int, 1)])


def test_checker_leaves_the_session_as_it_found_it():
    def meddle(x):
        torch.set_grad_enabled(False)
        torch.set_num_threads(torch.get_num_threads() + 1)
        torch.manual_seed(0), np.random.seed(0), random.seed(0)  # noqa: NPY002
        return x * 2

    torch.manual_seed(5), np.random.seed(5), random.seed(5)  # noqa: NPY002
    want = torch.rand(1), np.random.rand(), random.random()  # noqa: NPY002
    threads = torch.get_num_threads()
    torch.manual_seed(5), np.random.seed(5), random.seed(5)  # noqa: NPY002
    verdict(meddle)
    assert torch.is_grad_enabled() and torch.get_num_threads() == threads
    assert (torch.rand(1), np.random.rand(), random.random()) == want  # noqa: NPY002


def test_compare_shows_the_input_when_given():
    with pytest.raises(core.Wrong, match=r"on the input \[1 2\] it returned \[3 4\] where \[2 4\]"):
        core.compare(torch.tensor([3, 4]), torch.tensor([2, 4]), inputs=torch.tensor([1, 2]))


def test_as_answer_still_takes_lists_and_arrays():
    assert core.as_answer([1, 2], (2,)).tolist() == [1.0, 2.0]
    assert core.as_answer(np.array([1.5]), (1,)).tolist() == [1.5]
