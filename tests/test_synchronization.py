"""Consensus, Kuramoto oscillators and swing equations (contraction.synchronization)."""

import numpy as np
import pytest

from contraction import graphs, norms, seminorms, synchronization, systems

M = np.array([1.0, 1.5, 0.8, 1.2])
ADJ = np.array(
    [[0, 1.0, 0.5, 0], [1.0, 0, 0.8, 0.4], [0.5, 0.8, 0, 1.0], [0, 0.4, 1.0, 0]]
)
D = np.sqrt(4 * M * ADJ.sum(axis=1)) * 1.1  # strongly damped, with 10% slack
P = np.array([0.3, -0.2, 0.1, -0.2])


def _arc_states(rng, n, num, width=np.pi / 2):
    # phases within width of each other, frequencies anywhere
    theta = width * rng.uniform(size=(num, n))
    return np.hstack([theta, rng.normal(size=(num, n))])


def test_swing_jacobian_matches_finite_differences():
    F = synchronization.swing(M, D, P, ADJ)
    x = np.random.default_rng(0).normal(size=8)
    assert np.allclose(F.jacobian(x), systems.numerical_jacobian(F, x), atol=1e-6)


def test_swing_weights_make_the_jacobian_metzler_with_zero_sums():
    F = synchronization.swing(M, D, P, ADJ)
    w = synchronization.swing_weights(M, D, ADJ)
    assert w.damped
    Tinv = np.linalg.inv(w.T)
    for x in _arc_states(np.random.default_rng(1), 4, 200):
        J = w.T @ F.jacobian(x) @ Tinv
        assert norms.is_metzler(J)
        assert np.abs(J @ w.xi).max() < 1e-12 and np.abs(w.eta @ J).max() < 1e-12
        assert abs(norms.lognorm(J, 1, w.eta)) < 1e-12
        assert abs(norms.lognorm(J, np.inf, 1 / w.xi)) < 1e-12


def test_weak_damping_breaks_the_metzler_structure():
    # the bound d_i^2 >= 4 m_i deg_i is sharp at phase-locked states (cos = 1)
    d_weak = D / 1.1 * 0.9
    w = synchronization.swing_weights(M, d_weak, ADJ)
    F = synchronization.swing(M, d_weak, P, ADJ)
    J = w.T @ F.jacobian(np.zeros(8)) @ np.linalg.inv(w.T)
    assert not w.damped and not norms.is_metzler(J)


def test_swing_l1_distance_is_non_increasing_and_frequencies_lock():
    F = synchronization.swing(M, D, P, ADJ)
    w = synchronization.swing_weights(M, D, ADJ)
    x0 = np.array([0.2, 0.0, 0.4, 0.1, 0.5, -0.3, 0.0, 0.2])
    y0 = np.array([0.0, 0.3, 0.2, 0.5, -0.2, 0.1, 0.4, 0.0])
    t, X = systems.simulate(F, x0, 40.0, rtol=1e-10, atol=1e-12)
    _, Y = systems.simulate(F, y0, 40.0, rtol=1e-10, atol=1e-12)
    assert np.ptp(np.vstack([X[:, :4], Y[:, :4]]), axis=1).max() < np.pi / 2
    dist = np.abs((X - Y) @ w.T.T) @ w.eta
    assert np.all(np.diff(dist) <= 1e-8 * dist[0])
    assert np.abs(X[-1, 4:]).max() < 1e-4  # sum P = 0: frequencies lock at 0
    # the conserved combination: the distance does not decay to zero
    floor = abs(w.eta @ w.T @ (x0 - y0))
    assert dist[-1] == pytest.approx(floor, rel=1e-4) and floor > 0.1


def test_kuramoto_weakly_contracting_in_l1_and_linf_on_the_arc():
    rng = np.random.default_rng(2)
    omega = rng.normal(size=5)
    for adjacency in (None, ADJ[:4, :4]):
        n = 5 if adjacency is None else 4
        F = synchronization.kuramoto(omega[:n], 1.3, adjacency)
        for th in (np.pi / 2) * rng.uniform(size=(100, n)):
            J = F.jacobian(th)
            assert abs(norms.lognorm(J, 1)) < 1e-12
            assert abs(norms.lognorm(J, np.inf)) < 1e-12
    # outside the arc a weight cos(theta_i - theta_j) < 0 makes mu_1 positive
    J = synchronization.kuramoto(omega, 1.3).jacobian(np.array([0, 3.0, 0, 0, 0]))
    assert norms.lognorm(J, 1) > 0.1


