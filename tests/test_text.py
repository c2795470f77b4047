"""Tests for course_utils.text: vocabulary, data layouts, char-RNN models, sampling, widget."""

from __future__ import annotations

import json
import os
import string

import pytest
import torch
import torch.nn.functional as F

from course_utils.char_models import (
    Char3Model,
    CharLoopConcatModel,
    CharLoopModel,
    CharRnn,
    CharSeqRnn,
    CharStatefulRnn,
    identity_init,
    mean_sd,
)
from course_utils.device import set_seed
from course_utils.device_data import DeviceData
from course_utils.learner import fit
from course_utils.text import (
    Vocab,
    batchify,
    char_windows,
    get_next,
    get_next_n,
    load_char_model,
    sample_text,
    save_char_model,
    seq_nll_loss,
    seq_windows,
    split_text,
    word_overlap,
)
from course_utils.widgets import make_text_generator

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 20


@pytest.fixture
def vocab() -> Vocab:
    return Vocab.from_text(TEXT)


# --------------------------------------------------------------------------- vocabulary


def test_vocab_has_padding_first_then_sorted_chars(vocab):
    assert vocab.chars[0] == "\0"
    assert list(vocab.chars[1:]) == sorted(set(TEXT))
    assert len(vocab) == len(set(TEXT)) + 1
    assert vocab.char_indices["\0"] == 0
    assert vocab.indices_char[1] == "\n"


def test_encode_decode_round_trip(vocab):
    idx = vocab.encode("the mat")
    assert idx.dtype == torch.long and idx.shape == (7,)
    assert vocab.decode(idx) == "the mat"


def test_encode_unknown_char_names_it(vocab):
    with pytest.raises(ValueError, match="'Z'"):
        vocab.encode("Zebra")


# --------------------------------------------------------------------------- layouts


def test_split_text_keeps_a_contiguous_tail():
    idx = torch.arange(100)
    trn, val = split_text(idx, 0.1)
    assert torch.equal(trn, torch.arange(90)) and torch.equal(val, torch.arange(90, 100))
    with pytest.raises(ValueError):
        split_text(idx, 1.5)


def test_char_windows_stride_1_and_3():
    idx = torch.arange(10)  # "text" 0..9
    x, y = char_windows(idx, 3)
    assert x.shape == (7, 3) and y.shape == (7,)
    assert x[0].tolist() == [0, 1, 2] and y[0] == 3
    assert x[-1].tolist() == [6, 7, 8] and y[-1] == 9  # the last window with a target
    x3, y3 = char_windows(idx, 3, stride=3)
    assert x3.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and y3.tolist() == [3, 6, 9]
    with pytest.raises(ValueError):
        char_windows(torch.arange(3), 3)


def test_seq_windows_targets_are_inputs_shifted_by_one():
    x, y = seq_windows(torch.arange(20), 4)
    assert x.shape == y.shape == (4, 4)
    assert torch.equal(y, x + 1)
    assert x[1].tolist() == [4, 5, 6, 7]  # non-overlapping


def test_batchify_consecutive_batches_continue_each_stream():
    idx = torch.arange(1000)
    bs, bptt = 4, 10
    x, y = batchify(idx, bs, bptt)
    stream_len = 999 // bs
    n_chunks = stream_len // bptt
    assert x.shape == y.shape == (n_chunks * bs, bptt)
    assert torch.equal(y, x + 1)
    for i in range(n_chunks - 1):
        this, nxt = x[i * bs : (i + 1) * bs], x[(i + 1) * bs : (i + 2) * bs]
        assert torch.equal(nxt[:, 0], this[:, -1] + 1)  # each row goes on where it stopped
    assert x[:bs, 0].tolist() == [s * stream_len for s in range(bs)]  # streams start apart
    with pytest.raises(ValueError):
        batchify(torch.arange(10), 4, 10)


def test_seq_nll_loss_matches_per_position_mean():
    seq_len, bs, vocab = 5, 3, 7
    out = F.log_softmax(torch.randn(seq_len, bs, vocab), dim=-1)
    target = torch.randint(vocab, (bs, seq_len))
    manual = -torch.stack(
        [out[t, b, target[b, t]] for t in range(seq_len) for b in range(bs)]
    ).mean()
    assert torch.allclose(seq_nll_loss(out, target), manual)


