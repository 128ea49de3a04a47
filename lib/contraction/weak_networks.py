r"""Example network models that are weakly contracting, and certificates for them.

Section 3.2 of the book ("Weakly contracting networks"). A system :math:`\dot x = f(x)`
is *weakly contracting* in a norm when :math:`\operatorname{osLip}(f) \le 0`: the
distance between any two solutions never increases. The models below are weakly
contracting in the norm named in each docstring; every one is a
:class:`~contraction.systems.VectorField` with an analytic Jacobian.

* :func:`compartmental` -- compartmental systems (amounts or concentrations, saturating
  flows): :math:`\ell_1` weighted by the volumes;
* :func:`lotka_volterra_mutualistic` -- mutualistic Lotka-Volterra populations: weighted
  :math:`\ell_1` in log coordinates;
* :func:`primal_dual` -- saddle-point (Arrow-Hurwicz-Uzawa) dynamics: :math:`\ell_2`;
* :func:`diffusive_network` -- a translation-invariant monotone network:
  :math:`\ell_\infty` weighted by :math:`1/\xi`.

Daganzo's cell transmission model of traffic, weakly contracting in :math:`\ell_1`, has
a module of its own, :mod:`contraction.traffic`. The weights that certify the monotone
models (a conservation law or a translation
invariance) are found by :mod:`contraction.conservation`.

References: S. Jafarpour, P. Cisneros-Velarde, F. Bullo, "Weak and semi-contraction for
network systems and diffusively-coupled oscillators", IEEE TAC 67(3), 2022; F. Bullo,
*Contraction Theory for Dynamical Systems*, KDP, 2023.
"""

from __future__ import annotations

import numpy as np

from . import norms
from ._checks import as_positive_scalar, as_real_array, as_square_matrix, as_vector
from .norms import is_metzler
from .systems import VectorField

__all__ = [
    "compartmental",
    "lotka_volterra_mutualistic",
    "lotka_volterra_weight",
    "primal_dual",
    "saddle_weight",
    "diffusive_network",
]


def _saturation(value, n: int) -> np.ndarray:
    """Saturation levels in (0, inf] of shape (n, n + 1) (flows i -> j, last column:
    outflows)."""
    if value is None:
        return np.full((n, n + 1), np.inf)
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"saturation must be a positive number or array, got {type(value).__name__}"
        )
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("saturation must be a positive number or array") from None
    if arr.ndim == 0:
        arr = np.full((n, n + 1), float(arr))
    elif arr.shape == (n,):
        arr = np.repeat(arr[:, None], n + 1, axis=1)
    elif arr.shape != (n, n + 1):
        raise ValueError(
            f"saturation must be a scalar or have shape ({n},) or ({n}, {n + 1}), got "
            f"{arr.shape}"
        )
    if np.any(np.isnan(arr)) or np.any(arr <= 0):
        raise ValueError(
            "saturation must have entries in (0, inf] (np.inf for a linear flow)"
        )
    return arr


