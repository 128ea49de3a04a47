r"""Measuring the contraction factor of the forward (Euler) step ``x + alpha F(x)``.

Section 1.4 of the book ("Forward Euler: step sizes from contraction rates") compares the
step-size bounds of :func:`contraction.fixedpoint.forward_step_bounds` with what a given vector
field actually does. This module holds the measuring side:

* :func:`random_pairs` and :func:`sampled_step_factor`: a sampled estimate (a lower bound) of
  :math:`\operatorname{Lip}(\mathrm{Id} + \alpha F)`, the largest ratio
  :math:`\|x - y + \alpha(F(x) - F(y))\| / \|x - y\|` over random pairs;
* :func:`firing_rate_constants` and :func:`firing_rate_step_factor`: for the firing-rate network
  :math:`F(x) = -x + \tanh(Wx + u)` the exact one-sided Lipschitz and Lipschitz constants and the
  exact :math:`\operatorname{Lip}(\mathrm{Id} + \alpha F)`, from the corners of the box of slopes;
* :func:`euler_iterations`: how many forward steps bring ``x_k`` within ``tol`` of ``x*``.

Reference: F. Bullo, *Contraction Theory for Dynamical Systems*, KDP (2023); S. Jafarpour et al.,
"Robust implicit networks via non-Euclidean contractions", NeurIPS (2021).
"""

from __future__ import annotations


import numpy as np

from . import norms
from .slopes import MAX_BOX_DIM, corner_max
from ._checks import as_positive_int, as_positive_scalar, as_real_array, as_square_matrix, check_p

__all__ = [
    "random_pairs",
    "sampled_step_factor",
    "firing_rate_constants",
    "firing_rate_step_factor",
    "euler_iterations",
]



def _as_alphas(alpha):
    a = np.asarray(alpha, dtype=float)
    if a.dtype == object or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alpha must be a finite non-negative number or array of them")
    return a


def random_pairs(rng, dim, num=1000, radius=3.0, center=None, min_gap=1e-3):
    r"""Random pairs of points for :func:`sampled_step_factor` (Section 1.4).

    The first point of each pair is uniform in the box ``center + [-radius, radius]^dim``; the
    second is at distance ``r`` in a uniformly random direction, with ``r`` log-uniform in
    ``[min_gap, radius]``, so that both nearby pairs (which probe the Jacobian) and distant pairs
    are represented.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (for instance from ``runtime.seed_everything``).
    dim, num : int
        Dimension of the points and number of pairs.
    radius, min_gap : float
        Half-width of the box and smallest distance within a pair, ``0 < min_gap <= radius``.
    center : array_like, shape (dim,), optional
        Centre of the box (default: the origin).

    Returns
    -------
    X, Y : ndarray, shape (num, dim)
        The pairs ``(X[i], Y[i])``, with ``X[i] != Y[i]``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    dim = as_positive_int(dim, "dim")
    num = as_positive_int(num, "num")
    radius = as_positive_scalar(radius, "radius")
    min_gap = as_positive_scalar(min_gap, "min_gap")
    if min_gap > radius:
        raise ValueError(f"min_gap must not exceed radius, got {min_gap} > {radius}")
    center = np.zeros(dim) if center is None else as_real_array(center, "center", ndim=1)
    if center.shape != (dim,):
        raise ValueError(f"center must have length {dim}, got shape {center.shape}")
    X = center + rng.uniform(-radius, radius, size=(num, dim))
    direction = rng.normal(size=(num, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    gap = np.exp(rng.uniform(np.log(min_gap), np.log(radius), size=(num, 1)))
    return X, X + gap * direction


def sampled_step_factor(F, alpha, X, Y, p=2):
    r"""Sampled estimate of :math:`\operatorname{Lip}(\mathrm{Id} + \alpha F)` (Section 1.4).

    Returns :math:`\max_i \|X_i - Y_i + \alpha(F(X_i) - F(Y_i))\|_p / \|X_i - Y_i\|_p` for each
    step size. It is a lower bound on the true Lipschitz constant (a sup over all pairs), so a
    theorem's upper bound must lie above it.

    Parameters
    ----------
    F : callable
        The vector field, mapping a 1-D array of length ``dim`` to one of the same length.
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
    if not callable(F):
        raise TypeError(f"F must be callable, got {type(F).__name__}")
    a = _as_alphas(alpha)
    p = check_p(p)
    X = as_real_array(X, "X", ndim=2)
    Y = as_real_array(Y, "Y", ndim=2)
    if X.shape != Y.shape:
        raise ValueError(f"X and Y must have the same shape, got {X.shape} and {Y.shape}")
    D = X - Y
    gap = np.linalg.norm(D, ord=p, axis=1)
    if np.any(gap == 0):
        raise ValueError("X and Y must differ in every pair")
    dF = np.array([np.asarray(F(x), dtype=float) - np.asarray(F(y), dtype=float)
                   for x, y in zip(X, Y)])
    if dF.shape != D.shape:
        raise ValueError(f"F must map a point of length {X.shape[1]} to one of the same length")
    steps = D[None, :, :] + a.reshape(-1, 1, 1) * dF[None, :, :]
    ratios = np.linalg.norm(steps, ord=p, axis=2) / gap
    out = ratios.max(axis=1).reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def _firing_rate_weights(W):
    W = as_square_matrix(W, "W")
    if W.shape[0] > MAX_BOX_DIM:
        raise ValueError(f"W must be at most {MAX_BOX_DIM}x{MAX_BOX_DIM} (2^n corners), "
                         f"got {W.shape[0]}x{W.shape[0]}")
    return W


