r"""The maximum over the box of slopes: one home for every "worst Jacobian" computation.

A map built from an entrywise activation :math:`\phi` with slopes in :math:`[d_{\min},
d_{\max}]` (``tanh``: :math:`(0, 1]`), such as the firing-rate field :math:`-x +
\tanh(Wx + u)`, the layer :math:`\tanh(Wx + Uu)` or the averaged step of an implicit
network, has Jacobians :math:`B + \operatorname{diag}(d)\,K` (or :math:`B +
K\operatorname{diag}(d)`) with ``d`` in the box :math:`[d_{\min}, d_{\max}]^n`. Norms
and log norms are convex functions of a matrix and the Jacobian is affine in ``d``, so
their largest value over the box sits at one of its :math:`2^n` corners; the result is a
proof (an upper bound on :math:`\sup_x` of the quantity), and the exact supremum when
every slope pattern is approached (``tanh`` with an invertible ``W``).

:func:`box_max` is the one function that the book's constants go through (Sections 1.1,
1.2, 1.4, 2.3 and 4.1). It avoids the :math:`2^n` corners whenever a structure allows:

* in :math:`\ell_\infty` with ``diag(d)`` on the left, row ``i`` of the matrix depends
  on :math:`d_i` alone, convexly, so the two uniform vertices :math:`d = d_{\min}\mathbb
  1` and :math:`d = d_{\max}\mathbb 1` give the exact maximum of the norm and of the log
  norm, for any ``B``; the same holds for columns in :math:`\ell_1` with ``diag(d)`` on
  the right (transpose);
* the log norm :math:`\mu_1` with ``diag(d)`` on the left and a diagonal ``B`` needs the
  two vertices :math:`d_{\max}K` and :math:`d_{\max}K - (d_{\max} - d_{\min})(K \circ
  I)` when :math:`d_{\min} \ge 0` (Davydov, Proskurnikov and Bullo, ACC 2022; Section
  4.1);
* a positive diagonal weight commutes with ``diag(d)`` and is absorbed into ``B`` and
  ``K``.

Otherwise (``p = 2``, a matrix weight) it visits the corners, :func:`corner_max`, with
the unchecked norms of :mod:`contraction.norms` (validation happens once, not per
corner).
"""

from __future__ import annotations

import itertools

import numpy as np

from ._checks import as_real_array, check_callable, check_p, check_slopes
from .norms import _induced_norm, _lognorm, similarity, weight_matrix

__all__ = ["box_max", "corner_max", "MAX_BOX_DIM"]

MAX_BOX_DIM = 14  # the corner search visits 2^n corners
MEASURES = {"lognorm": _lognorm, "norm": _induced_norm}
SIDES = ("left", "right")
DUAL_P = {
    1.0: np.inf,
    2.0: 2.0,
    np.inf: 1.0,
}  # mu_p(M) = mu_q(M^T) and ||M||_p = ||M^T||_q


def _corners(fn, base, gain, lo, hi, side="left"):
    """max of fn(base + diag(d) gain) (left) or fn(base + gain diag(d)) over d in {lo,
    hi}^n."""
    n = gain.shape[0] if side == "left" else gain.shape[1]
    if n > MAX_BOX_DIM:
        raise ValueError(
            f"gain must have at most {MAX_BOX_DIM} slopes (2^n corners), got {n}"
        )
    best = -np.inf
    for d in itertools.product((lo, hi), repeat=n):
        d = np.asarray(d)
        J = base + (d[:, None] * gain if side == "left" else gain * d[None, :])
        best = max(best, float(fn(J)))
    return best


def corner_max(fn, base, gain, d_min=0.0, d_max=1.0) -> float:
    r"""Largest value of ``fn(base + diag(d) @ gain)`` over the corners of the slope
    box.

    The generic search behind :func:`box_max`, for any convex function of a matrix (for
    instance a norm that :func:`box_max` does not name).

    Parameters
    ----------
    fn : callable
        A convex function of a matrix, e.g. ``norms.lognorm`` or ``norms.induced_norm``
        (with a ``functools.partial`` or lambda to fix ``p``).
    base, gain : array_like, shape (n, m)
        The Jacobian is ``base + diag(d) @ gain``: for instance ``-I`` and ``W`` for the
        firing-rate field ``-x + tanh(W x + u)``, ``0`` and ``W`` for the layer ``tanh(W
        x + u)``, ``(1 - alpha) I`` and ``alpha W`` for its averaged map, ``M`` and
        ``beta I`` for ``M x + beta tanh(x)``.
    d_min, d_max : float
        The slopes of the activation lie in ``[d_min, d_max]``.

    Returns
    -------
    float
        The maximum over the ``2^n`` corners (``n <= MAX_BOX_DIM``), which is the
        maximum over the whole box because ``d -> fn(base + diag(d) gain)`` is convex.
    """
    check_callable(fn, "fn")
    base = as_real_array(base, "base", ndim=2)
    gain = as_real_array(gain, "gain", ndim=2)
    if gain.shape != base.shape:
        raise ValueError(f"gain must have shape {base.shape}, got {gain.shape}")
    if base.shape[0] > MAX_BOX_DIM:
        raise ValueError(
            f"base must have at most {MAX_BOX_DIM} rows (2^n corners), got "
            f"{base.shape[0]}"
        )
    lo, hi = check_slopes(d_min, d_max)
    return _corners(fn, base, gain, lo, hi)


