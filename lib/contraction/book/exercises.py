"""Self-checks for the coding exercises of every chapter: right or not, never the
answer.

Usage in a notebook::

    from contraction.book import exercises
    exercises.check("ch1.lognorm_inf", my_lognorm_inf)

Each registered exercise has a reference solution (kept here, out of the reader's way),
a list of test inputs, and a hint shown when an answer is wrong. The check reports which
test case failed and how (wrong value, wrong shape, an exception), never the expected
value.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["check", "available", "register"]


@dataclass(frozen=True)
class Exercise:
    reference: Callable
    cases: tuple  # each case is a tuple of positional arguments
    hint: str
    rtol: float = 1e-6
    atol: float = 1e-9


_REGISTRY: dict[str, Exercise] = {}


def register(
    name: str, reference: Callable, cases, hint: str, rtol=1e-6, atol=1e-9
) -> None:
    """Add an exercise to the registry (chapters call this for their own exercises)."""
    _REGISTRY[name] = Exercise(
        reference, tuple(tuple(c) for c in cases), hint, rtol, atol
    )


# Each chapter keeps its self-checks in a module of its own, imported on first use, so
# that this module stays small and a chapter's checks sit next to the ideas they test.
_CHAPTER_MODULES = {
    "ch1": "exercises_contraction",
    "ch2": "exercises_norms",
    "ch3": "exercises_networks",
    "ch4": "exercises_rnn",
    "ch5": "exercises_quantization",
    "ch6": "exercises_hopfield",
    "ch7": "exercises_elcd",
}


def _load_chapters(prefixes=None) -> None:
    for prefix, module in _CHAPTER_MODULES.items():
        if prefixes is None or prefix in prefixes:
            try:
                importlib.import_module(f"{__package__}.{module}")
            except ModuleNotFoundError as error:  # a chapter without self-checks yet
                if error.name != f"{__package__}.{module}":
                    raise


def available() -> list[str]:
    """Names of the registered exercises."""
    _load_chapters()
    return sorted(_REGISTRY)


def _matches(got, expected, rtol, atol) -> bool:
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=float)
    return got.shape == expected.shape and bool(
        np.allclose(got, expected, rtol=rtol, atol=atol)
    )


def check(name: str, candidate: Callable, quiet: bool = False) -> bool:
    """Run ``candidate`` on the test cases of exercise ``name``; print and return the
    verdict."""
    if isinstance(name, str) and name not in _REGISTRY:
        _load_chapters({name.split(".")[0]})
    if name not in _REGISTRY:
        raise ValueError(f"name must be one of {available()}, got {name!r}")
    if not callable(candidate):
        raise TypeError(f"candidate must be a function, got {type(candidate).__name__}")
    ex = _REGISTRY[name]
    message, ok = f"Correct: all {len(ex.cases)} test cases pass.", True
    for i, args in enumerate(ex.cases, start=1):
        try:
            got = candidate(*args)
        except Exception as exc:  # the student's code may fail in any way
            message, ok = (
                f"Not yet: test case {i} raised {type(exc).__name__}: {exc}",
                False,
            )
            break
        if not _matches(got, ex.reference(*args), ex.rtol, ex.atol):
            message, ok = (
                f"Not yet: test case {i} of {len(ex.cases)} gives a different answer.",
                False,
            )
            break
    if not ok:
        message += f"\nHint: {ex.hint}"
    if not quiet:
        print(message)
    return ok
