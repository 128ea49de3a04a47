r"""Vector fields, their simulation, and measured contraction rates.

A :class:`VectorField` bundles ``f`` (so that :math:`\dot x = f(x)`) with its Jacobian.
:func:`simulate` integrates it with :func:`scipy.integrate.solve_ivp`;
:func:`measured_rate` reads off the exponential rate at which two trajectories approach
each other, to be compared with the certified rate :math:`c` of a contraction bound
:math:`\|x(t) - y(t)\| \le e^{-ct}\|x(0) - y(0)\|` (Section 1.2 of the book). The
network models live with their theory: the firing-rate network in
:mod:`contraction.rnn`, the network examples of Chapter 3 in
:mod:`contraction.networks`, :mod:`contraction.weak_networks` and
:mod:`contraction.synchronization`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from . import norms
from ._checks import (
    as_positive_int,
    as_positive_scalar,
    as_real_array,
    as_square_matrix,
    check_callable,
)

__all__ = [
    "VectorField",
    "linear",
    "gradient_flow",
    "van_der_pol",
    "simulate",
    "numerical_jacobian",
    "lognorm_along",
    "max_lognorm_on_grid",
    "trajectory_distance",
    "measured_rate",
]


@dataclass(frozen=True)
class VectorField:
    """An autonomous vector field ``x' = f(x)`` on R^dim with its Jacobian
    ``jacobian(x)``."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    jacobian: Callable[[np.ndarray], np.ndarray]
    dim: int
    params: dict = field(default_factory=dict)

    def __call__(self, x):
        return self.f(np.asarray(x, dtype=float))


def linear(A) -> VectorField:
    """``x' = A x``; contracting in a norm exactly when its log norm of ``A`` is
    negative."""
    A = as_square_matrix(A, "A")
    return VectorField("linear", lambda x: A @ x, lambda x: A, A.shape[0], {"A": A})


def gradient_flow(Q, b=None) -> VectorField:
    r"""Gradient flow ``x' = -grad V(x)`` of ``V(x) = x^T Q x / 2 + b^T x + sum_i log
    cosh(x_i)``.

    ``V`` is strongly convex with parameter :math:`m = \lambda_{\min}(Q)` (log cosh is
    convex), so the flow is ``m``-strongly contracting in the Euclidean norm; ``Lip <=
    lambda_max(Q) + 1``.
    """
    Q = as_square_matrix(Q, "Q")
    if not np.allclose(Q, Q.T):
        raise ValueError("Q must be symmetric")
    if np.linalg.eigvalsh(Q)[0] <= 0:
        raise ValueError("Q must be positive definite")
    n = Q.shape[0]
    b = np.zeros(n) if b is None else as_real_array(b, "b", ndim=1)
    if b.shape != (n,):
        raise ValueError(f"b must have length {n}, got shape {b.shape}")
    return VectorField(
        "gradient flow",
        lambda x: -(Q @ x + b + np.tanh(x)),
        lambda x: -(Q + np.diag(1 - np.tanh(x) ** 2)),
        n,
        {"Q": Q, "b": b},
    )


def van_der_pol(mu=1.0) -> VectorField:
    """Van der Pol oscillator: a limit cycle, so contracting in no norm (a
    counterexample)."""
    mu = as_positive_scalar(mu, "mu", allow_zero=True)
    return VectorField(
        "Van der Pol",
        lambda x: np.array([x[1], mu * (1 - x[0] ** 2) * x[1] - x[0]]),
        lambda x: np.array(
            [[0.0, 1.0], [-2 * mu * x[0] * x[1] - 1, mu * (1 - x[0] ** 2)]]
        ),
        2,
        {"mu": mu},
    )


