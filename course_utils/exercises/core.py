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

__all__ = ["Wrong", "as_answer", "check_prediction", "checker", "compare"]


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


def check_prediction(
    name: str,
    guess: object,
    actual: float | str,
    why: str,
    rel_tol: float = 0.1,
    choices: Sequence[str] = (),
) -> None:
    """Predict, then run: compare a student's written-down `guess` with what the cell measured.

    `actual` is a number (a guess within `rel_tol` of it, relatively, counts as right) or one of
    `choices` (compared without case). Prints one line, like the checkers: not attempted yet
    (`guess` is `...` or None), right, or off, and in every case `why` the answer is what it is:
    the point of predicting is to compare one's model of the code with the code.
    """
    if guess is None or guess is Ellipsis:
        print(f"○ {name}: not attempted yet. Write your prediction, then run this cell.")
        return
    if choices:
        options = {c.lower(): c for c in choices}
        if not isinstance(guess, str) or guess.strip().lower() not in options:
            print(f"✗ {name}: answer one of {', '.join(map(repr, choices))}; got {guess!r}.")
            return
        right = guess.strip().lower() == str(actual).lower()
        shown = repr(str(actual))
    else:
        if isinstance(guess, bool) or not isinstance(guess, int | float | np.integer | np.floating):
            print(f"✗ {name}: write your prediction as a number, got {guess!r}.")
            return
        right = abs(float(guess) - float(actual)) <= rel_tol * abs(float(actual))
        shown = f"{actual:,}" if isinstance(actual, int | np.integer) else f"{float(actual):.4g}"
    verdict = "✓" if right else "✗"
    off = "" if right else f" (you predicted {guess!r})"
    print(f"{verdict} {name}: the answer is {shown}{off}. {why}")
