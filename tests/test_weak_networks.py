import numpy as np
import pytest

from contraction import conservation, estimates, norms, systems, weak_networks
from contraction.book import exercises


def _check_jacobian(field, points, atol=1e-6):
    for x in points:
        np.testing.assert_allclose(
            field.jacobian(x), systems.numerical_jacobian(field, x), atol=atol
        )


# -----------------------------------------------------------------------------
# compartmental
def test_compartmental_jacobian_and_l1_lognorm_formula():
    rng = np.random.default_rng(0)
    K = rng.uniform(0, 2, (4, 4)) * (rng.uniform(size=(4, 4)) < 0.6)
    np.fill_diagonal(K, 0)
    S = rng.uniform(0.5, 3, (4, 5))
    S[rng.uniform(size=(4, 5)) < 0.4] = np.inf
    k0, V = rng.uniform(0, 1, 4), rng.uniform(0.5, 2, 4)
    F = weak_networks.compartmental(K, k0, inflow=1.0, saturation=S, volumes=V)
    pts = rng.uniform(-1, 4, (5, 4))
    _check_jacobian(F, pts)
    for x in pts:
        J = F.jacobian(x)
        assert norms.is_metzler(J)
        expected = np.max(-k0 / (1 + np.abs(x) / S[:, 4]) ** 2 / V)
        assert norms.lognorm(J, 1, V) == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(F.jacobian(np.zeros(4)), F.params["C"])


def test_closed_compartmental_conserves_volume_weighted_mass():
    K = np.array([[0, 1.0, 0], [0.2, 0, 1.5], [0.6, 0.3, 0]])
    V = np.array([1.0, 4.0, 2.0])
    F = weak_networks.compartmental(K, 0, saturation=[np.inf, 2.0, 1.0], volumes=V)
    pts = np.random.default_rng(1).uniform(0, 3, (6, 3))
    assert conservation.has_conservation_law(F, V, pts)
    assert not conservation.has_conservation_law(F, np.ones(3), pts)
    eta, p = conservation.certifying_weight(F, pts)
    np.testing.assert_allclose(eta, V / V.sum(), atol=1e-10)
    assert p == 1
    assert np.abs(systems.lognorm_along(F, pts, 1, eta)).max() < 1e-12
    t, X = systems.simulate(F, [3.0, 0.0, 1.0], 5.0, num=21)
    np.testing.assert_allclose(X @ V, 5.0, rtol=1e-7)


def test_compartmental_bad_input():
    with pytest.raises(ValueError, match="rates must have a zero diagonal"):
        weak_networks.compartmental(np.eye(2), 0)
    with pytest.raises(ValueError, match="rates must have non-negative"):
        weak_networks.compartmental([[0, -1], [0, 0]], 0)
    with pytest.raises(ValueError, match="outflow must have non-negative"):
        weak_networks.compartmental(np.zeros((2, 2)), [-1, 0])
    with pytest.raises(ValueError, match="saturation"):
        weak_networks.compartmental(np.zeros((2, 2)), 0, saturation=[1.0, 0.0])
    with pytest.raises(ValueError, match="saturation must be a scalar"):
        weak_networks.compartmental(np.zeros((2, 2)), 0, saturation=np.ones((2, 2)))
    with pytest.raises(ValueError, match="volumes must have strictly positive"):
        weak_networks.compartmental(np.zeros((2, 2)), 0, volumes=[1, 0])
    with pytest.raises(TypeError, match="saturation"):
        weak_networks.compartmental(np.zeros((2, 2)), 0, saturation="fast")
    with pytest.raises(TypeError, match="outflow is required"):
        weak_networks.compartmental(np.zeros((2, 2)), None)


