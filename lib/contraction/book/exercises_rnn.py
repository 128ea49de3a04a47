"""Self-checks for the coding exercises of Chapter 4 (recurrent and implicit networks),
loaded on first use.

:func:`contraction.book.exercises.check` imports this module when a name starting with
``ch4.`` is asked for. Reference solutions stay here, out of the reader's way.
"""

from __future__ import annotations

import numpy as np

from .. import norms
from .exercises import register


def _max_lognorm_diag_cases(seed=43):
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([[-3.0, 1.0], [0.5, -2.0]]),
            0.5,
            1.0,
        ),  # mu_inf(A) < 0: d_min decides
        (np.array([[1.0, -2.0], [0.5, 0.2]]), 0.5, 1.0),  # mu_inf(A) > 0: d_max decides
        (np.array([[0.7]]), 0.0, 0.25),
        # mu_inf(A) < 0 with d_min = 0: the maximum is 0, not d_max * mu_inf(A)
        (np.array([[-1.0, 0.2], [0.1, -1.0]]), 0.0, 1.0),
    ]
    for n in (3, 5, 8):
        A = rng.normal(size=(n, n)) - rng.uniform(0, 3) * np.eye(n)
        cases.append((A, *np.sort(rng.uniform(0, 1.5, 2))))
    return cases


register(
    "ch4.max_lognorm_diag_inf",
    lambda A, d_min, d_max: norms.max_lognorm_diag(A, d_min, d_max, np.inf),
    _max_lognorm_diag_cases(),
    "row i of mu_inf(diag(d) A) is d_i times row i of mu_inf(A), so only two corners "
    "matter: d = d_min * 1 and d = d_max * 1.",
)


# --- Chapter 4 exercises (rt)
def _fgsm_step_cases(seed=47):
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([0.5, 0.0, 1.0, 0.98]),
            np.array([2.0, -3.0, 0.5, 1e-3]),
            0.1,
            0.0,
            1.0,
        ),
        (np.array([0.2, 0.4]), np.array([0.0, -0.0]), 0.3, 0.0, 1.0),
    ]  # sign(0) = 0
    for shape, (low, high) in (((3, 8), (0.0, 1.0)), ((5, 64), (-0.81, 1.85))):
        x = rng.uniform(low, high, shape)
        grad = rng.normal(size=shape) * (
            rng.uniform(size=shape) < 0.8
        )  # some exact zeros
        cases.append((x, grad, float(rng.uniform(0.05, 0.4)), low, high))
    return cases


register(
    "ch4.fgsm_step",
    lambda x, grad, eps, low, high: np.clip(x + eps * np.sign(grad), low, high),
    _fgsm_step_cases(),
    "move every entry by eps in the direction of the sign of its gradient (np.sign, "
    "which is 0 for a zero gradient), then clip into [low, high] so that the result is "
    "a valid input.",
)


# --- Chapter 4 exercises (inn)
def _inn_lipschitz_reference(A, B, C):
    def row_gain(M):  # the induced l_inf norm
        return float(np.abs(M).sum(axis=1).max())

    return row_gain(B) * row_gain(C) / (1.0 - max(norms.lognorm(A, np.inf), 0.0))


def _inn_lipschitz_cases(seed=53):
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([[-0.5]]),
            np.array([[2.0, -1.0]]),
            np.array([[3.0], [-1.0]]),
        ),  # mu < 0
        (np.array([[0.2, 0.3], [-0.1, 0.5]]), np.eye(2), np.ones((1, 2))),
    ]  # 0 < mu < 1
    for n, m, p in ((3, 2, 1), (5, 4, 3), (8, 6, 2)):
        T = rng.normal(size=(n, n))
        A = T - np.diag(np.abs(T).sum(axis=1)) + rng.uniform(-1, 0.9) * np.eye(n)
        cases.append((A, rng.normal(size=(n, m)), rng.normal(size=(p, n))))
    return cases


register(
    "ch4.inn_lipschitz_bound",
    _inn_lipschitz_reference,
    _inn_lipschitz_cases(),
    "three numbers: the largest absolute row sum of B, that of C, and mu_inf(A) "
    "(diagonal entry plus absolute off-diagonal row sum, maximised over rows), clipped "
    "below at 0.",
)
