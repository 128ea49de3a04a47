import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import fixedpoint as fp
from contraction import steps


@pytest.mark.parametrize("method", ["picard", "averaged", "anderson"])
def test_converges_on_a_contraction(method):
    G = lambda x: 0.5 * np.cos(x) + 0.1  # noqa: E731
    res = fp.solve(G, np.zeros(3), method=method, tol=1e-10)
    assert res.converged and res.reason == ""
    np.testing.assert_allclose(G(res.x), res.x, atol=1e-9)
    assert res.residuals.shape == (res.iterations + 1,)


def test_anderson_is_faster_than_picard():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(20, 20))
    M *= 0.9 / np.linalg.norm(M, 2)
    b = rng.normal(size=20)
    G = lambda x: M @ np.tanh(x) + b  # noqa: E731
    picard = fp.solve(G, np.zeros(20), tol=1e-8)
    anderson = fp.solve(G, np.zeros(20), method="anderson", tol=1e-8)
    assert picard.converged and anderson.converged
    assert anderson.iterations < picard.iterations


def test_averaged_rescues_expansive_map():
    G = lambda x: -3.0 * x + 4.0  # noqa: E731  Lip = 3, osLip = -3 < 1
    assert not fp.solve(G, np.zeros(2)).converged
    bounds = steps.averaged_step_bounds(-3.0, 3.0)
    res = fp.solve(G, np.zeros(2), method="averaged", alpha=bounds["alpha_opt"])
    assert res.converged
    np.testing.assert_allclose(res.x, 1.0)


def test_divergence_is_reported_not_nan():
    res = fp.solve(lambda x: 2 * x + 1, np.ones(2))
    assert not res.converged and "diverged" in res.reason
    assert np.all(np.isfinite(res.x))


def test_non_finite_is_reported():
    res = fp.solve(lambda x: np.full_like(x, np.nan), np.ones(2))
    assert not res.converged and "non-finite" in res.reason
    np.testing.assert_array_equal(res.x, np.ones(2))


def test_max_iter_is_reported():
    res = fp.solve(lambda x: 0.999 * x + 1, np.zeros(1), max_iter=5)
    assert not res.converged and "max_iter=5" in res.reason and res.iterations == 5


def test_history():
    res = fp.solve(lambda x: 0.5 * x, np.ones(1), keep_history=True, tol=1e-3)
    assert len(res.history) == res.iterations + 1


def test_bad_input():
    G = lambda x: x  # noqa: E731
    with pytest.raises(TypeError, match="G must be callable"):
        fp.solve(3, np.zeros(2))
    with pytest.raises(ValueError, match="method must be"):
        fp.solve(G, np.zeros(2), method="newton")
    with pytest.raises(ValueError, match="alpha must be None"):
        fp.solve(G, np.zeros(2), alpha=0.5)
    with pytest.raises(ValueError, match="alpha must lie in"):
        fp.solve(G, np.zeros(2), method="averaged", alpha=1.5)
    with pytest.raises(ValueError, match="alpha must be positive"):
        fp.solve(G, np.zeros(2), method="averaged", alpha=-0.1)
    with pytest.raises(ValueError, match="x0 has non-finite"):
        fp.solve(G, np.array([np.nan]))
    with pytest.raises(ValueError, match="x0 must have 1 dimension"):
        fp.solve(G, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="tol must be positive"):
        fp.solve(G, np.zeros(2), tol=0)
    with pytest.raises(ValueError, match="max_iter must be at least 1"):
        fp.solve(G, np.zeros(2), max_iter=0)
    with pytest.raises(ValueError, match="G must return an array of shape"):
        fp.solve(lambda x: np.zeros(3), np.zeros(2))


def test_euclidean_bounds_exact():
    out = fp.forward_step_bounds(2.0, 4.0)
    kappa = 2.0
    assert out["kappa"] == kappa
    assert out["alpha_max"] == pytest.approx(2 / (2.0 * kappa**2))
    assert out["alpha_opt"] == pytest.approx(1 / (2.0 * kappa**2))
    assert out["factor_opt"] == pytest.approx(np.sqrt(1 - 1 / kappa**2))


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.01, 10),
    st.floats(1.0, 200.0),
    st.sampled_from(["euclidean", "non-euclidean"]),
)
def test_bounds_are_optimal_and_admissible(c, kappa, norm):
    lip = c * kappa
    out = fp.forward_step_bounds(c, lip, norm)
    grid = np.linspace(0, out["alpha_max"], 2001)[1:-1]
    factors = steps.forward_step_factor(grid, c, lip, norm)
    assert np.all(factors < 1 + 1e-12)
    assert out["factor_opt"] <= factors.min() + 1e-12
    assert steps.forward_step_factor(out["alpha_max"], c, lip, norm) == pytest.approx(
        1.0, abs=1e-9
    )


def test_non_euclidean_series_of_the_slides():
    # slides: alpha* c = 1/(2 k^2) - 3/(8 k^3) + O(k^-4);  factor = 1 - 1/(4k^2) +
    # 1/(8k^3) + O(k^-4)
    c, kappa = 1.0, 200.0
    out = fp.forward_step_bounds(c, kappa, "non-euclidean")
    assert out["alpha_opt"] == pytest.approx(
        1 / (2 * kappa**2) - 3 / (8 * kappa**3), rel=1e-4
    )
    assert out["factor_opt"] == pytest.approx(
        1 - 1 / (4 * kappa**2) + 1 / (8 * kappa**3), abs=1e-9
    )