def simulate(F, x0, t_final, num=201, rtol=1e-8, atol=1e-10, method="RK45"):
    """Integrate ``x' = F(x)`` from ``x0`` over ``[0, t_final]``.

    Returns ``(t, X)`` with ``t`` of shape ``(num,)`` and ``X`` of shape ``(num, n)``.
    Raises ``RuntimeError`` if the integrator fails (for instance when a solution blows
    up).
    """
    check_callable(F, "F")
    x0 = as_real_array(x0, "x0", ndim=1)
    t_final = as_positive_scalar(t_final, "t_final")
    num = as_positive_int(num, "num")
    t_eval = np.linspace(0.0, t_final, num)
    sol = solve_ivp(
        lambda t, x: F(x),
        (0.0, t_final),
        x0,
        t_eval=t_eval,
        rtol=rtol,
        atol=atol,
        method=method,
    )
    if not sol.success:
        raise RuntimeError(f"integration failed: {sol.message}")
    return sol.t, sol.y.T


def numerical_jacobian(F, x, eps=1e-6) -> np.ndarray:
    """Central-difference Jacobian of ``F`` at ``x`` (to check analytic Jacobians)."""
    x = as_real_array(x, "x", ndim=1)
    eps = as_positive_scalar(eps, "eps")
    cols = [
        (np.asarray(F(x + eps * e)) - np.asarray(F(x - eps * e))) / (2 * eps)
        for e in np.eye(x.size)
    ]
    return np.stack(cols, axis=1)


def lognorm_along(field: VectorField, points, p=2, weight=None) -> np.ndarray:
    """``mu(DF(x))`` at each row ``x`` of ``points``: the d-osL condition, sampled."""
    points = as_real_array(points, "points", ndim=2)
    return np.array([norms.lognorm(field.jacobian(x), p, weight) for x in points])


def max_lognorm_on_grid(
    field: VectorField, lower, upper, num=21, p=2, weight=None
) -> float:
    """Largest ``mu(DF(x))`` over a uniform grid on the box ``[lower, upper]`` (a 2-D or
    3-D check).

    A sampled estimate of ``osLip(F)`` on that box: a lower bound on the true supremum.
    """
    lower = as_real_array(lower, "lower", ndim=1)
    upper = as_real_array(upper, "upper", ndim=1)
    if lower.shape != (field.dim,) or upper.shape != (field.dim,):
        raise ValueError(f"lower and upper must have length {field.dim}")
    if np.any(upper <= lower):
        raise ValueError("upper must exceed lower in every coordinate")
    axes = [
        np.linspace(lo, hi, as_positive_int(num, "num")) for lo, hi in zip(lower, upper)
    ]
    grid = np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, field.dim)
    return float(lognorm_along(field, grid, p, weight).max())


def trajectory_distance(X, Y, p=2, weight=None) -> np.ndarray:
    """``||x(t) - y(t)||`` at each sample, for trajectories of shape ``(num, n)``."""
    X = as_real_array(X, "X", ndim=2)
    Y = as_real_array(Y, "Y", ndim=2)
    if X.shape != Y.shape:
        raise ValueError(
            f"X and Y must have the same shape, got {X.shape} and {Y.shape}"
        )
    return np.array([norms.vector_norm(d, p, weight) for d in X - Y])


def measured_rate(t, distance, floor=1e-9) -> float:
    r"""The largest ``c`` with ``d(t) <= e^{-c t} d(0)`` at every sample: ``min_t
    -log(d(t)/d(0))/t``.

    A contraction theorem with rate ``c`` promises ``measured_rate >= c``. Samples where
    the distance has fallen below ``floor * d(0)`` (integrator round-off) are ignored.
    """
    t = as_real_array(t, "t", ndim=1)
    d = as_real_array(distance, "distance", ndim=1)
    if t.shape != d.shape:
        raise ValueError(
            f"t and distance must have the same length, got {t.size} and {d.size}"
        )
    if d[0] <= 0:
        raise ValueError("distance[0] must be positive")
    keep = (t > t[0]) & (d > floor * d[0])
    if not np.any(keep):
        raise ValueError("need at least one later sample above the floor")
    return float(np.min(-np.log(d[keep] / d[0]) / (t[keep] - t[0])))
