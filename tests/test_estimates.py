import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import estimates, norms, rnn, steps, systems


def _rotation(c, s):
    return np.array([[-c, s], [-s, -c]])


def test_random_pairs_shapes_and_gaps():
    rng = np.random.default_rng(0)
    X, Y = estimates.random_pairs(
        rng, 3, num=500, radius=2.0, center=[1.0, 0.0, -1.0], min_gap=0.01
    )
    assert X.shape == Y.shape == (500, 3)
    gaps = np.linalg.norm(X - Y, axis=1)
    assert np.all(gaps >= 0.01 - 1e-12) and np.all(gaps <= 2.0 + 1e-12)
    assert np.all(np.abs(X - [1.0, 0.0, -1.0]) <= 2.0)


def test_sampled_factor_of_linear_map_is_below_and_close_to_the_norm():
    rng = np.random.default_rng(1)
    A = _rotation(1.0, 2.0)
    X, Y = estimates.random_pairs(rng, 2, num=400)
    alphas = np.linspace(0.0, 0.5, 11)
    measured = estimates.sampled_step_factor(systems.linear(A), alphas, X, Y)
    exact = np.array([norms.induced_norm(np.eye(2) + a * A) for a in alphas])
    assert measured.shape == alphas.shape
    # for -cI + skew every direction is stretched equally, so sampling is exact
    np.testing.assert_allclose(measured, exact, rtol=1e-10)
    assert isinstance(
        estimates.sampled_step_factor(systems.linear(A), 0.2, X, Y), float
    )


def test_sampled_factor_never_exceeds_exact_firing_rate_factor():
    rng = np.random.default_rng(2)
    W = np.array([[0.0, 1.0], [-1.0, 0.0]])
    F = rnn.firing_rate(W, np.array([0.5, -0.3]))
    X, Y = estimates.random_pairs(rng, 2, num=300)
    alphas = np.linspace(0.05, 1.0, 8)
    for p in (1, 2, np.inf):
        sampled = estimates.sampled_step_factor(F, alphas, X, Y, p)
        exact = steps.firing_rate_step_factor(W, alphas, p)
        assert np.all(sampled <= exact + 1e-9)


def test_firing_rate_constants_closed_form():
    s = 1.0
    W = np.array([[0.0, s], [-s, 0.0]])
    os_lip, lip = steps.firing_rate_constants(W)
    assert os_lip == pytest.approx(-1 + s / 2)
    assert lip == pytest.approx((s + np.sqrt(s**2 + 4)) / 2)
    # the Jacobians met along the way never beat the corner values
    F = rnn.firing_rate(W)
    pts = np.random.default_rng(3).uniform(-3, 3, size=(200, 2))
    assert systems.lognorm_along(F, pts).max() <= os_lip + 1e-12
    assert max(norms.induced_norm(F.jacobian(x)) for x in pts) <= lip + 1e-12


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1.8), st.floats(0.0, 2.0))
def test_forward_step_bound_holds_for_firing_rate(s, alpha):
    W = np.array([[0.0, s], [-s, 0.0]])
    os_lip, lip = steps.firing_rate_constants(W)
    factor = steps.firing_rate_step_factor(W, alpha)
    bound = steps.forward_step_factor(alpha, -os_lip, lip)
    assert factor <= bound + 1e-9


def test_euler_iterations_match_linear_rate():
    A = _rotation(1.0, 2.0)
    F = systems.linear(A)
    x0, xs = np.array([1.0, 0.0]), np.zeros(2)
    rho = norms.induced_norm(np.eye(2) + 0.2 * A)
    k = estimates.euler_iterations(F, x0, 0.2, xs, tol=1e-6)
    assert k == int(np.ceil(np.log(1e-6) / np.log(rho)))
    assert estimates.euler_iterations(F, x0, 0.5, xs, tol=1e-6) is None  # factor > 1
    assert estimates.euler_iterations(F, x0, 0.01, xs, tol=1e-6, max_iter=10) is None
    assert estimates.euler_iterations(F, xs, 0.2, xs) == 0


def test_bad_inputs_name_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="rng"):
        estimates.random_pairs(0, 2)
    with pytest.raises(ValueError, match="min_gap"):
        estimates.random_pairs(rng, 2, radius=1.0, min_gap=2.0)
    with pytest.raises(ValueError, match="center"):
        estimates.random_pairs(rng, 2, center=[0.0, 0.0, 0.0])
    X, Y = estimates.random_pairs(rng, 2, num=5)
    with pytest.raises(TypeError, match="F"):
        estimates.sampled_step_factor(None, 0.1, X, Y)
    with pytest.raises(ValueError, match="alpha"):
        estimates.sampled_step_factor(np.sin, -0.1, X, Y)
    with pytest.raises(ValueError, match="X and Y"):
        estimates.sampled_step_factor(np.sin, 0.1, X, Y[:3])
    with pytest.raises(ValueError, match="differ"):
        estimates.sampled_step_factor(np.sin, 0.1, X, X)
    with pytest.raises(ValueError, match="p"):
        estimates.sampled_step_factor(np.sin, 0.1, X, Y, p=3)
    with pytest.raises(ValueError, match="W"):
        steps.firing_rate_constants(np.ones((2, 3)))
    with pytest.raises(ValueError, match="W"):
        steps.firing_rate_constants(np.zeros((15, 15)))
    with pytest.raises(ValueError, match="x_star"):
        estimates.euler_iterations(np.sin, np.zeros(2), 0.1, np.zeros(3))
    with pytest.raises(ValueError, match="alpha"):
        estimates.euler_iterations(np.sin, np.zeros(2), 0.0, np.zeros(2))


def test_ratios_of_a_linear_map_are_attained():
    M = np.array([[0.0, 2.0], [0.0, 0.0]])
    X = np.array([[0.0, 1.0], [1.0, 1.0]])
    Y = np.zeros((2, 2))
    ratios = estimates.lipschitz_ratios(lambda x: M @ x, X, Y)
    assert ratios[0] == pytest.approx(norms.induced_norm(M))
    os = estimates.oslip_quotients(lambda x: M @ x, X, Y)
    # x^T M x / |x|^2 at x = (1, 1) equals mu_2(M) = 1
    assert os[1] == pytest.approx(1.0)
    assert norms.lognorm(M) == pytest.approx(1.0)