# -----------------------------------------------------------------------------
# compartmental
def compartmental(
    rates, outflow, inflow=None, saturation=None, volumes=None
) -> VectorField:
    r"""A compartmental system with increasing, possibly saturating flows (Section 3.2).

    Compartment :math:`i` holds the quantity :math:`V_i x_i` (volume times
    concentration; with the default ``volumes=1`` the state is the amount itself). The
    flow from :math:`i` to :math:`j` is :math:`k_{ij}\psi(x_i; s_{ij})` and the flow out
    of the network is :math:`k_{i0}\psi(x_i; s_{i0})`, where :math:`\psi(x; s) = x/(1 +
    |x|/s)` is increasing (linear for :math:`s = \infty`, Michaelis-Menten on :math:`x
    \ge 0` otherwise):

    .. math::
        V_i \dot x_i = \sum_{j \ne i} k_{ji}\psi(x_j; s_{ji})
                       - \sum_{j\ne i} k_{ij}\psi(x_i; s_{ij}) - k_{i0}\psi(x_i; s_{i0})
                         + u_i.

    The Jacobian is Metzler, and column :math:`j` of :math:`\operatorname{diag}(V)Df(x)`
    sums to :math:`-k_{j0}\psi'(x_j; s_{j0}) \le 0`, so :math:`\mu_{1,[V]}(Df(x)) =
    \max_j \big(-k_{j0}\psi'(x_j; s_{j0})/V_j\big) \le 0`: weakly contracting in
    :math:`\ell_1` weighted by the volumes. Without outflows :math:`V^\top f(x) = \sum_i
    u_i` is constant (a conservation law). ``params["C"]`` is the compartmental matrix
    :math:`Df(0)`.

    Parameters
    ----------
    rates : (n, n) array
        ``rates[i, j] >= 0`` is the rate constant :math:`k_{ij}` of the flow from ``i``
        to ``j``; the diagonal must be zero.
    outflow : (n,) array or scalar
        Rate constants :math:`k_{i0} \ge 0` of the flows out of the network.
    inflow : (n,) array or scalar, optional
        Constant external inflows :math:`u_i \ge 0` (default 0).
    saturation : scalar, (n,) or (n, n + 1) array, optional
        :math:`s \in (0, \infty]`: one level for all flows, one per source compartment,
        or one per flow (column ``n`` for the outflows). ``None`` (default) gives linear
        flows.
    volumes : (n,) array or scalar, optional
        :math:`V_i > 0` (default 1).
    """
    K = as_square_matrix(rates, "rates")
    n = K.shape[0]
    if np.any(K < 0):
        raise ValueError("rates must have non-negative entries")
    if np.any(np.diag(K) != 0):
        raise ValueError(
            "rates must have a zero diagonal (no flow from a compartment to itself)"
        )
    k0 = as_vector(outflow, "outflow", n, nonnegative=True)
    u = as_vector(inflow, "inflow", n, default=np.zeros(n), nonnegative=True)
    S = _saturation(saturation, n)
    V = as_vector(volumes, "volumes", n, default=np.ones(n), positive=True)
    Kfull = np.hstack([K, k0[:, None]])  # flows i -> j, then i -> outside

    def f(x):
        flows = Kfull * (x[:, None] / (1 + np.abs(x)[:, None] / S))
        return (flows[:, :n].sum(axis=0) - flows.sum(axis=1) + u) / V

    def jacobian(x):
        slopes = Kfull / (1 + np.abs(x)[:, None] / S) ** 2
        return (slopes[:, :n].T - np.diag(slopes.sum(axis=1))) / V[:, None]

    C = (K.T - np.diag(Kfull.sum(axis=1))) / V[:, None]
    return VectorField(
        "compartmental",
        f,
        jacobian,
        n,
        {"rates": K, "outflow": k0, "inflow": u, "saturation": S, "volumes": V, "C": C},
    )


# -----------------------------------------------------------------------------
# Lotka-Volterra
def lotka_volterra_mutualistic(r, A, log_coordinates=False) -> VectorField:
    r"""Mutualistic Lotka-Volterra populations :math:`\dot x_i = x_i (r_i + (Ax)_i)`
    (Section 3.2).

    ``A`` must be Metzler (:math:`a_{ij} \ge 0` for :math:`i \ne j`: every species helps
    or ignores every other); the positive orthant is invariant. In the log coordinates
    :math:`z = \log x` (``log_coordinates=True``) the system reads :math:`\dot z = r + A
    e^{z}` on all of :math:`\mathbb R^n`, with Jacobian
    :math:`A\operatorname{diag}(e^{z})`, again Metzler. For every :math:`\eta > 0`,

    .. math:: \mu_{1,[\eta]}(A\operatorname{diag}(e^z))
              = \max_j e^{z_j}(\eta^\top A)_j/\eta_j,

    so the log-coordinate system is weakly contracting in :math:`\|\cdot\|_{1,[\eta]}`
    whenever :math:`\eta^\top A \le 0` (see :func:`lotka_volterra_weight`), and strongly
    contracting on every set where :math:`z` is bounded below if :math:`\eta^\top A <
    0`. In the original coordinates the Jacobian :math:`\operatorname{diag}(r + Ax) +
    \operatorname{diag}(x)A` has no such structure.
    """
    A = as_square_matrix(A, "A")
    n = A.shape[0]
    if not is_metzler(A):
        raise ValueError("A must be Metzler (mutualistic: a_ij >= 0 for i != j)")
    r = as_vector(r, "r", n)
    if not isinstance(log_coordinates, bool):
        raise TypeError("log_coordinates must be True or False")
    params = {"r": r, "A": A, "log_coordinates": log_coordinates}
    if log_coordinates:
        return VectorField(
            "Lotka-Volterra (log coordinates)",
            lambda z: r + A @ np.exp(z),
            lambda z: A * np.exp(z)[None, :],
            n,
            params,
        )
    return VectorField(
        "Lotka-Volterra",
        lambda x: x * (r + A @ x),
        lambda x: np.diag(r + A @ x) + x[:, None] * A,
        n,
        params,
    )


