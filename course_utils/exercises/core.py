"""How every exercise checker works: run the student's function, compare, explain.

`check_name(fn)` runs your function `fn` on small inputs, compares the result with what
course_utils computes, and prints one line: "not attempted yet" (it still raises
`NotImplementedError`), "correct" and why, or what is wrong and why (a typical mistake it
recognises, or the first values of both answers). It never raises, so "Run all" gets to
the end. Reference solutions are in the repository's `solutions/` folder: try first.
"""

from __future__ import annotations

import ctypes
import functools
import random
import signal
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor

__all__ = ["Wrong", "as_answer", "check_prediction", "checker", "compare"]


class Wrong(Exception):
    """The answer is wrong; the message says how."""


TIME_LIMIT = 30.0  # seconds per check: a student's endless loop must not hang the lesson


class _TimeUp(BaseException):  # not an Exception: the student's `except Exception` can't eat it
    """The check ran out of time; `args[0]` is True when the function could not be stopped."""


def _time_limited(call: Callable[[], None], seconds: float) -> None:
    """`call()`, interrupted after `seconds` by `_TimeUp`.

    On the main thread of a Unix process (where a notebook runs its cells) SIGALRM interrupts
    it, even inside a long C call. Elsewhere (a thread: signals reach only the main one) it runs
    in a worker thread, and a `_TimeUp` raised there asynchronously stops it at its next Python
    instruction; one stuck in a C call cannot be stopped, and `_TimeUp(True)` says so.
    """
    if seconds <= 0:
        call()
    elif hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():

        def ring(*_: object) -> None:
            raise _TimeUp(False)

        old = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            call()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    else:
        _in_worker(call, seconds)


def _in_worker(call: Callable[[], None], seconds: float) -> None:
    """`call()` in a daemon thread, joined for `seconds`; its exception is raised here."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as e:  # noqa: BLE001  (handed to the caller's thread)
            raised.append(e)

    worker = threading.Thread(target=target, name="exercise-check", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        set_exc(ctypes.c_ulong(worker.ident), ctypes.py_object(_TimeUp))
        worker.join(1.0)
        raise _TimeUp(worker.is_alive())
    if raised:
        raise raised[0]


@contextmanager
def _session_kept() -> Iterator[None]:
    """Whatever the student's function does to the session (autograd mode, the random states of
    Python, NumPy and torch, torch's threads and default dtype), it is as before afterwards."""
    grad = torch.is_grad_enabled()
    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    py, npy, tch = random.getstate(), np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    try:
        yield
    finally:
        torch.set_grad_enabled(grad)
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
        random.setstate(py)
        np.random.set_state(npy)  # noqa: NPY002
        torch.set_rng_state(tch)


def checker(ok: str) -> Callable[[Callable], Callable[[Callable], None]]:
    """Turn `check_x(fn)`, which raises `Wrong`, into a checker that prints its verdict.

    The check runs for at most `TIME_LIMIT` seconds and leaves the session as it found it
    (autograd mode, random states, threads); `sys.exit()` in the student's code is reported.
    """

    def wrap(test: Callable) -> Callable[[Callable], None]:
        name = test.__name__.removeprefix("check_")

        @functools.wraps(test)
        def check(fn: Callable) -> None:
            if not callable(fn):
                print(
                    f"✗ {name}: pass the function itself, check_{name}(my_function), not what "
                    f"it returns (got a {type(fn).__name__})."
                )
                return
            try:
                with _session_kept():
                    _time_limited(functools.partial(test, fn), TIME_LIMIT)
            except NotImplementedError:
                print(
                    f"○ {name}: not attempted yet. Write it in the cell above, run that "
                    "cell, then this one."
                )
            except Wrong as e:
                print(f"✗ {name}: {e}")
            except _TimeUp as e:
                stuck = bool(e.args and e.args[0])
                print(
                    f"✗ {name}: your function ran for more than {TIME_LIMIT:g} s and "
                    + (
                        "could not be stopped (it is still running: restart the kernel)"
                        if stuck
                        else "was stopped"
                    )
                    + ": is there a loop that never ends?"
                )
            except SystemExit:
                print(f"✗ {name}: your function called sys.exit() (or exit()): return a value.")
            except Exception as e:  # an error in the student's code is feedback, not a crash
                print(f"✗ {name}: your function raised {type(e).__name__}: {e}")
            else:
                print(f"✓ {name}: correct. {ok}")

        return check

    return wrap


