"""lesson6-rnn: reference solutions to the exercises."""

from __future__ import annotations

import torch
from torch import Tensor


def rnn_step(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> Tensor:
    """One step of a tanh RNN. x: (bs, n_in), h: (bs, n_hidden) -> new h (bs, n_hidden)."""
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def temperature_probs(logits: Tensor, temperature: float) -> Tensor:
    """Probabilities (bs, vocab) from logits (bs, vocab) at a sampling temperature."""
    scaled = logits / temperature  # T < 1 sharpens, T > 1 flattens
    return torch.softmax(scaled, dim=-1)


def my_seq_nll_loss(out: Tensor, target: Tensor) -> Tensor:
    """The debugging exercise, fixed: out (seq_len, bs, vocab) log-probs, target (bs, seq_len)."""
    seq_len, bs, vocab = out.shape
    target = target.T.contiguous().view(-1)  # the transposed view is not in row order: copy it
    return torch.nn.functional.nll_loss(out.view(-1, vocab), target)


@torch.no_grad()
def my_next_probs(model: torch.nn.Module, x: Tensor) -> Tensor:
    """The debugging exercise, fixed: evaluation mode (no dropout) before predicting."""
    model.eval()
    model.reset()
    return model(x)[-1].exp()


# The predict/interpret exercises have no function to write; their answers:
# lesson6-rnn exercise 2: 85*42 + (170*128+128) + (128*128+128) + (128*85+85) = 52,935 parameters.
# lesson6-rnn exercise 4: "bigram" (one character of context at best learns bigram statistics).
# lesson6-rnn-gated exercise 2: 4*128*42 + 4*128*128 + 2*4*128 = 88,064 parameters.
# lesson6-rnn-gated exercise 4: "larger".
