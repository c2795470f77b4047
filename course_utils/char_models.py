"""The character models of the RNN lessons, in the order the lessons meet them.

`Char3Model` (three characters in, the fourth out), `CharLoopModel` and `CharLoopConcatModel` (a
loop over n characters), `CharRnn` (`nn.RNN`) and `CharSeqRnn` (a prediction at every position)
in lesson6-rnn; `CharStatefulRnn` (state carried from batch to batch; RNN, GRU or LSTM) in
lesson6-rnn-gated. Around them: `identity_init` (Le et al.'s recurrent initialisation) and
`fit_seeds` / `mean_sd`, which train one model per seed for the comparisons the lessons rank.
Every model returns log-probabilities, so the loss is `F.nll_loss` (or `text.seq_nll_loss` for
one prediction per position). The data side (vocabulary, windows, sampling) is in `text.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.device_data import DeviceData

__all__ = [
    "Char3Model",
    "CharLoopConcatModel",
    "CharLoopModel",
    "CharRnn",
    "CharSeqRnn",
    "CharStatefulRnn",
    "fit_seeds",
    "identity_init",
    "mean_sd",
]


# --------------------------------------------------------------------------- the models


class Char3Model(nn.Module):
    """Three characters in, the fourth out: one input, one hidden and one output layer.

    The same three layers serve every character; the hidden state starts at zeros.
    Inputs: three `(bs,)` index tensors. Output: log-probabilities `(bs, vocab)`.
    """

    def __init__(self, vocab_size: int, n_fac: int, n_hidden: int) -> None:
        super().__init__()
        self.e = nn.Embedding(vocab_size, n_fac)
        self.l_in = nn.Linear(n_fac, n_hidden)
        self.l_hidden = nn.Linear(n_hidden, n_hidden)
        self.l_out = nn.Linear(n_hidden, vocab_size)

    def forward(self, c1: Tensor, c2: Tensor, c3: Tensor) -> Tensor:
        in1 = F.relu(self.l_in(self.e(c1)))  # (bs, n_hidden)
        in2 = F.relu(self.l_in(self.e(c2)))
        in3 = F.relu(self.l_in(self.e(c3)))
        h = torch.zeros_like(in1)  # nothing seen yet
        h = torch.tanh(self.l_hidden(h + in1))
        h = torch.tanh(self.l_hidden(h + in2))
        h = torch.tanh(self.l_hidden(h + in3))
        return F.log_softmax(self.l_out(h), dim=-1)


class CharLoopModel(nn.Module):
    """`Char3Model` as a loop over any number of characters; each input is *added* to `h`.
    Input: `(bs, n_chars)` indices. Output: `(bs, vocab)` log-probabilities."""

    def __init__(self, vocab_size: int, n_fac: int, n_hidden: int) -> None:
        super().__init__()
        self.n_hidden = n_hidden
        self.e = nn.Embedding(vocab_size, n_fac)
        self.l_in = nn.Linear(n_fac, n_hidden)
        self.l_hidden = nn.Linear(n_hidden, n_hidden)
        self.l_out = nn.Linear(n_hidden, vocab_size)

    def forward(self, cs: Tensor) -> Tensor:
        h = cs.new_zeros(len(cs), self.n_hidden, dtype=torch.float32)
        for c in cs.unbind(1):  # one (bs,) column per character
            inp = F.relu(self.l_in(self.e(c)))
            h = torch.tanh(self.l_hidden(h + inp))
        return F.log_softmax(self.l_out(h), dim=-1)


class CharLoopConcatModel(nn.Module):
    """Like `CharLoopModel`, but the input is *concatenated* to `h`: adding puts the character
    and the memory into the same numbers, where they can cancel out; concatenating keeps them
    apart and lets the input layer learn to combine them.
    Input: `(bs, n_chars)` indices. Output: `(bs, vocab)` log-probabilities."""

    def __init__(self, vocab_size: int, n_fac: int, n_hidden: int) -> None:
        super().__init__()
        self.n_hidden = n_hidden
        self.e = nn.Embedding(vocab_size, n_fac)
        self.l_in = nn.Linear(n_fac + n_hidden, n_hidden)
        self.l_hidden = nn.Linear(n_hidden, n_hidden)
        self.l_out = nn.Linear(n_hidden, vocab_size)

    def forward(self, cs: Tensor) -> Tensor:
        h = cs.new_zeros(len(cs), self.n_hidden, dtype=torch.float32)
        for c in cs.unbind(1):
            inp = torch.cat((h, self.e(c)), dim=1)  # (bs, n_hidden + n_fac)
            inp = F.relu(self.l_in(inp))
            h = torch.tanh(self.l_hidden(inp))
        return F.log_softmax(self.l_out(h), dim=-1)


class CharRnn(nn.Module):
    """The loop handed to `nn.RNN`; predicts the character after the window.

    `nn.RNN` takes input `(seq_len, bs, n_fac)` and state `(n_layers, bs, n_hidden)` and returns
    the state after every step, `outp` `(seq_len, bs, n_hidden)`; `outp[-1]` is the last one.
    Input: `(bs, seq_len)` indices. Output: `(bs, vocab)` log-probabilities.
    """

    def __init__(self, vocab_size: int, n_fac: int, n_hidden: int) -> None:
        super().__init__()
        self.n_hidden = n_hidden
        self.e = nn.Embedding(vocab_size, n_fac)
        self.rnn = nn.RNN(n_fac, n_hidden)
        self.l_out = nn.Linear(n_hidden, vocab_size)

    def forward(self, cs: Tensor) -> Tensor:
        inp = self.e(cs.T)  # (seq_len, bs, n_fac)
        h0 = inp.new_zeros(1, len(cs), self.n_hidden)
        outp, h = self.rnn(inp, h0)  # (seq_len, bs, n_hidden), (1, bs, n_hidden)
        return F.log_softmax(self.l_out(outp[-1]), dim=-1)


class CharSeqRnn(CharRnn):
    """`CharRnn` with an output at every position: predicts each next character.
    Input: `(bs, seq_len)` indices. Output: `(seq_len, bs, vocab)` log-probs, for `seq_nll_loss`."""

    def forward(self, cs: Tensor) -> Tensor:
        inp = self.e(cs.T)
        h0 = inp.new_zeros(1, len(cs), self.n_hidden)
        outp, h = self.rnn(inp, h0)
        return F.log_softmax(self.l_out(outp), dim=-1)


class CharStatefulRnn(nn.Module):
    """A sequence model that keeps its hidden state from one batch to the next.

    Truncated backpropagation through time: batch `i+1` continues the text of batch `i` (see
    `batchify`), so the last state of one batch starts the next. It is *detached*: the values
    carry over, gradients stop at the batch boundary, so backward covers only `bptt` steps.
    `reset()` zeroes the state (`fit` calls it each epoch and before validation).

    Args:
        vocab_size: the number of characters (rows of the embedding, width of the output).
        n_fac: the size of each character's embedding vector (its "factors").
        n_hidden: the size of the hidden state carried from step to step.
        cell: `"rnn"`, `"gru"` or `"lstm"`.
        n_layers: stacked recurrent layers.
        dropout: dropout between stacked layers and before the output layer.

    Input: `(bs, seq_len)` indices. Output: `(seq_len, bs, vocab)` log-probabilities.
    """

    cells = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

    def __init__(
        self,
        vocab_size: int,
        n_fac: int,
        n_hidden: int,
        cell: str = "gru",
        n_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in self.cells:
            raise ValueError(f"cell must be one of {sorted(self.cells)}, got {cell!r}.")
        self.cell, self.n_layers, self.n_hidden = cell, n_layers, n_hidden
        self.e = nn.Embedding(vocab_size, n_fac)
        self.rnn = self.cells[cell](
            n_fac, n_hidden, n_layers, dropout=dropout if n_layers > 1 else 0.0
        )
        self.drop = nn.Dropout(dropout)
        self.l_out = nn.Linear(n_hidden, vocab_size)
        self.h: Tensor | tuple[Tensor, Tensor] | None = None

    def reset(self) -> None:
        """Forget the text seen so far: the next batch starts from a zero state."""
        self.h = None

    def _state_for(self, bs: int, like: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        h = self.h
        batch = None if h is None else (h[0] if isinstance(h, tuple) else h).shape[1]
        if batch != bs:  # first batch, or a batch of another size: start from zeros
            zeros = like.new_zeros(self.n_layers, bs, self.n_hidden)
            h = (zeros, zeros.clone()) if self.cell == "lstm" else zeros
        return h

    def forward(self, cs: Tensor) -> Tensor:
        inp = self.e(cs.T)  # (seq_len, bs, n_fac)
        outp, h = self.rnn(inp, self._state_for(len(cs), inp))
        # keep the values, cut the graph: the next backward stops here
        self.h = tuple(t.detach() for t in h) if isinstance(h, tuple) else h.detach()
        return F.log_softmax(self.l_out(self.drop(outp)), dim=-1)

    def config(self) -> dict:
        """The constructor arguments, so the model can be rebuilt (see `save_char_model`)."""
        return {
            "vocab_size": self.e.num_embeddings,
            "n_fac": self.e.embedding_dim,
            "n_hidden": self.n_hidden,
            "cell": self.cell,
            "n_layers": self.n_layers,
            "dropout": self.drop.p,
        }


def identity_init(rnn: nn.RNN, layer: int = 0) -> None:
    """Set layer `layer`'s hidden-to-hidden weights `weight_hh_l{layer}` `(n_hidden, n_hidden)`
    to the identity (Le, Jaitly & Hinton 2015); other stacked layers are left alone."""
    with torch.no_grad():
        w = getattr(rnn, f"weight_hh_l{layer}")
        w.copy_(torch.eye(w.shape[0], w.shape[1]))


# --------------------------------------------------------------------------- seeds


def fit_seeds(
    make: Callable[[], nn.Module],
    data: DeviceData,
    epochs: int,
    lr: float,
    loss_fn: Callable = F.nll_loss,
    seeds: Sequence[int] = (0, 1, 2),
    clip: float | None = None,
) -> tuple[Tensor, nn.Module]:
    """Train one fresh model per seed (`make()` after `set_seed(seed)`: the seed fixes both the
    initial weights and the batch order), each with Adam and a one-cycle schedule at `lr`, and
    return the final validation losses `(len(seeds),)` and the last model.

    Why: two runs of the same recipe differ by up to a hundredth or two of a nat (the lessons'
    seed columns show it), close to some differences between the models the lessons compare,
    so a comparison is only worth ranking when it holds over several seeds with the same budget
    and learning rate."""
    from course_utils.device import set_seed
    from course_utils.learner import fit
    from course_utils.schedules import one_cycle

    losses = []
    for seed in seeds:
        set_seed(seed)
        model = make()
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        hist = fit(model, data, epochs, opt, loss_fn, sched=one_cycle(lr), clip=clip)
        losses.append(float(hist["valid_loss"].iloc[-1]))
    return torch.tensor(losses), model


def mean_sd(x: Tensor) -> str:
    """`"mean ± sd"` of a 1-d tensor of losses (sample standard deviation), to 3 decimals."""
    return f"{x.mean().item():.3f} ± {x.std().item():.3f}"