def firing_rate_constants(W, p=2):
    r"""One-sided Lipschitz and Lipschitz constants of ``F(x) = -x + tanh(Wx + u)`` (Section 1.4).

    The Jacobian is :math:`-I + \operatorname{diag}(d)W` with slopes
    :math:`d_i = \tanh'(\cdot) \in (0, 1]`. The log norm and the norm are convex functions of the
    matrix, and the Jacobian is affine in ``d``, so their suprema over the slope box
    :math:`[0, 1]^n` are attained at its :math:`2^n` corners. Hence

    .. math:: \operatorname{osLip}_p(F) \le \max_{d \in \{0,1\}^n} \mu_p(-I + \operatorname{diag}(d)W),
              \qquad
              \operatorname{Lip}_p(F) \le \max_{d \in \{0,1\}^n} \|-I + \operatorname{diag}(d)W\|_p,

    with equality when every slope pattern is approached, e.g. when ``W`` is invertible. The
    bias ``u`` plays no role.

    Parameters
    ----------
    W : array_like, shape (n, n)
        Synaptic weights, ``n <= 12``.
    p : {1, 2, np.inf}
        The norm.

    Returns
    -------
    (os_lip, lip) : tuple of float
        ``F`` is strongly contracting with rate ``c = -os_lip`` when ``os_lip < 0``.
    """
    p = check_p(p)
    W = _firing_rate_weights(W)
    minus_eye = -np.eye(W.shape[0])
    return (corner_max(lambda J: norms.lognorm(J, p), minus_eye, W),
            corner_max(lambda J: norms.induced_norm(J, p), minus_eye, W))


def firing_rate_step_factor(W, alpha, p=2):
    r"""Exact :math:`\operatorname{Lip}_p(\mathrm{Id} + \alpha F)` for ``F(x) = -x + tanh(Wx + u)``.

    :math:`\operatorname{Lip}(\mathrm{Id} + \alpha F) = \sup_x \|I + \alpha DF(x)\|`, and by the
    corner argument of :func:`firing_rate_constants` this is
    :math:`\max_{d \in \{0,1\}^n} \|I + \alpha(-I + \operatorname{diag}(d)W)\|_p` (an upper bound
    in general, the exact value when every slope pattern is approached). Section 1.4.

    Parameters
    ----------
    W : array_like, shape (n, n)
        Synaptic weights, ``n <= 12``.
    alpha : float or array_like
        Non-negative step size(s).
    p : {1, 2, np.inf}
        The norm.

    Returns
    -------
    float or ndarray
        One value per step size (same shape as ``alpha``).
    """
    a = _as_alphas(alpha)
    p = check_p(p)
    W = _firing_rate_weights(W)
    eye = np.eye(W.shape[0])
    # I + alpha (-I + diag(d) W) = (1 - alpha) I + diag(d) (alpha W)
    out = np.array([corner_max(lambda J: norms.induced_norm(J, p), (1 - ak) * eye, ak * W)
                    for ak in a.ravel()]).reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def euler_iterations(F, x0, alpha, x_star, tol=1e-8, max_iter=10_000, p=2):
    r"""Number of forward steps :math:`x_{k+1} = x_k + \alpha F(x_k)` until ``||x_k - x*|| <= tol``.

    Section 1.4 compares this count with the one a contraction factor ``rho`` guarantees,
    :math:`\lceil \log(\mathrm{tol}/\|x_0 - x^*\|) / \log\rho \rceil`.

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
        The first ``k`` with ``||x_k - x*|| <= tol``; ``None`` if that does not happen within
        ``max_iter`` steps or the iterates diverge (distance above ``1e8`` times the first, or
        non-finite).
    """
    if not callable(F):
        raise TypeError(f"F must be callable, got {type(F).__name__}")
    x = as_real_array(x0, "x0", ndim=1).copy()
    x_star = as_real_array(x_star, "x_star", ndim=1)
    if x_star.shape != x.shape:
        raise ValueError(f"x_star must have the shape of x0 {x.shape}, got {x_star.shape}")
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
