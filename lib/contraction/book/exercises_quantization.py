"""Self-checks for the coding exercises of Chapter 5 (quantization by soft k-means).

Loaded by :func:`contraction.book.exercises.check` on first use of a ``"ch5.*"`` name.
Each reference solution uses the library (:mod:`contraction.quantize`) in float64, so a
student's NumPy answer is held against the same formulas the chapter's text states.

* ``ch5.soft_assign`` (section *Weight sharing and soft k-means*): the soft assignments
  :math:`A = \\operatorname{rowsoftmax}(-D/\\tau)` with :math:`D_{ij} = \\|w_i -
  c_j\\|`;
* ``ch5.em_step`` (section *Implicit differentiation of soft k-means*): one step
  :math:`F(C, W) = \\operatorname{diag}(A^\\top \\mathbb 1)^{-1} A^\\top W`;
* ``ch5.adjoint_solve`` (same section): the adjoint vector :math:`g = v + J^\\top g`,
  that is :math:`g = (I - J^\\top)^{-1} v`, for a Jacobian with spectral radius below
  one.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import quantize as Q
from .exercises import register

__all__: list[str] = []


def _t(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _soft_assign(W, C, tau):
    return Q.attention(_t(W), _t(C), float(tau)).numpy()


def _em_step(C, W, tau):
    At = Q.attention(_t(W), _t(C), float(tau)).numpy().T  # (k, m)
    return (At @ np.asarray(W, dtype=np.float64)) / At.sum(1, keepdims=True)


def _adjoint_solve(J, v):
    J, v = np.asarray(J, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return np.linalg.solve(np.eye(len(v)) - J.T, v)


def _problems(seed, far=False):
    rng = np.random.default_rng(seed)
    cases = []
    for m, k, d, tau in (
        (7, 3, 1, 0.5),
        (12, 4, 2, 0.1),
        (30, 5, 1, 0.02),
        (9, 2, 3, 1.0),
    ):
        W = rng.normal(size=(m, d))
        C = rng.normal(size=(k, d))
        cases.append((W, C, tau))
    if far:  # distances / tau in the thousands: a naive exp underflows to 0 / 0
        W = rng.normal(size=(10, 1)) * 5
        cases.append((W, np.array([[-4.0], [0.5], [6.0]]), 1e-3))
    return cases


def _adjoint_cases(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for n, rho in ((1, 0.5), (3, 0.3), (4, 0.9), (6, 0.7)):
        J = rng.normal(size=(n, n))
        J *= rho / max(
            abs(np.linalg.eigvals(J))
        )  # spectral radius rho < 1, not symmetric
        cases.append((J, rng.normal(size=n)))
    return cases


register(
    "ch5.soft_assign",
    _soft_assign,
    _problems(51, far=True),
    "A[i, j] = exp(-||w_i - c_j|| / tau) / sum_l exp(-||w_i - c_l|| / tau), with the "
    "Euclidean norm (not its square). Subtract each row's smallest distance before "
    "exp, so that small tau does not give 0 / 0.",
)
register(
    "ch5.em_step",
    _em_step,
    [(C, W, tau) for W, C, tau in _problems(52)],
    "Column j of A^T weighs the rows of W: c_j+ = sum_i A[i, j] w_i / sum_i A[i, j]. "
    "Return an array of shape (k, d); the argument order is (C, W, tau).",
)
register(
    "ch5.adjoint_solve",
    _adjoint_solve,
    _adjoint_cases(53),
    "Iterate g <- (1 - alpha) g + alpha (v + J^T g) from g = v until it stops moving, "
    "or solve the linear system (I - J^T) g = v. Mind the transpose.",
)
