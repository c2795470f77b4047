"""Checkers for the exercises of lesson6-sgd (SGD and its optimizers)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.device_data import DeviceData
from course_utils.exercises.core import Wrong, checker, compare
from course_utils.learner import fit

__all__ = ["check_ewma_debiased", "check_train_one_epoch", "check_kaiming_init"]


@checker("avg = beta*avg + (1-beta)*v, divided by 1 - beta**n: right from the first value.")
def check_ewma_debiased(fn: Callable) -> None:
    """`fn(values, beta)`: the debiased exponentially weighted average after each value."""
    values, beta = [3.0, 5.0, 4.0, 10.0, 2.0], 0.9

    def ewma(b: float) -> torch.Tensor:
        """The average after each value, written as its sum: weight (1-b)*b**age per value."""
        return torch.tensor(
            [
                sum((1 - b) * b ** (k - i) * v for i, v in enumerate(values[: k + 1]))
                for k in range(5)
            ]
        )

    raw, swapped = ewma(beta), ewma(1 - beta)
    n = torch.arange(1.0, 6.0)
    compare(
        fn(list(values), beta),
        raw / (1 - beta**n),
        "One average per value.",
        [
            (raw, "not debiased: the average starts at 0, so divide step n by 1 - beta**n."),
            (
                swapped / (1 - (1 - beta) ** n),
                "beta and 1 - beta are swapped: the old average "
                "keeps beta, the new value gets 1 - beta.",
            ),
            (
                torch.tensor(values).cumsum(0) / n,
                "that is the plain mean so far; recent values must weigh more.",
            ),
        ],
    )


def wrong_epoch(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    bs: int,
    opt: torch.optim.Optimizer,
    shuffle: bool = True,
    zero: bool = True,
    drop_last: bool = False,
) -> None:
    """One epoch with a typical mistake switched on, to recognise it."""
    idx = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
    for i in range(0, len(x) - (bs - 1 if drop_last else 0), bs):
        loss = F.mse_loss(model(x[idx[i : i + bs]]), y[idx[i : i + bs]])
        if zero:
            opt.zero_grad()
        loss.backward()
        opt.step()


@checker("Your loop ends with exactly the weights course_utils.fit reaches from the same seed.")
def check_train_one_epoch(fn: Callable) -> None:
    """`fn(model, x, y, bs, opt, loss_fn)`: one epoch of the hand-built loop, as `fit` runs it."""

    def run(train: Callable, *args: object, **kw: bool) -> tuple[Tensor, object]:
        torch.manual_seed(0)
        model = nn.Linear(1, 1)
        x = torch.rand(1000, 1, generator=torch.Generator().manual_seed(3))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        torch.manual_seed(1)
        out = train(model, x, 3 * x + 8, 64, opt, *args, **kw)
        return torch.cat([model.weight.flatten(), model.bias]).detach(), out

    got, losses = run(fn, F.mse_loss)
    if losses is not None and len(losses) != 16:
        raise Wrong(
            f"{len(losses)} batch losses, expected 16: 1000 rows in batches of 64 are "
            "15 full batches and one of 40."
        )
    want, _ = run(
        lambda m, x, y, bs, opt: fit(
            m, DeviceData(x, y, bs=bs, device="cpu"), 1, opt, F.mse_loss, progress=False
        )
    )
    compare(
        got,
        want,
        wrongs=[
            (run(wrong_epoch, **kw)[0], why)
            for kw, why in [
                (
                    {"zero": False},
                    "the gradients were not zeroed: backward() adds to .grad, so each "
                    "step used the sum of all gradients so far.",
                ),
                (
                    {"shuffle": False},
                    "the rows were not shuffled: draw torch.randperm(len(x)) and "
                    "slice the permutation into batches.",
                ),
                (
                    {"drop_last": True},
                    "the last, smaller batch of 40 rows was dropped: fit keeps it.",
                ),
            ]
        ],
        tol=1e-6,
    )


@checker(f"weight std √(2/fan_in) = {math.sqrt(2 / 400):.4f}, mean 0, bias 0, filled in place.")
def check_kaiming_init(fn: Callable) -> None:
    """`fn(layer)`: fill an `nn.Linear`'s weight in place from N(0, 2/fan_in), bias 0."""
    torch.manual_seed(0)
    layer = nn.Linear(400, 100)  # fan_in 400, fan_out 100
    w, w0 = layer.weight, layer.weight.detach().clone()
    fn(layer)
    if torch.equal(layer.weight, w0):
        raise Wrong("the weights are unchanged (PyTorch's default init).")
    if layer.weight is not w:
        raise Wrong(
            "the weight is a new tensor, not filled in place: an optimizer built "
            "earlier still updates the old one. Use nn.init.normal_ or .normal_()."
        )
    compare(
        layer.weight.std().reshape(1),
        torch.tensor([math.sqrt(2 / 400)]),
        wrongs=[
            (
                torch.tensor([math.sqrt(2 / 100)]),
                "std √(2/fan_out): each output sums fan_in = 400 "
                "products, so the scale must come from fan_in.",
            ),
            (
                torch.tensor([math.sqrt(1 / 400)]),
                "std √(1/fan_in) suits tanh; ReLU zeroes half its "
                "inputs, so Kaiming uses √(2/fan_in).",
            ),
            (
                torch.tensor([1.0]),
                "std 1: each output sums 400 products, std ≈ 20, and the "
                "activations grow layer after layer.",
            ),
        ],
        tol=0.004,
    )
    if layer.bias.abs().max() > 0 or abs(layer.weight.mean().item()) > 0.01:
        raise Wrong("the weights must have mean 0 and the bias must be all zeros.")
