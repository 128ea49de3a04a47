r"""How far a fixed point moves when its input or its map changes (Section 1.1 of the
book).

For a map :math:`G(x, u)` with a unique fixed point :math:`x^*_u = G(x^*_u, u)` for
every input :math:`u`, two bounds say how sensitive :math:`x^*_u` is to :math:`u`:

* Lim's lemma: if :math:`\operatorname{Lip}_x G \le \ell < 1` and
  :math:`\operatorname{Lip}_u G \le \ell_u`, then
  :math:`\|x^*_u - x^*_v\| \le \ell_u/(1-\ell)\,\|u - v\|` (:func:`lim_gain`);
* the one-sided version: if :math:`\operatorname{osLip}_x G \le b < 1`, then
  :math:`\|x^*_u - x^*_v\| \le \ell_u/(1-b)\,\|u - v\|` (:func:`oslip_gain`), which
  still holds when :math:`\ell \ge 1`; with a model error :math:`D` it becomes
  :func:`perturbed_bound`.

The remaining functions give the quantities the bounds speak about, so that the book can
put bound and measurement side by side: exact constants of a neural layer :math:`G(x, u)
= \phi(Wx + Uu)` in the 2-norm (:func:`layer_constants`, from the maximum over the box
of slopes), fixed points for many inputs (:func:`fixed_points`) and their measured
sensitivity (:func:`sensitivity_ratios`). Sampled Lipschitz ratios live in
:mod:`contraction.estimates`.

Reference: T.-C. Lim, J. Math. Anal. Appl. 110 (1985); F. Bullo, *Contraction Theory for
Dynamical Systems* (2023); S. Jafarpour et al., NeurIPS 2021.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fixedpoint
from ._checks import (
    as_point_pairs,
    as_positive_scalar,
    as_real_array,
    as_real_scalar,
    as_square_matrix,
    check_callable,
    check_slopes,
)
from ._records import Record
from .slopes import MAX_BOX_DIM, box_max

__all__ = [
    "LayerConstants",
    "layer_constants",
    "fixed_points",
    "sensitivity_ratios",
    "lim_gain",
    "oslip_gain",
    "perturbed_bound",
]


@dataclass(frozen=True)
class LayerConstants(Record):
    """2-norm constants of a layer: ``os_lip`` and ``lip`` in ``x``, ``lip_u`` in
    ``u``."""

    os_lip: float
    lip: float
    lip_u: float


def layer_constants(W, U=None, slopes=(0.0, 1.0)) -> dict:
    r"""Exact 2-norm constants of the layer :math:`G(x, u) = \phi(Wx + Uu)`.

    Section 1.1 of the book. The activation :math:`\phi` acts entrywise with slopes
    :math:`\phi'` in ``[d_min, d_max]`` (``tanh``: ``(0, 1]``), so the Jacobians are
    :math:`D_x G = \operatorname{diag}(d)W` and :math:`D_u G = \operatorname{diag}(d)U`
    with ``d`` in the cube :math:`[d_{\min}, d_{\max}]^n`. Log norms and norms are
    convex, so their largest values over the cube sit at its :math:`2^n` vertices, which
    this function visits.

    Parameters
    ----------
    W : array_like, shape (n, n)
        Recurrent weights, ``n <= 14``.
    U : array_like, shape (n, m), optional
        Input weights; the identity when omitted (so ``G(x, u) = phi(Wx + u)``).
    slopes : (float, float)
        ``(d_min, d_max)`` with ``0 <= d_min <= d_max``.

    Returns
    -------
    LayerConstants
        ``os_lip``: :math:`\max_d \mu_2(\operatorname{diag}(d)W)`, an upper bound on
        :math:`\operatorname{osLip}_x G` in the 2-norm; ``lip``: :math:`\max_d
        \|\operatorname{diag}(d)W\|_2 \ge \operatorname{Lip}_x G`; ``lip_u``:
        :math:`\max_d \|\operatorname{diag}(d)U\|_2 \ge \operatorname{Lip}_u G`. The
        three are equal to the constants (as suprema) when every slope vector in the
        open cube occurs, e.g. for ``tanh`` with an invertible ``W``.

    Raises
    ------
    ValueError
        If ``W`` is not square or larger than 14 x 14, ``U`` has the wrong number of
        rows, or ``slopes`` is not an ordered pair of non-negative numbers.
    """
    W = as_square_matrix(W, "W")
    n = W.shape[0]
    if n > MAX_BOX_DIM:
        raise ValueError(
            f"W must be at most {MAX_BOX_DIM} x {MAX_BOX_DIM} (2^n vertices are "
            f"visited), got {n} x {n}"
        )
    U = np.eye(n) if U is None else as_real_array(U, "U", ndim=2)
    if U.shape[0] != n:
        raise ValueError(
            f"U must have {n} rows (one per row of W), got shape {U.shape}"
        )
    try:
        d_min, d_max = check_slopes(*slopes, nonnegative=True)
    except (TypeError, ValueError):
        raise ValueError(
            f"slopes must satisfy 0 <= d_min <= d_max < inf, got {slopes!r}"
        ) from None
    return LayerConstants(
        box_max(W, d_min, d_max, measure="lognorm"),
        box_max(W, d_min, d_max, measure="norm"),
        box_max(U, d_min, d_max, measure="norm"),
    )


def fixed_points(
    G, U, x0, method="averaged", alpha=None, tol=1e-12, max_iter=20000, memory=5
) -> np.ndarray:
    r"""The fixed points :math:`x^*_u = G(x^*_u, u)` for each row ``u`` of ``U``.

    Section 1.1 of the book. Each is computed by :func:`contraction.fixedpoint.solve`
    from ``x0`` with the given ``method``, ``alpha``, ``tol``, ``max_iter`` and
    ``memory``.

    Parameters
    ----------
    G : callable
        ``G(x, u)`` returns a vector of the shape of ``x``.
    U : array_like, shape (m, k)
        One input per row.
    x0 : array_like, shape (n,)
        Starting point of every solve.

    Returns
    -------
    ndarray, shape (m, n)

    Raises
    ------
    RuntimeError
        If a solve does not converge; the message names the row and the solver's reason.
    """
    check_callable(G, "G")
    U = as_real_array(U, "U", ndim=2)
    x0 = as_real_array(x0, "x0", ndim=1)
    out = np.empty((U.shape[0], x0.shape[0]))
    for i, u in enumerate(U):
        res = fixedpoint.solve(
            lambda x, u=u: G(x, u),
            x0,
            method=method,
            alpha=alpha,
            tol=tol,
            max_iter=max_iter,
            memory=memory,
        )
        if not res.converged:
            raise RuntimeError(f"no fixed point found for row {i} of U: {res.reason}")
        out[i] = res.x
    return out


def sensitivity_ratios(G, U, V, x0, **solve_options) -> np.ndarray:
    r"""Measured ratios :math:`\|x^*_u - x^*_v\|_2 / \|u - v\|_2` over the rows of
    ``U``, ``V``.

    Section 1.1 of the book: compare their maximum with :func:`lim_gain` or
    :func:`oslip_gain`. ``solve_options`` are passed to :func:`fixed_points`.
    """
    U, V = as_point_pairs(U, V, names=("U", "V"))
    gaps = np.linalg.norm(U - V, axis=1)
    XU = fixed_points(G, U, x0, **solve_options)
    XV = fixed_points(G, V, x0, **solve_options)
    return np.linalg.norm(XU - XV, axis=1) / gaps


def lim_gain(lip_x, lip_u) -> float:
    r"""Lim's bound :math:`\ell_u / (1 - \ell)` on :math:`\|x^*_u - x^*_v\| / \|u -
    v\|`.

    Section 1.1 of the book; valid in any norm when :math:`\operatorname{Lip}_x G \le
    \ell < 1` and :math:`\operatorname{Lip}_u G \le \ell_u`. Returns ``inf`` (no bound)
    when ``lip_x >= 1``.
    """
    lip_x = as_positive_scalar(lip_x, "lip_x", allow_zero=True)
    lip_u = as_positive_scalar(lip_u, "lip_u", allow_zero=True)
    return float(np.inf) if lip_x >= 1 else lip_u / (1.0 - lip_x)


def oslip_gain(os_lip_x, lip_u) -> float:
    r"""The one-sided bound :math:`\ell_u / (1 - b)` on :math:`\|x^*_u - x^*_v\| / \|u -
    v\|`.

    Section 1.1 of the book; valid when :math:`\operatorname{osLip}_x G \le b < 1`
    (``b`` may be negative) and :math:`\operatorname{Lip}_u G \le \ell_u`, whatever
    :math:`\operatorname{Lip}_x G` is. Returns ``inf`` (no bound) when ``os_lip_x >=
    1``.
    """
    b = as_real_scalar(os_lip_x, "os_lip_x")
    lip_u = as_positive_scalar(lip_u, "lip_u", allow_zero=True)
    return float(np.inf) if b >= 1 else lip_u / (1.0 - b)


def perturbed_bound(os_lip_x, lip_u, u_distance, d_norm=0.0) -> float:
    r"""Bound on :math:`\|x^*_u - x^*_v\|` when the map itself is perturbed.

    Section 1.1 of the book. With :math:`x^*_u = G(x^*_u, u)`, :math:`x^*_v = G(x^*_v,
    v) + D(x^*_v, v)`, :math:`\operatorname{osLip}_x(G + D) \le b < 1` and
    :math:`\operatorname{Lip}_u(G + D) \le \ell_u`:

    .. math:: \|x^*_u - x^*_v\| \le \frac{\ell_u\|u - v\| + \|D(x^*_u, u)\|}{1 - b}.

    ``u_distance`` is :math:`\|u - v\|` and ``d_norm`` is :math:`\|D(x^*_u, u)\|`
    (scalars or arrays of the same shape). Returns ``inf`` when ``os_lip_x >= 1``.
    """
    b = as_real_scalar(os_lip_x, "os_lip_x")
    lip_u = as_positive_scalar(lip_u, "lip_u", allow_zero=True)
    du = np.asarray(u_distance, dtype=float)
    dn = np.asarray(d_norm, dtype=float)
    for name, arr in (("u_distance", du), ("d_norm", dn)):
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be finite and non-negative")
    out = (
        np.full(np.broadcast(du, dn).shape, np.inf)
        if b >= 1
        else (lip_u * du + dn) / (1 - b)
    )
    return float(out) if np.ndim(out) == 0 else out
