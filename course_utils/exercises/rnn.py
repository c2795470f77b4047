"""Checkers for the exercises of lesson6-rnn (character-level RNNs)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils.exercises.core import checker, compare

__all__ = ["check_rnn_step", "check_temperature_probs"]


@checker("tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh), as nn.RNN computes it.")
def check_rnn_step(fn: Callable) -> None:
    """`fn(x, h, w_ih, w_hh, b_ih, b_hh)`: one step of `nn.RNN`'s tanh cell."""
    g = torch.Generator().manual_seed(4)
    x, h = torch.randn(4, 3, generator=g), torch.randn(4, 5, generator=g)
    w_ih, w_hh = torch.randn(5, 3, generator=g), torch.randn(5, 5, generator=g)
    b_ih, b_hh = torch.randn(5, generator=g), torch.randn(5, generator=g)
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
                F.softmax(logits / 0.5, 0),
                "normalised down the batch (dim 0): each row must sum to 1, use dim=-1.",
            ),
            (logits / 0.5, "these are scaled logits, not probabilities: apply softmax."),
        ],
    )
