r"""Seminorms with kernel span(1), matrix semi-measures, consensus and Kuramoto oscillators.

Section 3.3 of the book ("Semi-contraction"). A network whose dynamics do not change when every
state is shifted by the same amount, :math:`f(x + \alpha\mathbb{1}) = f(x)`, cannot contract in
any norm; it can contract in a *seminorm* that ignores the direction :math:`\mathbb{1}`.

Two seminorms with kernel :math:`\operatorname{span}(\mathbb{1})` are used:

* :math:`\|x\|_{2,R} = \|Rx\|_2` with :math:`R = V^\top`, where the columns of
  :math:`V \in \mathbb{R}^{n\times(n-1)}` are an orthonormal basis of :math:`\mathbb{1}^\perp`;
  then :math:`\|x\|_{2,R} = \|\Pi x\|_2`, :math:`\Pi = I - \mathbb{1}\mathbb{1}^\top/n`, the
  Euclidean distance from :math:`x` to the consensus line;
* :math:`\|x\|_{\infty,\mathrm{osc}} = \tfrac12(\max_i x_i - \min_i x_i)
  = \min_\alpha \|x - \alpha\mathbb{1}\|_\infty`, the :math:`\ell_\infty` distance to that line.

For a matrix with :math:`A\mathbb{1} \in \operatorname{span}(\mathbb{1})` (the kernel is
:math:`A`-invariant; otherwise the induced seminorm is infinite) the induced seminorm and the
semi-measure :math:`\mu(A) = \lim_{h\to0^+}(|||I + hA||| - 1)/h` have the closed forms

.. math::

   |||A|||_{2} = \|V^\top A V\|_2, \qquad
   \mu_{2}(A) = \lambda_{\max}\big(V^\top \tfrac{A + A^\top}{2} V\big)
             = \max_{x \perp \mathbb{1},\, x\neq0} \frac{x^\top A x}{x^\top x},

   |||A|||_{\mathrm{osc}} = \tfrac12 \max_{i,j} \sum_k |a_{ik} - a_{jk}|, \qquad
   \mu_{\mathrm{osc}}(A) = \max_{i\neq j} \tfrac12\Big(a_{ii} + a_{jj} - a_{ij} - a_{ji}
             + \sum_{k\neq i,j} |a_{ik} - a_{jk}|\Big).

For an undirected connected graph with Laplacian :math:`L`, :math:`\mu_2(-L) = -\lambda_2(L)`.

References: S. Jafarpour, P. Cisneros-Velarde, F. Bullo, "Weak and semi-contraction for network
systems and diffusively-coupled oscillators", IEEE TAC 67(3), 2022; F. Bullo, *Contraction
Theory for Dynamical Systems*, KDP (2023); F. Dörfler, F. Bullo, "On the critical coupling for
Kuramoto oscillators", SIAM J. Appl. Dyn. Syst. 10(3), 2011.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_positive_int, as_positive_scalar, as_real_array, as_square_matrix
from .systems import VectorField

__all__ = [
    "laplacian",
    "algebraic_connectivity",
    "path_graph",
    "ring_graph",
    "complete_graph",
    "projector",
    "perp_basis",
    "seminorm",
    "semi_induced_norm",
    "semi_lognorm",
    "consensus",
    "kuramoto",
    "order_parameter",
    "kuramoto_arc_certificate",
]

_SEMI_P = (2, np.inf)


def _check_semi_p(p) -> float:
    if isinstance(p, bool) or p not in _SEMI_P:
        raise ValueError(f"p must be 2 or np.inf, got {p!r}")
    return float(p)


def _adjacency(adjacency, directed: bool) -> np.ndarray:
    """A validated weighted adjacency matrix: square, non-negative, symmetric unless directed."""
    A = as_square_matrix(adjacency, "adjacency")
    if np.any(A < 0):
        raise ValueError("adjacency must have non-negative entries (edge weights)")
    if not directed and not np.allclose(A, A.T):
        raise ValueError("adjacency must be symmetric for an undirected graph "
                         "(pass directed=True for a digraph)")
    return A


def laplacian(adjacency, directed=False) -> np.ndarray:
    r"""The graph Laplacian :math:`L = \operatorname{diag}(A\mathbb{1}) - A`.

    Row ``i`` of :math:`-Lx` is :math:`\sum_j a_{ij}(x_j - x_i)`: node ``i`` moves towards the
    nodes it listens to. Rows sum to zero, :math:`L\mathbb{1} = 0`. For an undirected graph
    (symmetric ``adjacency``) :math:`L` is symmetric positive semidefinite. Diagonal entries of
    ``adjacency`` (self-loops) do not change ``L``. Section 3.3.

    Parameters
    ----------
    adjacency : (n, n) array_like
        Non-negative edge weights; ``a_ij > 0`` when ``i`` listens to ``j``.
    directed : bool
        If False (default) ``adjacency`` must be symmetric.
    """
    A = _adjacency(adjacency, directed)
    A = A - np.diag(np.diag(A))
    return np.diag(A.sum(axis=1)) - A


def algebraic_connectivity(adjacency) -> float:
    r"""The algebraic connectivity :math:`\lambda_2(L)` of an undirected weighted graph.

    The second-smallest eigenvalue of the Laplacian (Fiedler, 1973): positive exactly when the
    graph is connected, and the rate at which consensus :math:`\dot x = -Lx` reaches agreement,
    since :math:`\mu_2(-L) = -\lambda_2(L)` in the seminorm :math:`\|\Pi x\|_2`. Section 3.3.
    """
    L = laplacian(adjacency, directed=False)
    if L.shape[0] < 2:
        raise ValueError("adjacency must describe a graph with at least 2 nodes")
    return float(np.linalg.eigvalsh(L)[1])


def path_graph(n) -> np.ndarray:
    """Adjacency matrix of the path 1 - 2 - ... - n with unit weights."""
    n = as_positive_int(n, "n")
    return np.eye(n, k=1) + np.eye(n, k=-1)


def ring_graph(n) -> np.ndarray:
    """Adjacency matrix of the ring (cycle) on ``n >= 3`` nodes with unit weights."""
    n = as_positive_int(n, "n")
    if n < 3:
        raise ValueError(f"n must be at least 3 for a ring, got {n}")
    A = path_graph(n)
    A[0, -1] = A[-1, 0] = 1.0
    return A


def complete_graph(n) -> np.ndarray:
    """Adjacency matrix of the complete graph on ``n`` nodes with unit weights."""
    n = as_positive_int(n, "n")
    return np.ones((n, n)) - np.eye(n)


def projector(n) -> np.ndarray:
    r"""The orthogonal projector :math:`\Pi = I - \mathbb{1}\mathbb{1}^\top/n` onto :math:`\mathbb{1}^\perp`."""
    n = as_positive_int(n, "n")
    return np.eye(n) - np.ones((n, n)) / n


def perp_basis(n) -> np.ndarray:
    r"""An ``(n, n-1)`` matrix ``V`` with orthonormal columns spanning :math:`\mathbb{1}^\perp`.

    ``V.T @ V = I`` and ``V @ V.T`` is :func:`projector`; ``R = V.T`` defines the seminorm
    :math:`\|x\|_{2,R} = \|V^\top x\|_2 = \|\Pi x\|_2`.
    """
    n = as_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    Q, _ = np.linalg.qr(np.column_stack([np.ones(n), np.eye(n)[:, : n - 1]]))
    return Q[:, 1:]


def seminorm(x, p=2) -> np.ndarray | float:
    r"""The distance from ``x`` to the consensus line :math:`\operatorname{span}(\mathbb{1})`.

    ``p=2``: :math:`\|\Pi x\|_2`; ``p=np.inf``: :math:`(\max_i x_i - \min_i x_i)/2`. A 2-D
    ``x`` is read as one state per row (a trajectory) and gives one value per row.
    """
    p = _check_semi_p(p)
    x = as_real_array(x, "x")
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be a vector or a (num, n) trajectory, got shape {x.shape}")
    if p == 2:
        out = np.linalg.norm(x - x.mean(axis=-1, keepdims=True), axis=-1)
    else:
        out = (x.max(axis=-1) - x.min(axis=-1)) / 2
    return float(out) if x.ndim == 1 else out


def _kernel_invariant(A: np.ndarray, tol: float) -> np.ndarray:
    """Check A 1 in span(1), the condition for finite induced seminorms; return A."""
    if A.shape[0] < 2:
        raise ValueError("A must be at least 2 x 2 (the seminorm vanishes in dimension 1)")
    row_sums = A.sum(axis=1)
    spread = np.ptp(row_sums)
    if spread > tol * max(1.0, np.abs(A).max()):
        raise ValueError("A must map the vector of ones to a multiple of itself (equal row sums); "
                         f"its row sums differ by {spread:.3g}, so the induced seminorm is infinite")
    return A


def semi_induced_norm(A, p=2, tol=1e-9) -> float:
    r"""The seminorm induced on matrices: :math:`\sup\{|||Ax||| : |||x||| = 1\}`.

    Requires equal row sums (:math:`A\mathbb{1} \in \operatorname{span}(\mathbb{1})`).
    ``p=2``: :math:`\|V^\top A V\|_2`; ``p=np.inf``: half the largest :math:`\ell_1` distance
    between two rows of ``A`` (the Dobrushin-type coefficient). Section 3.3.
    """
    p = _check_semi_p(p)
    A = _kernel_invariant(as_square_matrix(A, "A"), tol)
    if p == 2:
        V = perp_basis(A.shape[0])
        return float(np.linalg.norm(V.T @ A @ V, ord=2))
    row_gaps = np.abs(A[:, None, :] - A[None, :, :]).sum(axis=2)
    return float(row_gaps.max() / 2)


def semi_lognorm(A, p=2, tol=1e-9) -> float:
    r"""The matrix semi-measure :math:`\mu(A) = \lim_{h\to0^+}(|||I+hA||| - 1)/h`.

    Requires :math:`A\mathbb{1} \in \operatorname{span}(\mathbb{1})` (equal row sums), checked up
    to ``tol``; otherwise ``ValueError``. Closed forms (module docstring):
    ``p=2``: :math:`\lambda_{\max}(V^\top \tfrac{A+A^\top}{2} V)`, the largest Rayleigh quotient
    of ``A`` on :math:`\mathbb{1}^\perp`; ``p=np.inf``: :math:`\max_{i\ne j}\tfrac12(a_{ii}+a_{jj}
    -a_{ij}-a_{ji}+\sum_{k\ne i,j}|a_{ik}-a_{jk}|)`. For the Laplacian of a connected undirected
    graph, ``semi_lognorm(-L, 2) = -lambda_2(L)``. Section 3.3.
    """
    p = _check_semi_p(p)
    A = _kernel_invariant(as_square_matrix(A, "A"), tol)
    n = A.shape[0]
    if p == 2:
        V = perp_basis(n)
        return float(np.linalg.eigvalsh(V.T @ ((A + A.T) / 2) @ V)[-1])
    d = np.diag(A)
    row_gaps = np.abs(A[:, None, :] - A[None, :, :]).sum(axis=2)   # sum_k |a_ik - a_jk|
    # drop the terms k = i (|a_ii - a_ji|) and k = j (|a_ij - a_jj|) from each pair (i, j)
    others = row_gaps - np.abs(d[:, None] - A.T) - np.abs(A - d[None, :])
    pair = (d[:, None] + d[None, :] - A - A.T + others) / 2
    np.fill_diagonal(pair, -np.inf)
    return float(pair.max())


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
    return VectorField("consensus", lambda x: -L @ x, lambda x: -L, L.shape[0], {"L": L})


def kuramoto(omega, K, adjacency=None) -> VectorField:
    r"""Kuramoto oscillators :math:`\dot\theta_i = \omega_i - K\sum_j a_{ij}\sin(\theta_i-\theta_j)`.

    With ``adjacency=None`` the mean-field model, :math:`a_{ij} = 1/n` for all ``i, j``. The
    Jacobian is :math:`-L(\theta)`, the Laplacian with weights :math:`K a_{ij}\cos(\theta_i -
    \theta_j)`; it annihilates :math:`\mathbb{1}` (rotating all phases changes nothing), so the
    semi-measures of :func:`semi_lognorm` apply. Section 3.3.

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
    A = np.full((n, n), 1.0 / n) if adjacency is None else _adjacency(adjacency, directed=False)
    if A.shape != (n, n):
        raise ValueError(f"adjacency must have shape ({n}, {n}), got {A.shape}")
    W = K * (A - np.diag(np.diag(A)))

    def f(theta):
        return omega - (W * np.sin(theta[:, None] - theta[None, :])).sum(axis=1)

    def jacobian(theta):
        C = W * np.cos(theta[:, None] - theta[None, :])
        return C - np.diag(C.sum(axis=1))

    return VectorField("Kuramoto", f, jacobian, n, {"omega": omega, "K": K, "adjacency": A})


def order_parameter(theta):
    r"""The Kuramoto order parameter :math:`r e^{i\psi} = \frac1n\sum_j e^{i\theta_j}`.

    Returns ``(r, psi)``: floats for one phase vector, arrays for a ``(num, n)`` trajectory.
    ``r = 1`` when all phases agree and ``r`` is near 0 when they are spread out.
    """
    theta = as_real_array(theta, "theta")
    if theta.ndim not in (1, 2):
        raise ValueError(f"theta must be a vector or a (num, n) trajectory, got shape {theta.shape}")
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

    Returns a dict with ``invariant`` (bool), ``rate`` (:math:`K\cos\gamma` if invariant, else
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
    return {
        "invariant": invariant,
        "rate": float(K * np.cos(gamma)) if invariant else float("nan"),
        "gamma_min": float(np.arcsin(spread / K)) if K >= spread and K > 0 else float("nan"),
        "spread": spread,
    }