def as_answer(x: object, shape: Sequence[int], hint: str = "") -> Tensor:  # the answer as a tensor
    if x is None:
        raise Wrong("your function returned None: did you forget `return`?")
    if isinstance(x, dict | str) or isinstance(x, Iterator):
        kind = "a generator" if isinstance(x, Generator) else f"a {type(x).__name__}"
        raise Wrong(
            f"your function returned {kind}, not numbers: return a tensor, an array or a list "
            "(e.g. list(...) of a generator). " + hint
        )
    if isinstance(x, list | tuple):  # tensors in a list may require grad or sit on a GPU
        x = [v.detach().cpu() if isinstance(v, Tensor) else v for v in x]
    try:
        t = torch.as_tensor(
            np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=float)
        )
    except (TypeError, ValueError, RuntimeError) as e:
        raise Wrong(
            f"your function returned a {type(x).__name__} that is not numbers ({e})."
        ) from None
    if tuple(t.shape) != tuple(shape):
        raise Wrong(f"the result has shape {tuple(t.shape)}, expected {tuple(shape)}. {hint}")
    return t


def _show(t: Tensor, like: Tensor) -> str:
    """The first values of `t`, as integers where `like` holds integers and `t` whole numbers."""
    v = t.detach().cpu().flatten()[:6]
    if not like.is_floating_point() and not like.is_complex() and bool((v == v.round()).all()):
        v = v.long()
    return np.array2string(v.numpy(), precision=4, suppress_small=True)


def compare(
    answer: object,
    want: Tensor,
    hint: str = "",
    wrongs: Sequence[tuple[Tensor | float, str]] = (),
    tol: float = 1e-5,
    inputs: object = None,
) -> None:
    """Pass if `answer` matches `want`; else say what is wrong: its shape (then `hint`), the
    first typical mistake in `wrongs` it matches, or its first values and `want`'s (in `want`'s
    dtype: integers as integers), after `inputs`, the checker's input, where it is given."""
    want = torch.as_tensor(want)
    got = as_answer(answer, want.shape, hint)
    for candidate, why in [(want, None), *wrongs]:  # the right answer first
        if torch.allclose(got, torch.as_tensor(candidate).double(), 1e-4, tol, equal_nan=True):
            if why is None:
                return
            raise Wrong(why)
    on = "the checker's input" if inputs is None else f"the input {_brief(inputs)}"
    raise Wrong(
        f"on {on} it returned {_show(got, want)} where {_show(want, want)} was expected "
        "(first values shown)."
    )


def _brief(x: object) -> str:
    if isinstance(x, Tensor):
        return f"{_show(x, x)} (shape {tuple(x.shape)})" if x.numel() > 6 else _show(x, x)
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


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
        number = isinstance(guess, int | float | np.integer | np.floating)
        if isinstance(guess, bool) or not number or not np.isfinite(guess):
            print(f"✗ {name}: write your prediction as a number, got {guess!r}.")
            return
        right = abs(float(guess) - float(actual)) <= rel_tol * abs(float(actual))
        shown = f"{actual:,}" if isinstance(actual, int | np.integer) else f"{float(actual):.4g}"
    verdict = "✓" if right else "✗"
    off = "" if right else f" (you predicted {guess!r})"
    print(f"{verdict} {name}: the answer is {shown}{off}. {why}")