# -----------------------------------------------------------------------------
# Lotka-Volterra
def test_lotka_volterra_log_coordinates_are_weakly_contracting():
    A = np.array([[-1.0, 2.0, 0.0], [0.0, -1.0, 0.7], [0.5, 0.0, -1.0]])
    r = np.array([0.2, 0.3, 0.1])
    Fx = weak_networks.lotka_volterra_mutualistic(r, A)
    Fz = weak_networks.lotka_volterra_mutualistic(r, A, log_coordinates=True)
    rng = np.random.default_rng(2)
    _check_jacobian(Fx, rng.uniform(0.1, 3, (3, 3)))
    _check_jacobian(Fz, rng.uniform(-2, 1, (3, 3)))
    z = rng.normal(size=3)
    np.testing.assert_allclose(Fz(z), Fx(np.exp(z)) / np.exp(z))
    eta = weak_networks.lotka_volterra_weight(A)
    assert np.all(eta > 0) and np.all(eta @ A <= 1e-12)
    Z = rng.uniform(-6, 3, (200, 3))
    assert systems.lognorm_along(Fz, Z, 1, eta).max() <= 0
    assert systems.lognorm_along(Fz, Z, 2).max() > 0  # not weakly contracting in l2
    # two solutions approach each other in the certified norm
    t, X = systems.simulate(Fz, [-1.2, 1.5, 1.2], 10.0, num=101)
    _, Y = systems.simulate(Fz, [-2.3, -0.4, 0.1], 10.0, num=101)
    d = systems.trajectory_distance(X, Y, 1, eta)
    assert np.all(np.diff(d) <= 1e-7)


def test_lotka_volterra_bad_input():
    with pytest.raises(ValueError, match="A must be Metzler"):
        weak_networks.lotka_volterra_mutualistic([1, 1], [[-1, -0.5], [0.2, -1]])
    with pytest.raises(ValueError, match="r must be a scalar or have length 2"):
        weak_networks.lotka_volterra_mutualistic([1, 1, 1], -np.eye(2))
    with pytest.raises(ValueError, match="no positive eta"):
        weak_networks.lotka_volterra_weight([[-1.0, 2.0], [2.0, -1.0]])
    with pytest.raises(TypeError, match="log_coordinates"):
        weak_networks.lotka_volterra_mutualistic(
            [1, 1], -np.eye(2), log_coordinates="yes"
        )


# -----------------------------------------------------------------------------
# primal-dual
def test_primal_dual_is_weakly_contracting_in_l2_and_finds_the_kkt_point():
    A = np.array([[1.0, 1.0, 1.0]])
    F = weak_networks.primal_dual(A, [1.0], c=[2.0, -1.0, 0.5])
    rng = np.random.default_rng(4)
    pts = rng.normal(scale=3, size=(20, 4))
    _check_jacobian(F, pts[:4])
    assert np.abs(systems.lognorm_along(F, pts, 2)).max() < 1e-12
    _, X = systems.simulate(F, [0.0, 0.0, 0.0, 0.0], 60.0, num=11)
    x, lam = X[-1, :3], X[-1, 3:]
    assert A @ x == pytest.approx([1.0], abs=1e-6)
    np.testing.assert_allclose(np.tanh(x - [2.0, -1.0, 0.5]) + A.T @ lam, 0, atol=1e-6)


def test_saddle_weight_certifies_strong_contraction_at_the_vertices():
    import itertools

    A = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, -1.0]])
    R = weak_networks.saddle_weight(A, 0.1)
    P = np.block([[np.eye(3), 0.1 * A.T], [0.1 * A, np.eye(2)]])
    np.testing.assert_allclose(R.T @ R, P, atol=1e-12)
    F = weak_networks.primal_dual(A, [1.0, 0.0], Q=0.5 * np.eye(3))
    worst = max(
        norms.lognorm(
            np.block([[-(0.5 * np.eye(3) + np.diag(s)), -A.T], [A, np.zeros((2, 2))]]),
            2,
            R,
        )
        for s in itertools.product([0.0, 1.0], repeat=3)
    )
    assert worst < 0
    pts = np.random.default_rng(5).normal(scale=2, size=(30, 5))
    assert systems.lognorm_along(F, pts, 2, R).max() <= worst + 1e-12
    with pytest.raises(ValueError, match="epsilon"):
        weak_networks.saddle_weight(A, 10.0)


