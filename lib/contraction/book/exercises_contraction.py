"""Self-checks for the coding exercises of Chapter 1 (contraction theory), loaded on first use.

:func:`contraction.book.exercises.check` imports this module when a name starting with ``ch1.``
is asked for. Reference solutions stay here, out of the reader's way.
"""

from __future__ import annotations

import numpy as np

from .. import norms, steps
from .exercises import register


def _random_matrices(seed, count=6):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(n, n)) * rng.uniform(0.2, 3),)
        for n in (1, 2, 3, 5, 8, 4)[:count]
    ]


def _km_reference(G, x0, alpha, steps):
    x = np.asarray(x0, dtype=float)
    for _ in range(steps):
        x = (1 - alpha) * x + alpha * np.asarray(G(x))
    return x


register(
    "ch1.lognorm_inf",
    lambda A: norms.lognorm(A, np.inf),
    _random_matrices(1),
    "for each row i take a_ii plus the sum of |a_ij| over j != i; the log norm is the largest.",
)
register(
    "ch1.euclidean_step",
    lambda c, lip: (
        steps.forward_step_bounds(c, lip).alpha_opt,
        steps.forward_step_bounds(c, lip).factor_opt,
    ),
    [(1.0, 1.0), (1.0, 3.0), (0.5, 2.0), (2.0, 10.0), (0.1, 0.25)],
    "minimise 1 - 2*alpha*c + alpha**2 * lip**2 over alpha, then take the square root at the minimiser.",
)
register(
    "ch1.km_iteration",
    _km_reference,
    [
        (np.cos, np.zeros(2), 0.5, 10),
        (lambda x: -3 * x + 1, np.ones(3), 0.2, 25),
        (lambda x: np.tanh(2 * x) - 1, np.array([0.3]), 1.0, 7),
        (np.sin, np.zeros(1), 0.7, 0),
    ],
    "start from x0 and apply x <- (1 - alpha) * x + alpha * G(x) exactly `steps` times.",
)


def _weighted_lognorm_cases(seed=3):
    rng = np.random.default_rng(seed)
    cases = []
    for n in (1, 2, 3, 4):
        L = np.tril(rng.normal(size=(n, n))) + 2 * np.eye(n)
        cases.append((rng.normal(size=(n, n)), L @ L.T))
    return cases


register(
    "ch1.weighted_lognorm2",
    lambda A, P: norms.lognorm(A, 2, weight=np.linalg.cholesky(P).T),
    _weighted_lognorm_cases(),
    "the smallest b with A^T P + P A <= 2 b P is the largest generalised eigenvalue of the pair "
    "((A^T P + P A)/2, P): scipy.linalg.eigh accepts both matrices.",
)
