r"""Vector norms, induced matrix norms and log norms (matrix measures).

Conventions (Chapters 1-2 of the book). For ``p`` in ``{1, 2, inf}`` and a weight:

* ``weight=None``: the plain norm :math:`\|x\|_p`;
* ``weight=eta``, a positive vector: :math:`\|x\|_{p,[\eta]} =
  \|\operatorname{diag}(\eta)x\|_p`;
* ``weight=R``, an invertible matrix (``p=2`` only): :math:`\|x\|_{2,R} = \|Rx\|_2`, the
  norm of the inner product :math:`x^\top P y` with :math:`P = R^\top R`.

With :math:`T` the weight matrix (``diag(eta)`` or ``R``) the induced norm and the log
norm are those of :math:`TAT^{-1}` in the plain norm. The log norm

.. math:: \mu(A) = \lim_{h\to 0^+} \frac{\|I + hA\| - 1}{h}

has the closed forms :math:`\mu_1(A) = \max_j (a_{jj} + \sum_{i\ne j}|a_{ij}|)`,
:math:`\mu_2(A) = \lambda_{\max}((A + A^\top)/2)` and
:math:`\mu_\infty(A) = \max_i (a_{ii} + \sum_{j\ne i}|a_{ij}|)`.

Reference: G. Söderlind, "The logarithmic norm. History and modern theory", BIT 46
(2006); F. Bullo, *Contraction Theory for Dynamical Systems*, KDP (2023), Chapter 2.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from ._checks import (
    as_positive_scalar,
    as_real_array,
    as_square_matrix,
    check_p,
    check_slopes,
)

__all__ = [
    "vector_norm",
    "induced_norm",
    "lognorm",
    "lognorm_limit_quotient",
    "metzler_majorant",
    "spectral_abscissa",
    "weak_pairing",
    "optimal_weight",
    "is_metzler",
    "is_irreducible",
    "max_lognorm_diag",
    "weight_matrix",
    "similarity",
]


def weight_matrix(weight, n: int, p: float) -> np.ndarray | None:
    """The matrix ``T`` of the weighted norm ``||T x||_p``, validated; None for the
    plain norm.

    ``weight`` follows the module conventions (None, a positive vector or, for ``p=2``,
    an invertible matrix); errors name ``weight``. Unit-ball pictures and the slope-box
    maxima use it.
    """
    if weight is None:
        return None
    w = as_real_array(weight, "weight")
    if w.ndim == 1:
        if w.shape != (n,):
            raise ValueError(f"weight must have length {n}, got shape {w.shape}")
        if np.any(w <= 0):
            raise ValueError("weight must have strictly positive entries")
        return np.diag(w)
    if w.ndim == 2:
        if p != 2:
            raise ValueError(
                "a matrix weight is only defined for p=2; use a positive vector"
            )
        if w.shape != (n, n):
            raise ValueError(f"weight must have shape ({n}, {n}), got {w.shape}")
        if np.linalg.cond(w) > 1e12:
            raise ValueError(
                "weight must be an invertible matrix (it is singular or nearly so)"
            )
        return w
    raise ValueError(f"weight must be a vector or a matrix, got shape {w.shape}")


def similarity(A: np.ndarray, T: np.ndarray | None) -> np.ndarray:
    """``T A T^{-1}``: the matrix whose plain norm equals the weighted norm of ``A`` (T
    may be None)."""
    if T is None:
        return A
    return T @ np.linalg.solve(T.T, A.T).T  # T A T^{-1} without forming the inverse


def vector_norm(x, p=2, weight=None) -> float:
    """The (weighted) vector norm ``||T x||_p``; see the module docstring for
    ``weight``."""
    p = check_p(p)
    x = as_real_array(x, "x", ndim=1)
    T = weight_matrix(weight, x.shape[0], p)
    return float(np.linalg.norm(x if T is None else T @ x, ord=p))


def _induced_norm(B: np.ndarray, p: float) -> float:
    """Induced norm of a validated matrix in the plain p-norm (the unchecked inner-loop
    path)."""
    return float(np.linalg.norm(B, ord=p))


def induced_norm(A, p=2, weight=None) -> float:
    """The matrix norm induced by the (weighted) vector norm: ``max ||A x|| / ||x||``.

    Closed forms: the maximum column sum (``p=1``), the largest singular value
    (``p=2``), the maximum row sum (``p=inf``) of ``T A T^{-1}``.
    """
    p = check_p(p)
    A = as_square_matrix(A, "A")
    return _induced_norm(similarity(A, weight_matrix(weight, A.shape[0], p)), p)


def _lognorm(B: np.ndarray, p: float) -> float:
    """Log norm of a validated square matrix in the plain p-norm: the cheap path for
    inner loops.

    :func:`lognorm` validates and then calls this; loops over many matrices (the corners
    of a box of slopes) validate once and call this directly, which is 2.5 times faster.
    """
    if p == 2:
        return float(np.linalg.eigvalsh((B + B.T) / 2)[-1])
    diag = np.diag(B)
    off = np.abs(B) - np.diag(np.abs(diag))
    if p == 1:
        return float(np.max(diag + off.sum(axis=0)))
    return float(np.max(diag + off.sum(axis=1)))


def lognorm(A, p=2, weight=None) -> float:
    r"""The log norm (matrix measure) :math:`\mu_p(A)` of the (weighted) ``p``-norm.

    ``mu_2(A)`` is the largest eigenvalue of the symmetric part; ``mu_1`` and ``mu_inf``
    are the largest column and row "diagonal plus absolute off-diagonal" sums. With a
    weight ``T`` the result is ``mu_p(T A T^{-1})``; for ``p=2`` and ``T = R`` it is the
    smallest ``b`` with ``A^T P + P A <= 2 b P``, ``P = R^T R``.

    Unlike a norm, a log norm can be negative: ``mu(A) < 0`` means the flow of ``x' = A
    x`` shrinks every vector, ``||e^{At}|| <= e^{mu(A) t}``.

    Introduced in Section 1.3 (Euclidean case) and Chapter 2 (non-Euclidean norms).
    """
    p = check_p(p)
    A = as_square_matrix(A, "A")
    return _lognorm(similarity(A, weight_matrix(weight, A.shape[0], p)), p)


def lognorm_limit_quotient(A, h, p=2, weight=None) -> float:
    """The difference quotient ``(||I + h A|| - 1) / h`` whose limit as h -> 0+ is
    ``lognorm``.

    It decreases to the log norm as ``h`` decreases; the book plots it to show the
    convergence.
    """
    A = as_square_matrix(A, "A")
    h = float(h)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite number, got {h}")
    return (induced_norm(np.eye(A.shape[0]) + h * A, p, weight) - 1.0) / h


def metzler_majorant(A) -> np.ndarray:
    """The Metzler majorant ``M``: ``m_ii = a_ii`` and ``m_ij = |a_ij|`` off the
    diagonal.

    ``mu_inf(A, eta) = mu_inf(M, eta)`` and ``mu_1(A, eta) = mu_1(M, eta)`` for every
    positive weight, so the best diagonal weight for ``A`` is that of ``M`` (Chapter 2).
    """
    A = as_square_matrix(A, "A")
    M = np.abs(A)
    np.fill_diagonal(M, np.diag(A))
    return M


def spectral_abscissa(A) -> float:
    """The largest real part of an eigenvalue of ``A``; a lower bound on every log
    norm."""
    A = as_square_matrix(A, "A")
    return float(np.max(np.linalg.eigvals(A).real))


def weak_pairing(x, y, p=2, weight=None) -> float:
    r"""The weak pairing :math:`[\![x, y]\!]` compatible with the (weighted) ``p``-norm.

    With :math:`u = Tx`, :math:`v = Ty` for the weight matrix :math:`T`:

    * ``p=2``: the inner product :math:`u^\top v`;
    * ``p=1``: the sign pairing :math:`\|v\|_1 \operatorname{sign}(v)^\top u`;
    * ``p=inf``: the max pairing :math:`\max_{i \in I_\infty(v)} v_i u_i`, where
      :math:`I_\infty(v) = \{i : |v_i| = \|v\|_\infty\}`.

    Compatibility :math:`[\![x, x]\!] = \|x\|^2` and Lumer's equality
    :math:`\mu(A) = \sup_{\|x\|=1} [\![Ax, x]\!]` hold for each (Chapter 2).
    """
    p = check_p(p)
    x = as_real_array(x, "x", ndim=1)
    y = as_real_array(y, "y", ndim=1)
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same length, got {x.size} and {y.size}"
        )
    T = weight_matrix(weight, x.size, p)
    u, v = (x, y) if T is None else (T @ x, T @ y)
    return float(_weak_pairing(u, v, p))


def _weak_pairing(u: np.ndarray, v: np.ndarray, p: float) -> np.ndarray:
    """The plain weak pairing of validated arrays, along the last axis (one value per
    row)."""
    if p == 2:
        return np.einsum("...i,...i->...", u, v)
    if p == 1:
        return np.abs(v).sum(axis=-1) * np.einsum("...i,...i->...", np.sign(v), u)
    top = np.abs(v).max(axis=-1, keepdims=True)
    active = np.abs(v) >= top * (1 - 1e-12)  # the indices where |v_i| = ||v||_inf
    return np.where(active, v * u, -np.inf).max(axis=-1)


def _perron_vector(M: np.ndarray, left: bool) -> np.ndarray:
    """Positive Perron eigenvector of an irreducible Metzler matrix, normalised to sum
    1."""
    vals, vecs = np.linalg.eig(M.T if left else M)
    v = np.real(vecs[:, np.argmax(vals.real)])
    v = np.abs(v) / np.abs(v).sum()  # the Perron vector has one sign; abs removes it
    return v


def is_metzler(M, tol=0.0) -> bool:
    r"""True if every off-diagonal entry of the square matrix ``M`` is ``>= -tol``.

    Metzler matrices generate positive flows: :math:`e^{Mt} \ge 0` entrywise for ``t >=
    0`` (Sections 2.2 and 3.1; Bullo 2023, Chapter 3).
    """
    M = as_square_matrix(M, "M")
    tol = as_positive_scalar(tol, "tol", allow_zero=True)
    off = M[~np.eye(M.shape[0], dtype=bool)]
    return bool(np.all(off >= -tol))


def is_irreducible(M) -> bool:
    """True if the off-diagonal pattern of ``M`` is a strongly connected graph
    (Perron-Frobenius)."""
    M = as_square_matrix(M, "M")
    pattern = (np.abs(M) > 0) & ~np.eye(M.shape[0], dtype=bool)
    n_components, _ = connected_components(pattern, directed=True, connection="strong")
    return n_components == 1


def optimal_weight(A, p=np.inf, tol=1e-6):
    r"""The positive diagonal weight that minimises ``lognorm(A, p, eta)``, and that
    minimum.

    Over all :math:`\eta > 0` the infimum of :math:`\mu_{p,[\eta]}(A)` (``p`` = 1 or
    inf) equals the spectral abscissa :math:`\alpha(M)` of the Metzler majorant
    :math:`M`. If :math:`M` is irreducible it is attained by a Perron eigenvector
    :math:`v > 0` of :math:`M` (Perron-Frobenius): :math:`\eta = 1/v_{\text{right}}` for
    ``p=inf`` and :math:`\eta = v_{\text{left}}` for ``p=1``. If :math:`M` is reducible
    the infimum may not be attained; the weight is then that of :math:`M +
    \varepsilon(\mathbb{1}\mathbb{1}^\top - I)` with the largest :math:`\varepsilon`
    (tried from 1e-2 downwards) whose log norm is within ``tol`` (relative to the scale
    of ``A``) of the infimum.

    Returns ``(eta, value)`` with ``eta`` normalised to ``max(eta) = 1`` and ``value``
    the log norm that this ``eta`` actually achieves (equal to the spectral abscissa, up
    to ``tol``).
    """
    p = check_p(p)
    if p == 2:
        raise ValueError(
            "p must be 1 or np.inf for a diagonal weight (p=2 needs a matrix weight)"
        )
    tol = as_positive_scalar(tol, "tol")
    M = metzler_majorant(A)
    n = M.shape[0]
    target = spectral_abscissa(M)
    scale = max(np.abs(M).max(), 1.0)

    def weight_of(Mx):
        v = _perron_vector(Mx, left=(p == 1))
        eta = v if p == 1 else 1.0 / v
        return eta / eta.max()

    if (
        np.count_nonzero(M - np.diag(np.diag(M))) == 0
    ):  # diagonal: every weight is optimal
        return np.ones(n), lognorm(A, p)
    if is_irreducible(M):
        eta = weight_of(M)
        return eta, lognorm(A, p, eta)
    best = None
    for eps in scale * np.logspace(-2, -12, 21):
        eta = weight_of(M + eps * (np.ones((n, n)) - np.eye(n)))
        if (
            eta.min() <= 1e-14
        ):  # the weight degenerates: stop before it is no longer positive
            break
        value = lognorm(A, p, eta)
        best = (eta, value)
        if value - target <= tol * scale:
            break
    return best


def max_lognorm_diag(
    A, d_min, d_max, p=np.inf, side="left", shift=None, weight=None
) -> float:
    r"""Largest log norm over a box of diagonal scalings, from two vertices instead of
    :math:`2^n`.

    Computes :math:`\max_{d \in [d_{\min}, d_{\max}]^n} \mu_p(B +
    \operatorname{diag}(d)A)` (``side="left"``) or :math:`\max_d \mu_p(B +
    A\operatorname{diag}(d))` (``side="right"``) for ``p`` in ``{1, inf}``, a diagonal
    :math:`B = \operatorname{diag}(\text{shift})` (zero by default) and :math:`0 \le
    d_{\min} \le d_{\max}`. Each row (``p=inf``) or column (``p=1``) sum of the log norm
    is affine in ``d`` with a sign pattern that is known in advance, which leaves two
    candidate vertices (Section 4.1; Davydov, Proskurnikov and Bullo, ACC 2022). With
    :math:`A \circ I` the diagonal part of ``A``:

    * left, ``p=inf`` and right, ``p=1``: :math:`\max\{\mu(B + d_{\min}A), \mu(B +
      d_{\max}A)\}`;
    * left, ``p=1`` and right, ``p=inf``: :math:`\max\{\mu(B + d_{\max}A), \mu(B +
      d_{\max}A - (d_{\max} - d_{\min})(A \circ I))\}`.

    A positive ``weight`` eta gives the log norm of ``||diag(eta) x||_p``; it commutes
    with the diagonal factors, so the same vertices serve. Cost: two log norms, whatever
    ``n``.

    Parameters
    ----------
    A : array_like, shape (n, n)
    d_min, d_max : float
        Slope bounds, ``0 <= d_min <= d_max`` (finite).
    p : 1 or np.inf
    side : {"left", "right"}
        Where ``diag(d)`` multiplies ``A``.
    shift : float or array_like of shape (n,), optional
        The diagonal of ``B`` (for instance ``-1`` for the leak of a firing-rate
        network).
    weight : array_like of shape (n,), optional
        Positive diagonal weight.

    Notes
    -----
    This is the stable name (book/building.md) of the two-vertex case of
    :func:`contraction.slopes.box_max`, which holds the computation.
    """
    from .slopes import (
        box_max,
    )  # slopes builds on norms: imported on call to avoid a cycle

    p = check_p(p)
    if p == 2:
        raise ValueError(
            "p must be 1 or np.inf (no two-vertex formula for p=2; use slopes.box_max)"
        )
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    A = as_square_matrix(A, "A")
    check_slopes(d_min, d_max, nonnegative=True)
    b = np.zeros(A.shape[0]) if shift is None else as_real_array(shift, "shift")
    if b.shape not in ((), (A.shape[0],)):
        raise ValueError(
            f"shift must be a scalar or have length {A.shape[0]}, got shape {b.shape}"
        )
    return box_max(A, d_min, d_max, base=b, p=p, side=side, weight=weight)