def test_forward_step_factor_bound_holds_for_linear_maps():
    c, s = 1.0, 3.0
    A = np.array(
        [[-c, s], [-s, -c]]
    )  # osLip_2 = -c, Lip_2 = sqrt(c^2 + s^2), bound attained
    lip = np.hypot(c, s)
    for alpha in np.linspace(0.01, 0.3, 7):
        exact = np.linalg.norm(np.eye(2) + alpha * A, 2)
        assert exact == pytest.approx(steps.forward_step_factor(alpha, c, lip))


def test_non_euclidean_factor_bounds_infinity_norm():
    A = np.array([[-4.0, 1.0, 0.5], [0.5, -3.0, 1.0], [1.0, 1.0, -5.0]])
    c, lip = (
        -np.max(np.diag(A) + np.abs(A).sum(1) - np.abs(np.diag(A))),
        np.linalg.norm(A, np.inf),
    )
    for alpha in np.linspace(0.01, 0.9 / lip, 9):
        measured = np.linalg.norm(np.eye(3) + alpha * A, np.inf)
        assert (
            measured
            <= steps.forward_step_factor(alpha, c, lip, "non-euclidean") + 1e-12
        )


def test_averaged_step_bounds_match_expansion():
    b, lip = -0.5, 3.0
    out = steps.averaged_step_bounds(b, lip)
    alpha = out["alpha_opt"]
    assert alpha == pytest.approx((1 - b) / (1 - 2 * b + lip**2))
    expected = np.sqrt(1 - 2 * alpha * (1 - b) + alpha**2 * (1 - 2 * b + lip**2))
    assert out["factor_opt"] == pytest.approx(expected)
    small = steps.averaged_step_bounds(0.5, 0.5)  # osLip = Lip < 1: Picard is best
    assert small["alpha_opt"] == 1.0 and small["factor_opt"] == pytest.approx(0.5)


def test_step_bound_bad_input():
    with pytest.raises(ValueError, match="c must be positive"):
        fp.forward_step_bounds(0.0, 1.0)
    with pytest.raises(ValueError, match="lip must be at least c"):
        fp.forward_step_bounds(2.0, 1.0)
    with pytest.raises(ValueError, match="norm must be one of"):
        fp.forward_step_bounds(1.0, 2.0, norm="l2")
    with pytest.raises(TypeError, match="lip must be a real number"):
        fp.forward_step_bounds(1.0, "2")
    with pytest.raises(ValueError, match="alpha must be finite and non-negative"):
        steps.forward_step_factor(-1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="os_lip must be finite and below 1"):
        steps.averaged_step_bounds(1.0, 2.0)
    with pytest.raises(ValueError, match="lip must be at least"):
        steps.averaged_step_bounds(-2.0, 1.0)


def test_implicit_step_bounds_hold_for_random_slopes():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(5, 5)) * 0.3
    A -= np.diag(np.abs(A).sum(axis=1))  # mu_inf(A) <= 0
    out = fp.implicit_step_bounds(A)
    assert out["rate"] == pytest.approx(1.0)
    for _ in range(200):
        D = np.diag(rng.uniform(0, 1, 5))
        J = (1 - out["alpha"]) * np.eye(5) + out["alpha"] * D @ A
        assert np.linalg.norm(J, np.inf) <= out["factor"] + 1e-12
    with pytest.raises(ValueError, match="mu_inf\\(A\\) < 1"):
        fp.implicit_step_bounds(np.eye(2))


def _worst_corner_factor(A, alpha):
    n = A.shape[0]
    return max(
        np.linalg.norm((1 - alpha) * np.eye(n) + alpha * np.diag(d) @ A, np.inf)
        for d in np.array(np.meshgrid(*[[0.0, 1.0]] * n)).reshape(n, -1).T
    )


def test_implicit_step_bounds_alpha_is_the_largest_admissible_step():
    # Row 1 has both the most negative diagonal entry (-3) and the log norm
    # (-3 + 3.5 = 0.5), so the documented factor 1 - alpha * rate is attained at
    # the returned alpha = 1/4 and fails for any larger step.
    A = np.array([[-3.0, 2.0, 1.5], [0.5, -1.0, 0.2], [0.3, 0.3, -2.0]])
    out = fp.implicit_step_bounds(A)
    assert out["alpha"] == pytest.approx(0.25) and out["rate"] == pytest.approx(0.5)
    assert _worst_corner_factor(A, out["alpha"]) == pytest.approx(out["factor"])
    for alpha in np.linspace(0.01, out["alpha"], 25):  # every smaller step is fine
        assert _worst_corner_factor(A, alpha) <= 1 - alpha * out["rate"] + 1e-12
    bigger = out["alpha"] * 1.01
    assert _worst_corner_factor(A, bigger) > 1 - bigger * out["rate"] + 1e-4
    # ... and the Jacobian at full slope gets a negative diagonal entry
    assert np.min(np.diag((1 - bigger) * np.eye(3) + bigger * A)) < 0
