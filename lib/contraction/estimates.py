r"""Sampled estimates of the constants that contraction theory bounds.

A certified constant is an upper bound, a proof; a sampled one is a lower bound, a
measurement. The book puts the two side by side (Sections 1.1, 1.4 and 3.2):

* :func:`random_pairs` draws pairs of points, near and far;
* :func:`lipschitz_ratios` and :func:`oslip_quotients` give, for each pair, a lower
  bound on the Lipschitz and one-sided Lipschitz constant of a map in a (weighted)
  ``p``-norm; they need no Jacobian, which suits piecewise-smooth models such as the
  traffic model of :func:`contraction.traffic.ctm_traffic`;
* :func:`sampled_step_factor` estimates :math:`\operatorname{Lip}(\mathrm{Id} + \alpha
  F)`, to be compared with the step-size bounds of :mod:`contraction.steps`;
* :func:`euler_iterations` counts the forward steps that reach a tolerance.

Reference: F. Bullo, *Contraction Theory for Dynamical Systems*, KDP (2023); S.
Jafarpour et al., "Robust implicit networks via non-Euclidean contractions", NeurIPS
(2021).
"""

from __future__ import annotations

import numpy as np

from ._checks import (
    as_point_pairs,
    as_positive_int,
    as_positive_scalar,
    as_real_array,
    as_step_sizes,
    check_callable,
    check_p,
)
from .norms import _weak_pairing, weight_matrix

__all__ = [
    "random_pairs",
    "lipschitz_ratios",
    "oslip_quotients",
    "sampled_step_factor",
    "euler_iterations",
]


