import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import graphs, seminorms, synchronization, systems
from contraction.book import exercises


def _equal_row_sums(rng, n, row_sum=0.0):
    B = rng.normal(size=(n, n))
    return B - B.mean(axis=1, keepdims=True) + row_sum / n


def _brute_osc_norm(A):
    """sup osc(Ax)/osc(x) over the vertices of the unit cube (where the supremum is
    attained)."""
    n = A.shape[0]
    best = 0.0
    for v in itertools.product([0.0, 1.0], repeat=n):
        x = np.array(v)
        if 0 < x.sum() < n:
            best = max(best, np.ptp(A @ x) / np.ptp(x))
    return best


def _random_connected(rng, n):
    W = rng.uniform(0.1, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < 0.5)
    W = np.triu(W, 1)
    W += np.diag(np.ones(n - 1), 1) * 0.5  # a spanning path keeps it connected
    return W + W.T


def test_perp_basis_and_projector():
    for n in (2, 3, 7):
        V = seminorms.perp_basis(n)
        assert V.shape == (n, n - 1)
        np.testing.assert_allclose(V.T @ V, np.eye(n - 1), atol=1e-12)
        np.testing.assert_allclose(V.T @ np.ones(n), 0, atol=1e-12)
        np.testing.assert_allclose(V @ V.T, seminorms.projector(n), atol=1e-12)
    with pytest.raises(ValueError, match="n"):
        seminorms.perp_basis(1)


# ---------------------------------------------------------------- seminorms
def test_seminorms_are_distances_to_the_consensus_line():
    rng = np.random.default_rng(1)
    alphas = np.linspace(-5, 5, 20001)
    for _ in range(5):
        x = rng.normal(size=5)
        dist2 = min(np.linalg.norm(x - a) for a in alphas)
        dist_inf = min(np.abs(x - a).max() for a in alphas)
        assert seminorms.seminorm(x, 2) == pytest.approx(dist2, abs=1e-6)
        assert seminorms.seminorm(x, np.inf) == pytest.approx(dist_inf, abs=1e-3)
        assert seminorms.seminorm(x, 2) == pytest.approx(
            np.linalg.norm(seminorms.perp_basis(5).T @ x)
        )
    X = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        seminorms.seminorm(X, np.inf), [seminorms.seminorm(r, np.inf) for r in X]
    )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-10, 10), min_size=4, max_size=4),
    st.lists(st.floats(-10, 10), min_size=4, max_size=4),
    st.floats(-5, 5),
    st.sampled_from([2, np.inf]),
)
def test_seminorm_axioms(x, y, b, p):
    x, y = np.array(x), np.array(y)
    s = lambda v: seminorms.seminorm(v, p)
    assert s(x + y) <= s(x) + s(y) + 1e-9
    assert s(b * x) == pytest.approx(abs(b) * s(x), abs=1e-9)
    assert s(x + b * np.ones(4)) == pytest.approx(s(x), abs=1e-9)


# ---------------------------------------------------------------- semi-measures
@pytest.mark.parametrize("n", [2, 3, 5])
def test_semi_induced_norms_match_their_definition(n):
    rng = np.random.default_rng(n)
    A = _equal_row_sums(rng, n, row_sum=1.3)
    assert seminorms.semi_induced_norm(A, np.inf) == pytest.approx(
        _brute_osc_norm(A), rel=1e-12
    )
    P = seminorms.projector(n)
    assert seminorms.semi_induced_norm(A, 2) == pytest.approx(
        np.linalg.norm(P @ A @ P, 2), rel=1e-10
    )
    U = rng.normal(size=(4000, n))
    sampled = max(seminorms.seminorm(A @ u) / seminorms.seminorm(u) for u in U)
    assert sampled <= seminorms.semi_induced_norm(A, 2) + 1e-12


@pytest.mark.parametrize("p", [2, np.inf])
def test_semi_lognorm_is_the_limit_of_difference_quotients(p):
    rng = np.random.default_rng(7)
    for n in (2, 4, 6):
        A = _equal_row_sums(rng, n, row_sum=-0.4)
        mu = seminorms.semi_lognorm(A, p)
        quotients = [
            (seminorms.semi_induced_norm(np.eye(n) + h * A, p) - 1) / h
            for h in (1e-3, 1e-6)
        ]
        assert quotients[0] >= mu - 1e-9  # the quotient decreases to its limit
        assert quotients[1] == pytest.approx(mu, abs=1e-4)
        assert mu <= seminorms.semi_induced_norm(A, p) + 1e-12