def lotka_volterra_weight(A, tol=1e-9) -> np.ndarray:
    r"""A weight :math:`\eta > 0` with :math:`\eta^\top A \le 0` for a Metzler ``A``
    (Section 3.2).

    Such an :math:`\eta` exists when the spectral abscissa :math:`\alpha(A) < 0` (then
    :math:`\eta^\top A < 0` is possible), or when :math:`\alpha(A) = 0` and ``A`` is
    irreducible (the left Perron vector). It is computed with
    :func:`contraction.norms.optimal_weight`, which minimises :math:`\mu_{1,[\eta]}(A) =
    \max_j (\eta^\top A)_j/\eta_j`. Raises ``ValueError`` if ``A`` is not Metzler or no
    weight reaches :math:`\mu_{1,[\eta]}(A) \le` ``tol``.
    """
    A = as_square_matrix(A, "A")
    if not is_metzler(A):
        raise ValueError("A must be Metzler (a_ij >= 0 for i != j)")
    tol = as_positive_scalar(tol, "tol")
    eta, value = norms.optimal_weight(A, 1)
    scale = max(1.0, float(np.abs(A).max()))
    if value > tol * scale:
        raise ValueError(
            f"A admits no positive eta with eta^T A <= 0 (best mu_1 = {value:.3g})"
        )
    return eta


# -----------------------------------------------------------------------------
# primal-dual
def primal_dual(A, b, Q=None, c=None, weights=None) -> VectorField:
    r"""Saddle-point dynamics for :math:`\min_x \phi(x)` subject to :math:`Ax = b`
    (Section 3.2).

    The objective is :math:`\phi(x) = \tfrac12 x^\top Q x + \sum_i w_i\log\cosh(x_i -
    c_i)` (convex for :math:`Q \succeq 0`, :math:`w \ge 0`; strongly convex iff :math:`Q
    \succ 0`). The Arrow-Hurwicz-Uzawa dynamics on the state :math:`(x, \lambda) \in
    \mathbb R^{n+m}` are

    .. math:: \dot x = -\nabla\phi(x) - A^\top\lambda, \qquad \dot\lambda = Ax - b,

    with Jacobian :math:`\begin{bmatrix}-\nabla^2\phi(x) & -A^\top\\ A &
    0\end{bmatrix}`. Its symmetric part is :math:`\operatorname{diag}(-\nabla^2\phi(x),
    0) \preceq 0`, so :math:`\mu_2 = 0` at every point: weakly (never strongly)
    contracting in the plain :math:`\ell_2` norm. See :func:`saddle_weight` for a
    weighted norm.

    Parameters
    ----------
    A : (m, n) array; b : (m,) array
    Q : (n, n) symmetric positive semidefinite array, optional (default 0)
    c : (n,) array, optional (default 0)
    weights : (n,) non-negative array or scalar, optional (default 1)
    """
    A = as_real_array(A, "A", ndim=2)
    m, n = A.shape
    b = as_vector(b, "b", m)
    if Q is None:
        Q = np.zeros((n, n))
    Q = as_square_matrix(Q, "Q")
    if Q.shape != (n, n):
        raise ValueError(f"Q must have shape ({n}, {n}), got {Q.shape}")
    if not np.allclose(Q, Q.T):
        raise ValueError("Q must be symmetric")
    if np.linalg.eigvalsh(Q)[0] < -1e-12 * max(1.0, np.abs(Q).max()):
        raise ValueError("Q must be positive semidefinite")
    c = as_vector(c, "c", n, default=np.zeros(n))
    wts = as_vector(weights, "weights", n, default=np.ones(n), nonnegative=True)

    def f(state):
        x, lam = state[:n], state[n:]
        grad = Q @ x + wts * np.tanh(x - c)
        return np.concatenate([-grad - A.T @ lam, A @ x - b])

    def jacobian(state):
        x = state[:n]
        H = Q + np.diag(wts / np.cosh(x - c) ** 2)
        return np.block([[-H, -A.T], [A, np.zeros((m, m))]])

    return VectorField(
        "primal-dual",
        f,
        jacobian,
        n + m,
        {"A": A, "b": b, "Q": Q, "c": c, "weights": wts, "n": n, "m": m},
    )