# --------------------------------------------------------------------------- models


def _is_log_prob(out: torch.Tensor) -> bool:
    return torch.allclose(out.exp().sum(-1), torch.ones(out.shape[:-1]), atol=1e-5)


def test_window_models_shapes():
    v, bs = 11, 5
    x = torch.randint(1, v, (bs, 8))
    out3 = Char3Model(v, 4, 16)(x[:, 0], x[:, 1], x[:, 2])
    assert out3.shape == (bs, v) and _is_log_prob(out3)
    for cls in (CharLoopModel, CharLoopConcatModel, CharRnn):
        out = cls(v, 4, 16)(x)
        assert out.shape == (bs, v) and _is_log_prob(out), cls.__name__
    seq = CharSeqRnn(v, 4, 16)(x)
    assert seq.shape == (8, bs, v) and _is_log_prob(seq)


def test_char_rnn_last_output_is_seq_rnn_last_position():
    set_seed(0)
    v = 11
    a = CharRnn(v, 4, 16)
    b = CharSeqRnn(v, 4, 16)
    b.load_state_dict(a.state_dict())
    x = torch.randint(1, v, (3, 8))
    assert torch.allclose(a(x), b(x)[-1], atol=1e-6)


@pytest.mark.parametrize("cell,n_layers", [("rnn", 1), ("gru", 1), ("lstm", 2)])
def test_stateful_model_carries_state_across_batches(cell, n_layers):
    set_seed(0)
    v = 11
    m = CharStatefulRnn(v, 4, 16, cell=cell, n_layers=n_layers, dropout=0.3).eval()
    x = torch.randint(1, v, (3, 12))
    whole = m(x)
    m.reset()
    halves = torch.cat([m(x[:, :5]), m(x[:, 5:])])  # same text in two batches
    assert whole.shape == (12, 3, v) and _is_log_prob(whole)
    assert torch.allclose(whole, halves, atol=1e-5)
    state = m.h if isinstance(m.h, tuple) else (m.h,)
    assert all(s.grad_fn is None and s.shape == (n_layers, 3, 16) for s in state)  # detached
    m.reset()
    assert m.h is None
    m(x)
    m(x[:2])  # a different batch size starts from zeros instead of failing
    state = m.h if isinstance(m.h, tuple) else (m.h,)
    assert state[0].shape[1] == 2


def test_stateful_model_rejects_unknown_cell():
    with pytest.raises(ValueError, match="cell"):
        CharStatefulRnn(5, 2, 4, cell="transformer")


def test_identity_init_touches_only_the_layer_asked_for():
    rnn = torch.nn.RNN(4, 6, num_layers=2)
    before = rnn.weight_hh_l1.detach().clone()
    identity_init(rnn, 0)
    assert torch.equal(rnn.weight_hh_l0, torch.eye(6))
    assert torch.equal(rnn.weight_hh_l1, before)
    identity_init(rnn, 1)
    assert torch.equal(rnn.weight_hh_l1, torch.eye(6))


def test_mean_sd_is_the_sample_standard_deviation():
    assert mean_sd(torch.tensor([1.0, 2.0, 3.0])) == "2.000 ± 1.000"


def test_models_live_in_char_models_and_the_data_side_in_text():
    from course_utils import char_models, text

    assert "CharStatefulRnn" in char_models.__all__ and "CharStatefulRnn" not in text.__all__
    assert "sample_text" in text.__all__ and "fit_seeds" in char_models.__all__


def test_stateful_gru_learns_a_repeating_text_with_fit(vocab):
    set_seed(0)
    idx = vocab.encode(TEXT)
    trn, val = split_text(idx, 0.2)
    bs, bptt = 4, 16
    data = DeviceData(
        *batchify(trn, bs, bptt),
        *batchify(val, bs, bptt),
        bs=bs,
        shuffle=False,
        drop_last=True,
        device="cpu",
    )
    m = CharStatefulRnn(len(vocab), 8, 32, cell="gru")
    hist = fit(m, data, 8, torch.optim.Adam(m.parameters(), 1e-2), seq_nll_loss, progress=False)
    assert hist["valid_loss"].iloc[-1] < 0.5 * hist["valid_loss"].iloc[0]
    assert hist["valid_loss"].iloc[-1] < 1.0


# --------------------------------------------------------------------------- generation


