"""Checkers for the exercises of lesson6-rnn (character-level RNNs)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils.exercises.core import Wrong, checker, compare

__all__ = [
    "check_clip_reading",
    "check_next_probs",
    "check_position_one",
    "check_rnn_step",
    "check_seq_nll_loss",
    "check_temperature_probs",
]


@checker("tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh), as nn.RNN computes it.")
def check_rnn_step(fn: Callable) -> None:
    """`fn(x, h, w_ih, w_hh, b_ih, b_hh)`: one step of `nn.RNN`'s tanh cell."""
    g = torch.Generator().manual_seed(4)
    x, h = torch.randn(4, 3, generator=g), torch.randn(4, 5, generator=g)
    w_ih, w_hh = torch.randn(5, 3, generator=g), torch.randn(5, 5, generator=g)
    b_ih, b_hh = torch.randn(5, generator=g), torch.randn(5, generator=g)
    print("input: x (4, 3), h (4, 5), w_ih (5, 3), w_hh (5, 5), b_ih (5,), b_hh (5,)")
    got = fn(x, h, w_ih, w_hh, b_ih, b_hh)
    z = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    compare(
        got,
        torch.tanh(z),
        "The new hidden state is (bs, n_hidden).",
        [
            (z, "no nonlinearity: apply tanh to the sum."),
            (torch.relu(z), "that is ReLU; nn.RNN's default nonlinearity is tanh."),
            (torch.tanh(F.linear(x, w_ih, b_ih)), "the previous hidden state h is not used."),
            (
                torch.tanh(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh)),
                "b_hh is missing: nn.RNN adds two biases, b_ih and b_hh.",
            ),
            (
                torch.tanh(F.linear(x, w_ih) + F.linear(h, w_hh, b_hh)),
                "b_ih is missing: nn.RNN adds two biases, b_ih and b_hh.",
            ),
            (
                torch.tanh(F.linear(x, w_ih, b_ih) + h @ w_hh + b_hh),
                "h @ w_hh uses the transposed "
                "matrix: layers store weights as (out, in), so multiply by w_hh.T.",
            ),
        ],
    )


@checker("softmax(logits / T) along the last dimension.")
def check_temperature_probs(fn: Callable) -> None:
    """`fn(logits, temperature)`: next-character probabilities at a temperature, per row."""
    logits = torch.randn(3, 6, generator=torch.Generator().manual_seed(5)) * 2
    print(f"input: logits {tuple(logits.shape)}, temperature 0.5")
    compare(
        fn(logits.clone(), 0.5),
        F.softmax(logits / 0.5, -1),
        "One probability per character and row.",
        [
            (
                F.softmax(logits * 0.5, -1),
                "multiplied by the temperature: divide, so that a "
                "temperature below 1 sharpens the distribution.",
            ),
            (F.softmax(logits, -1), "the temperature is ignored."),
            (
                F.log_softmax(logits / 0.5, -1),
                "these are log-probabilities (log_softmax): probabilities are asked for, use "
                "softmax (each row must sum to 1).",
            ),
            (
                F.softmax(logits / 0.5, 0),
                "normalised down the batch (dim 0): each row must sum to 1, use dim=-1.",
            ),
            (logits / 0.5, "these are scaled logits, not probabilities: apply softmax."),
        ],
    )


@checker("the target is made contiguous (or reshaped) before it is flattened.")
def check_seq_nll_loss(fn: Callable) -> None:
    """`fn(out, target)`: the mean nll over every position, out `(seq_len, bs, vocab)` log-probs,
    target `(bs, seq_len)`; the planted bug is `target.T.view(-1)` without `.contiguous()`."""
    g = torch.Generator().manual_seed(6)
    out = F.log_softmax(torch.randn(5, 3, 7, generator=g), dim=-1)
    target = torch.randint(0, 7, (3, 5), generator=g)
    print(f"input: out {tuple(out.shape)}, target {tuple(target.shape)} (bs, seq_len)")
    try:
        got = fn(out, target)
    except RuntimeError as e:
        if "view" in str(e):
            raise Wrong(
                "still `view` on a transposed tensor: its memory is not in row order. Call "
                "`.contiguous()` before `.view(-1)` (or use `.reshape(-1)`, which copies when needed)."
            ) from None
        raise
    want = F.nll_loss(out.view(-1, 7), target.T.contiguous().view(-1))
    wrong_order = F.nll_loss(out.view(-1, 7), target.reshape(-1))
    compare(
        got,
        want,
        "One number: the mean over all positions.",
        [
            (
                wrong_order,
                "the target is flattened without transposing: it is (bs, seq_len) and must be "
                "(seq_len, bs) to line up with the output.",
            )
        ],
    )


