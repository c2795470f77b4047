"""The line problem of the SGD lesson (course_utils.line_fit): curvature and what it predicts."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import line_fit, optim


def test_curvature_is_the_hessian_and_sets_the_largest_learning_rate() -> None:
    x, y = line_fit.line_data(2_000, offset=2.0)
    values, vectors = line_fit.curvature(x)
    xd = x.double().numpy()
    hess = 2 * np.array([[(xd * xd).mean(), xd.mean()], [xd.mean(), 1.0]])
    assert values[0] < values[1]
    np.testing.assert_allclose(hess @ vectors, vectors * values, atol=1e-9)
    limit = 2 / values[1]  # gradient descent diverges above it, converges below
    below = line_fit.run_path(x, y, lambda p: optim.SGD(p, lr=0.95 * limit), steps=300)
    above = line_fit.run_path(x, y, lambda p: optim.SGD(p, lr=1.05 * limit), steps=300)
    assert below.loss[-1] < below.loss[0] and above.loss[-1] > 1e3 * above.loss[0]


@pytest.mark.parametrize("offset", [0.0, 2.0])
def test_valley_floor_rotates_the_line_inside_the_data(offset: float) -> None:
    x, _ = line_fit.line_data(2_000, offset=offset)
    _, vectors = line_fit.curvature(x)
    da, db = vectors[:, 0]
    pivot = -db / da  # where a·x + b does not change along the valley floor
    assert offset < pivot < offset + 1 and abs(pivot - x.mean().item()) < 0.1
