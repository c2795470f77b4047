"""Characters to tensors and back, for the RNN lessons (lesson6-rnn, lesson6-rnn-gated).

A vocabulary (`Vocab`), the data layouts the models read (`split_text`, `char_windows`,
`seq_windows`, `batchify`), the sequence loss `seq_nll_loss`, the letter-frequency baseline
`unigram_nats`, greedy and temperature sampling (`get_next`, `get_next_n`, `sample_text`,
`word_overlap`), and saving a model with its vocabulary. The models themselves are in
`char_models.py`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils import checks
from course_utils.char_models import Char3Model, CharStatefulRnn
from course_utils.data import sha256
from course_utils.files import atomic_write, load_model, save_model

__all__ = [
    "Vocab",
    "batchify",
    "char_windows",
    "get_next",
    "get_next_n",
    "load_char_model",
    "sample_text",
    "save_char_model",
    "seq_nll_loss",
    "seq_windows",
    "split_text",
    "unigram_nats",
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


def unigram_nats(train: Tensor, valid: Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats per character) on `valid` of guessing every character from the letter
    frequencies of `train` (add-one smoothed so that no character has probability 0): the score of
    a model that knows no context at all."""
    counts = torch.bincount(train, minlength=vocab_size).double() + 1
    logp = (counts / counts.sum()).log()
    return -logp[valid].mean().item()


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
