"""course_utils.optim: each from-scratch optimizer follows torch.optim's trajectory."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import optim, widgets
from course_utils.device import set_seed
from course_utils.device_data import DeviceData
from course_utils.learner import fit


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one CPU thread avoids thread synchronisation overhead (restored after)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
STEPS = 200

# (name, hyperparameters): defaults, weight decay, and the non-default knobs of each
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, weight_decay=0.01)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, eps=1e-6, weight_decay=0.1)),
    ("RMSProp", dict()),
    ("RMSProp", dict(lr=0.003, alpha=0.9, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.5)),
]


def make_problem(dtype: torch.dtype, device: str) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A small two-layer net (four parameter tensors of different shapes) and its data."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 5, generator=g)
    y = torch.sin(x @ torch.randn(5, 1, generator=g)) + 0.1 * torch.randn(256, 1, generator=g)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
    return model.to(device, dtype), x.to(device, dtype), y.to(device, dtype)


def trajectory(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int = STEPS,
    sched=None,
) -> torch.Tensor:
    """All parameters, flattened, after every step of minibatch training: (steps, n_params)."""
    g = torch.Generator().manual_seed(2)
    out = []
    for _ in range(steps):
        idx = torch.randint(0, len(x), (16,), generator=g).to(x.device)
        loss = F.mse_loss(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        out.append(torch.cat([p.detach().flatten() for p in model.parameters()]).cpu())
    return torch.stack(out)


def both(name: str, kwargs: dict, dtype=torch.float64, device="cpu", sched=None):
    ours_cls, torch_cls = optim.OPTIMIZERS[name]
    model, x, y = make_problem(dtype, device)
    twin = copy.deepcopy(model)
    ours, theirs = ours_cls(model.parameters(), **kwargs), torch_cls(twin.parameters(), **kwargs)
    s1 = s2 = None
    if sched is not None:
        s1, s2 = sched(ours), sched(theirs)
    return (trajectory(model, ours, x, y, sched=s1), trajectory(twin, theirs, x, y, sched=s2))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    ("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_same_trajectory_as_torch(name: str, kwargs: dict, device: str) -> None:
    ours, theirs = both(name, kwargs, device=device)
    assert (ours[-1] - ours[0]).abs().max() > 1e-3, "the parameters should have moved"
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_float32_close_to_torch(name: str) -> None:
    ours, theirs = both(name, {"lr": 0.01}, dtype=torch.float32)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def test_default_hyperparameters_match_torch() -> None:
    for name, (ours_cls, torch_cls) in optim.OPTIMIZERS.items():
        p = [torch.zeros(1, requires_grad=True)]
        mine, theirs = ours_cls(p).defaults, torch_cls(p).defaults
        for key, value in mine.items():
            assert value == theirs[key], f"{name}: default {key}={value}, torch has {theirs[key]}"


def test_works_with_torch_lr_scheduler() -> None:
    def cosine(opt):
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS, eta_min=1e-4)

    ours, theirs = both("Adam", {"lr": 0.02}, sched=cosine)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)


def test_state_dict_round_trip() -> None:
    """Stopping, saving and reloading the optimizer must not change the trajectory."""
    model, x, y = make_problem(torch.float64, "cpu")
    twin = copy.deepcopy(model)
    straight = trajectory(model, optim.Adam(model.parameters(), lr=0.01), x, y, steps=20)
    opt = optim.Adam(twin.parameters(), lr=0.01)
    trajectory(twin, opt, x, y, steps=10)
    state = copy.deepcopy(opt.state_dict())
    opt2 = optim.Adam(twin.parameters(), lr=0.01)
    opt2.load_state_dict(state)
    assert opt2.state_dict()["state"][0]["step"] == 10
    # continue with the same minibatches as steps 11..20 of the straight run
    g = torch.Generator().manual_seed(2)
    for i in range(20):
        idx = torch.randint(0, len(x), (16,), generator=g)
        if i < 10:
            continue
        loss = F.mse_loss(twin(x[idx]), y[idx])
        opt2.zero_grad()
        loss.backward()
        opt2.step()
    final = torch.cat([p.detach().flatten() for p in twin.parameters()])
    torch.testing.assert_close(final, straight[-1], rtol=0, atol=1e-12)


def test_param_groups_and_frozen_parameters() -> None:
    a = torch.tensor([1.0], requires_grad=True)
    b = torch.tensor([1.0], requires_grad=True)
    frozen = torch.tensor([1.0], requires_grad=True)  # gets no gradient: must not move
    opt = optim.SGD([{"params": [a]}, {"params": [b, frozen], "lr": 0.5}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert a.item() == pytest.approx(0.9)
    assert b.item() == pytest.approx(0.5)
    assert frozen.item() == 1.0 and frozen.grad is None
    opt.zero_grad()
    assert a.grad is None  # set_to_none, as torch.optim does by default


@pytest.mark.parametrize("name", ["SGD", "AdamW"])
def test_drop_in_for_fit(name: str) -> None:
    """`course_utils.fit` trains with ours exactly as with torch.optim (weight decay included)."""
    ours_cls, torch_cls = optim.OPTIMIZERS[name]
    results = []
    for cls in (ours_cls, torch_cls):
        model, x, y = make_problem(torch.float64, "cpu")
        data = DeviceData(x[:200], y[:200], x[200:], y[200:], bs=32, device="cpu")
        set_seed(0)
        hist = fit(
            model,
            data,
            3,
            cls(model.parameters(), lr=0.01, weight_decay=0.01),
            F.mse_loss,
            progress=False,
        )
        results.append(
            (
                hist["valid_loss"].to_numpy(),
                torch.cat([p.detach().flatten() for p in model.parameters()]),
            )
        )
    torch.testing.assert_close(results[0][1], results[1][1], rtol=0, atol=1e-6)
    assert results[0][0] == pytest.approx(results[1][0], abs=1e-6)


P0 = torch.tensor([1.0, 2.0, -3.0], dtype=torch.float64)  # the parameters before the step


@pytest.mark.parametrize(
    "name,hyper,step",
    [
        # the first step from rest, worked out by hand from each docstring's update rule
        ("SGD", dict(lr=0.1, momentum=0.9), lambda g: 0.1 * g),
        ("SGD", dict(lr=0.1, weight_decay=0.5), lambda g: 0.1 * (g + 0.5 * P0)),
        ("Adagrad", dict(lr=0.1, eps=0.0), lambda g: 0.1 * g.sign()),  # g / sqrt(g²)
        ("RMSProp", dict(lr=0.1, alpha=0.75, eps=0.0), lambda g: 0.1 * g.sign() / 0.5),  # √(1-α)
        ("Adam", dict(lr=0.1, eps=0.0), lambda g: 0.1 * g.sign()),  # both averages debiased
        ("AdamW", dict(lr=0.1, eps=0.0, weight_decay=0.5), lambda g: 0.1 * g.sign() + 0.05 * P0),
    ],
)
def test_first_step_follows_the_update_rule(name: str, hyper: dict, step) -> None:
    """Independently of torch.optim: the first step of each optimizer, from its formula."""
    p = torch.nn.Parameter(P0.clone())
    g = torch.tensor([0.5, -2.0, 0.25], dtype=torch.float64)
    p.grad = g.clone()
    optim.OPTIMIZERS[name][0]([p], **hyper).step()
    torch.testing.assert_close(P0 - p.detach(), step(g), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- course_utils.line_fit
# The lesson's helpers, built on these optimizers (notebooks/lesson6-sgd.ipynb).


def test_loss_surface_and_least_squares() -> None:
    from course_utils import line_fit

    x, y = line_fit.line_data(500, seed=1)
    A, B, L = line_fit.loss_surface(x, y, (0, 6), (5, 11), n=7)
    direct = ((A[..., None] * x.double().numpy() + B[..., None] - y.double().numpy()) ** 2).mean(-1)
    np.testing.assert_allclose(L, direct, rtol=1e-9)
    a, b, lowest = line_fit.least_squares(x, y)
    assert abs(a - 3) < 0.2 and abs(b - 8) < 0.2
    assert lowest <= L.min() + 1e-12


def test_run_path_with_every_optimizer() -> None:
    from course_utils import line_fit

    x, y = line_fit.line_data(1_000)
    lowest = line_fit.least_squares(x, y)[2]
    for name in line_fit.OPTIMIZER_NAMES:
        path = line_fit.run_path(
            x, y, lambda p, n=name: line_fit.make_optimizer(n, p, lr=0.3), steps=50
        )
        assert path.params.shape == (51, 2) and path.loss.shape == (51,)
        assert path.loss[-1] < path.loss[0], name
    diverged = line_fit.run_path(
        x, y, lambda p: line_fit.make_optimizer("SGD", p, lr=5.0), steps=200
    )
    assert len(diverged.loss) < 201 and not np.isfinite(diverged.loss[-1])
    assert lowest > 0


def test_animation_needs_no_ffmpeg() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from course_utils import line_fit

    x, y = line_fit.line_data(200)
    path = line_fit.run_path(x, y, lambda p: optim.SGD(p, lr=0.5), steps=10)
    html = widgets.animate_fit(x, y, path, frames=[0, 10], dpi=30).to_jshtml()
    assert "<script" in html and html.count("data:image/png;base64") == 2


def test_explorer_redraws_when_a_control_changes() -> None:
    import ipywidgets
    import matplotlib

    matplotlib.use("Agg")
    from course_utils import line_fit

    small = {"easy": line_fit.line_data(300), "hard": line_fit.line_data(300, offset=2.0)}
    box = widgets.make_optimizer_explorer(small, steps=20)
    assert isinstance(box, ipywidgets.VBox)
    assert isinstance(box.children[-1], ipywidgets.Output)
    first = box.result["path"].loss.copy()
    name, problem = box.children[0].children
    lr, beta1, beta2 = box.children[1].children
    name.value = "Adam"
    assert box.result["name"] == "Adam" and not np.array_equal(box.result["path"].loss, first)
    problem.value = "hard"
    lr.value = 0.01
    assert box.result["problem"] == "hard" and box.result["lr"] == pytest.approx(0.01)
