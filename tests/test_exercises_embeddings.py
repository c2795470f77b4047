"""lesson5-embeddings' checkers: each against its reference solution and each recognised mistake."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from course_utils.exercises.embeddings import (
    check_axis_name,
    check_cosine_matrix,
    check_nearest_by_cosine,
    check_pca_scores,
    random_factors_pc1_share,
)
from solutions import lesson5_embeddings as sol


def verdict(capsys: pytest.CaptureFixture[str], check, fn) -> str:
    check(fn)
    return capsys.readouterr().out


def test_nearest_by_cosine(capsys: pytest.CaptureFixture[str]) -> None:
    assert verdict(capsys, check_nearest_by_cosine, sol.nearest_by_cosine).startswith("✓")


def test_nearest_by_cosine_alternative(capsys: pytest.CaptureFixture[str]) -> None:
    def with_f(emb, i, k):
        sims = F.cosine_similarity(emb, emb[i : i + 1])
        sims[i] = -2
        return sims.topk(k).indices.tolist()  # a list of ints is fine too

    assert verdict(capsys, check_nearest_by_cosine, with_f).startswith("✓")


@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        (lambda e, i, k: F.cosine_similarity(e, e[i : i + 1]).topk(k).indices, "row i itself"),
        (
            lambda e, i, k: (e @ e[i]).index_fill(0, torch.tensor([i]), -1e9).topk(k).indices,
            "dot product",
        ),
        (
            lambda e, i, k: (
                torch.cdist(e, e[i : i + 1])[:, 0]
                .index_fill(0, torch.tensor([i]), float("inf"))
                .topk(k, largest=False)
                .indices
            ),
            "Euclidean",
        ),
        (lambda e, i, k: sol.nearest_by_cosine(e, i, k).flip(0), "reversed"),
        (lambda e, i, k: None, "return"),
    ],
)
def test_nearest_by_cosine_mistakes(capsys, wrong, says) -> None:
    out = verdict(capsys, check_nearest_by_cosine, wrong)
    assert out.startswith("✗") and says in out, out


def test_pca_scores(capsys: pytest.CaptureFixture[str]) -> None:
    assert verdict(capsys, check_pca_scores, sol.pca_scores).startswith("✓")
    flipped = verdict(capsys, check_pca_scores, lambda e, n: -sol.pca_scores(e, n))
    assert flipped.startswith("✓")  # a component's sign is arbitrary


def test_pca_scores_mistakes(capsys: pytest.CaptureFixture[str]) -> None:
    def uncentred(emb, n):
        return emb @ torch.linalg.svd(emb, full_matrices=False).Vh[:n].T

    assert "centred" in verdict(capsys, check_pca_scores, uncentred)
    out = verdict(capsys, check_pca_scores, lambda e, n: torch.linalg.svd(e).Vh[:n])
    assert out.startswith("✗") and "components" in out


def test_cosine_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert verdict(capsys, check_cosine_matrix, sol.cosine_matrix).startswith("✓")

    def alternative(emb):
        return F.cosine_similarity(emb[:, None], emb[None], dim=2)

    assert verdict(capsys, check_cosine_matrix, alternative).startswith("✓")


def test_cosine_matrix_mistakes(capsys: pytest.CaptureFixture[str]) -> None:
    def planted(emb):  # the notebook's buggy version
        unit = emb / emb.norm(dim=0, keepdim=True)
        return unit @ unit.T

    assert "planted bug" in verdict(capsys, check_cosine_matrix, planted)
    assert "dot products" in verdict(capsys, check_cosine_matrix, lambda e: e @ e.T)


def test_random_factors_pc1_share() -> None:
    share = random_factors_pc1_share(3000, 50)
    assert 1 / 50 < share < 2 / 50  # about 1/50, a little more: the largest of 50
    assert abs(sol.random_pc1_guess - share) <= 0.5 * share


def test_axis_name(capsys: pytest.CaptureFixture[str]) -> None:
    g = torch.Generator().manual_seed(0)
    year = torch.randn(200, generator=g)
    facts = pd.DataFrame(
        {"release year": year.numpy(), "mean rating": torch.randn(200, generator=g).numpy()}
    )
    scores = pd.Series((-2 * year + 0.3 * torch.randn(200, generator=g)).numpy())
    corr = check_axis_name("PC3", "PC3", "release year", scores, facts)
    out = capsys.readouterr().out
    assert out.startswith("✓") and "release year -0." in out
    assert corr["release year"] < -0.9
    check_axis_name("PC3", "PC3", "mean rating", scores, facts)
    assert capsys.readouterr().out.startswith("✗")
    check_axis_name("PC3", "PC3", ..., scores, facts)
    assert "not attempted" in capsys.readouterr().out
    check_axis_name("PC3", "PC3", "genre", scores, facts)
    assert "answer one of" in capsys.readouterr().out
