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