def random_pairs(rng, dim, num=1000, radius=3.0, center=None, min_gap=1e-3):
    r"""Random pairs of points for the sampled estimates (Section 1.4).

    The first point of each pair is uniform in the box ``center + [-radius,
    radius]^dim``; the second is at distance ``r`` in a uniformly random direction, with
    ``r`` log-uniform in ``[min_gap, radius]``, so that both nearby pairs (which probe
    the Jacobian) and distant pairs are represented.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (for instance from ``runtime.seed_everything``).
    dim, num : int
        Dimension of the points and number of pairs.
    radius, min_gap : float
        Half-width of the box and smallest distance within a pair, ``0 < min_gap <=
        radius``.
    center : array_like, shape (dim,), optional
        Centre of the box (default: the origin).

    Returns
    -------
    X, Y : ndarray, shape (num, dim)
        The pairs ``(X[i], Y[i])``, with ``X[i] != Y[i]``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    dim = as_positive_int(dim, "dim")
    num = as_positive_int(num, "num")
    radius = as_positive_scalar(radius, "radius")
    min_gap = as_positive_scalar(min_gap, "min_gap")
    if min_gap > radius:
        raise ValueError(f"min_gap must not exceed radius, got {min_gap} > {radius}")
    center = (
        np.zeros(dim) if center is None else as_real_array(center, "center", ndim=1)
    )
    if center.shape != (dim,):
        raise ValueError(f"center must have length {dim}, got shape {center.shape}")
    X = center + rng.uniform(-radius, radius, size=(num, dim))
    direction = rng.normal(size=(num, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    gap = np.exp(rng.uniform(np.log(min_gap), np.log(radius), size=(num, 1)))
    return X, X + gap * direction


def _images(f, X, name) -> np.ndarray:
    """f applied to every row of X, checked to keep the row length."""
    check_callable(f, name)
    out = np.array([np.asarray(f(x), dtype=float) for x in X])
    if out.shape != X.shape:
        raise ValueError(
            f"{name} must map each row of X to a vector of length {X.shape[1]}"
        )
    return out


def _weighted_rows(D, weight, p) -> np.ndarray:
    """Rows of D mapped by the weight matrix T of the norm (unchanged for the plain
    norm)."""
    T = weight_matrix(weight, D.shape[1], p)
    return D if T is None else D @ T.T


def lipschitz_ratios(T, X, Y, p=2, weight=None) -> np.ndarray:
    r"""Ratios :math:`\|T(x) - T(y)\| / \|x - y\|` over the rows of ``X`` and ``Y``.

    Section 1.1 of the book. Every ratio is a lower bound on
    :math:`\operatorname{Lip}(T)` in the (weighted) ``p``-norm, so their maximum is a
    *measured* Lipschitz constant to compare with a certified upper bound. ``X`` and
    ``Y`` have shape ``(m, n)`` and differ in every row.
    """
    p = check_p(p)
    X, Y = as_point_pairs(X, Y)
    diff = _weighted_rows(_images(T, X, "T") - _images(T, Y, "T"), weight, p)
    gaps = _weighted_rows(X - Y, weight, p)
    return np.linalg.norm(diff, ord=p, axis=1) / np.linalg.norm(gaps, ord=p, axis=1)


def oslip_quotients(f, X, Y, p=2, weight=None) -> np.ndarray:
    r"""The quotients :math:`[\![f(x) - f(y), x - y]\!] / \|x - y\|^2` for paired rows
    of X, Y.

    Their supremum over all pairs is :math:`\operatorname{osLip}(f)` in the (weighted)
    ``p``-norm (for ``p=2`` without weight: :math:`(f(x) - f(y))^\top(x - y)/\|x -
    y\|_2^2`), so their maximum over samples is a lower estimate of it; it needs no
    Jacobian (Sections 1.1 and 3.2). The weak pairing is that of
    :func:`contraction.norms.weak_pairing`, evaluated for all rows at once.
    """
    p = check_p(p)
    X, Y = as_point_pairs(X, Y)
    U = _weighted_rows(_images(f, X, "f") - _images(f, Y, "f"), weight, p)
    V = _weighted_rows(X - Y, weight, p)
    return _weak_pairing(U, V, p) / np.linalg.norm(V, ord=p, axis=1) ** 2


def sampled_step_factor(F, alpha, X, Y, p=2):
    r"""Sampled estimate of :math:`\operatorname{Lip}(\mathrm{Id} + \alpha F)` (Section
    1.4).

    Returns :math:`\max_i \|X_i - Y_i + \alpha(F(X_i) - F(Y_i))\|_p / \|X_i - Y_i\|_p`
    for each step size. It is a lower bound on the true Lipschitz constant (a sup over
    all pairs), so a theorem's upper bound must lie above it.

    Parameters
    ----------
    F : callable
        The vector field, mapping a 1-D array of length ``dim`` to one of the same
        length.
    alpha : float or array_like
        Non-negative step size(s).
    X, Y : array_like, shape (num, dim)
        The pairs, for instance from :func:`random_pairs`; ``X[i] != Y[i]``.
    p : {1, 2, np.inf}
        The norm.

    Returns
    -------
    float or ndarray
        One estimate per step size (same shape as ``alpha``).
    """
    check_callable(F, "F")
    a = as_step_sizes(alpha)
    p = check_p(p)
    X, Y = as_point_pairs(X, Y)
    D = X - Y
    dF = _images(F, X, "F") - _images(F, Y, "F")
    steps = D[None, :, :] + a.reshape(-1, 1, 1) * dF[None, :, :]
    ratios = np.linalg.norm(steps, ord=p, axis=2) / np.linalg.norm(D, ord=p, axis=1)
    out = ratios.max(axis=1).reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def euler_iterations(F, x0, alpha, x_star, tol=1e-8, max_iter=10_000, p=2):
    r"""Number of forward steps :math:`x_{k+1} = x_k + \alpha F(x_k)` until ``||x_k -
    x*|| <= tol``.

    Section 1.4 compares this count with the one a contraction factor ``rho``
    guarantees, :math:`\lceil \log(\mathrm{tol}/\|x_0 - x^*\|) / \log\rho \rceil`.

    Parameters
    ----------
    F : callable
        The vector field (1-D array in, same-shape array out).
    x0, x_star : array_like, shape (n,)
        Start and the zero of ``F`` that the iteration should reach.
    alpha : float
        Positive step size.
    tol : float
        Positive tolerance on the distance ``||x_k - x*||_p``.
    max_iter : int
        Largest number of steps.
    p : {1, 2, np.inf}
        The norm of the distance.

    Returns
    -------
    int or None
        The first ``k`` with ``||x_k - x*|| <= tol``; ``None`` if that does not happen
        within ``max_iter`` steps or the iterates diverge (distance above ``1e8`` times
        the first, or non-finite).
    """
    check_callable(F, "F")
    x = as_real_array(x0, "x0", ndim=1).copy()
    x_star = as_real_array(x_star, "x_star", ndim=1)
    if x_star.shape != x.shape:
        raise ValueError(
            f"x_star must have the shape of x0 {x.shape}, got {x_star.shape}"
        )
    alpha = as_positive_scalar(alpha, "alpha")
    tol = as_positive_scalar(tol, "tol")
    max_iter = as_positive_int(max_iter, "max_iter")
    p = check_p(p)
    first = max(float(np.linalg.norm(x - x_star, ord=p)), tol)
    for k in range(max_iter + 1):
        err = float(np.linalg.norm(x - x_star, ord=p))
        if not np.isfinite(err) or err > 1e8 * first:
            return None
        if err <= tol:
            return k
        x = x + alpha * np.asarray(F(x), dtype=float)
    return None
