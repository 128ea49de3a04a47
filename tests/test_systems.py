import numpy as np
import pytest

from contraction import norms, rnn, systems


def _check_jacobian(field, rng):
    for _ in range(3):
        x = rng.normal(size=field.dim)
        np.testing.assert_allclose(
            field.jacobian(x), systems.numerical_jacobian(field, x), atol=1e-6
        )


def test_jacobians_match_finite_differences():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 3))
    _check_jacobian(systems.linear(W), rng)
    _check_jacobian(rnn.firing_rate(W, rng.normal(size=3)), rng)
    _check_jacobian(systems.gradient_flow(np.diag([1.0, 2.0, 3.0]), np.ones(3)), rng)
    _check_jacobian(systems.van_der_pol(1.5), rng)


def test_linear_flow_contracts_at_the_lognorm_rate():
    A = np.array([[-2.0, 1.0], [0.0, -3.0]])
    t, X = systems.simulate(systems.linear(A), [1.0, 1.0], 3.0)
    _, Y = systems.simulate(systems.linear(A), [-1.0, 0.5], 3.0)
    rate = systems.measured_rate(t, systems.trajectory_distance(X, Y))
    assert rate >= -norms.lognorm(A, 2) - 1e-6


def test_gradient_flow_rate_and_grid_lognorm():
    field = systems.gradient_flow(np.diag([1.0, 4.0]))
    assert systems.max_lognorm_on_grid(field, [-2, -2], [2, 2], num=11) <= -1.0 + 1e-12
    t, X = systems.simulate(field, [2.0, -1.0], 4.0)
    _, Y = systems.simulate(field, [-1.0, 2.0], 4.0)
    assert systems.measured_rate(t, systems.trajectory_distance(X, Y)) >= 1.0 - 1e-6


def test_lognorm_along_matches_pointwise():
    field = rnn.firing_rate(np.array([[0.0, 0.5], [-0.5, 0.0]]))
    pts = np.array([[0.0, 0.0], [1.0, -1.0]])
    mus = systems.lognorm_along(field, pts, p=np.inf)
    assert mus[0] == pytest.approx(norms.lognorm(field.jacobian(pts[0]), np.inf))


def test_measured_rate_of_exact_exponential():
    t = np.linspace(0, 2, 50)
    assert systems.measured_rate(t, 3 * np.exp(-0.7 * t)) == pytest.approx(0.7)


def test_simulate_reports_blow_up():
    with pytest.raises(RuntimeError, match="integration failed"):
        systems.simulate(lambda x: x**2, [1.0], 2.0)


def test_bad_input():
    with pytest.raises(ValueError, match="A must be square"):
        rnn.firing_rate(np.ones((2, 3)))
    with pytest.raises(ValueError, match="u must be a scalar or have length 2"):
        rnn.firing_rate(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="Q must be positive definite"):
        systems.gradient_flow(-np.eye(2))
    with pytest.raises(ValueError, match="Q must be symmetric"):
        systems.gradient_flow(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="mu must be non-negative"):
        systems.van_der_pol(-1.0)
    with pytest.raises(TypeError, match="F must be callable"):
        systems.simulate(None, [1.0], 1.0)
    with pytest.raises(ValueError, match="t_final must be positive"):
        systems.simulate(lambda x: -x, [1.0], 0.0)
    with pytest.raises(ValueError, match="X and Y must have the same shape"):
        systems.trajectory_distance(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="distance\\[0\\] must be positive"):
        systems.measured_rate([0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="upper must exceed lower"):
        systems.max_lognorm_on_grid(systems.linear(np.eye(2)), [0, 0], [0, 1])


def test_measured_rate_of_piecewise_rate_is_the_worst_average():
    # d decays at rate 2 until t = 1 and at rate 0.5 after: measured_rate returns the
    # smallest average rate -log(d(t)/d(0))/t over the samples, here (2 + 0.5 (T - 1))/T
    # at the final time T, which lies strictly between the two instantaneous rates.
    t = np.linspace(0, 5, 501)
    d = 4 * np.exp(np.where(t <= 1, -2 * t, -2 - 0.5 * (t - 1)))
    rate = systems.measured_rate(t, d)
    assert rate == pytest.approx((2 + 0.5 * 4) / 5)
    assert 0.5 < rate < 2
    # early growth (a Euclidean norm misjudging a stable system) gives a negative rate
    d_up = np.exp(np.where(t <= 1, 0.3 * t, 0.3 - 2 * (t - 1)))
    assert systems.measured_rate(t, d_up) == pytest.approx(-0.3, abs=1e-12)


def test_measured_rate_ignores_samples_below_the_floor():
    t = np.linspace(0, 4, 41)
    d = np.where(t <= 2, np.exp(-3 * t), 1e-12)  # a plateau of integrator round-off
    assert systems.measured_rate(t, d, floor=1e-9) == pytest.approx(3.0)
    assert systems.measured_rate(t, d, floor=1e-14) < 3.0