def test_primal_dual_bad_input():
    with pytest.raises(ValueError, match="b must be a scalar or have length 1"):
        weak_networks.primal_dual(np.ones((1, 2)), [1.0, 2.0])
    with pytest.raises(ValueError, match="Q must be positive semidefinite"):
        weak_networks.primal_dual(np.ones((1, 2)), [1.0], Q=-np.eye(2))
    with pytest.raises(ValueError, match="Q must be symmetric"):
        weak_networks.primal_dual(np.ones((1, 2)), [1.0], Q=[[1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="weights must have non-negative"):
        weak_networks.primal_dual(np.ones((1, 2)), [1.0], weights=[-1.0, 1.0])


# -----------------------------------------------------------------------------
# certificates
def test_diffusive_network_translation_invariance_and_certificate():
    rng = np.random.default_rng(6)
    Adj = rng.uniform(0, 1, (4, 4)) * (rng.uniform(size=(4, 4)) < 0.7)
    np.fill_diagonal(Adj, 0)
    xi = np.array([1.0, 2.0, 0.5, 3.0])
    F = weak_networks.diffusive_network(Adj, xi)
    pts = rng.normal(size=(8, 4))
    _check_jacobian(F, pts[:3])
    x = pts[0]
    np.testing.assert_allclose(F(x + 1.7 * xi), F(x), atol=1e-12)
    assert conservation.translation_invariant(F, xi, pts)
    assert not conservation.translation_invariant(F, np.ones(4), pts)
    weight, p = conservation.certifying_weight(F, pts, kind="translation")
    assert p == np.inf
    np.testing.assert_allclose(1 / weight, xi / xi.sum(), rtol=1e-8)
    assert np.abs(systems.lognorm_along(F, pts, np.inf, weight)).max() < 1e-12


def test_conservation_weight_and_its_errors():
    rng = np.random.default_rng(7)
    K = rng.uniform(0.1, 1, (4, 4))
    np.fill_diagonal(K, 0)
    V = rng.uniform(0.5, 3, 4)
    A = (K.T - np.diag(K.sum(axis=1))) / V[:, None]
    eta = conservation.conservation_weight(A)
    np.testing.assert_allclose(eta, V / V.sum(), atol=1e-10)
    assert norms.lognorm(A, 1, eta) == pytest.approx(0.0, abs=1e-12)
    # two closed components: a 2-dimensional null space still gives a positive eta
    B = np.zeros((4, 4))
    B[:2, :2] = [[-1.0, 2.0], [1.0, -2.0]]
    B[2:, 2:] = [[-3.0, 1.0], [3.0, -1.0]]
    eta2 = conservation.conservation_weight(B)
    assert np.all(eta2 > 0) and np.abs(eta2 @ B).max() < 1e-10
    with pytest.raises(ValueError, match="no nonzero"):
        conservation.conservation_weight(-np.eye(3))
    with pytest.raises(ValueError, match="no positive"):
        conservation.conservation_weight(np.array([[-1.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="not Metzler"):
        conservation.certifying_weight(
            lambda x: np.array([[-1.0, -1.0], [1.0, 1.0]]), np.zeros((1, 2))
        )
    with pytest.raises(ValueError, match="kind"):
        conservation.certifying_weight(
            lambda x: np.zeros((2, 2)), np.zeros((1, 2)), kind="both"
        )
    with pytest.raises(TypeError, match="jacobian"):
        conservation.has_conservation_law(3, [1, 1], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="points must have shape"):
        conservation.translation_invariant(
            lambda x: np.zeros((2, 2)), [1, 1], np.zeros((2, 3))
        )


def test_oslip_quotients_are_bounded_by_the_lognorm():
    rng = np.random.default_rng(8)
    A = rng.normal(size=(3, 3))
    X, Y = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    for p in (1, 2, np.inf):
        q = estimates.oslip_quotients(lambda x: A @ x, X, Y, p)
        assert q.max() <= norms.lognorm(A, p) + 1e-12
    with pytest.raises(ValueError, match="differ"):
        estimates.oslip_quotients(lambda x: x, X[:2], X[:2])
    with pytest.raises(TypeError, match="f must be callable"):
        estimates.oslip_quotients(3, X, Y)


def test_conservation_weight_self_check():
    assert exercises.check(
        "ch3.conservation_weight", conservation.conservation_weight, quiet=True
    )
    assert not exercises.check(
        "ch3.conservation_weight",
        lambda A: np.ones(A.shape[0]) / A.shape[0],
        quiet=True,
    )
