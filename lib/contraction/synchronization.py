r"""Synchronization: consensus and Kuramoto oscillators, semi-contracting networks.

Section 3.3 of the book ("Semi-contraction"). Diffusively coupled networks do not change
when every state is shifted by the same amount, so they cannot contract in a norm; they
contract in a seminorm that ignores the direction :math:`\mathbb{1}`
(:mod:`contraction.seminorms`), which means that they synchronize:

* consensus :math:`\dot x = -Lx` on a graph with Laplacian :math:`L`
  (:mod:`contraction.graphs`) reaches agreement at the rate :math:`\lambda_2(L)`;
* mean-field Kuramoto oscillators frequency-synchronize on every arc of phases that the
  coupling keeps invariant (:func:`kuramoto_arc_certificate`);
* Kuramoto oscillators and strongly damped swing equations are weakly contracting in
  (weighted) :math:`\ell_1` and :math:`\ell_\infty` norms while coupled phases stay
  within :math:`\pi/2` of each other (:func:`swing`, :func:`swing_weights`).

References: S. Jafarpour, P. Cisneros-Velarde, F. Bullo, "Weak and semi-contraction for
network systems and diffusively-coupled oscillators", IEEE TAC 67(3), 2022; F. Dörfler,
F. Bullo, "On the critical coupling for Kuramoto oscillators", SIAM J. Appl. Dyn. Syst.
10(3), 2011; A. R. Bergen, D. J. Hill, "A structure preserving model for power system
stability analysis", IEEE Trans. Power Apparatus and Systems 100(1), 1981 (the swing
equations).
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
    "SwingWeights",
    "swing",
    "swing_weights",
]


@dataclass(frozen=True)
class ArcCertificate(Record):
    """Semi-contraction certificate of Kuramoto oscillators on an arc of width
    ``gamma``."""

    invariant: bool
    rate: float
    gamma_min: float
    spread: float


def consensus(L) -> VectorField:
    r"""The consensus dynamics :math:`\dot x = -Lx` for a Laplacian ``L`` (rows summing
    to zero).

    Every point of :math:`\operatorname{span}(\mathbb{1})` is an equilibrium; the flow
    is only weakly contracting in :math:`\ell_2` (:math:`\mu_2(-L) = 0` for undirected
    graphs) but semi-contracting with rate :math:`\lambda_2(L)` in :math:`\|\Pi x\|_2`.
    Section 3.3.
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
    r"""Kuramoto oscillators :math:`\dot\theta_i = \omega_i - K\sum_j
    a_{ij}\sin(\theta_i-\theta_j)`.

    With ``adjacency=None`` the mean-field model, :math:`a_{ij} = 1/n` for all ``i, j``.
    The Jacobian is :math:`-L(\theta)`, the Laplacian with weights :math:`K
    a_{ij}\cos(\theta_i - \theta_j)`; it annihilates :math:`\mathbb{1}` (rotating all
    phases changes nothing), so the semi-measures of
    :func:`~contraction.seminorms.semi_lognorm` apply. Section 3.3.

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

    Returns ``(r, psi)``: floats for one phase vector, arrays for a ``(num, n)``
    trajectory. ``r = 1`` when all phases agree and ``r`` is near 0 when they are spread
    out.
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

    Let :math:`\Delta\omega = \max_i\omega_i - \min_i\omega_i` and :math:`0 < \gamma <
    \pi/2`. If :math:`K\sin\gamma \ge \Delta\omega`, the convex set :math:`\{\theta :
    \max_i\theta_i - \min_i\theta_i \le \gamma\}` is forward invariant for
    :func:`kuramoto` with ``adjacency=None``, and on it :math:`\mu_2(D f(\theta)) \le
    -K\cos\gamma` in the seminorm :math:`\|\Pi\theta\|_2`.

    Returns an :class:`ArcCertificate` with ``invariant`` (bool), ``rate``
    (:math:`K\cos\gamma` if invariant, else nan), ``gamma_min``
    (:math:`\arcsin(\Delta\omega/K)`, the smallest certified arc; nan if :math:`K <
    \Delta\omega`) and ``spread`` (:math:`\Delta\omega`). Section 3.3; the arc argument
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


@dataclass(frozen=True)
class SwingWeights(Record):
    """Coordinates and weights in which strongly damped swing equations are monotone."""

    damped: bool
    b: np.ndarray
    T: np.ndarray
    xi: np.ndarray
    eta: np.ndarray


def _swing_parameters(m, d, P, adjacency):
    m = as_real_array(m, "m", ndim=1)
    n = m.size
    d = as_real_array(d, "d", ndim=1)
    P = as_real_array(P, "P", ndim=1)
    if np.any(m <= 0) or np.any(d <= 0):
        raise ValueError("the inertias m and the dampings d must be positive")
    if d.size != n or P.size != n:
        raise ValueError(
            f"m, d and P must have the same length, got {n}, {d.size}, {P.size}"
        )
    A = adjacency_matrix(adjacency, directed=False)
    if A.shape != (n, n):
        raise ValueError(f"adjacency must have shape ({n}, {n}), got {A.shape}")
    return m, d, P, A - np.diag(np.diag(A))


def swing(m, d, P, adjacency) -> VectorField:
    r"""Swing equations :math:`m_i\ddot\theta_i + d_i\dot\theta_i = P_i -
    \sum_j a_{ij}\sin(\theta_i - \theta_j)` as a first-order system.

    The state is :math:`x = (\theta, \omega)\in\mathbb{R}^{2n}` with :math:`\dot\theta =
    \omega` and :math:`\dot\omega_i = (P_i - d_i\omega_i - \sum_j a_{ij}\sin(\theta_i -
    \theta_j))/m_i` (inertias ``m`` and dampings ``d`` positive, injected powers ``P``,
    symmetric non-negative couplings ``adjacency``). The Jacobian is
    :math:`\begin{bmatrix}0 & I\\ -M^{-1}L(\theta) & -M^{-1}D\end{bmatrix}` with the
    Laplacian :math:`L(\theta)` of the weights :math:`a_{ij}\cos(\theta_i - \theta_j)`.
    Model of Bergen and Hill (1981); see :func:`swing_weights` for its weak contraction.
    """
    m, d, P, A = _swing_parameters(m, d, P, adjacency)
    n = m.size

    def f(x):
        theta, omega = x[:n], x[n:]
        coupling = (A * np.sin(theta[:, None] - theta[None, :])).sum(axis=1)
        return np.concatenate([omega, (P - d * omega - coupling) / m])

    def jacobian(x):
        C = A * np.cos(x[:n, None] - x[None, :n])
        L = np.diag(C.sum(axis=1)) - C
        top = np.hstack([np.zeros((n, n)), np.eye(n)])
        return np.vstack([top, np.hstack([-L / m[:, None], -np.diag(d / m)])])

    params = {"m": m, "d": d, "P": P, "adjacency": A}
    return VectorField("swing", f, jacobian, 2 * n, params)


def swing_weights(m, d, adjacency) -> SwingWeights:
    r"""Coordinates in which the swing equations of :func:`swing` are monotone.

    With :math:`b_i = d_i/(2m_i)` and :math:`z_i = \omega_i + b_i\theta_i` (the matrix
    ``T`` maps :math:`(\theta, \omega)` to :math:`(\theta, z)`), the Jacobian in the new
    coordinates has off-diagonal entries :math:`1`, :math:`a_{ij}\cos(\theta_i -
    \theta_j)/m_i` and :math:`d_i^2/(4m_i^2) - L_{ii}(\theta)/m_i`. If every machine is
    strongly damped, :math:`d_i^2 \ge 4m_i\sum_j a_{ij}` (``damped``), the Jacobian is
    Metzler wherever :math:`\cos(\theta_i - \theta_j) \ge 0` for coupled pairs. It
    annihilates :math:`\xi = (\mathbb{1}, b)` (a rotation of all phases) and, for
    symmetric couplings, :math:`\eta = (d/2, m)` from the left (the quantity
    :math:`\sum_i d_i\theta_i + m_i\omega_i` grows at the constant rate :math:`\sum_i
    P_i`). By the Metzler log-norm formulas, :math:`\mu_{1,[\eta]} =
    \mu_{\infty,[\xi]^{-1}} = 0` there: weak contraction, in the sense of S. Jafarpour,
    P. Cisneros-Velarde, F. Bullo (IEEE TAC 67(3), 2022). The damping hypothesis is a
    sufficient condition of this library, not of that paper.
    """
    m, d, _, A = _swing_parameters(m, d, np.zeros_like(np.asarray(m, float)), adjacency)
    n = m.size
    b = d / (2 * m)
    T = np.block([[np.eye(n), np.zeros((n, n))], [np.diag(b), np.eye(n)]])
    damped = bool(np.all(d**2 >= 4 * m * A.sum(axis=1)))
    xi = np.concatenate([np.ones(n), b])
    eta = np.concatenate([d / 2, m])
    return SwingWeights(damped=damped, b=b, T=T, xi=xi, eta=eta)
