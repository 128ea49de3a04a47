"""Self-checks for the coding exercises of Chapter 2 (non-Euclidean norms).

:func:`contraction.book.exercises.check` imports this module on first use, when a name
starting with ``ch2.`` is asked for. Reference solutions stay here, out of the reader's
way.
"""

from __future__ import annotations

import numpy as np

from .. import norms, steps
from .exercises import register


def _weighted_cases(seed=5):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(n, n)), rng.uniform(0.2, 3.0, n)) for n in (1, 2, 3, 5)]


def _pairing_cases(seed=6):
    rng = np.random.default_rng(seed)
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (1, 3, 6)]
    cases.append(
        (np.array([1.0, -2.0, 3.0]), np.array([2.0, -2.0, 1.0]))
    )  # a tie in |y_i|
    return cases


def _implicit_cases(seed=7):
    rng = np.random.default_rng(seed)
    cases = []
    for n in (2, 3, 6):
        A = rng.normal(size=(n, n)) / n
        A -= np.diag(
            np.abs(A).sum(axis=1) + rng.uniform(0, 2, n)
        )  # makes mu_inf(A) < 0
        cases.append((A,))
    cases.append((np.array([[0.2, 0.3], [-0.1, 0.5]]),))  # 0 < mu_inf(A) < 1
    return cases


register(
    "ch2.weighted_lognorm_inf",
    lambda A, eta: norms.lognorm(A, np.inf, eta),
    _weighted_cases(),
    "the weighted log norm is the plain one of diag(eta) @ A @ diag(1/eta).",
)
register(
    "ch2.max_pairing",
    lambda x, y: norms.weak_pairing(x, y, np.inf),
    _pairing_cases(),
    "only the indices where |y_i| equals max_j |y_j| count; "
    "take the largest y_i * x_i among them.",
)
register(
    "ch2.implicit_step",
    lambda A: (
        steps.implicit_step_bounds(A).alpha,
        steps.implicit_step_bounds(A).factor,
    ),
    _implicit_cases(),
    "keep every diagonal entry of (1 - alpha) I + alpha D A non-negative for all "
    "D in [0, I]; then ||.||_inf is 1 - alpha (1 - max(mu_inf(A), 0)).",
)
