"""Checkers for the exercises at the end of each lesson notebook.

`check_name(fn)` runs your function `fn` on small inputs, compares the result with what
course_utils computes, and prints one line: "not attempted yet" (it still raises
`NotImplementedError`), "correct" and why, or what is wrong and why (a typical mistake it
recognises, or the first values of both answers). It never raises, so "Run all" gets to
the end. Reference solutions are in the repository's `solutions/` folder: try first.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.collab import IdMap, cosine_neighbours
from course_utils.learner import DeviceData, fit, sigmoid_range
from course_utils.tabular import days_since, rmspe


class _Wrong(Exception):
    """The answer is wrong; the message says how."""


def _checker(ok: str) -> Callable[[Callable], Callable[[Callable], None]]:
    """Turn `check_x(fn)`, which raises `_Wrong`, into a checker that prints its verdict."""
    def wrap(test: Callable) -> Callable[[Callable], None]:
        name = test.__name__.removeprefix("check_")

        @functools.wraps(test)
        def check(fn: Callable) -> None:
            try:
                test(fn)
            except NotImplementedError:
                print(f"○ {name}: not attempted yet. Write it in the cell above, run that "
                      "cell, then this one.")
            except _Wrong as e:
                print(f"✗ {name}: {e}")
            except Exception as e:  # an error in the student's code is feedback, not a crash
                print(f"✗ {name}: your function raised {type(e).__name__}: {e}")
            else:
                print(f"✓ {name}: correct. {ok}")
        return check
    return wrap


def _as(x: object, shape: Sequence[int], hint: str = "") -> Tensor:  # the answer as a tensor
    if x is None:
        raise _Wrong("your function returned None: did you forget `return`?")
    t = torch.as_tensor(np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=float))
    if tuple(t.shape) != tuple(shape):
        raise _Wrong(f"the result has shape {tuple(t.shape)}, expected {tuple(shape)}. {hint}")
    return t


def _compare(answer: object, want: Tensor, hint: str = "",
             wrongs: Sequence[tuple[Tensor | float, str]] = (), tol: float = 1e-5) -> None:
    """Pass if `answer` matches `want`; else say what is wrong: its shape (then `hint`), the
    first typical mistake in `wrongs` it matches, or its first values and `want`'s."""
    got = _as(answer, want.shape, hint)
    for candidate, why in [(want, None), *wrongs]:  # the right answer first
        if torch.allclose(got, torch.as_tensor(candidate).double(), 1e-4, tol, equal_nan=True):
            if why is None:
                return
            raise _Wrong(why)
    got, want = (np.array2string(t.flatten()[:6].numpy(), precision=4) for t in (got, want))
    raise _Wrong(f"on the checker's input it returned {got} where {want} was expected "
                 "(first values shown).")


@_checker("Equal ids share a row, the 4 distinct ids get rows 0..3 in sorted order: IdMap.")
def check_contiguous_ids(fn: Callable) -> None:
    """`fn(ids)`: row numbers 0..n-1 for the distinct ids, in sorted order (as `IdMap`)."""
    ids = np.array([10, 3, 7, 3, 193609, 10])
    want, raw = (torch.as_tensor(a, dtype=float) for a in (IdMap(ids).encode(ids), ids))
    _compare(fn(ids.copy()), want, "Return one row number per id of the input.", [
        (raw, "these are the raw ids: a table of 4 rows needs row numbers 0..3, and id 193609 "
              "would be far past its end."),
        (raw - 1, "subtracting 1 only works when the ids have no gaps."),
        (want + 1, "the rows start at 1: Python and PyTorch count from 0."),
        (torch.tensor([0.0, 1, 2, 1, 3, 0]), "the rows follow the order in which ids first "
         "appear; number the *sorted* distinct ids (np.unique(ids, return_inverse=True)).")])


@_checker("sigmoid(u·m + user bias + movie bias) scaled into y_range, row by row.")
def check_predict_rating(fn: Callable) -> None:
    """`fn(u, m, ub, mb, y_range)`: EmbeddingDotBias's prediction from looked-up rows."""
    g = torch.Generator().manual_seed(0)
    u, m = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    ub, mb, yr = torch.randn(6, generator=g), torch.randn(6, generator=g), (1.0, 5.5)
    got = fn(u, m, ub, mb, yr)
    z = (u * m).sum(1) + ub + mb
    _compare(got, sigmoid_range(z, yr), "One prediction per row of the batch: multiply "
             "elementwise and sum over the factors, (u * m).sum(1), not u @ m.T.", [
        (z, "the raw score is not squashed: apply the sigmoid and scale it into y_range."),
        (sigmoid_range((u * m).sum(1), yr), "the biases are missing: add ub and mb."),
        (torch.sigmoid(z), "the sigmoid gives 0..1: scale it by (hi - lo) and add lo."),
        (torch.sigmoid(z) * yr[1], "the sigmoid is scaled by hi only: use (hi - lo), add lo.")])


