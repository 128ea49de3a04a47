"""Self-checks for the coding exercises of Chapter 1 (contraction theory), loaded on
first use.

:func:`contraction.book.exercises.check` imports this module when a name starting with
``ch1.`` is asked for. Reference solutions stay here, out of the reader's way. The
network checks follow the corner certificates of Sections 1.2-1.4 (Bullo, *Contraction
Theory for Dynamical Systems*, 2023).
"""

from __future__ import annotations

import numpy as np

from .. import lyapunov, norms, steps
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
    "for each row i take a_ii plus the sum of |a_ij| over j != i; the log norm is "
    "the largest.",
)
register(
    "ch1.euclidean_step",
    lambda c, lip: (
        steps.forward_step_bounds(c, lip).alpha_opt,
        steps.forward_step_bounds(c, lip).factor_opt,
    ),
    [(1.0, 1.0), (1.0, 3.0), (0.5, 2.0), (2.0, 10.0), (0.1, 0.25)],
    "minimise 1 - 2*alpha*c + alpha**2 * lip**2 over alpha, then take the square root "
    "at the minimiser.",
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
    "start from x0 and apply x <- (1 - alpha) * x + alpha * G(x) exactly `steps` "
    "times.",
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
    "the smallest b with A^T P + P A <= 2 b P is the largest generalised eigenvalue of "
    "the pair ((A^T P + P A)/2, P): scipy.linalg.eigh accepts both matrices.",
)


# The network x' = -x + W tanh(x) + u has the Jacobian -I + W diag(d) with slopes d in
# [0, 1]^n; log norms and norms are convex, so their worst values sit at the corners.
def _network_corners(W):
    W = np.asarray(W, dtype=float)
    n = W.shape[0]
    grid = np.array(np.meshgrid(*[[0.0, 1.0]] * n)).reshape(n, -1).T
    return [-np.eye(n) + W @ np.diag(d) for d in grid]


def _network_rate(W, P):
    R = np.linalg.cholesky(np.asarray(P, dtype=float)).T  # R^T R = P
    return -max(norms.lognorm(J, 2, weight=R) for J in _network_corners(W))


def _network_step(W, P):
    R = np.linalg.cholesky(np.asarray(P, dtype=float)).T
    c = _network_rate(W, P)
    lip = max(norms.induced_norm(J, 2, weight=R) for J in _network_corners(W))
    return c / lip**2, np.sqrt(1 - (c / lip) ** 2)


_W_EXAMPLES = [
    np.array([[-0.5, 1.2], [-1.2, 0.3]]),
    np.array([[0.2, 2.5], [-0.4, 0.3]]),
    np.array([[0.3, -0.4, 0.2], [0.5, 0.1, -0.3], [-0.2, 0.6, 0.2]]),
    np.array([[0.5]]),
]


def _weights(W):
    # a Lyapunov weight for the full-slope Jacobian: (W - I)^T P + P (W - I) = -I
    return lyapunov.lyapunov_weight(W - np.eye(W.shape[0]))


register(
    "ch1.network_rate",
    lambda W: _network_rate(W, np.eye(np.asarray(W).shape[0])),
    [(W,) for W in _W_EXAMPLES],
    "loop over the 2^n slope vectors d in {0, 1}^n, form -I + W @ np.diag(d), take the "
    "largest eigenvalue of its symmetric part, and return minus the largest of them.",
)
register(
    "ch1.weighted_network_rate",
    _network_rate,
    [(W, _weights(W)) for W in _W_EXAMPLES] + [(_W_EXAMPLES[0], np.eye(2))],
    "at each corner J = -I + W diag(d), mu_{2,P^{1/2}}(J) is the largest "
    "generalised eigenvalue of ((J^T P + P J)/2, P); the rate is minus the largest "
    "over the corners.",
)
register(
    "ch1.network_step",
    _network_step,
    [(W, _weights(W)) for W in _W_EXAMPLES] + [(_W_EXAMPLES[0], np.eye(2))],
    "c = minus the largest mu_{2,P^{1/2}} over the corners, ell = the largest "
    "||J||_{2,P^{1/2}} = ||R J R^{-1}||_2 over the corners (R^T R = P); then "
    "alpha = c / ell**2 and factor = sqrt(1 - (c / ell)**2).",
)
