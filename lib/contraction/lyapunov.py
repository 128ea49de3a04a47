r"""Quadratic (inner-product) norms from Lyapunov equations.

An inner-product norm on :math:`\mathbb{R}^n` is :math:`\|x\|_{2,P^{1/2}} = \sqrt{x^\top
P x}` for a symmetric positive definite :math:`P`. Section 1.3 of the book ("Contraction
in Euclidean and inner-product norms") uses the helpers below to

* build such a :math:`P` for a Hurwitz matrix :math:`A` from the shifted Lyapunov
  equation :math:`(A + sI)^\top P + P(A + sI) = -Q` (:func:`lyapunov_weight`), which
  certifies :math:`\mu_{2,P^{1/2}}(A) < -s` for every shift :math:`s < -\alpha(A)`;
* turn :math:`P` into the weight matrix :math:`R` with :math:`R^\top R = P` that
  :func:`contraction.norms.lognorm` and :func:`contraction.norms.vector_norm` take
  (:func:`cholesky_weight`);
* draw the level sets :math:`\{x : (x - x_0)^\top P (x - x_0) = r^2\}`
  (:func:`ellipse`).

Reference: F. Bullo, *Contraction Theory for Dynamical Systems*, KDP (2023), Chapters
2-3.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_continuous_lyapunov

from . import norms
from ._checks import (
    as_positive_int,
    as_positive_scalar,
    as_real_array,
    as_square_matrix,
)

__all__ = ["check_positive_definite", "cholesky_weight", "lyapunov_weight", "ellipse"]


def check_positive_definite(P, name: str = "P") -> np.ndarray:
    """Return ``P`` as a float array after checking it is symmetric positive definite.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Candidate matrix.
    name : str
        The argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``P``, symmetrised exactly (``(P + P^T) / 2``) to remove round-off asymmetry.

    Raises
    ------
    ValueError
        If ``P`` is not square, not symmetric (up to a relative ``1e-8``) or not
        positive definite.
    """
    P = as_square_matrix(P, name)
    scale = max(1.0, float(np.max(np.abs(P))))
    if not np.allclose(P, P.T, rtol=0.0, atol=1e-8 * scale):
        raise ValueError(f"{name} must be symmetric")
    P = (P + P.T) / 2
    if np.linalg.eigvalsh(P)[0] <= 0:
        raise ValueError(f"{name} must be positive definite")
    return P


def cholesky_weight(P) -> np.ndarray:
    r"""The upper-triangular weight ``R`` with ``R^T R = P`` (Section 1.3).

    With it, :math:`\|x\|_{2,P^{1/2}} = \|Rx\|_2` is ``norms.vector_norm(x, 2,
    weight=R)`` and :math:`\mu_{2,P^{1/2}}(A) = \mu_2(RAR^{-1})` is ``norms.lognorm(A,
    2, weight=R)``.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Symmetric positive definite matrix.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        ``R = cholesky(P).T``.
    """
    P = check_positive_definite(P, "P")
    return np.linalg.cholesky(P).T


def lyapunov_weight(A, s=0.0, Q=None) -> np.ndarray:
    r"""Solve :math:`(A + sI)^\top P + P(A + sI) = -Q` for ``P`` (Section 1.3).

    If :math:`A + sI` is Hurwitz, that is :math:`s < -\alpha(A)` with :math:`\alpha` the
    spectral abscissa, and :math:`Q \succ 0`, the solution is symmetric positive
    definite and :math:`A^\top P + PA = -2sP - Q \prec -2sP`, so
    :math:`\mu_{2,P^{1/2}}(A) < -s`: the norm :math:`\sqrt{x^\top P x}` certifies
    contraction of :math:`\dot x = Ax` with a rate above ``s``.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Real square matrix.
    s : float
        The shift; must satisfy ``s < -spectral_abscissa(A)``.
    Q : array_like, shape (n, n), optional
        Symmetric positive definite right-hand side; the identity by default.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        The symmetric positive definite solution ``P``.

    Raises
    ------
    ValueError
        If ``A`` or ``Q`` is malformed, ``s`` is not finite, or ``A + sI`` is not
        Hurwitz.
    TypeError
        If ``s`` is not a real number.
    """
    A = as_square_matrix(A, "A")
    n = A.shape[0]
    if isinstance(s, bool) or not isinstance(s, (int, float, np.integer, np.floating)):
        raise TypeError(f"s must be a real number, got {type(s).__name__}")
    s = float(s)
    if not np.isfinite(s):
        raise ValueError(f"s must be finite, got {s}")
    alpha = norms.spectral_abscissa(A)
    if alpha + s >= 0:
        raise ValueError(
            f"s must be below -spectral_abscissa(A) = {-alpha:.6g} so that A + sI is "
            f"Hurwitz, got s = {s:.6g}"
        )
    Q = np.eye(n) if Q is None else check_positive_definite(Q, "Q")
    if Q.shape != (n, n):
        raise ValueError(f"Q must have shape ({n}, {n}), got {Q.shape}")
    As = A + s * np.eye(n)
    # scipy solves M X + X M^H = C; with M = (A + sI)^T and C = -Q this is our equation.
    P = solve_continuous_lyapunov(As.T, -Q)
    return (P + P.T) / 2


def ellipse(P, radius=1.0, center=None, num=200) -> np.ndarray:
    r"""Points of the planar level set :math:`\{x : (x - x_0)^\top P (x - x_0) = r^2\}`.

    Parameters
    ----------
    P : array_like, shape (2, 2)
        Symmetric positive definite matrix.
    radius : float
        The level :math:`r > 0` (the :math:`P`-norm radius).
    center : array_like, shape (2,), optional
        The centre :math:`x_0`; the origin by default.
    num : int
        Number of points (the curve is closed: the last point repeats the first).

    Returns
    -------
    numpy.ndarray, shape (num, 2)
    """
    P = check_positive_definite(P, "P")
    if P.shape != (2, 2):
        raise ValueError(f"P must be 2 x 2 to draw an ellipse, got shape {P.shape}")
    radius = as_positive_scalar(radius, "radius")
    num = as_positive_int(num, "num")
    center = np.zeros(2) if center is None else as_real_array(center, "center", ndim=1)
    if center.shape != (2,):
        raise ValueError(f"center must have length 2, got shape {center.shape}")
    theta = np.linspace(0.0, 2 * np.pi, num)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    R = cholesky_weight(P)
    # x = x0 + r R^{-1} u with ||u|| = 1 gives (x - x0)^T P (x - x0) = r^2.
    return center + radius * np.linalg.solve(R, circle.T).T
