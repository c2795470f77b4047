"""The fused optimizer path (`fused_ok`) changes speed, not results: a fused and an unfused AdamW
train the same collab model to the same weights, within float tolerance."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import course_utils as cu
from course_utils.collab import EmbeddingDotBias
from course_utils.device import fused_ok


def _train(fused: bool) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    n_users, n_movies, n = 30, 40, 2_000
    users, movies = torch.randint(0, n_users, (n,)), torch.randint(0, n_movies, (n,))
    ratings = (users % 5 + movies % 3).float() / 1.5 + 0.5
    data = cu.DeviceData(
        (users[:1600], movies[:1600]),
        ratings[:1600],
        (users[1600:], movies[1600:]),
        ratings[1600:],
        bs=64,
        device="cpu",
    )
    model = EmbeddingDotBias(n_users, n_movies, n_factors=8)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.05, fused=fused)
    cu.fit(model, data, 3, opt, F.mse_loss, sched=cu.one_cycle(5e-3), progress=False)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.skipif(not fused_ok("cpu"), reason="this PyTorch has no fused CPU optimizers")
def test_fused_adamw_matches_unfused() -> None:
    fused, plain = _train(True), _train(False)
    for name, weight in plain.items():
        torch.testing.assert_close(fused[name], weight, rtol=1e-4, atol=1e-5, msg=name)
