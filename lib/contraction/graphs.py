r"""Weighted graphs: adjacency matrices, Laplacians and algebraic connectivity.

Section 3.3 of the book ("Semi-contraction"). A weighted graph on ``n`` nodes is its
adjacency matrix :math:`A` (:math:`a_{ij} > 0` when node ``i`` listens to node ``j``);
its Laplacian :math:`L = \operatorname{diag}(A\mathbb{1}) - A` generates the diffusive
coupling of consensus and Kuramoto networks (:mod:`contraction.synchronization`), and
for an undirected connected graph the algebraic connectivity :math:`\lambda_2(L)` is
their rate of agreement, because :math:`\mu_2(-L) = -\lambda_2(L)` in the seminorm
:math:`\|\Pi x\|_2` (:mod:`contraction.seminorms`).

References: M. Fiedler, "Algebraic connectivity of graphs", Czech. Math. J. 23 (1973);
F. Bullo, *Lectures on Network Systems*, KDP (2022); S. Jafarpour, P. Cisneros-Velarde,
F. Bullo, IEEE TAC 67(3), 2022.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_positive_int, as_square_matrix

__all__ = [
    "adjacency_matrix",
    "laplacian",
    "algebraic_connectivity",
    "path_graph",
    "ring_graph",
    "complete_graph",
]


def adjacency_matrix(adjacency, directed: bool) -> np.ndarray:
    """A validated weighted adjacency matrix: square, non-negative, symmetric unless
    directed."""
    A = as_square_matrix(adjacency, "adjacency")
    if np.any(A < 0):
        raise ValueError("adjacency must have non-negative entries (edge weights)")
    if not directed and not np.allclose(A, A.T):
        raise ValueError(
            "adjacency must be symmetric for an undirected graph (pass directed=True "
            "for a digraph)"
        )
    return A


def laplacian(adjacency, directed=False) -> np.ndarray:
    r"""The graph Laplacian :math:`L = \operatorname{diag}(A\mathbb{1}) - A`.

    Row ``i`` of :math:`-Lx` is :math:`\sum_j a_{ij}(x_j - x_i)`: node ``i`` moves
    towards the nodes it listens to. Rows sum to zero, :math:`L\mathbb{1} = 0`. For an
    undirected graph (symmetric ``adjacency``) :math:`L` is symmetric positive
    semidefinite. Diagonal entries of ``adjacency`` (self-loops) do not change ``L``.
    Section 3.3.

    Parameters
    ----------
    adjacency : (n, n) array_like
        Non-negative edge weights; ``a_ij > 0`` when ``i`` listens to ``j``.
    directed : bool
        If False (default) ``adjacency`` must be symmetric.
    """
    A = adjacency_matrix(adjacency, directed)
    A = A - np.diag(np.diag(A))
    return np.diag(A.sum(axis=1)) - A


def algebraic_connectivity(adjacency) -> float:
    r"""The algebraic connectivity :math:`\lambda_2(L)` of an undirected weighted graph.

    The second-smallest eigenvalue of the Laplacian (Fiedler, 1973): positive exactly
    when the graph is connected, and the rate at which consensus :math:`\dot x = -Lx`
    reaches agreement, since :math:`\mu_2(-L) = -\lambda_2(L)` in the seminorm
    :math:`\|\Pi x\|_2`. Section 3.3.
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
