"""How every exercise checker works: run the student's function, compare, explain.

`check_name(fn)` runs your function `fn` on small inputs, compares the result with what
course_utils computes, and prints one line: "not attempted yet" (it still raises
`NotImplementedError`), "correct" and why, or what is wrong and why (a typical mistake it
recognises, or the first values of both answers). It never raises, so "Run all" gets to
the end. Reference solutions are in the repository's `solutions/` folder: try first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["Wrong", "as_answer", "checker", "compare"]


class Wrong(Exception):
    """The answer is wrong; the message says how."""


def checker(ok: str) -> Callable[[Callable], Callable[[Callable], None]]:
    """Turn `check_x(fn)`, which raises `Wrong`, into a checker that prints its verdict."""

    def wrap(test: Callable) -> Callable[[Callable], None]:
        name = test.__name__.removeprefix("check_")

        @functools.wraps(test)
        def check(fn: Callable) -> None:
            try:
                test(fn)
            except NotImplementedError:
                print(
                    f"○ {name}: not attempted yet. Write it in the cell above, run that "
                    "cell, then this one."
                )
            except Wrong as e:
                print(f"✗ {name}: {e}")
            except Exception as e:  # an error in the student's code is feedback, not a crash
                print(f"✗ {name}: your function raised {type(e).__name__}: {e}")
            else:
                print(f"✓ {name}: correct. {ok}")

        return check

    return wrap


def as_answer(x: object, shape: Sequence[int], hint: str = "") -> Tensor:  # the answer as a tensor
    if x is None:
        raise Wrong("your function returned None: did you forget `return`?")
    t = torch.as_tensor(np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=float))
    if tuple(t.shape) != tuple(shape):
        raise Wrong(f"the result has shape {tuple(t.shape)}, expected {tuple(shape)}. {hint}")
    return t


def compare(
    answer: object,
    want: Tensor,
    hint: str = "",
    wrongs: Sequence[tuple[Tensor | float, str]] = (),
    tol: float = 1e-5,
) -> None:
    """Pass if `answer` matches `want`; else say what is wrong: its shape (then `hint`), the
    first typical mistake in `wrongs` it matches, or its first values and `want`'s."""
    got = as_answer(answer, want.shape, hint)
    for candidate, why in [(want, None), *wrongs]:  # the right answer first
        if torch.allclose(got, torch.as_tensor(candidate).double(), 1e-4, tol, equal_nan=True):
            if why is None:
                return
            raise Wrong(why)
    got, want = (np.array2string(t.flatten()[:6].numpy(), precision=4) for t in (got, want))
    raise Wrong(
        f"on the checker's input it returned {got} where {want} was expected (first values shown)."
    )
