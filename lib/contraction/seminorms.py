r"""Seminorms with kernel span(1) and matrix semi-measures: contraction up to a shift.

Section 3.3 of the book ("Semi-contraction"). A network whose dynamics do not change
when every state is shifted by the same amount, :math:`f(x + \alpha\mathbb{1}) = f(x)`,
cannot contract in any norm; it can contract in a *seminorm* that ignores the direction
:math:`\mathbb{1}`.

Two seminorms with kernel :math:`\operatorname{span}(\mathbb{1})` are used:

* :math:`\|x\|_{2,R} = \|Rx\|_2` with :math:`R = V^\top`, where the columns of :math:`V
  \in \mathbb{R}^{n\times(n-1)}` are an orthonormal basis of :math:`\mathbb{1}^\perp`;
  then :math:`\|x\|_{2,R} = \|\Pi x\|_2`, :math:`\Pi = I - \mathbb{1}\mathbb{1}^\top/n`,
  the Euclidean distance from :math:`x` to the consensus line;
* :math:`\|x\|_{\infty,\mathrm{osc}} = \tfrac12(\max_i x_i - \min_i x_i) = \min_\alpha
  \|x - \alpha\mathbb{1}\|_\infty`, the :math:`\ell_\infty` distance to that line.

For a matrix with :math:`A\mathbb{1} \in \operatorname{span}(\mathbb{1})` (the kernel is
:math:`A`-invariant; otherwise the induced seminorm is infinite) the induced seminorm
and the semi-measure :math:`\mu(A) = \lim_{h\to0^+}(|||I + hA||| - 1)/h` have the closed
forms

.. math::

   |||A|||_{2} = \|V^\top A V\|_2, \qquad
   \mu_{2}(A) = \lambda_{\max}\big(V^\top \tfrac{A + A^\top}{2} V\big)
             = \max_{x \perp \mathbb{1},\, x\neq0} \frac{x^\top A x}{x^\top x},

   |||A|||_{\mathrm{osc}} = \tfrac12 \max_{i,j} \sum_k |a_{ik} - a_{jk}|, \qquad
   \mu_{\mathrm{osc}}(A) = \max_{i\neq j} \tfrac12\Big(a_{ii} + a_{jj} - a_{ij} - a_{ji}
             + \sum_{k\neq i,j} |a_{ik} - a_{jk}|\Big).

For an undirected connected graph with Laplacian :math:`L` (:mod:`contraction.graphs`),
:math:`\mu_2(-L) = -\lambda_2(L)`; the consensus and Kuramoto models that use these
seminorms are in :mod:`contraction.synchronization`.

References: S. Jafarpour, P. Cisneros-Velarde, F. Bullo, "Weak and semi-contraction for
network systems and diffusively-coupled oscillators", IEEE TAC 67(3), 2022; F. Bullo,
*Contraction Theory for Dynamical Systems*, KDP (2023); F. Dörfler, F. Bullo, "On the
critical coupling for Kuramoto oscillators", SIAM J. Appl. Dyn. Syst. 10(3), 2011.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_positive_int, as_real_array, as_square_matrix

__all__ = ["projector", "perp_basis", "seminorm", "semi_induced_norm", "semi_lognorm"]

_SEMI_P = (2, np.inf)


def _check_semi_p(p) -> float:
    if isinstance(p, bool) or p not in _SEMI_P:
        raise ValueError(f"p must be 2 or np.inf, got {p!r}")
    return float(p)


def projector(n) -> np.ndarray:
    r"""The orthogonal projector :math:`\Pi = I - \mathbb{1}\mathbb{1}^\top/n` onto
    :math:`\mathbb{1}^\perp`."""
    n = as_positive_int(n, "n")
    return np.eye(n) - np.ones((n, n)) / n


def perp_basis(n) -> np.ndarray:
    r"""An ``(n, n-1)`` matrix ``V`` with orthonormal columns spanning
    :math:`\mathbb{1}^\perp`.

    ``V.T @ V = I`` and ``V @ V.T`` is :func:`projector`; ``R = V.T`` defines the
    seminorm :math:`\|x\|_{2,R} = \|V^\top x\|_2 = \|\Pi x\|_2`.
    """
    n = as_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    Q, _ = np.linalg.qr(np.column_stack([np.ones(n), np.eye(n)[:, : n - 1]]))
    return Q[:, 1:]


def seminorm(x, p=2) -> np.ndarray | float:
    r"""The distance from ``x`` to the consensus line
    :math:`\operatorname{span}(\mathbb{1})`.

    ``p=2``: :math:`\|\Pi x\|_2`; ``p=np.inf``: :math:`(\max_i x_i - \min_i x_i)/2`. A
    2-D ``x`` is read as one state per row (a trajectory) and gives one value per row.
    """
    p = _check_semi_p(p)
    x = as_real_array(x, "x")
    if x.ndim not in (1, 2):
        raise ValueError(
            f"x must be a vector or a (num, n) trajectory, got shape {x.shape}"
        )
    if p == 2:
        out = np.linalg.norm(x - x.mean(axis=-1, keepdims=True), axis=-1)
    else:
        out = (x.max(axis=-1) - x.min(axis=-1)) / 2
    return float(out) if x.ndim == 1 else out


def _kernel_invariant(A: np.ndarray, tol: float) -> np.ndarray:
    """Check A 1 in span(1), the condition for finite induced seminorms; return A."""
    if A.shape[0] < 2:
        raise ValueError(
            "A must be at least 2 x 2 (the seminorm vanishes in dimension 1)"
        )
    row_sums = A.sum(axis=1)
    spread = np.ptp(row_sums)
    if spread > tol * max(1.0, np.abs(A).max()):
        raise ValueError(
            "A must map the vector of ones to a multiple of itself (equal row sums); "
            f"its row sums differ by {spread:.3g}, so the induced seminorm is infinite"
        )
    return A


def semi_induced_norm(A, p=2, tol=1e-9) -> float:
    r"""The seminorm induced on matrices: :math:`\sup\{|||Ax||| : |||x||| = 1\}`.

    Requires equal row sums (:math:`A\mathbb{1} \in \operatorname{span}(\mathbb{1})`).
    ``p=2``: :math:`\|V^\top A V\|_2`; ``p=np.inf``: half the largest :math:`\ell_1`
    distance between two rows of ``A`` (the Dobrushin-type coefficient). Section 3.3.
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

    Requires :math:`A\mathbb{1} \in \operatorname{span}(\mathbb{1})` (equal row sums),
    checked up to ``tol``; otherwise ``ValueError``. Closed forms (module docstring):
    ``p=2``: :math:`\lambda_{\max}(V^\top \tfrac{A+A^\top}{2} V)`, the largest Rayleigh
    quotient of ``A`` on :math:`\mathbb{1}^\perp`; ``p=np.inf``: :math:`\max_{i\ne
    j}\tfrac12(a_{ii}+a_{jj} -a_{ij}-a_{ji}+\sum_{k\ne i,j}|a_{ik}-a_{jk}|)`. For the
    Laplacian of a connected undirected graph, ``semi_lognorm(-L, 2) = -lambda_2(L)``.
    Section 3.3.
    """
    p = _check_semi_p(p)
    A = _kernel_invariant(as_square_matrix(A, "A"), tol)
    n = A.shape[0]
    if p == 2:
        V = perp_basis(n)
        return float(np.linalg.eigvalsh(V.T @ ((A + A.T) / 2) @ V)[-1])
    d = np.diag(A)
    row_gaps = np.abs(A[:, None, :] - A[None, :, :]).sum(axis=2)  # sum_k |a_ik - a_jk|
    # drop the terms k = i (|a_ii - a_ji|) and k = j (|a_ij - a_jj|) from each pair (i,
    # j)
    others = row_gaps - np.abs(d[:, None] - A.T) - np.abs(A - d[None, :])
    pair = (d[:, None] + d[None, :] - A - A.T + others) / 2
    np.fill_diagonal(pair, -np.inf)
    return float(pair.max())