@_checker("The same neighbours, in the same order, as course_utils.collab.cosine_neighbours.")
def check_nearest_by_cosine(fn: Callable) -> None:
    """`fn(emb, i, k)`: indices of the k rows most similar to row i by cosine, best first."""
    emb = torch.randn(30, 5, generator=torch.Generator().manual_seed(1))
    emb[7], emb[11] = 5 * emb[2] + emb[3], 0.2 * emb[2] + 0.05  # a long and a short neighbour
    want = torch.as_tensor(cosine_neighbours(emb, 2, 4)[0], dtype=float)
    dot = (emb @ emb[2]).index_fill(0, torch.tensor([2]), -1e9)
    _compare(fn(emb.clone(), 2, 4), want, "Return k indices.", [
        (F.cosine_similarity(emb, emb[2:3]).topk(4).indices.double(),
         "row i itself is in the list (cosine 1): leave it out."),
        (dot.topk(4).indices.double(), "that is the dot product's ranking, which favours long "
         "vectors: divide by both lengths (cosine similarity)."),
        (want.flip(0), "the order is reversed: most similar first.")])


@_checker("Centred rows projected on the top n right singular vectors: sklearn's "
          "PCA(n).fit_transform, up to the sign of each column.")
def check_pca_scores(fn: Callable) -> None:
    """`fn(emb, n)`: each row's coordinates on the first n principal components, (rows, n)."""
    g = torch.Generator().manual_seed(2)
    emb = (torch.randn(40, 6, generator=g) * torch.tensor([3.0, 2, 1, 1, 0.5, 0.2]) + 4).double()
    got = fn(emb.clone(), 2)
    centred = emb - emb.mean(0)
    want, raw = (e @ torch.linalg.svd(e, full_matrices=False).Vh[:2].T for e in (centred, emb))
    align = lambda a, b: a * torch.where((a * b).sum(0) < 0, -1.0, 1.0)  # noqa: E731 (sign of PCs)
    got = align(_as(got, (40, 2), "Return the scores, one row of n per input row, not the "
                    "components (n, factors)."), want)
    _compare(got, want, wrongs=[(align(raw, got), "the rows were not centred: subtract the mean "
             "row first, or the first direction points at the mean.")], tol=1e-4)


@_checker("avg = beta*avg + (1-beta)*v, divided by 1 - beta**n: right from the first value.")
def check_ewma_debiased(fn: Callable) -> None:
    """`fn(values, beta)`: the debiased exponentially weighted average after each value."""
    values, beta = [3.0, 5.0, 4.0, 10.0, 2.0], 0.9
    ew = lambda b: torch.tensor([sum((1 - b) * b ** (k - i) * v for i, v in  # noqa: E731
                                     enumerate(values[: k + 1])) for k in range(5)])
    raw, swapped, n = ew(beta), ew(1 - beta), torch.arange(1.0, 6.0)
    _compare(fn(list(values), beta), raw / (1 - beta**n), "One average per value.", [
        (raw, "not debiased: the average starts at 0, so divide step n by 1 - beta**n."),
        (swapped / (1 - (1 - beta) ** n), "beta and 1 - beta are swapped: the old average "
         "keeps beta, the new value gets 1 - beta."),
        (torch.tensor(values).cumsum(0) / n, "that is the plain mean so far; recent values "
         "must weigh more.")])


def _epoch(model: nn.Module, x: Tensor, y: Tensor, bs: int, opt: torch.optim.Optimizer,
           shuffle: bool = True, zero: bool = True, drop_last: bool = False) -> None:
    """One epoch with a typical mistake switched on, to recognise it."""
    idx = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
    for i in range(0, len(x) - (bs - 1 if drop_last else 0), bs):
        loss = F.mse_loss(model(x[idx[i : i + bs]]), y[idx[i : i + bs]])
        if zero:
            opt.zero_grad()
        loss.backward()
        opt.step()


@_checker("Your loop ends with exactly the weights course_utils.fit reaches from the same seed.")
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
        raise _Wrong(f"{len(losses)} batch losses, expected 16: 1000 rows in batches of 64 are "
                     "15 full batches and one of 40.")
    want, _ = run(lambda m, x, y, bs, opt: fit(m, DeviceData(x, y, bs=bs, device="cpu"), 1, opt,
                                               F.mse_loss, progress=False))
    _compare(got, want, wrongs=[(run(_epoch, **kw)[0], why) for kw, why in [
        ({"zero": False}, "the gradients were not zeroed: backward() adds to .grad, so each "
         "step used the sum of all gradients so far."),
        ({"shuffle": False}, "the rows were not shuffled: draw torch.randperm(len(x)) and "
         "slice the permutation into batches."),
        ({"drop_last": True}, "the last, smaller batch of 40 rows was dropped: fit keeps it.")]],
        tol=1e-6)


