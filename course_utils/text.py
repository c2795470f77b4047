"""Character-level language models on Nietzsche (lessons 6 and 7 of the 2018 course).

The models, in the order the lesson meets them: `Char3Model` (three characters in, the fourth
out), `CharLoopModel` and `CharLoopConcatModel` (a loop over n characters), `CharRnn` (`nn.RNN`)
and `CharSeqRnn` (a prediction at every position), `CharStatefulRnn` (state carried from batch
to batch; RNN, GRU or LSTM). Around them: a vocabulary, data layouts, a sequence loss, greedy and
temperature sampling, saving a model with its vocabulary. Every model returns log-probabilities,
so the loss is `F.nll_loss` (or `seq_nll_loss` for one prediction per position).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils import checks
from course_utils.data import sha256
from course_utils.device_data import DeviceData
from course_utils.files import atomic_write, load_model, save_model

__all__ = [
    "Char3Model",
    "CharLoopConcatModel",
    "CharLoopModel",
    "CharRnn",
    "CharSeqRnn",
    "CharStatefulRnn",
    "Vocab",
    "batchify",
    "char_windows",
    "fit_seeds",
    "mean_sd",
    "unigram_nats",
    "get_next",
    "get_next_n",
    "identity_init",
    "load_char_model",
    "sample_text",
    "save_char_model",
    "seq_nll_loss",
    "seq_windows",
    "split_text",
    "word_overlap",
]

PAD = "\0"  # index 0 of every vocabulary: padding, never in the text itself


# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocab:
    """The characters a model knows: `chars[i]` has index `i`; index 0 is the padding `"\\0"`,
    then the text's sorted unique characters. `char_indices`, `indices_char`: the lesson's maps."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls((PAD, *sorted(set(text) - {PAD})))

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} characters: {''.join(self.chars[1:])!r} after {PAD!r})"

    @cached_property
    def char_indices(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    @cached_property
    def indices_char(self) -> dict[int, str]:
        return dict(enumerate(self.chars))

    def encode(self, text: str) -> Tensor:
        """The text as a 1-d `long` tensor of indices, shape `(len(text),)`."""
        lookup = self.char_indices
        try:
            return torch.tensor([lookup[c] for c in text], dtype=torch.long)
        except KeyError as e:
            raise ValueError(f"Character {e.args[0]!r} is not in the vocabulary.") from None

    def decode(self, idx: Sequence[int] | Tensor) -> str:
        idx = idx.tolist() if isinstance(idx, Tensor) else idx
        return "".join(self.chars[i] for i in idx)


# --------------------------------------------------------------------------- data layouts


def split_text(idx: Tensor, valid_frac: float = 0.1) -> tuple[Tensor, Tensor]:
    """Split an encoded text into a training head and a contiguous validation tail (a random
    split of overlapping windows would put near-copies of training windows in validation)."""
    if not 0 < valid_frac < 1:
        raise ValueError(f"valid_frac must be between 0 and 1, got {valid_frac}.")
    n_train = int(len(idx) * (1 - valid_frac))
    return idx[:n_train], idx[n_train:]


def char_windows(idx: Tensor, n: int, stride: int = 1) -> tuple[Tensor, Tensor]:
    """Windows of `n` characters and the character after each one: `x` `(n_windows, n)` with
    `x[k] = idx[k*stride : k*stride + n]`, `y` `(n_windows,)` with `y[k] = idx[k*stride + n]`."""
    n_windows = (len(idx) - n - 1) // stride + 1
    if n_windows < 1:
        raise ValueError(f"A text of {len(idx)} characters has no window of {n} plus a target.")
    x = idx.unfold(0, n, stride)[:n_windows]  # a view of the text, no copy yet
    y = idx[n : n + (n_windows - 1) * stride + 1 : stride]
    return x.contiguous(), y.clone()  # own memory, so the windows can be indexed fast


def seq_windows(idx: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """Non-overlapping windows of `n` characters, `x` and `y` both `(n_windows, n)`, with
    `y[k, j]` the character after `x[k, j]`."""
    n_windows = (len(idx) - 1) // n
    if n_windows < 1:
        raise ValueError(f"A text of {len(idx)} characters has no window of {n} plus a target.")
    x = idx[: n_windows * n].view(n_windows, n)
    y = idx[1 : n_windows * n + 1].view(n_windows, n)
    return x.clone(), y.clone()


def batchify(idx: Tensor, bs: int, bptt: int) -> tuple[Tensor, Tensor]:
    """Lay a text out as `bs` parallel streams, cut into chunks of `bptt`, for stateful models.

    Batch `i` holds chunk `i` of every stream, so batch `i+1` continues each stream where batch
    `i` stopped. Rows for `DeviceData(..., shuffle=False)`: `x`, `y` `(n_chunks * bs, bptt)`,
    rows `i*bs ... (i+1)*bs - 1` are batch `i`, `y` is `x` shifted by one character.
    """
    stream_len = (len(idx) - 1) // bs
    n_chunks = stream_len // bptt
    if n_chunks < 1:
        raise ValueError(f"{len(idx)} characters are too few for bs={bs} streams of bptt={bptt}.")
    used = n_chunks * bptt
    x = idx[: bs * stream_len].view(bs, stream_len)[:, :used]
    y = idx[1 : bs * stream_len + 1].view(bs, stream_len)[:, :used]

    def rows(t: Tensor) -> Tensor:  # (bs, n_chunks*bptt) -> (n_chunks*bs, bptt), chunk-major
        return t.view(bs, n_chunks, bptt).transpose(0, 1).reshape(n_chunks * bs, bptt)

    return rows(x), rows(y)


def seq_nll_loss(out: Tensor, target: Tensor) -> Tensor:
    """Mean negative log-likelihood over every position of a sequence model.

    `out`: log-probabilities `(seq_len, bs, vocab)`, the layout `nn.RNN` works in; `target`:
    indices `(bs, seq_len)`, transposed to line up with `out`. `transpose` only swaps strides,
    so the result needs `contiguous()` (a copy) before `view` can flatten it.
    """
    seq_len, bs, vocab = out.shape
    target = target.transpose(0, 1).contiguous().view(-1)
    return F.nll_loss(out.view(-1, vocab), target)


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

    Why: two runs of the same recipe differ by a few hundredths of a nat, as much as the
    differences between the models the lesson compares, so a comparison is only worth ranking
    when it holds over several seeds with the same budget and learning rate."""
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


def unigram_nats(train: Tensor, valid: Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats per character) on `valid` of guessing every character from the letter
    frequencies of `train` (add-one smoothed so that no character has probability 0): the score of
    a model that knows no context at all."""
    counts = torch.bincount(train, minlength=vocab_size).double() + 1
    logp = (counts / counts.sum()).log()
    return -logp[valid].mean().item()


def identity_init(rnn: nn.RNN, layer: int = 0) -> None:
    """Set layer `layer`'s hidden-to-hidden weights `weight_hh_l{layer}` `(n_hidden, n_hidden)`
    to the identity (Le, Jaitly & Hinton 2015); other stacked layers are left alone."""
    with torch.no_grad():
        w = getattr(rnn, f"weight_hh_l{layer}")
        w.copy_(torch.eye(w.shape[0], w.shape[1]))


# --------------------------------------------------------------------------- generation


@torch.no_grad()
def get_next(model: nn.Module, inp: str, vocab: Vocab) -> str:
    """The model's most likely character after `inp` (a window-to-one-character model).

    Greedy: it always takes the arg max, so the same input gives the same character;
    `sample_text` draws from the distribution instead, which is what makes text varied."""
    idx = vocab.encode(inp).to(next(model.parameters()).device)
    model.eval()
    if isinstance(model, Char3Model):
        out = model(*idx[-3:].view(3, 1))  # three (1,) tensors
    else:
        out = model(idx.view(1, -1))
    if out.dim() == 3:  # a sequence model: take its last position
        out = out[-1]
    return vocab.chars[out.argmax(-1).item()]


def get_next_n(model: nn.Module, inp: str, n: int, vocab: Vocab) -> str:
    """Greedily extend `inp` by `n` characters, feeding each window of `len(inp)` back in."""
    if not inp:
        raise ValueError("Give at least one character to start from.")
    n = checks.whole_number(n, "n (characters to add)", minimum=0, example="40")
    res = inp
    for _ in range(n):
        res += get_next(model, res[-len(inp) :], vocab)
    return res


@torch.no_grad()
def sample_text(
    model: CharStatefulRnn,
    seed: str,
    n: int,
    vocab: Vocab,
    temperature: float = 0.5,
    generator: torch.Generator | None = None,
) -> str:
    """Continue `seed` by `n` characters with a stateful model.

    The seed is read once to warm up the hidden state; then each character is drawn from
    `softmax(log_probs / temperature)` and fed back in. Temperature 0 takes the most likely
    character (greedy); below 1 sharpens the distribution (safer, more repetitive text),
    above 1 flattens it (more surprising, more misspelt). Pass a seeded `generator` to get
    the same text every time. The padding character (index 0) is never drawn.
    """
    if not seed:
        raise ValueError("Give at least one character of seed text.")
    n = checks.whole_number(n, "n (characters to add)", minimum=0, example="400")
    if temperature != math.inf:  # inf: every character equally likely
        temperature = checks.real_number(temperature, "temperature", 0, example="0.5 (0: greedy)")
    device = next(model.parameters()).device
    model.eval()
    model.reset()
    out = model(vocab.encode(seed).to(device).view(1, -1))  # (len(seed), 1, vocab)
    chars = []
    for _ in range(n):
        logp = out[-1, 0].float().cpu().clamp(min=-1e4)  # finite: no inf / inf at temperature inf
        if temperature <= 0:
            nxt = int(logp[1:].argmax()) + 1  # index 0, the padding, is never a choice
        else:
            probs = torch.softmax(logp / temperature, dim=-1)
            probs[0] = 0.0
            nxt = int(torch.multinomial(probs, 1, generator=generator))
        chars.append(vocab.chars[nxt])
        out = model(torch.tensor([[nxt]], device=device))
    model.reset()
    return seed + "".join(chars)


def word_overlap(sample: str, text: str) -> float:
    """Fraction of the whitespace-separated tokens of `sample` (punctuation stripped) that are
    words of `text`. A quick check that generated text is made of real words."""
    strip = "\"'()[],.;:!?-_"
    words = {w.strip(strip).lower() for w in text.split()}
    tokens = [t.strip(strip).lower() for t in sample.split()]
    tokens = [t for t in tokens if t]
    return sum(t in words for t in tokens) / max(1, len(tokens))


# --------------------------------------------------------------------------- save / load


def save_char_model(model: CharStatefulRnn, vocab: Vocab, path: str | Path) -> Path:
    """Save weights (`path`) plus a JSON sidecar (`path.json`) with the model's constructor
    arguments, vocabulary and the weights' sha256, so `load_char_model` can rebuild it without
    the data set and notice weights and vocabulary that do not belong together."""
    if len(vocab) != model.e.num_embeddings:
        raise ValueError(
            f"The vocabulary has {len(vocab)} characters, the model "
            f"{model.e.num_embeddings}: pass the vocabulary it was trained with."
        )
    meta = {"config": model.config(), "chars": "".join(vocab.chars)}  # can fail: before writing
    path = save_model(model, path)
    meta["weights_sha256"] = sha256(path)
    with atomic_write(path.with_suffix(path.suffix + ".json")) as tmp:
        tmp.write_text(json.dumps(meta), encoding="utf-8")
    return path


def load_char_model(
    path: str | Path, device: str | torch.device | None = None
) -> tuple[CharStatefulRnn, Vocab]:
    """Rebuild a model saved by `save_char_model`: returns `(model, vocab)`, in eval mode."""
    path = Path(path)
    meta_path = path.with_suffix(path.suffix + ".json")
    if not meta_path.exists():
        raise FileNotFoundError(f"No {meta_path}: save the model with save_char_model() first.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        n_chars, config = len(meta["chars"]), meta["config"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(
            f"{meta_path} is damaged ({type(e).__name__}: {e}): save the model "
            "again with save_char_model()."
        ) from None
    model = load_model(CharStatefulRnn(**config), path, device)
    if n_chars != config["vocab_size"] or meta.get("weights_sha256", sha256(path)) != sha256(path):
        raise ValueError(
            f"{meta_path} and {path} do not belong together (other weights, or "
            f"{n_chars} characters for a model of {config['vocab_size']}): save "
            "them again with save_char_model(model, vocab, path)."
        )
    return model.eval(), Vocab(tuple(meta["chars"]))
