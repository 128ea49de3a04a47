"""Self-checks for the coding exercises of Chapter 7 (learning contracting dynamics,
ELCD).

Loaded by :func:`contraction.book.exercises.check` on first use of a ``"ch7.*"`` name.
Each reference solution is a few lines of float64 NumPy (or the library's
:func:`contraction.elcd.dtwd`), so a student's answer is held against the formulas the
chapter's text states.

* ``ch7.metric_rate`` (Section 7.1, *The contraction-metric condition*): the largest
  :math:`c` with :math:`MA + A^\\top M \\preceq -2cM` for a constant metric :math:`M =
  R^\\top R`, that is :math:`c = -\\mu_2(RAR^{-1})`;
* ``ch7.elcd_matrix`` (Section 7.2, *The ELCD parametrization*): the factor
  :math:`A = -P_s^\\top P_s + P_a - P_a^\\top - \\alpha I` of eq. (4.11);
* ``ch7.dtwd`` (Section 7.3, *Measuring a rollout*): the trajectory distance of Section
  4.5.1, the two mean nearest-point distances added.
"""

from __future__ import annotations

import numpy as np

from .. import elcd
from .exercises import register

__all__: list[str] = []


def _metric_rate(A, M):
    A, M = np.asarray(A, dtype=np.float64), np.asarray(M, dtype=np.float64)
    R = np.linalg.cholesky(M).T  # M = R^T R
    B = R @ A @ np.linalg.inv(R)
    return -np.linalg.eigvalsh((B + B.T) / 2)[-1]


def _elcd_matrix(Ps, Pa, alpha):
    Ps, Pa = np.asarray(Ps, dtype=np.float64), np.asarray(Pa, dtype=np.float64)
    return -Ps.T @ Ps + Pa - Pa.T - alpha * np.eye(len(Ps))


def _metric_cases():
    rng = np.random.default_rng(71)
    cases = [
        (np.array([[-1.0, 4.0], [0.0, -1.0]]), np.diag([1.0, 16.0])),
        (np.array([[-1.0, 4.0], [0.0, -1.0]]), np.eye(2)),
        (np.array([[-2.0]]), np.array([[3.0]])),
    ]
    for n in (2, 3, 5):
        B = rng.normal(size=(n, n))
        cases.append((rng.normal(size=(n, n)) - 2 * np.eye(n), B @ B.T + n * np.eye(n)))
    return cases


def _elcd_cases():
    rng = np.random.default_rng(72)
    return [
        (rng.normal(size=(n, n)), rng.normal(size=(n, n)), a)
        for n, a in ((1, 0.5), (2, 0.01), (3, 1.0), (5, 0.2))
    ]


def _dtwd_cases():
    rng = np.random.default_rng(73)
    t = np.linspace(0, 1, 30)
    curve = np.stack([np.cos(3 * t), np.sin(3 * t)], axis=1)
    return [
        (curve, curve[::-1]),  # the same points in reverse order: distance 0
        (curve, curve + 0.1),
        (rng.normal(size=(12, 2)), rng.normal(size=(20, 2))),
        (rng.normal(size=(7, 4)), rng.normal(size=(5, 4))),
    ]


register(
    "ch7.metric_rate",
    _metric_rate,
    _metric_cases(),
    "Write M = R^T R (a Cholesky factor), transform A to R A R^{-1}, and take minus "
    "the largest eigenvalue of its symmetric part. The answer may be negative.",
)
register(
    "ch7.elcd_matrix",
    _elcd_matrix,
    _elcd_cases(),
    "Three terms and a shift: -Ps^T Ps (a transpose on the left), Pa - Pa^T, and "
    "-alpha I.",
)
register(
    "ch7.dtwd",
    elcd.dtwd,
    _dtwd_cases(),
    "For every point of x take the distance to the nearest point of x_ref and average; "
    "do the same from x_ref to x; add the two means. The sequences may have different "
    "lengths.",
)


# ``ch7.normalized_metric`` (Section 7.4, *What the data determine*): the metric M = W^T
# W of a linear change of coordinates z = W x, divided by its (1, 1) entry, which is the
# same for W and c Q W (Q orthogonal, c != 0), the symmetries of a latent ELCD.
def _normalized_metric(W):
    W = np.asarray(W, dtype=np.float64)
    M = W.T @ W
    return M / M[0, 0]


def _normalized_metric_cases():
    rng = np.random.default_rng(74)
    return [(np.diag([1.0, 4.0]),), (np.array([[0.0, 2.0], [3.0, 1.0]]),)] + [
        (rng.normal(size=(n, n)),) for n in (2, 3, 4)
    ]


register(
    "ch7.normalized_metric",
    _normalized_metric,
    _normalized_metric_cases(),
    "Form M = W^T W (not W W^T: the metric acts on x, the data coordinates), then "
    "divide every entry by M[0, 0].",
)