def test_l2_semi_measure_is_the_rayleigh_maximum_on_one_perp():
    rng = np.random.default_rng(8)
    A = _equal_row_sums(rng, 5, row_sum=2.0)
    U = rng.normal(size=(20000, 5))
    U -= U.mean(axis=1, keepdims=True)
    rayleigh = np.einsum("si,ij,sj->s", U, A, U) / np.einsum("si,si->s", U, U)
    mu = seminorms.semi_lognorm(A, 2)
    assert rayleigh.max() <= mu + 1e-12
    assert rayleigh.max() >= mu - 0.05


def test_consensus_semi_measures():
    rng = np.random.default_rng(9)
    for n in (3, 5, 8):
        Adj = _random_connected(rng, n)
        L = graphs.laplacian(Adj)
        assert seminorms.semi_lognorm(-L, 2) == pytest.approx(
            -graphs.algebraic_connectivity(Adj)
        )
        common = np.minimum(Adj[:, None, :], Adj[None, :, :])
        bracket = [
            2 * Adj[i, j] + sum(common[i, j, k] for k in range(n) if k not in (i, j))
            for i in range(n)
            for j in range(n)
            if i != j
        ]
        assert seminorms.semi_lognorm(-L, np.inf) == pytest.approx(-min(bracket))
        assert (
            seminorms.semi_lognorm(-L, np.inf) <= 1e-12
        )  # weakly contracting at least
    assert (
        seminorms.semi_lognorm(-graphs.laplacian(graphs.path_graph(6)), np.inf) == 0.0
    )
    assert (
        seminorms.semi_lognorm(-graphs.laplacian(graphs.complete_graph(6)), np.inf)
        == -6.0
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 3.0), st.sampled_from([2, np.inf]))
def test_semi_lognorm_is_subadditive_and_homogeneous(seed, b, p):
    rng = np.random.default_rng(seed)
    A, B = _equal_row_sums(rng, 4, 1.0), _equal_row_sums(rng, 4, -2.0)
    assert (
        seminorms.semi_lognorm(A + B, p)
        <= seminorms.semi_lognorm(A, p) + seminorms.semi_lognorm(B, p) + 1e-9
    )
    assert seminorms.semi_lognorm(b * A, p) == pytest.approx(
        b * seminorms.semi_lognorm(A, p), abs=1e-9
    )


def test_semi_measures_reject_unequal_row_sums_and_bad_p():
    with pytest.raises(ValueError, match="row sums"):
        seminorms.semi_lognorm([[1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="row sums"):
        seminorms.semi_induced_norm([[1.0, 0.0], [0.0, 2.0]], np.inf)
    with pytest.raises(ValueError, match="p must be"):
        seminorms.semi_lognorm(np.zeros((2, 2)), 1)
    with pytest.raises(ValueError, match="p must be"):
        seminorms.seminorm([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="at least 2"):
        seminorms.semi_lognorm([[1.0]])


# ---------------------------------------------------------------- dynamics
@pytest.mark.parametrize("p", [2, np.inf])
def test_linear_flows_obey_the_semi_measure_bound(p):
    rng = np.random.default_rng(10)
    for directed in (False, True):
        Adj = rng.uniform(0, 1, (5, 5)) if directed else _random_connected(rng, 5)
        F = synchronization.consensus(graphs.laplacian(Adj, directed=directed))
        mu = seminorms.semi_lognorm(F.jacobian(None), p)
        t, X = systems.simulate(F, rng.normal(size=5), 3.0, rtol=1e-10, atol=1e-12)
        d = seminorms.seminorm(X, p)
        assert np.all(d <= np.exp(mu * t) * d[0] * (1 + 1e-6) + 1e-12)


def test_algebraic_connectivity_self_check():
    assert exercises.check(
        "ch3.algebraic_connectivity", graphs.algebraic_connectivity, quiet=True
    )
    wrong = lambda A: float(np.linalg.eigvalsh(graphs.laplacian(A))[-1])
    assert not exercises.check("ch3.algebraic_connectivity", wrong, quiet=True)
