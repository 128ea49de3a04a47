"""Self-checks for the coding exercises of Chapter 3 (network systems), loaded on first
use.

:func:`contraction.book.exercises.check` imports this module when a name starting with
``ch3.`` is asked for. Reference solutions stay here, out of the reader's way.
"""

from __future__ import annotations

import numpy as np

from .. import conservation, graphs, networks
from .exercises import register


def _gain_certificate_cases(seed=31):
    rng = np.random.default_rng(seed)
    cases = [
        (np.array([1.0, 0.5]), np.array([[0.0, 0.4], [0.6, 0.0]])),  # small gain holds
        (np.array([1.0, 0.5]), np.array([[0.0, 1.0], [0.6, 0.0]])),  # small gain fails
        (np.array([0.7]), np.zeros((1, 1))),
        (np.array([1.0, 2.0, 0.5]), np.array([[0, 3.0, 0], [0, 0, 4.0], [0, 0, 0]])),
    ]
    for n in (3, 5):
        gains = rng.uniform(0, 0.4, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
        np.fill_diagonal(gains, 0.0)
        cases.append((rng.uniform(0.3, 1.5, n), gains))
    return cases


register(
    "ch3.gain_certificate",
    networks.certified_rate,
    _gain_certificate_cases(),
    "build Gamma with -rates on the diagonal and the gains off it; the certified rate "
    "is minus its largest eigenvalue real part when that is negative, and 0.0 "
    "otherwise.",
)


# --- Chapter 3 exercises (sc)


def _connectivity_cases(seed=33):
    rng = np.random.default_rng(seed)
    star = np.zeros((5, 5))
    star[0, 1:] = star[1:, 0] = 1.0
    two_parts = np.zeros((5, 5))
    two_parts[:2, :2] = two_parts[2:, 2:] = 1.0  # disconnected: lambda_2 = 0
    cases = [
        (graphs.path_graph(2),),
        (graphs.path_graph(5),),
        (graphs.ring_graph(7),),
        (graphs.complete_graph(4),),
        (star,),
        (two_parts,),
    ]
    for n in (3, 6):
        W = rng.uniform(0.1, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
        cases.append((np.triu(W, 1) + np.triu(W, 1).T + np.diag(rng.uniform(0, 1, n)),))
    return cases


register(
    "ch3.algebraic_connectivity",
    graphs.algebraic_connectivity,
    _connectivity_cases(),
    "L = diag(row sums of A) - A (self-loops cancel); np.linalg.eigvalsh sorts the "
    "eigenvalues in increasing order: return the second one.",
)


# --- Chapter 3 exercises (wc)


def _conservation_cases(seed=41):
    rng = np.random.default_rng(seed)
    cases = []
    for n in (2, 3, 5, 6):
        K = rng.uniform(0.1, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
        np.fill_diagonal(K, 0.0)
        K += np.diag(np.ones(n - 1), 1) + np.diag(
            np.ones(1), -(n - 1)
        )  # a ring: irreducible
        V = rng.uniform(0.3, 4.0, n)
        cases.append(
            ((K.T - np.diag(K.sum(axis=1))) / V[:, None],)
        )  # closed, volumes V
    return cases


register(
    "ch3.conservation_weight",
    conservation.conservation_weight,
    _conservation_cases(),
    "eta spans the null space of A.T (scipy.linalg.null_space or the last right "
    "singular vector of A.T); fix its sign so that it is positive and divide by its "
    "sum.",
)
