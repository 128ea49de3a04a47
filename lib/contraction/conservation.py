r"""Conservation laws and translation invariances: the norms that certify weak
contraction.

Section 3.2 of the book ("Weakly contracting networks"). A monotone system (Metzler
Jacobians) with a conservation law :math:`\eta^\top Df(x) = 0` or a translation
invariance :math:`Df(x)\xi = 0` has log norm exactly zero, at every point, in
:math:`\ell_1` weighted by :math:`\eta` or in :math:`\ell_\infty` weighted by
:math:`1/\xi`: it is weakly contracting there. :func:`certifying_weight` finds that norm
from sampled Jacobians, :func:`conservation_weight` the conserved weight of a matrix,
and :func:`has_conservation_law` and :func:`translation_invariant` test the two
properties on sample points (they can refute, not prove). The models they certify are in
:mod:`contraction.weak_networks`.

References: S. Jafarpour, P. Cisneros-Velarde, F. Bullo, "Weak and semi-contraction for
network systems and diffusively-coupled oscillators", IEEE TAC 67(3), 2022; F. Bullo,
*Contraction Theory for Dynamical Systems*, KDP, 2023.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from ._checks import as_positive_scalar, as_real_array, as_square_matrix
from .norms import is_metzler
from .systems import VectorField

__all__ = [
    "has_conservation_law",
    "translation_invariant",
    "conservation_weight",
    "certifying_weight",
]


def _points(points, dim: int | None = None) -> np.ndarray:
    """Sample points, one per row (a single point is one row); ``dim`` columns if
    given."""
    pts = as_real_array(points, "points")
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or (dim is not None and pts.shape[1] != dim):
        raise ValueError(f"points must have shape (k, {dim or 'n'}), got {pts.shape}")
    return pts


def _jacobian_callable(jacobian):
    if isinstance(jacobian, VectorField):
        return jacobian.jacobian
    if not callable(jacobian):
        raise TypeError(
            f"jacobian must be callable or a VectorField, got {type(jacobian).__name__}"
        )
    return jacobian


def _annihilates(jacobian, vector, name, points, tol, left) -> bool:
    """True if ``vector^T Df(x)`` (left) or ``Df(x) vector`` (right) vanishes at every
    point."""
    jac = _jacobian_callable(jacobian)
    v = as_real_array(vector, name, ndim=1)
    tol = as_positive_scalar(tol, "tol")
    for x in _points(points, v.size):
        J = np.asarray(jac(x), dtype=float)
        residual = v @ J if left else J @ v
        if np.abs(residual).max() > tol * max(1.0, np.abs(J).max()) * np.abs(v).max():
            return False
    return True


def has_conservation_law(jacobian, eta, points, tol=1e-9) -> bool:
    r"""True if :math:`\eta^\top Df(x) = 0` (to ``tol``, relative) at every row of
    ``points``.

    ``jacobian`` is a callable ``x -> Df(x)`` or a VectorField. A conservation law
    :math:`\eta^\top f(x) = \text{const}` holds on a connected domain exactly when
    :math:`\eta^\top Df \equiv 0`; sampled points can refute it, not prove it.
    """
    return _annihilates(jacobian, eta, "eta", points, tol, left=True)


def translation_invariant(jacobian, xi, points, tol=1e-9) -> bool:
    r"""True if :math:`Df(x)\xi = 0` (to ``tol``, relative) at every row of ``points``.

    :math:`Df\xi \equiv 0` is equivalent to :math:`f(x + \alpha\xi) = f(x)` for all
    :math:`x, \alpha`; sampled points can refute it, not prove it.
    """
    return _annihilates(jacobian, xi, "xi", points, tol, left=False)


def _positive_null_vector(M: np.ndarray, what: str, rtol=1e-9) -> np.ndarray:
    """A vector v > 0 with M v = 0, normalised to sum 1; ValueError if there is none."""
    _, sing, Vt = np.linalg.svd(M)
    scale = max(1.0, sing[0] if sing.size else 1.0)
    rank = int(np.sum(sing > rtol * scale))
    N = Vt[rank:].T  # orthonormal basis of the null space
    if N.shape[1] == 0:
        raise ValueError(f"there is no nonzero {what}")
    if N.shape[1] == 1:
        v = N[:, 0] * np.sign(N[:, 0].sum() or 1.0)
    else:  # look for a positive combination: maximise t with N c >= t, sum(N c) = 1
        k = N.shape[1]
        cost = np.zeros(k + 1)
        cost[-1] = -1.0
        res = linprog(
            cost,
            A_ub=np.hstack([-N, np.ones((N.shape[0], 1))]),
            b_ub=np.zeros(N.shape[0]),
            A_eq=np.append(N.sum(axis=0), 0.0)[None, :],
            b_eq=[1.0],
            bounds=[(None, None)] * k + [(None, 1.0)],
        )
        v = N @ res.x[:k] if res.success else -np.ones(N.shape[0])
    if np.any(v <= rtol * np.abs(v).max()):
        raise ValueError(f"there is no positive {what}")
    return v / v.sum()


def conservation_weight(A) -> np.ndarray:
    r"""The positive :math:`\eta` with :math:`\eta^\top A = 0` and :math:`\sum_i\eta_i =
    1`.

    For an irreducible Metzler ``A`` with spectral abscissa 0 this is the left Perron
    vector, and then :math:`\mu_{1,[\eta]}(A) = \max_j (\eta^\top A)_j/\eta_j = 0`
    (Section 3.2). Raises ``ValueError`` if ``A`` has no positive left null vector.
    """
    A = as_square_matrix(A, "A")
    return _positive_null_vector(A.T, "eta with eta^T A = 0")


def certifying_weight(jacobian, points, kind="conservation", require_metzler=True):
    r"""The weight in which a monotone network with a conservation law or a translation
    invariance has log norm exactly 0 (Section 3.2).

    * ``kind="conservation"``: finds :math:`\eta > 0` (sum 1) with :math:`\eta^\top
      Df(x) = 0` at all ``points`` and returns ``(eta, 1)``: for Metzler Jacobians
      :math:`\mu_{1,[\eta]}(Df(x)) = \max_j(\eta^\top Df(x))_j/\eta_j = 0`.
    * ``kind="translation"``: finds :math:`\xi > 0` (sum 1) with :math:`Df(x)\xi = 0`
      and returns ``(1/xi, np.inf)``: :math:`\mu_{\infty,[\xi]^{-1}}(Df(x)) = \max_i
      (Df(x)\xi)_i/\xi_i = 0`.

    The result ``(weight, p)`` plugs into ``norms.lognorm(J, p, weight)``. Raises
    ``ValueError`` if no positive vector annihilates all sampled Jacobians, or (with
    ``require_metzler``) if a Jacobian is not Metzler.
    """
    jac = _jacobian_callable(jacobian)
    if kind not in ("conservation", "translation"):
        raise ValueError(f"kind must be 'conservation' or 'translation', got {kind!r}")
    pts = _points(points)
    Js = [as_square_matrix(jac(x), "jacobian(x)") for x in pts]
    if Js[0].shape[0] != pts.shape[1]:
        raise ValueError(
            f"points must have {Js[0].shape[0]} columns, got {pts.shape[1]}"
        )
    if require_metzler:
        for J in Js:
            if not is_metzler(J, tol=1e-12 * max(1.0, np.abs(J).max())):
                raise ValueError(
                    "a sampled Jacobian is not Metzler (the system is not monotone)"
                )
    if kind == "conservation":
        eta = _positive_null_vector(
            np.vstack([J.T for J in Js]), "eta with eta^T Df(x) = 0"
        )
        return eta, 1
    xi = _positive_null_vector(np.vstack(Js), "xi with Df(x) xi = 0")
    return 1.0 / xi, np.inf
