"""Checkers for the exercises of lesson6-sgd (SGD and its optimizers)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.device_data import DeviceData
from course_utils.exercises.core import Wrong, check_prediction, checker, compare
from course_utils.learner import fit

__all__ = [
    "check_ewma_debiased",
    "check_kaiming_init",
    "check_momentum_step",
    "check_train_one_epoch",
    "check_valley_axis",
]


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
    from_first = [values[0]]  # the average started at the first value instead of at 0
    for v in values[1:]:
        from_first.append(beta * from_first[-1] + (1 - beta) * v)
    try:
        got = fn(list(values), beta)
    except ZeroDivisionError:
        raise Wrong(
            f"division by zero (input: values={values}, beta={beta}): n counts from 1, so the "
            "first value is divided by 1 - beta**1, not by 1 - beta**0 = 0."
        ) from None
    if got is None:
        raise Wrong("your function returned None: did you forget `return`?")
    compare(
        got,
        raw / (1 - beta**n),
        f"One average per value (input: values={values}, beta={beta}).",
        [
            (raw, "not debiased: the average starts at 0, so divide step n by 1 - beta**n."),
            (
                torch.tensor(from_first),
                "the average was started at the first value: start it at 0 and debias "
                "(dividing by 1 - beta**n is what makes the start right).",
            ),
            (
                raw / (1 - beta ** (n + 1)),
                "off by one: after the n-th value (n = 1 for the first) divide by 1 - beta**n, "
                "not 1 - beta**(n + 1).",
            ),
            (
                torch.cat([raw[:1], raw[1:] / (1 - beta ** n[:-1])]),
                "off by one: after the n-th value (n = 1 for the first) divide by 1 - beta**n, "
                "not 1 - beta**(n - 1).",
            ),
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


@checker(
    "Your loop trains like course_utils.fit (input: nn.Linear(1, 1), 1000 rows of y = 3x + 8, "
    "bs 64, SGD lr 0.05 momentum 0.9)."
)
def check_train_one_epoch(fn: Callable) -> None:
    """`fn(model, x, y, bs, opt, loss_fn)`: one epoch of the hand-built loop, as `fit` runs it.

    A loop that shuffles with `torch.randperm` must reach fit's weights exactly (same seed, same
    order). One that shuffles another way (NumPy, `DataLoader(shuffle=True)`) sees the batches in
    another order, so its weights differ; it is accepted when its loss after the epoch is within
    25% of fit's and it matches none of the known mistakes.
    """

    def run(train: Callable, *args: object, **kw: bool) -> tuple[Tensor, object, float]:
        torch.manual_seed(0)
        model = nn.Linear(1, 1)
        x = torch.rand(1000, 1, generator=torch.Generator().manual_seed(3))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        torch.manual_seed(1)
        out = train(model, x, 3 * x + 8, 64, opt, *args, **kw)
        with torch.no_grad():
            final = F.mse_loss(model(x), 3 * x + 8).item()
        return torch.cat([model.weight.flatten(), model.bias]).detach(), out, final

    got, losses, got_loss = run(fn, F.mse_loss)
    if losses is None:
        raise Wrong("your function returned None: return the list of the batch losses.")
    try:
        n_losses = len(losses)
    except TypeError:
        raise Wrong(f"return a list of the batch losses, not a {type(losses).__name__}.") from None
    if n_losses != 16:
        raise Wrong(
            f"{n_losses} batch losses, expected 16: 1000 rows in batches of 64 are "
            "15 full batches and one of 40."
        )
    want, _, want_loss = run(
        lambda m, x, y, bs, opt: fit(
            m, DeviceData(x, y, bs=bs, device="cpu"), 1, opt, F.mse_loss, progress=False
        )
    )
    wrongs = [
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
    ]
    if (got - want).abs().max() <= 1e-6:
        return
    for candidate, why in wrongs:
        if (got - candidate).abs().max() <= 1e-6:
            raise Wrong(why)
    if abs(got_loss - want_loss) <= 0.25 * want_loss:
        print(
            "  (your batch order differs from torch.randperm's, so the weights differ; the loss "
            f"after the epoch, {got_loss:.4f}, is close to fit's {want_loss:.4f})"
        )
        return
    compare(got, want, "the weights after one epoch (weight, bias).", wrongs, tol=1e-6)


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
    w_now = layer.weight.detach()
    peak = (w_now.abs().max() / w_now.std()).item()  # a normal draw of 40,000: about 4.3
    if peak < 2.5:
        raise Wrong(
            f"the weights look uniform (largest |w| is {peak:.2f} standard deviations; a "
            "uniform draw stops at √3 ≈ 1.73, a normal one of 40,000 values reaches about 4): "
            "draw from a normal distribution, e.g. nn.init.kaiming_normal_ or .normal_(0, std)."
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


@checker("p ← p − lr·v with v ← μ·v + g: the steps of torch.optim.SGD(momentum=μ).")
def check_momentum_step(fn: Callable) -> None:
    """`fn(p, grad, v, lr, mu)` -> `(p, v)`: one step of PyTorch's momentum, checked over 5 steps
    of a fixed gradient sequence against `torch.optim.SGD`."""
    grads = [torch.tensor([1.0, -2.0]), torch.tensor([0.5, 1.0]), torch.tensor([2.0, 0.0])] * 2
    grads = grads[:5]
    lr, mu = 0.1, 0.9

    def trace(step: Callable) -> Tensor:
        p, v, out = torch.tensor([1.0, 1.0]), torch.zeros(2), []
        for g in grads:
            result = step(p.clone(), g.clone(), v.clone(), lr, mu)
            if result is None:
                raise Wrong("your function returned None: return the new (p, v).")
            p, v = result
            out.append(torch.as_tensor(p, dtype=torch.float32).clone())
        return torch.stack(out)

    q = torch.tensor([1.0, 1.0], requires_grad=True)
    opt = torch.optim.SGD([q], lr=lr, momentum=mu)
    want = []
    for g in grads:
        q.grad = g.clone()
        opt.step()
        want.append(q.detach().clone())
    compare(
        trace(fn),
        torch.stack(want),
        f"p after each of 5 steps (input: p0 = [1, 1], lr = {lr}, mu = {mu}).",
        [
            (
                trace(lambda p, g, v, lr, mu: (p - lr * g, mu * v + g)),
                "the step still uses the gradient, not the velocity: p ← p − lr·v.",
            ),
            (
                trace(
                    lambda p, g, v, lr, mu: (
                        p - lr * (mu * v + (1 - mu) * g),
                        mu * v + (1 - mu) * g,
                    )
                ),
                "that is the 2018 form, an average v ← μ·v + (1 − μ)·g: PyTorch sums, "
                "v ← μ·v + g (section 5).",
            ),
            (
                trace(lambda p, g, v, lr, mu: (p - lr * v, mu * v + g)),
                "the step uses the old velocity: update v first, then step with the new one.",
            ),
        ],
        tol=1e-5,
    )


def valley_pivot(x: Tensor) -> float:
    """Where the line pivots when (a, b) move along the valley floor of mse(a*x + b, y).

    The loss is quadratic, with Hessian 2·[[mean x², mean x], [mean x, 1]] whatever y is. Its
    eigenvector of the smallest eigenvalue, (da, db), is the valley floor; the line
    a·x + b changes by da·x + db, zero at x = −db/da: the pivot.
    """
    from course_utils.line_fit import curvature

    _, vecs = curvature(x)  # column 0: the smallest curvature, the valley floor
    da, db = vecs[:, 0]
    return float(-db / da)


def check_valley_axis(answer: object) -> None:
    """Interpretation: what does moving along the valley floor of section 4's contours do to the
    line? `answer` is "shift" (up and down), "rotate" (about a point inside the data) or
    "steepen" (about x = 0). The measurement: the valley floor's direction from the Hessian, and
    where the line pivots along it; inside the data [0, 1] means "rotate"."""
    from course_utils.line_fit import line_data

    x, _ = line_data()
    pivot = valley_pivot(x)
    actual = "rotate" if 0.0 < pivot < 1.0 else ("steepen" if abs(pivot) < 0.05 else "shift")
    check_prediction(
        "valley_axis",
        answer,
        actual,
        f"along the valley floor the line pivots at x = {pivot:.3f} (the eigenvector of the "
        "loss's smallest curvature), inside the data: slope and intercept trade off so the line "
        "turns about the middle of the points. Shifting it up and down is the steep direction.",
        choices=("shift", "rotate", "steepen"),
    )