@_checker(f"weight std √(2/fan_in) = {math.sqrt(2 / 400):.4f}, mean 0, bias 0, filled in place.")
def check_kaiming_init(fn: Callable) -> None:
    """`fn(layer)`: fill an `nn.Linear`'s weight in place from N(0, 2/fan_in), bias 0."""
    torch.manual_seed(0)
    layer = nn.Linear(400, 100)  # fan_in 400, fan_out 100
    w, w0 = layer.weight, layer.weight.detach().clone()
    fn(layer)
    if torch.equal(layer.weight, w0):
        raise _Wrong("the weights are unchanged (PyTorch's default init).")
    if layer.weight is not w:
        raise _Wrong("the weight is a new tensor, not filled in place: an optimizer built "
                     "earlier still updates the old one. Use nn.init.normal_ or .normal_().")
    _compare(layer.weight.std().reshape(1), torch.tensor([math.sqrt(2 / 400)]), wrongs=[
        (torch.tensor([math.sqrt(2 / 100)]), "std √(2/fan_out): each output sums fan_in = 400 "
         "products, so the scale must come from fan_in."),
        (torch.tensor([math.sqrt(1 / 400)]), "std √(1/fan_in) suits tanh; ReLU zeroes half its "
         "inputs, so Kaiming uses √(2/fan_in)."),
        (torch.tensor([1.0]), "std 1: each output sums 400 products, std ≈ 20, and the "
         "activations grow layer after layer.")], tol=0.004)
    if layer.bias.abs().max() > 0 or abs(layer.weight.mean().item()) > 0.01:
        raise _Wrong("the weights must have mean 0 and the bias must be all zeros.")


@_checker("tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh), as nn.RNN computes it.")
def check_rnn_step(fn: Callable) -> None:
    """`fn(x, h, w_ih, w_hh, b_ih, b_hh)`: one step of `nn.RNN`'s tanh cell."""
    g = torch.Generator().manual_seed(4)
    x, h = torch.randn(4, 3, generator=g), torch.randn(4, 5, generator=g)
    w_ih, w_hh = torch.randn(5, 3, generator=g), torch.randn(5, 5, generator=g)
    b_ih, b_hh = torch.randn(5, generator=g), torch.randn(5, generator=g)
    got = fn(x, h, w_ih, w_hh, b_ih, b_hh)
    z = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    _compare(got, torch.tanh(z), "The new hidden state is (bs, n_hidden).", [
        (z, "no nonlinearity: apply tanh to the sum."),
        (torch.relu(z), "that is ReLU; nn.RNN's default nonlinearity is tanh."),
        (torch.tanh(F.linear(x, w_ih, b_ih)), "the previous hidden state h is not used."),
        (torch.tanh(F.linear(x, w_ih, b_ih) + h @ w_hh + b_hh), "h @ w_hh uses the transposed "
         "matrix: layers store weights as (out, in), so multiply by w_hh.T.")])


@_checker("softmax(logits / T) along the last dimension.")
def check_temperature_probs(fn: Callable) -> None:
    """`fn(logits, temperature)`: next-character probabilities at a temperature, per row."""
    logits = torch.randn(3, 6, generator=torch.Generator().manual_seed(5)) * 2
    _compare(fn(logits.clone(), 0.5), F.softmax(logits / 0.5, -1),
             "One probability per character and row.", [
        (F.softmax(logits * 0.5, -1), "multiplied by the temperature: divide, so that a "
         "temperature below 1 sharpens the distribution."),
        (F.softmax(logits, -1), "the temperature is ignored."),
        (F.softmax(logits / 0.5, 0), "normalised down the batch (dim 0): each row must sum to "
         "1, use dim=-1."),
        (logits / 0.5, "these are scaled logits, not probabilities: apply softmax.")])


@_checker("sqrt(mean(((targ - pred) / targ)**2)): a 10% miss costs the same for any store.")
def check_rmspe(fn: Callable) -> None:
    """`fn(pred, targ)`: root mean squared percentage error, as a float."""
    pred, targ = np.array([90.0, 120.0, 50.0, 210.0]), np.array([100.0, 100.0, 40.0, 200.0])
    pct = (targ - pred) / targ
    _compare(fn(pred.copy(), targ.copy()), torch.tensor(rmspe(pred, targ)), "Return one number.", [
        (np.sqrt(np.mean(((targ - pred) / pred) ** 2)), "divided by the prediction: a "
         "percentage error is relative to the true value."),
        (np.mean(pct**2), "the square root is missing."),
        (np.mean(np.abs(pct)), "that is the mean absolute percentage error."),
        (100 * np.sqrt(np.mean(pct**2)), "in percent: Kaggle's score is a fraction.")])


@_checker("0 on an event day, +1 each day after, NaN before the first: tabular.days_since.")
def check_days_since_last(fn: Callable) -> None:
    """`fn(flags)`: for consecutive days, days since the last day with flag 1 (NaN before)."""
    flags = np.array([0, 1, 0, 0, 1, 1, 0, 0, 0])
    df = pd.DataFrame({"Store": 1, "Date": pd.date_range("2015-01-01", periods=9), "E": flags})
    want = torch.tensor(days_since(df, "E").to_numpy())
    _compare(fn(flags.copy()), want, "One number per day.", [
        (want.nan_to_num(0.0), "before the first event there is no last event: NaN, not 0."),
        (want + 1, "off by one: on an event day the answer is 0."),
        (torch.tensor([1.0, 0, 2, 1, 0, 0, math.nan, math.nan, math.nan]), "that counts the "
         "days *until* the next event.")])