def saddle_weight(A, epsilon) -> np.ndarray:
    r"""The factor ``R`` (upper triangular) of :math:`P = \begin{bmatrix}I & \varepsilon
    A^\top\\ \varepsilon A & I\end{bmatrix} = R^\top R`, a weight for ``norms.lognorm(J,
    2, R)``.

    :math:`P \succ 0` exactly when :math:`\varepsilon\|A\|_2 < 1`; otherwise
    ``ValueError``. Norms of this form certify strong contraction of :func:`primal_dual`
    when the objective is strongly convex and ``A`` has full row rank (Section 3.2
    checks a specific case).
    """
    A = as_real_array(A, "A", ndim=2)
    m, n = A.shape
    epsilon = as_positive_scalar(epsilon, "epsilon", allow_zero=True)
    if epsilon * np.linalg.norm(A, 2) >= 1:
        raise ValueError(
            "epsilon must satisfy epsilon * ||A||_2 < 1 for P to be positive definite"
        )
    P = np.block([[np.eye(n), epsilon * A.T], [epsilon * A, np.eye(m)]])
    return np.linalg.cholesky(P).T


# -----------------------------------------------------------------------------
# diffusive network
def diffusive_network(adjacency, xi=None) -> VectorField:
    r"""Nonlinear diffusion :math:`\dot x_i = \sum_j a_{ij}\tanh(x_j/\xi_j -
    x_i/\xi_i)`.

    ``adjacency`` is a non-negative matrix (zero diagonal; it need not be symmetric) and
    :math:`\xi > 0`. Shifting the state along :math:`\xi` changes nothing, :math:`f(x +
    \alpha\xi) = f(x)`, so :math:`Df(x)\xi = 0`; the Jacobian is Metzler, hence
    :math:`\mu_{\infty,[\xi]^{-1}}(Df(x)) = 0` at every point (Section 3.2).
    """
    Adj = as_square_matrix(adjacency, "adjacency")
    n = Adj.shape[0]
    if np.any(Adj < 0) or np.any(np.diag(Adj) != 0):
        raise ValueError("adjacency must be non-negative with a zero diagonal")
    xi = as_vector(xi, "xi", n, default=np.ones(n), positive=True)

    def f(x):
        y = x / xi
        return (Adj * np.tanh(y[None, :] - y[:, None])).sum(axis=1)

    def jacobian(x):
        y = x / xi
        G = Adj / np.cosh(y[None, :] - y[:, None]) ** 2
        return G / xi[None, :] - np.diag(G.sum(axis=1) / xi)

    return VectorField(
        "diffusive network", f, jacobian, n, {"adjacency": Adj, "xi": xi}
    )