def test_get_next_and_get_next_n(vocab):
    """get_next is the model's most likely next character; get_next_n feeds its own output
    back in, one window of len(inp) characters at a time."""
    set_seed(0)
    m3 = Char3Model(len(vocab), 4, 16).eval()
    with torch.no_grad():
        out3 = m3(*vocab.encode("the").view(3, 1))
    assert get_next(m3, "the", vocab) == vocab.chars[out3.argmax(-1).item()]
    m8 = CharRnn(len(vocab), 4, 16).eval()
    out = get_next_n(m8, "the cat ", 10, vocab)
    assert out.startswith("the cat ") and len(out) == 18
    for i in range(8, 18):  # every added character is get_next of the 8 before it
        assert out[i] == get_next(m8, out[i - 8 : i], vocab)
    seq = CharSeqRnn(len(vocab), 4, 16).eval()
    with torch.no_grad():
        last = seq(vocab.encode("the cat ").view(1, -1))[-1]
    assert get_next(seq, "the cat ", vocab) == vocab.chars[last.argmax(-1).item()]


def test_sample_text_is_seeded_and_greedy_at_zero(vocab):
    set_seed(0)
    m = CharStatefulRnn(len(vocab), 4, 16, cell="gru")
    a = sample_text(m, "the ", 30, vocab, 1.0, generator=torch.Generator().manual_seed(1))
    b = sample_text(m, "the ", 30, vocab, 1.0, generator=torch.Generator().manual_seed(1))
    assert a == b and a.startswith("the ") and len(a) == 34
    g1 = sample_text(m, "the ", 30, vocab, 0.0)
    assert g1 == sample_text(m, "the ", 30, vocab, 0.0)
    with pytest.raises(ValueError):
        sample_text(m, "", 5, vocab)


def test_word_overlap():
    assert word_overlap("The cat, sat!", TEXT) == 1.0
    assert word_overlap("the xqzt", TEXT) == 0.5
    assert word_overlap("", TEXT) == 0.0


# --------------------------------------------------------------------------- save / widget


def test_save_and_load_char_model_round_trip(tmp_path, vocab):
    set_seed(0)
    m = CharStatefulRnn(len(vocab), 4, 16, cell="lstm", n_layers=2, dropout=0.1).eval()
    path = save_char_model(m, vocab, tmp_path / "models" / "lstm.pt")
    m2, vocab2 = load_char_model(path)
    assert vocab2 == vocab and m2.config() == m.config() and not m2.training
    x = torch.randint(1, len(vocab), (2, 6))
    m.reset()
    assert torch.allclose(m(x), m2(x))
    with pytest.raises(FileNotFoundError):
        load_char_model(tmp_path / "nothing.pt")


def test_text_generator_widget_rebuilds_from_saved_model(tmp_path, vocab):
    set_seed(0)
    m = CharStatefulRnn(len(vocab), 4, 16, cell="gru")
    path = save_char_model(m, vocab, tmp_path / "gru.pt")
    ui = make_text_generator(path, seed_text="the cat", length=40)
    seed_box, length_box, temp_box = ui.controls
    first = ui.output.value
    assert "the cat" in first
    length_box.value = 100
    assert ui.output.value != first
    seed_box.value = "ZZZ"  # no character the model knows
    assert "seed text" in ui.output.value
    seed_box.value = "the dog"
    temp_box.value = 0.0
    assert "the dog" in ui.output.value
    with pytest.raises(ValueError):
        make_text_generator(m)


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="needs the data mirror (COURSE_DATA)")
def test_nietzsche_vocab_and_split():
    from course_utils.data import load_nietzsche

    text = load_nietzsche()
    vocab = Vocab.from_text(text)
    assert len(text) == 600_893 and len(vocab) == 85
    assert set(string.ascii_lowercase) <= set(vocab.chars)
    trn, val = split_text(vocab.encode(text))
    assert len(trn) == 540_803 and len(val) == 60_090


@pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="needs the data mirror (COURSE_DATA)")
def test_bench_rnn_prints_one_json_object_last(capsys):
    from tools.bench import main

    assert main(["rnn", "--budget", "2", "--device", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"val_nll", "chars_per_s", "device"} <= result.keys()
    assert result["device"] == "cpu" and result["val_nll"] > 0 and result["chars_per_s"] > 0
