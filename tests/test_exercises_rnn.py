"""The lesson6-rnn checkers: each against its reference solution, each recognised mistake, each
accepted alternative (course_utils/exercises/rnn.py)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_utils.char_models import CharStatefulRnn
from course_utils.exercises import rnn as ex
from solutions import lesson6_rnn as sol


def verdict(capsys, check, fn) -> str:
    check(fn)
    return capsys.readouterr().out


def test_rnn_step_reference_and_alternatives(capsys):
    assert "✓" in verdict(capsys, ex.check_rnn_step, sol.rnn_step)
    alt = lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(  # noqa: E731
        F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    )
    assert "✓" in verdict(capsys, ex.check_rnn_step, alt)


def test_rnn_step_mistakes(capsys):
    no_bhh = lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T)  # noqa: E731
    out = verdict(capsys, ex.check_rnn_step, no_bhh)
    assert "✗" in out and "b_hh is missing" in out
    no_bih = lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + h @ w_hh.T + b_hh)  # noqa: E731
    assert "b_ih is missing" in verdict(capsys, ex.check_rnn_step, no_bih)
    relu = lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.relu(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)  # noqa: E731
    assert "ReLU" in verdict(capsys, ex.check_rnn_step, relu)
    assert "forget `return`" in verdict(capsys, ex.check_rnn_step, lambda *a: None)
    assert "input:" in verdict(capsys, ex.check_rnn_step, sol.rnn_step)


def test_temperature_probs(capsys):
    assert "✓" in verdict(capsys, ex.check_temperature_probs, sol.temperature_probs)
    alt = lambda logits, t: (logits / t).exp() / (logits / t).exp().sum(-1, keepdim=True)  # noqa: E731
    assert "✓" in verdict(capsys, ex.check_temperature_probs, alt)
    log_sm = lambda logits, t: F.log_softmax(logits / t, dim=-1)  # noqa: E731
    out = verdict(capsys, ex.check_temperature_probs, log_sm)
    assert "✗" in out and "log_softmax" in out
    times = lambda logits, t: F.softmax(logits * t, dim=-1)  # noqa: E731
    assert "divide" in verdict(capsys, ex.check_temperature_probs, times)


def test_seq_nll_loss(capsys):
    assert "✓" in verdict(capsys, ex.check_seq_nll_loss, sol.my_seq_nll_loss)

    def reshape(out, target):  # reshape copies when it must: accepted
        return F.nll_loss(out.reshape(-1, out.shape[-1]), target.T.reshape(-1))

    assert "✓" in verdict(capsys, ex.check_seq_nll_loss, reshape)

    def planted(out, target):
        return F.nll_loss(out.view(-1, out.shape[-1]), target.T.view(-1))

    assert "contiguous" in verdict(capsys, ex.check_seq_nll_loss, planted)

    def no_transpose(out, target):
        return F.nll_loss(out.view(-1, out.shape[-1]), target.reshape(-1))

    assert "transposing" in verdict(capsys, ex.check_seq_nll_loss, no_transpose)


def test_next_probs(capsys):
    assert "✓" in verdict(capsys, ex.check_next_probs, sol.my_next_probs)

    @torch.no_grad()
    def forgot_eval(model, x):
        model.reset()
        return model(x)[-1].exp()

    assert "model.eval()" in verdict(capsys, ex.check_next_probs, forgot_eval)
    assert "return" in verdict(capsys, ex.check_next_probs, lambda model, x: None)


def test_position_one(capsys):
    g = torch.Generator().manual_seed(0)
    train = torch.randint(0, 5, (2000,), generator=g)
    valid = torch.randint(0, 5, (500,), generator=g)
    nats = ex._nats(train, valid, 5)
    assert abs(nats["uniform"] - math.log(5)) < 1e-12
    ex.check_position_one(..., nats["bigram"], train, valid, 5)
    assert "not attempted" in capsys.readouterr().out
    closest = min(nats, key=lambda k: abs(nats[k] - nats["unigram"]))
    ex.check_position_one(closest, nats["unigram"], train, valid, 5)
    assert "✓" in capsys.readouterr().out
    ex.check_position_one("trigram", nats["unigram"], train, valid, 5)
    assert "answer" in capsys.readouterr().out


def test_clip_reading(capsys):
    runs = {
        "no clipping": (torch.tensor([1.0, 50.0]), torch.zeros(2)),
        "clip = 1.0": (torch.tensor([1.0, 3.0]), torch.zeros(2)),
    }
    ex.check_clip_reading("larger", runs)
    assert "✓" in capsys.readouterr().out
    ex.check_clip_reading("Smaller ", runs)
    assert "✗" in capsys.readouterr().out
    ex.check_clip_reading(..., runs)
    assert "not attempted" in capsys.readouterr().out


def test_clip_reading_over_seeds(capsys):
    def run(*norms):
        return (torch.tensor(norms), torch.zeros(len(norms)))

    runs = {"no clipping": [run(1.0, 2.0), run(1.0, 3.0)], "clip = 1.0": [run(4.0), run(1.0)]}
    ex.check_clip_reading("smaller", runs)  # the largest over all seeds: 3 against 4
    out = capsys.readouterr().out
    assert "✓" in out and "3.0 without clipping, 4.0 with" in out


def test_reference_model_has_dropout():
    assert CharStatefulRnn(11, 4, 8, dropout=0.5).drop.p == 0.5