def _nats(train: torch.Tensor, valid: torch.Tensor, vocab_size: int) -> dict[str, float]:
    """Uniform, unigram and bigram (add-one smoothed) cross-entropy of `valid` from `train`."""
    uni = torch.bincount(train, minlength=vocab_size).double() + 1
    uni_lp = (uni / uni.sum()).log()
    pairs = torch.zeros(vocab_size, vocab_size, dtype=torch.float64)
    pairs.index_put_((train[:-1], train[1:]), torch.ones(len(train) - 1, dtype=torch.float64), True)
    bi_lp = ((pairs + 1) / (pairs + 1).sum(1, keepdim=True)).log()
    return {
        "uniform": math.log(vocab_size),
        "unigram": -uni_lp[valid].mean().item(),
        "bigram": -bi_lp[valid[:-1], valid[1:]].mean().item(),
    }


def check_position_one(
    answer: object, first_bar: float, train: torch.Tensor, valid: torch.Tensor, vocab_size: int
) -> None:
    """Interpretation: which baseline is the loss at position 1 (one character of context) closest
    to? Computes the three baselines on the text and names the closest."""
    if answer is None or answer is Ellipsis:
        print('○ position_one: not attempted yet. Write "uniform", "unigram" or "bigram".')
        return
    nats = _nats(train, valid, vocab_size)
    closest = min(nats, key=lambda k: abs(nats[k] - first_bar))
    shown = ", ".join(f"{k} {v:.2f}" for k, v in nats.items())
    why = (
        f"position 1 scores {first_bar:.2f} nats; baselines: {shown}. With one character of "
        "context the model can at best learn which character follows which: a bigram model."
    )
    if not isinstance(answer, str) or answer.strip().lower() not in nats:
        print(f'✗ position_one: answer "uniform", "unigram" or "bigram"; got {answer!r}.')
    elif answer.strip().lower() == closest:
        print(f"✓ position_one: correct, {closest}. {why}")
    else:
        print(f"✗ position_one: the closest is {closest}, not {answer!r}. {why}")


@checker("model.eval() switches dropout off, so the same input gives the same probabilities.")
def check_next_probs(fn: Callable) -> None:
    """`fn(model, x)`: next-character probabilities from a model with dropout; must not depend on
    the dropout draw (a forgotten `model.eval()`)."""
    from course_utils.char_models import CharStatefulRnn

    torch.manual_seed(7)
    model = CharStatefulRnn(11, 4, 8, cell="gru", dropout=0.5)
    model.train()
    x = torch.randint(0, 11, (2, 5), generator=torch.Generator().manual_seed(8))
    print(f"input: a GRU with dropout 0.5 in training mode, x {tuple(x.shape)}")
    first, second = fn(model, x), fn(model, x)
    if first is None:
        raise Wrong("your function returned None: did you forget `return`?")
    with torch.no_grad():
        model.eval()
        model.reset()
        want = model(x)[-1].exp()
    if not torch.allclose(torch.as_tensor(first), torch.as_tensor(second)):
        raise Wrong(
            "two calls on the same input differ: dropout is still on. Call `model.eval()` "
            "before the forward pass."
        )
    compare(first, want, "One distribution (bs, vocab) per row.")


def _largest_norm(run: object) -> float:
    """The largest gradient norm of one run `(norms, losses)` or of a list of them (seeds)."""
    per_seed = [run] if isinstance(run, tuple) else list(run)
    return max(float(torch.as_tensor(norms).max()) for norms, _ in per_seed)


def check_clip_reading(answer: object, runs: dict) -> None:
    """Interpretation: is the unclipped runs' largest gradient norm (before clipping) larger or
    smaller than the clipped runs'? `runs` maps the run's name to `(gradient norms, losses)`, or
    to a list of them, one per seed; the largest over all seeds and steps is compared."""
    if answer is None or answer is Ellipsis:
        print('○ clip_reading: not attempted yet. Write "larger" or "smaller".')
        return
    n_none, n_clip = _largest_norm(runs["no clipping"]), _largest_norm(runs["clip = 1.0"])
    truth = "larger" if n_none > n_clip else "smaller"
    why = (
        f"largest norms: {n_none:.1f} without clipping, {n_clip:.1f} with (before clipping). "
        "Clipping does not stop large gradients, it caps the step they cause: the clipped runs "
        "stay where the gradients are moderate, the unclipped ones jump to where they explode."
    )
    if not isinstance(answer, str) or answer.strip().lower() not in ("larger", "smaller"):
        print(f'✗ clip_reading: answer "larger" or "smaller"; got {answer!r}.')
    elif answer.strip().lower() == truth:
        print(f"✓ clip_reading: correct, {truth}. {why}")
    else:
        print(f"✗ clip_reading: it is {truth}. {why}")
