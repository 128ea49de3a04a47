import numpy as np
import pytest

from contraction import estimates, norms, robustness


def _tanh_layer(W):
    return lambda x, u: np.tanh(W @ x + u)


def test_layer_constants_of_a_diagonal_layer():
    W = np.diag([-3.0, 0.5])
    c = robustness.layer_constants(W)
    # slopes in [0, 1]: the worst log norm is max(0, 0.5), the worst norm is 3
    assert c["os_lip"] == pytest.approx(0.5)
    assert c["lip"] == pytest.approx(3.0)
    assert c["lip_u"] == pytest.approx(1.0)


def test_layer_constants_bound_the_jacobians():
    rng = np.random.default_rng(0)
    W, U = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    c = robustness.layer_constants(W, U, slopes=(0.2, 0.9))
    for _ in range(200):
        D = np.diag(rng.uniform(0.2, 0.9, size=3))
        assert norms.lognorm(D @ W) <= c["os_lip"] + 1e-12
        assert norms.induced_norm(D @ W) <= c["lip"] + 1e-12
        assert np.linalg.norm(D @ U, 2) <= c["lip_u"] + 1e-12


def test_sampled_ratios_stay_below_the_constants():
    rng = np.random.default_rng(1)
    W = np.array([[-2.0, 1.5], [-1.5, -2.0]])
    c = robustness.layer_constants(W)
    G = lambda x: np.tanh(W @ x + 0.3)  # noqa: E731
    X, Y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    assert estimates.lipschitz_ratios(G, X, Y).max() <= c["lip"] + 1e-12
    assert estimates.oslip_quotients(G, X, Y).max() <= c["os_lip"] + 1e-12


def test_fixed_points_of_a_linear_map():
    M = np.array([[0.2, -0.5], [0.4, 0.1]])
    U = np.array([[1.0, 0.0], [0.5, -2.0]])
    X = robustness.fixed_points(lambda x, u: M @ x + u, U, np.zeros(2), method="picard")
    assert np.allclose(X, np.linalg.solve(np.eye(2) - M, U.T).T, atol=1e-10)


def test_fixed_points_report_failure():
    with pytest.raises(RuntimeError, match="row 0"):
        robustness.fixed_points(
            lambda x, u: 3 * x + u,
            np.ones((1, 1)),
            np.zeros(1),
            method="picard",
            max_iter=50,
        )


def test_sensitivity_respects_both_gains():
    rng = np.random.default_rng(2)
    W = 0.8 * np.array([[0.0, -1.0], [1.0, 0.0]])
    c = robustness.layer_constants(W)
    U = rng.normal(size=(40, 2))
    V = U + 0.1 * rng.normal(size=(40, 2))
    r = robustness.sensitivity_ratios(
        _tanh_layer(W), U, V, np.zeros(2), method="picard"
    )
    assert r.max() <= robustness.lim_gain(c["lip"], c["lip_u"]) + 1e-8
    assert r.max() <= robustness.oslip_gain(c["os_lip"], c["lip_u"]) + 1e-8


def test_one_sided_gain_holds_where_lim_is_void():
    rng = np.random.default_rng(3)
    W = np.array([[-2.0, 1.5], [-1.5, -2.0]])
    c = robustness.layer_constants(W)
    assert robustness.lim_gain(c["lip"], c["lip_u"]) == np.inf
    U = rng.normal(size=(30, 2))
    V = U + 0.3 * rng.normal(size=(30, 2))
    r = robustness.sensitivity_ratios(_tanh_layer(W), U, V, np.zeros(2), alpha=0.1)
    assert r.max() <= robustness.oslip_gain(c["os_lip"], c["lip_u"]) + 1e-8


def test_gain_formulas():
    assert robustness.lim_gain(0.5, 2.0) == pytest.approx(4.0)
    assert robustness.oslip_gain(-1.0, 1.0) == pytest.approx(0.5)
    assert robustness.oslip_gain(1.0, 1.0) == np.inf
    assert robustness.perturbed_bound(0.5, 1.0, 2.0, 1.0) == pytest.approx(6.0)
    assert np.allclose(
        robustness.perturbed_bound(0.0, 2.0, np.array([1.0, 2.0])), [2.0, 4.0]
    )
    assert robustness.perturbed_bound(2.0, 1.0, 1.0) == np.inf


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: robustness.layer_constants(np.ones((2, 3))), "W must be square"),
        (lambda: robustness.layer_constants(np.eye(15)), "W must be at most"),
        (
            lambda: robustness.layer_constants(np.eye(2), np.ones((3, 1))),
            "U must have 2 rows",
        ),
        (lambda: robustness.layer_constants(np.eye(2), slopes=(1.0, 0.5)), "slopes"),
        (lambda: robustness.layer_constants(np.eye(2), slopes=3), "slopes"),
        (
            lambda: estimates.lipschitz_ratios(
                np.sin, np.ones((2, 2)), np.ones((3, 2))
            ),
            "same shape",
        ),
        (
            lambda: estimates.lipschitz_ratios(
                np.sin, np.ones((2, 2)), np.ones((2, 2))
            ),
            "differ",
        ),
        (
            lambda: estimates.oslip_quotients(
                lambda x: x[:1], np.ones((2, 2)), np.zeros((2, 2))
            ),
            "f must map",
        ),
        (lambda: robustness.lim_gain(-0.1, 1.0), "lip_x"),
        (lambda: robustness.oslip_gain(0.5, float("nan")), "lip_u"),
        (lambda: robustness.perturbed_bound(0.5, 1.0, -1.0), "u_distance"),
        (lambda: robustness.perturbed_bound(0.5, 1.0, 1.0, np.inf), "d_norm"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="T must be callable"):
        estimates.lipschitz_ratios(3, np.ones((1, 1)), np.zeros((1, 1)))
    with pytest.raises(TypeError, match="G must be callable"):
        robustness.fixed_points("G", np.ones((1, 1)), np.zeros(1))
    with pytest.raises(TypeError, match="lip_u"):
        robustness.lim_gain(0.5, "1")
