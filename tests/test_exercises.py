"""The exercise checkers: each accepts the reference solution in `solutions/`, reports an
unsolved exercise as "not attempted yet", and rejects typical wrong answers with a message
that names the mistake."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import exercises as ex
from solutions import lesson3_rossmann as ross
from solutions import lesson5_embeddings as emb
from solutions import lesson5_movielens as ml
from solutions import lesson6_sgd as sgd


def _no_zero_grad(model, x, y, bs, opt, loss_fn):
    perm = torch.randperm(len(x))
    for i in range(0, len(x), bs):
        loss_fn(model(x[perm[i : i + bs]]), y[perm[i : i + bs]]).backward()
        opt.step()


def _in_order(model, x, y, bs, opt, loss_fn):
    for i in range(0, len(x), bs):
        loss = loss_fn(model(x[i : i + bs]), y[i : i + bs])
        opt.zero_grad()
        loss.backward()
        opt.step()


def _fan_out(layer):
    with torch.no_grad():
        layer.weight.normal_(0, math.sqrt(2 / layer.weight.shape[0]))
        layer.bias.zero_()


def _new_tensor(layer):
    layer.weight = nn.Parameter(torch.randn_like(layer.weight) * math.sqrt(2 / 400))
    nn.init.zeros_(layer.bias)


def _ewma_raw(values, beta):
    out, avg = [], 0.0
    for v in values:
        avg = beta * avg + (1 - beta) * v
        out.append(avg)
    return out


def _days_zero_before(flags):
    return np.nan_to_num(ross.days_since_last(flags), nan=0.0)


CASES = {  # checker: (reference solution, [(typical wrong answer, words its message must contain)])
    ex.check_contiguous_ids: (
        ml.contiguous_ids,
        [
            (lambda ids: ids, "raw ids"),
            (lambda ids: ml.contiguous_ids(ids) + 1, "start at 1"),
            (lambda ids: __import__("pandas").factorize(ids)[0], "first appear"),
            (lambda ids: None, "forget `return`"),
        ],
    ),
    ex.check_predict_rating: (
        ml.predict_rating,
        [
            (lambda u, m, ub, mb, yr: (u * m).sum(1) + ub + mb, "not squashed"),
            (lambda u, m, ub, mb, yr: ml.predict_rating(u, m, 0 * ub, 0 * mb, yr), "biases"),
            (lambda u, m, ub, mb, yr: u @ m.T, "shape (6, 6)"),
        ],
    ),
    ex.check_nearest_by_cosine: (
        emb.nearest_by_cosine,
        [
            (
                lambda e, i, k: (e @ e[i]).index_fill(0, torch.tensor([i]), -1e9).topk(k).indices,
                "dot product",
            ),
            (
                lambda e, i, k: torch.nn.functional.cosine_similarity(e, e[i : i + 1]).argsort(
                    descending=True
                )[:k],
                "itself",
            ),
            (lambda e, i, k: emb.nearest_by_cosine(e, i, k).flip(0), "reversed"),
        ],
    ),
    ex.check_pca_scores: (
        emb.pca_scores,
        [
            (lambda e, n: e @ torch.linalg.svd(e, full_matrices=False).Vh[:n].T, "not centred"),
            (
                lambda e, n: torch.linalg.svd(e - e.mean(0), full_matrices=False).Vh[:n],
                "components (n, factors)",
            ),
        ],
    ),
    ex.check_ewma_debiased: (
        sgd.ewma_debiased,
        [
            (_ewma_raw, "not debiased"),
            (lambda v, b: sgd.ewma_debiased(v, 1 - b), "swapped"),
            (lambda v, b: list(np.cumsum(v) / np.arange(1, len(v) + 1)), "plain mean"),
        ],
    ),
    ex.check_kaiming_init: (
        sgd.kaiming_init_,
        [
            (_fan_out, "fan_out"),
            (lambda layer: None, "unchanged"),
            (lambda layer: nn.init.normal_(layer.weight), "std 1"),
            (_new_tensor, "in place"),
        ],
    ),
    ex.check_rmspe: (
        ross.rmspe_by_hand,
        [
            (lambda p, t: float(np.sqrt(np.mean(((t - p) / p) ** 2))), "divided by the prediction"),
            (lambda p, t: float(np.mean(((t - p) / t) ** 2)), "square root"),
        ],
    ),
    ex.check_days_since_last: (
        ross.days_since_last,
        [
            (_days_zero_before, "NaN, not 0"),
            (lambda f: ross.days_since_last(f) + 1, "off by one"),
            (lambda f: ross.days_since_last(f)[:-1], "shape"),
        ],
    ),
}
ALL = list(CASES)


def _stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.__name__)
def test_accepts_reference_solution(check, capsys):
    check(CASES[check][0])
    out = capsys.readouterr().out
    assert out.startswith("✓") and "correct" in out, out


@pytest.mark.parametrize("check", ALL, ids=lambda c: c.__name__)
def test_unsolved_exercise_is_not_attempted_and_does_not_raise(check, capsys):
    check(_stub)
    out = capsys.readouterr().out
    assert out.startswith("○") and "not attempted yet" in out, out


@pytest.mark.parametrize(
    ("check", "k"),
    [(c, k) for c in ALL for k in range(len(CASES[c][1]))],
    ids=lambda v: v.__name__ if callable(v) else str(v),
)
def test_rejects_typical_mistake_and_says_why(check, k, capsys):
    wrong, words = CASES[check][1][k]
    check(wrong)
    out = capsys.readouterr().out
    assert out.startswith("✗"), out
    assert words in out, f"expected {words!r} in: {out}"


def test_an_error_in_the_students_code_is_reported_not_raised(capsys):
    ex.check_rmspe(lambda *a: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
