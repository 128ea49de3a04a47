r"""Synchronization: consensus and Kuramoto oscillators, semi-contracting networks.

Section 3.3 of the book ("Semi-contraction"). Diffusively coupled networks do not change when
every state is shifted by the same amount, so they cannot contract in a norm; they contract in a
seminorm that ignores the direction :math:`\mathbb{1}` (:mod:`contraction.seminorms`), which
means that they synchronize:

* consensus :math:`\dot x = -Lx` on a graph with Laplacian :math:`L` (:mod:`contraction.graphs`)
  reaches agreement at the rate :math:`\lambda_2(L)`;
* mean-field Kuramoto oscillators frequency-synchronize on every arc of phases that the coupling
  keeps invariant (:func:`kuramoto_arc_certificate`).

References: S. Jafarpour, P. Cisneros-Velarde, F. Bullo, "Weak and semi-contraction for network
systems and diffusively-coupled oscillators", IEEE TAC 67(3), 2022; F. Dörfler, F. Bullo, "On the
critical coupling for Kuramoto oscillators", SIAM J. Appl. Dyn. Syst. 10(3), 2011.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_positive_scalar, as_real_array, as_square_matrix
from ._records import Record
from .graphs import adjacency_matrix
from .systems import VectorField

__all__ = [
    "ArcCertificate",
    "consensus",
    "kuramoto",
    "order_parameter",
    "kuramoto_arc_certificate",
]


@dataclass(frozen=True)
class ArcCertificate(Record):
    """Semi-contraction certificate of Kuramoto oscillators on an arc of width ``gamma``."""

    invariant: bool
    rate: float
    gamma_min: float
    spread: float


def consensus(L) -> VectorField:
    r"""The consensus dynamics :math:`\dot x = -Lx` for a Laplacian ``L`` (rows summing to zero).

    Every point of :math:`\operatorname{span}(\mathbb{1})` is an equilibrium; the flow is only
    weakly contracting in :math:`\ell_2` (:math:`\mu_2(-L) = 0` for undirected graphs) but
    semi-contracting with rate :math:`\lambda_2(L)` in :math:`\|\Pi x\|_2`. Section 3.3.
    """
    L = as_square_matrix(L, "L")
    if not np.allclose(L.sum(axis=1), 0.0):
        raise ValueError("L must be a Laplacian: its rows must sum to zero")
    if np.any(L - np.diag(np.diag(L)) > 0):
        raise ValueError("L must be a Laplacian: its off-diagonal entries must be <= 0")
    return VectorField(
        "consensus", lambda x: -L @ x, lambda x: -L, L.shape[0], {"L": L}
    )


def kuramoto(omega, K, adjacency=None) -> VectorField:
    r"""Kuramoto oscillators :math:`\dot\theta_i = \omega_i - K\sum_j a_{ij}\sin(\theta_i-\theta_j)`.

    With ``adjacency=None`` the mean-field model, :math:`a_{ij} = 1/n` for all ``i, j``. The
    Jacobian is :math:`-L(\theta)`, the Laplacian with weights :math:`K a_{ij}\cos(\theta_i -
    \theta_j)`; it annihilates :math:`\mathbb{1}` (rotating all phases changes nothing), so the
    semi-measures of :func:`~contraction.seminorms.semi_lognorm` apply. Section 3.3.

    Parameters
    ----------
    omega : (n,) array_like
        Natural frequencies.
    K : float
        Coupling strength, ``K >= 0``.
    adjacency : (n, n) array_like, optional
        Symmetric non-negative coupling weights.
    """
    omega = as_real_array(omega, "omega", ndim=1)
    K = as_positive_scalar(K, "K", allow_zero=True)
    n = omega.size
    A = (
        np.full((n, n), 1.0 / n)
        if adjacency is None
        else adjacency_matrix(adjacency, directed=False)
    )
    if A.shape != (n, n):
        raise ValueError(f"adjacency must have shape ({n}, {n}), got {A.shape}")
    W = K * (A - np.diag(np.diag(A)))

    def f(theta):
        return omega - (W * np.sin(theta[:, None] - theta[None, :])).sum(axis=1)

    def jacobian(theta):
        C = W * np.cos(theta[:, None] - theta[None, :])
        return C - np.diag(C.sum(axis=1))

    return VectorField(
        "Kuramoto", f, jacobian, n, {"omega": omega, "K": K, "adjacency": A}
    )


def order_parameter(theta):
    r"""The Kuramoto order parameter :math:`r e^{i\psi} = \frac1n\sum_j e^{i\theta_j}`.

    Returns ``(r, psi)``: floats for one phase vector, arrays for a ``(num, n)`` trajectory.
    ``r = 1`` when all phases agree and ``r`` is near 0 when they are spread out.
    """
    theta = as_real_array(theta, "theta")
    if theta.ndim not in (1, 2):
        raise ValueError(
            f"theta must be a vector or a (num, n) trajectory, got shape {theta.shape}"
        )
    z = np.exp(1j * theta).mean(axis=-1)
    r, psi = np.abs(z), np.angle(z)
    return (float(r), float(psi)) if theta.ndim == 1 else (r, psi)


def kuramoto_arc_certificate(omega, K, gamma) -> dict:
    r"""The semi-contraction certificate of the mean-field Kuramoto model on an arc.

    Let :math:`\Delta\omega = \max_i\omega_i - \min_i\omega_i` and
    :math:`0 < \gamma < \pi/2`. If :math:`K\sin\gamma \ge \Delta\omega`, the convex set
    :math:`\{\theta : \max_i\theta_i - \min_i\theta_i \le \gamma\}` is forward invariant for
    :func:`kuramoto` with ``adjacency=None``, and on it
    :math:`\mu_2(D f(\theta)) \le -K\cos\gamma` in the seminorm :math:`\|\Pi\theta\|_2`.

    Returns an :class:`ArcCertificate` with ``invariant`` (bool), ``rate`` (:math:`K\cos\gamma` if invariant, else
    nan), ``gamma_min`` (:math:`\arcsin(\Delta\omega/K)`, the smallest certified arc; nan if
    :math:`K < \Delta\omega`) and ``spread`` (:math:`\Delta\omega`). Section 3.3; the arc argument
    follows Dörfler and Bullo (2011).
    """
    omega = as_real_array(omega, "omega", ndim=1)
    K = as_positive_scalar(K, "K", allow_zero=True)
    gamma = as_positive_scalar(gamma, "gamma")
    if gamma >= np.pi / 2:
        raise ValueError(f"gamma must lie in (0, pi/2), got {gamma}")
    spread = float(np.ptp(omega))
    invariant = bool(K * np.sin(gamma) >= spread)
    return ArcCertificate(
        invariant=invariant,
        rate=float(K * np.cos(gamma)) if invariant else float("nan"),
        gamma_min=float(np.arcsin(spread / K))
        if K >= spread and K > 0
        else float("nan"),
        spread=spread,
    )