def test_swing_rejects_bad_input():
    with pytest.raises(ValueError, match="positive"):
        synchronization.swing(-M, D, P, ADJ)
    with pytest.raises(ValueError, match="same length"):
        synchronization.swing(M, D[:3], P, ADJ)
    with pytest.raises(ValueError, match="adjacency"):
        synchronization.swing_weights(M, D, np.ones((3, 3)))


# --- consensus and the Kuramoto model
def test_consensus_validation_and_average():
    L = graphs.laplacian(graphs.ring_graph(5))
    F = synchronization.consensus(L)
    x0 = np.arange(5.0)
    t, X = systems.simulate(F, x0, 20.0)
    np.testing.assert_allclose(X[-1], x0.mean(), atol=1e-6)
    with pytest.raises(ValueError, match="rows must sum"):
        synchronization.consensus(np.eye(2))
    with pytest.raises(ValueError, match="off-diagonal"):
        synchronization.consensus([[-1.0, 1.0], [1.0, -1.0]])


def test_kuramoto_jacobian_symmetry_and_mean_field_form():
    rng = np.random.default_rng(11)
    omega = rng.normal(size=6)
    for adjacency in (None, graphs.ring_graph(6)):
        F = synchronization.kuramoto(omega, 1.7, adjacency)
        for _ in range(3):
            th = rng.uniform(0, 2 * np.pi, 6)
            np.testing.assert_allclose(
                F.jacobian(th), systems.numerical_jacobian(F, th), atol=1e-6
            )
            np.testing.assert_allclose(F(th + 0.9), F(th), atol=1e-12)
            np.testing.assert_allclose(F.jacobian(th) @ np.ones(6), 0, atol=1e-12)
    F = synchronization.kuramoto(omega, 1.7)
    th = rng.uniform(0, 2 * np.pi, 6)
    r, psi = synchronization.order_parameter(th)
    np.testing.assert_allclose(F(th), omega + 1.7 * r * np.sin(psi - th), atol=1e-12)


def test_order_parameter():
    assert synchronization.order_parameter(np.full(4, 0.3)) == pytest.approx((1.0, 0.3))
    r, _ = synchronization.order_parameter(np.linspace(0, 2 * np.pi, 6, endpoint=False))
    assert r == pytest.approx(0.0, abs=1e-12)
    r, psi = synchronization.order_parameter(np.zeros((3, 4)))
    assert r.shape == (3,) and psi.shape == (3,)


def test_kuramoto_validation():
    with pytest.raises(ValueError, match="K"):
        synchronization.kuramoto([0.0, 1.0], -1.0)
    with pytest.raises(ValueError, match="adjacency"):
        synchronization.kuramoto([0.0, 1.0], 1.0, np.ones((3, 3)))
    with pytest.raises(ValueError, match="gamma"):
        synchronization.kuramoto_arc_certificate([0.0, 1.0], 3.0, 2.0)


def test_kuramoto_arc_certificate_holds_along_solutions():
    rng = np.random.default_rng(12)
    omega = rng.normal(size=8)
    K, gamma = 2.0 * np.ptp(omega), 1.0
    cert = synchronization.kuramoto_arc_certificate(omega, K, gamma)
    assert cert["invariant"] and cert["rate"] == pytest.approx(K * np.cos(gamma))
    assert cert["gamma_min"] == pytest.approx(np.arcsin(0.5))
    F = synchronization.kuramoto(omega, K)
    th0 = gamma * rng.uniform(size=8)
    th0[:2] = [0.0, gamma]
    th1 = gamma * rng.uniform(size=8)
    t, X = systems.simulate(F, th0, 4.0, num=401)
    _, Y = systems.simulate(F, th1, 4.0, num=401)
    assert np.ptp(X, axis=1).max() <= gamma + 1e-9
    assert max(seminorms.semi_lognorm(F.jacobian(x)) for x in X) <= -cert["rate"] + 1e-9
    assert systems.measured_rate(t, seminorms.seminorm(X - Y)) >= cert["rate"] - 1e-6
    weak = synchronization.kuramoto_arc_certificate(omega, 0.5 * np.ptp(omega), gamma)
    assert (
        not weak["invariant"] and np.isnan(weak["rate"]) and np.isnan(weak["gamma_min"])
    )