def _as_base(base, shape) -> np.ndarray:
    """The matrix B: zero (None), a diagonal (scalar or vector) or a full matrix of
    ``shape``."""
    if base is None:
        return np.zeros(shape)
    b = as_real_array(base, "base")
    if b.ndim == 2:
        if b.shape != shape:
            raise ValueError(f"base must have shape {shape} like gain, got {b.shape}")
        return b
    if shape[0] != shape[1]:
        raise ValueError("base must be a matrix when gain is not square")
    b = np.full(shape[0], float(b)) if b.ndim == 0 else b
    if b.shape != (shape[0],):
        raise ValueError(
            f"base must be a scalar, a vector of length {shape[0]} or a matrix, got "
            f"shape {b.shape}"
        )
    return np.diag(b)


def _is_diagonal(M: np.ndarray) -> bool:
    return M.shape[0] == M.shape[1] and not np.any(M - np.diag(np.diag(M)))


def _box_max(fn, base, gain, lo, hi, p, side="left", T=None) -> float:
    """:func:`box_max` on validated arrays (the inner-loop path); ``T`` a non-diagonal
    weight."""
    if (
        T is not None
    ):  # a matrix weight does not commute with diag(d): corners, weighted
        return _corners(lambda J: fn(similarity(J, T), p), base, gain, lo, hi, side)
    if side == "right":
        base, gain, p = base.T, gain.T, DUAL_P[p]
    if p == np.inf:  # row i depends on d_i alone: the uniform vertices are exact
        return max(fn(base + lo * gain, p), fn(base + hi * gain, p))
    if p == 1 and fn is _lognorm and lo >= 0 and _is_diagonal(base):
        # column sums: off-diagonal |d_i k_ij| is largest at d_max, the diagonal picks
        # its end
        vertices = (hi * gain, hi * gain - (hi - lo) * np.diag(np.diag(gain)))
        return max(fn(base + V, p) for V in vertices)
    return _corners(lambda J: fn(J, p), base, gain, lo, hi)


def box_max(
    gain,
    d_min=0.0,
    d_max=1.0,
    *,
    base=None,
    measure="lognorm",
    p=2,
    side="left",
    weight=None,
) -> float:
    r"""Largest norm or log norm of the Jacobians :math:`B + \operatorname{diag}(d)K`
    over the box.

    Computes :math:`\max_{d \in [d_{\min}, d_{\max}]^n} m(B + \operatorname{diag}(d)K)`
    (``side="left"``) or :math:`\max_d m(B + K\operatorname{diag}(d))`
    (``side="right"``), where :math:`m` is the (weighted) log norm :math:`\mu_p` or the
    induced norm :math:`\|\cdot\|_p`; see the module docstring for the vertex formulas
    it uses before falling back on corners.

    Parameters
    ----------
    gain : array_like, shape (n, m)
        The matrix :math:`K` that the slopes scale (square for a log norm or a weight).
    d_min, d_max : float
        The slopes lie in ``[d_min, d_max]``.
    base : None, float, array_like of shape (n,) or (n, m)
        :math:`B`: zero, a diagonal (for instance ``-1``, the leak of a firing-rate
        network) or a full matrix.
    measure : {"lognorm", "norm"}
    p : {1, 2, np.inf}
    side : {"left", "right"}
        Where ``diag(d)`` multiplies :math:`K`.
    weight : None, positive vector or (``p=2``) invertible matrix
        As in :mod:`contraction.norms`.

    Returns
    -------
    float
        The maximum over the box: an upper bound on the supremum of the quantity over
        all states, equal to it when every slope pattern is approached.
    """
    p = check_p(p)
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {sorted(MEASURES)}, got {measure!r}")
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    gain = as_real_array(gain, "gain", ndim=2)
    square = gain.shape[0] == gain.shape[1]
    if not square and (measure == "lognorm" or weight is not None):
        raise ValueError(
            f"gain must be square for a log norm or a weight, got {gain.shape}"
        )
    base = _as_base(base, gain.shape)
    lo, hi = check_slopes(d_min, d_max)
    T = weight_matrix(weight, gain.shape[0], p) if weight is not None else None
    if T is not None and _is_diagonal(T):  # diag(eta) commutes with diag(d): absorb it
        base, gain, T = similarity(base, T), similarity(gain, T), None
    return _box_max(MEASURES[measure], base, gain, lo, hi, p, side, T)
