"""The fit loop: batching, history, metrics, schedules, divergence, save/load, devices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils.device_data import DeviceData
from course_utils.history import TrainingDiverged
from course_utils.learner import evaluate


def linear_data(n: int = 1000, bs: int = 50, **kw) -> DeviceData:
    cu.set_seed(0)
    x = torch.rand(n, 1)
    y = 3 * x + 8 + 0.05 * torch.randn(n, 1)
    k = int(n * 0.8)
    return DeviceData(x[:k], y[:k], x[k:], y[k:], bs=bs, device="cpu", **kw)


def test_batches_cover_every_row_once():
    x = torch.arange(103)
    d = DeviceData((x, x * 2), x.float(), bs=10, device="cpu")
    seen = []
    for (a, b), y in d.train_batches():
        assert torch.equal(b, a * 2) and torch.equal(y, a.float())  # inputs stay aligned
        seen.append(a)
    seen = torch.cat(seen)
    assert d.n_batches() == 11 and len(seen) == 103
    assert sorted(seen.tolist()) == list(range(103))
    assert not torch.equal(seen, x), "training batches are shuffled"


def test_unshuffled_batches_follow_each_other_and_drop_last():
    x = torch.arange(25)
    d = DeviceData(x, x, bs=10, shuffle=False, drop_last=True, device="cpu")
    batches = [xb[0].tolist() for xb, _ in d.train_batches()]
    assert batches == [list(range(10)), list(range(10, 20))]


def test_mismatched_rows_are_reported():
    with pytest.raises(ValueError, match=r"same number of rows.*\(10,\), \(9,\)"):
        DeviceData(torch.zeros(10), torch.zeros(9), device="cpu")
    with pytest.raises(ValueError, match="no validation set"):
        next(DeviceData(torch.zeros(4), torch.zeros(4), device="cpu").valid_batches())


def test_fit_learns_and_returns_history():
    d = linear_data()
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def mae(p, t):
        return (p - t).abs().mean()

    h = cu.fit(model, d, 8, opt, F.mse_loss, metrics=[mae], progress=False)
    assert isinstance(h, pd.DataFrame)
    assert list(h.columns) == ["epoch", "train_loss", "valid_loss", "mae", "seconds"]
    assert h["epoch"].tolist() == list(range(1, 9))
    assert h["valid_loss"].iloc[-1] < 0.01
    assert abs(model.weight.item() - 3) < 0.1 and abs(model.bias.item() - 8) < 0.1
    # Metrics are computed over the whole validation set at once.
    with torch.no_grad():
        p = model(d.valid_x[0])
    assert h["mae"].iloc[-1] == pytest.approx(mae(p, d.valid_y).item(), rel=1e-5)
    assert h["valid_loss"].iloc[-1] == pytest.approx(F.mse_loss(p, d.valid_y).item(), rel=1e-5)
    assert len(h.batches) == 8 * d.n_batches()
    assert isinstance(h.iloc[:2], cu.History)  # slicing keeps the type


def test_plot_loss_draws_train_per_batch_and_valid_per_epoch():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = linear_data()
    model = nn.Linear(1, 1)
    h = cu.fit(model, d, 3, torch.optim.SGD(model.parameters(), lr=0.1), F.mse_loss, progress=False)
    ax = h.plot_loss(log=True)
    train, valid = ax.get_lines()
    assert [train.get_label(), valid.get_label()] == ["train (smoothed)", "valid"]
    # one point per batch, on an axis counted in epochs; one point per epoch for validation
    x = np.asarray(train.get_xdata())
    assert len(x) == 3 * d.n_batches() and np.all(np.diff(x) > 0)
    assert x[-1] == pytest.approx(3.0, abs=1 / d.n_batches())
    np.testing.assert_allclose(train.get_ydata(), h.batches["smooth_loss"])
    np.testing.assert_allclose(valid.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(valid.get_ydata(), h["valid_loss"])
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    plt.close(ax.figure)


def test_smoothed_loss_is_debiased_ewma():
    d = linear_data(n=100, bs=10)
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # frozen: every batch loss is known
    losses = [
        F.mse_loss(model(xb[0]), yb).item()
        for xb, yb in DeviceData(
            d.train_x, d.train_y, bs=10, shuffle=False, device="cpu"
        ).train_batches()
    ]
    d.shuffle = False
    h = cu.fit(model, d, 1, opt, F.mse_loss, beta=0.9, progress=False)
    avg = 0.0
    for v in losses:
        avg = 0.9 * avg + 0.1 * v
    assert h["train_loss"].iloc[0] == pytest.approx(avg / (1 - 0.9 ** len(losses)), rel=1e-6)
    assert h.batches["smooth_loss"].iloc[0] == pytest.approx(losses[0], rel=1e-6)  # no bias to 0


def test_nan_loss_names_epoch_and_batch():
    d = linear_data(n=200, bs=10)
    d.train_y[:] = float("nan")  # every batch now has a NaN target
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 1 of 16.*lower learning rate"):
        cu.fit(model, d, 2, opt, F.mse_loss, progress=False)


def test_exploding_lr_is_caught():
    d = linear_data()
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, batch \d+"):
        cu.fit(model, d, 3, opt, F.mse_loss, progress=False)


def test_one_cycle_and_sgdr_schedules():
    d = linear_data(n=500, bs=10)  # 40 batches per epoch
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = cu.fit(model, d, 2, opt, F.mse_loss, sched=cu.one_cycle(0.1), progress=False)
    lr = h.batches["lr"]
    assert lr.idxmax() == pytest.approx(0.25 * 80, abs=2) and lr.max() == pytest.approx(0.1)
    assert lr.iloc[0] == pytest.approx(0.1 / 25) and lr.iloc[-1] < 1e-4

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = cu.fit(
        model, d, 3, opt, F.mse_loss, sched=cu.sgdr(cycle_len=1, cycle_mult=2), progress=False
    )
    lr = h.batches["lr"].to_numpy()
    assert lr[0] == pytest.approx(0.1) and lr[40] == pytest.approx(0.1)  # restart after 1 epoch
    assert lr[39] < 0.001 and lr[119] < 0.001 and lr[80] > 0.04  # 2nd cycle lasts 2 epochs


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 8])
def test_one_cycle_trains_a_few_steps(steps):
    """A warm-up of exactly one step (4 steps at pct_start 0.25) made OneCycleLR divide by 0."""
    d = linear_data(n=steps * 10, bs=8)  # 80% of the rows train: `steps` batches of 8
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = cu.fit(model, d, 1, opt, F.mse_loss, sched=cu.one_cycle(0.1), progress=False)
    assert len(h.batches) == steps and h.batches["lr"].max() <= 0.1 + 1e-9


def test_fit_leaves_the_optimizer_settings_alone():
    d = linear_data()
    model = nn.Linear(1, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.3)
    cu.fit(model, d, 1, opt, F.mse_loss, progress=False)
    assert opt.param_groups[0]["weight_decay"] == 0.3
    assert opt.param_groups[0]["lr"] == 0.01


def test_clip_limits_the_gradient_norm(monkeypatch):
    """With clip=0.5 every step sees a gradient of norm at most 0.5."""
    d = linear_data()
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    norms = []
    original = opt.step

    def step(*a, **k):
        norms.append(torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item())
        return original(*a, **k)

    monkeypatch.setattr(opt, "step", step)
    cu.fit(model, d, 1, opt, F.mse_loss, clip=0.5, progress=False)
    assert norms and max(norms) <= 0.5 + 1e-6
    norms.clear()
    cu.fit(model, d, 1, opt, F.mse_loss, progress=False)
    assert max(norms) > 0.5  # without clipping the same data gives larger gradients


def test_reset_is_called_for_stateful_models():
    class Stateful(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)
            self.resets = 0

        def reset(self):
            self.resets += 1

        def forward(self, x):
            return self.lin(x)

    m = Stateful()
    cu.fit(m, linear_data(), 2, torch.optim.SGD(m.parameters(), lr=0.1), F.mse_loss, progress=False)
    assert m.resets == 4  # before each training epoch and each validation pass


def test_predict_and_evaluate():
    d = linear_data()
    model = nn.Linear(1, 1)
    preds = cu.predict(model, d.valid_x[0], bs=7)
    assert preds.shape == (200, 1) and not preds.requires_grad
    res = evaluate(model, d, F.mse_loss)
    assert res["valid_loss"] == pytest.approx(F.mse_loss(preds, d.valid_y).item(), rel=1e-5)


def test_lr_find_restores_state():
    d = linear_data()
    model = nn.Linear(1, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.123)
    res = cu.lr_find(model, d, opt, F.mse_loss, num_it=60, plot=False)
    assert list(res.columns) == ["lr", "loss"] and 10 < len(res) <= 60
    assert res["lr"].is_monotonic_increasing
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert opt.param_groups[0]["lr"] == 0.123


def test_save_load_roundtrip(tmp_path):
    model = nn.Linear(3, 2)
    path = cu.save_model(model, tmp_path / "models" / "m.pt")
    other = cu.load_model(nn.Linear(3, 2), path)
    assert all(
        torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters(), strict=True)
    )
    with pytest.raises(RuntimeError, match="do not fit this model"):
        cu.load_model(nn.Linear(4, 2), path)
    with pytest.raises(FileNotFoundError, match="save_model"):
        cu.load_model(model, tmp_path / "missing.pt")


def _fake_accelerators(monkeypatch, cuda: bool, mps: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize(
    "cuda,mps,expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    _fake_accelerators(monkeypatch, cuda, mps)
    assert cu.get_device() == torch.device(expected)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")  # the environment variable overrides the choice
    assert cu.get_device() == torch.device("cpu")


def test_missing_or_unknown_devices_are_explained(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    _fake_accelerators(monkeypatch, cuda=False, mps=False)
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        cu.get_device("cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        DeviceData(torch.zeros(3), torch.zeros(3), device="cuda")
    with pytest.raises(RuntimeError, match="Metal backend is not available"):
        cu.get_device("mps")
    monkeypatch.setenv("COURSE_DEVICE", "gpu0")
    with pytest.raises(
        ValueError, match="'gpu0' \\(from the environment variable COURSE_DEVICE\\)"
    ):
        cu.get_device()


def test_set_seed_repeats():
    cu.set_seed(7)
    a = torch.randn(3)
    cu.set_seed(7)
    assert torch.equal(a, torch.randn(3))
    assert math.isfinite(a.sum().item())


@pytest.mark.parametrize("bs", ["abc", 0, -1, 2.5, None, True])
def test_a_batch_size_that_is_not_a_positive_whole_number_is_named(bs):
    with pytest.raises(
        ValueError, match=rf"bs \(the batch size\) must be a whole number.*bs={bs!r}.*bs=64"
    ):
        DeviceData(torch.zeros(4), torch.zeros(4), bs=bs, device="cpu")
    assert DeviceData(torch.zeros(4), torch.zeros(4), bs=np.int64(2), device="cpu").bs == 2


def test_predict_and_evaluate_on_a_model_without_weights():
    class Total(nn.Module):
        def forward(self, x):
            return x.sum(1)

    x = torch.rand(10, 3)
    assert torch.equal(cu.predict(nn.Identity(), x, bs=4), x)  # inputs stay on their device
    assert cu.predict(Total(), np.ones((5, 3))).tolist() == [3.0] * 5
    d = DeviceData(x, x.sum(1), x, x.sum(1), bs=4, device="cpu")
    assert evaluate(Total(), d, F.mse_loss)["valid_loss"] == 0


def test_lr_find_restores_an_optimizer_that_has_already_stepped():
    d = linear_data()
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cu.fit(model, d, 1, opt, F.mse_loss, progress=False)
    before = [s["momentum_buffer"].clone() for s in opt.state.values()]
    cu.lr_find(model, d, opt, F.mse_loss, num_it=30, plot=False)
    assert all(
        torch.equal(b, s["momentum_buffer"])
        for b, s in zip(before, opt.state.values(), strict=True)
    )
