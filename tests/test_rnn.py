import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import norms, rnn, slopes, systems
from contraction.book import exercises

PS = (1, np.inf)


def brute_force(A, lo, hi, p, side, shift=None, weight=None):
    """max over the 2^n corners, by slopes.corner_max (right side through a
    transpose)."""
    n = A.shape[0]
    B = np.diag(np.zeros(n) if shift is None else np.asarray(shift) * np.ones(n))
    if side == "left":
        return slopes.corner_max(lambda J: norms.lognorm(J, p, weight), B, A, lo, hi)
    return slopes.corner_max(lambda J: norms.lognorm(J.T, p, weight), B, A.T, lo, hi)


@pytest.mark.parametrize("side", ("left", "right"))
@pytest.mark.parametrize("p", PS)
def test_max_lognorm_diag_matches_all_vertices(p, side):
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 5, 8):
        for _ in range(3):
            A = rng.normal(size=(n, n)) * rng.uniform(0.3, 3)
            lo, hi = np.sort(rng.uniform(0, 2, 2))
            assert norms.max_lognorm_diag(A, lo, hi, p, side) == pytest.approx(
                brute_force(A, lo, hi, p, side), abs=1e-12
            )
            shift, eta = -rng.uniform(0.2, 2, n), rng.uniform(0.2, 3, n)
            assert norms.max_lognorm_diag(
                A, lo, hi, p, side, shift, eta
            ) == pytest.approx(brute_force(A, lo, hi, p, side, shift, eta), abs=1e-12)


def test_max_lognorm_diag_slide_formulas():
    A = np.array([[-2.0, 1.0, 0.5], [0.3, 0.4, -1.0], [1.0, -0.2, -0.5]])
    lo, hi = 0.2, 1.5
    assert norms.max_lognorm_diag(A, lo, hi, np.inf) == pytest.approx(
        max(norms.lognorm(lo * A, np.inf), norms.lognorm(hi * A, np.inf))
    )
    diag_part = np.diag(np.diag(A))
    assert norms.max_lognorm_diag(A, lo, hi, 1) == pytest.approx(
        max(norms.lognorm(hi * A, 1), norms.lognorm(hi * A - (hi - lo) * diag_part, 1))
    )
    # the right-side variants are the transposed left ones in the dual norm
    assert norms.max_lognorm_diag(A, lo, hi, np.inf, "right") == pytest.approx(
        norms.max_lognorm_diag(A.T, lo, hi, 1, "left")
    )
    assert norms.max_lognorm_diag(A, lo, hi, 1, "right") == pytest.approx(
        norms.max_lognorm_diag(A.T, lo, hi, np.inf, "left")
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 6),
    p=st.sampled_from(PS),
    side=st.sampled_from(("left", "right")),
)
def test_interior_slopes_never_exceed_the_closed_form(seed, n, p, side):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    lo, hi = np.sort(rng.uniform(0, 2, 2))
    top = norms.max_lognorm_diag(A, lo, hi, p, side, -1.0)
    for d in rng.uniform(lo, hi, (20, n)):
        J = -np.eye(n) + (np.diag(d) @ A if side == "left" else A @ np.diag(d))
        assert norms.lognorm(J, p) <= top + 1e-12


def test_max_lognorm_diag_bad_arguments():
    A = np.eye(2)
    with pytest.raises(ValueError, match="p must"):
        norms.max_lognorm_diag(A, 0, 1, 2)
    with pytest.raises(ValueError, match="side"):
        norms.max_lognorm_diag(A, 0, 1, 1, side="middle")
    with pytest.raises(ValueError, match="d_min"):
        norms.max_lognorm_diag(A, 1, 0.5, 1)
    with pytest.raises(ValueError, match="d_min"):
        norms.max_lognorm_diag(A, -0.1, 0.5, 1)
    with pytest.raises(ValueError, match="shift"):
        norms.max_lognorm_diag(A, 0, 1, 1, shift=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="weight"):
        norms.max_lognorm_diag(A, 0, 1, 1, weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="A"):
        norms.max_lognorm_diag(np.ones((2, 3)), 0, 1, 1)


# ------------------------------------------------------------------------- models
MODELS = ("hopfield", "firing_rate", "persidskii", "lure")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu")


def make(model, A, phi, C=1.0, u=None):
    if model in ("hopfield", "firing_rate"):
        return getattr(rnn, model)(A, u, phi, C)
    return getattr(rnn, model)(A, phi)


@pytest.mark.parametrize("phi", ACTIVATIONS)
@pytest.mark.parametrize("model", MODELS)
def test_jacobians_match_finite_differences(model, phi):
    rng = np.random.default_rng(2)
    A = rng.normal(size=(4, 4))
    F = make(model, A, phi, C=rng.uniform(0.5, 2, 4), u=rng.normal(size=4))
    for x in rng.normal(size=(5, 4)) * 2:
        assert np.allclose(F.jacobian(x), systems.numerical_jacobian(F, x), atol=1e-6)


def test_activation_slopes_lie_in_their_bounds():
    y = np.linspace(-30, 30, 2001)
    for name in ACTIVATIONS:
        act = rnn.activation(name)
        assert np.all(act.slope(y) >= act.d_min - 1e-15) and np.all(
            act.slope(y) <= act.d_max
        )
        assert np.all(np.isfinite(act.phi(y)))
    assert rnn.activation("leaky_relu", 0.3).d_min == 0.3
    with pytest.raises(ValueError, match="name"):
        rnn.activation("swish")
    with pytest.raises(TypeError, match="name"):
        rnn.activation(3)
    with pytest.raises(ValueError, match="negative_slope"):
        rnn.activation("leaky_relu", 2.0)


def test_firing_rate_defaults_are_the_chapter_1_network():
    rng = np.random.default_rng(3)
    A, u = rng.normal(size=(3, 3)), rng.normal(size=3)
    field = rnn.firing_rate(A, u)
    for x in rng.normal(size=(4, 3)):
        slopes_ = 1 - np.tanh(A @ x + u) ** 2
        assert np.array_equal(field(x), -x + np.tanh(A @ x + u))
        assert np.allclose(field.jacobian(x), -np.eye(3) + slopes_[:, None] * A)


def test_model_bad_arguments():
    with pytest.raises(ValueError, match="C"):
        rnn.firing_rate(np.eye(2), C=[1.0, -1.0])
    with pytest.raises(ValueError, match="C"):
        rnn.hopfield(np.eye(2), C=np.ones((2, 2)))
    with pytest.raises(ValueError, match="u"):
        rnn.hopfield(np.eye(2), u=np.ones(3))
    with pytest.raises(ValueError, match="A"):
        rnn.lure(np.ones((2, 3)))
    with pytest.raises(TypeError, match="field"):
        rnn.oslip(systems.linear(np.eye(2)))


@pytest.mark.parametrize("p", (1, 2, np.inf))
@pytest.mark.parametrize("model", MODELS)
def test_oslip_bounds_sampled_jacobians_and_is_attained(model, p):
    rng = np.random.default_rng(4)
    A = rng.normal(size=(3, 3))
    F = make(model, A, "tanh", C=rng.uniform(0.5, 2, 3))
    top = rnn.oslip(F, p)
    sampled = systems.lognorm_along(F, rng.normal(size=(300, 3)) * 3, p)
    assert sampled.max() <= top + 1e-12
    if model == "firing_rate":  # drive each neuron to slope ~1 (z = 0) or ~0 (z = 12)
        corners = [
            np.linalg.solve(A, np.array(z) - F.params["u"])
            for z in np.array(np.meshgrid(*[[0.0, 12.0]] * 3)).reshape(3, -1).T
        ]
        assert systems.lognorm_along(F, corners, p).max() == pytest.approx(
            top, abs=1e-6
        )


def test_oslip_lure_is_mu_minus_dmin():
    A = np.array([[0.5, 2.0], [-1.0, 0.1]])
    F = rnn.lure(A, "leaky_relu")
    for p in (1, 2, np.inf):
        assert rnn.oslip(F, p) == pytest.approx(norms.lognorm(A, p) - 0.1)


# --------------------------------------------------------------- optimal weights
def test_perron_and_lp_agree_and_match_the_slide_formula():
    rng = np.random.default_rng(5)
    for n in (2, 4, 6):
        A, c = rng.normal(size=(n, n)), rng.uniform(0.5, 2, n)
        eta_p, val_p = rnn.optimal_weight_firing_rate(A, c, 0.0, 1.0, "perron")
        eta_l, val_l = rnn.optimal_weight_firing_rate(A, c, 0.0, 1.0, "lp")
        M = norms.metzler_majorant(A)
        formula = max(-c.min(), norms.spectral_abscissa(-np.diag(c) + M))
        assert val_p == pytest.approx(formula, abs=1e-9)
        assert val_l == pytest.approx(formula, abs=1e-6)
        assert eta_p.max() == pytest.approx(1.0) and np.all(eta_l > 0)


def test_lp_handles_positive_dmin_and_no_weight_beats_it():
    rng = np.random.default_rng(6)
    A = -2.5 * np.eye(3) + 0.4 * rng.normal(size=(3, 3))
    eta, value = rnn.optimal_weight_firing_rate(A, 1.0, 0.3, 1.0, "lp")
    F = rnn.firing_rate(A, phi=rnn.activation("leaky_relu", 0.3))
    assert value == pytest.approx(rnn.oslip(F, np.inf, eta))
    assert value < -1.0  # faster than the leak: only possible because d_min > 0
    others = [rnn.oslip(F, np.inf, w) for w in rng.uniform(0.05, 1, (300, 3))]
    assert min(others) >= value - 1e-6
    with pytest.raises(ValueError, match="perron"):
        rnn.optimal_weight_firing_rate(A, 1.0, 0.3, 1.0, "perron")
    with pytest.raises(ValueError, match="method"):
        rnn.optimal_weight_firing_rate(A, 1.0, 0.0, 1.0, "newton")
    with pytest.raises(ValueError, match="d_min"):
        rnn.optimal_weight_firing_rate(A, 1.0, 1.0, 0.5, "lp")


def test_certified_rate_holds_for_simulated_pairs():
    rng = np.random.default_rng(7)
    A, c, u = (
        rng.normal(size=(3, 3)) * 0.8,
        np.array([1.0, 1.5, 0.8]),
        rng.normal(size=3),
    )
    eta, value = rnn.optimal_weight_firing_rate(A, c, 0.0, 1.0)
    F = rnn.firing_rate(A, u, "tanh", c)
    for _ in range(3):
        t, X = systems.simulate(F, rng.normal(size=3) * 2, 6.0, num=61)
        _, Y = systems.simulate(F, rng.normal(size=3) * 2, 6.0, num=61)
        rate = systems.measured_rate(t, systems.trajectory_distance(X, Y, np.inf, eta))
        assert rate >= -value - 1e-6


def test_max_lognorm_diag_self_check():
    ref = lambda A, lo, hi: norms.max_lognorm_diag(A, lo, hi, np.inf)  # noqa: E731
    assert exercises.check("ch4.max_lognorm_diag_inf", ref, quiet=True)
    # forgets d_min
    wrong = lambda A, lo, hi: hi * norms.lognorm(A, np.inf)  # noqa: E731
    assert not exercises.check("ch4.max_lognorm_diag_inf", wrong, quiet=True)


def test_oslip_lure_with_a_matrix_weight_visits_the_corners():
    R = np.linalg.cholesky(np.array([[1.0, 0.9], [0.9, 1.0]])).T
    F = rnn.lure(np.zeros((2, 2)))
    expected = slopes.corner_max(
        lambda J: norms.lognorm(J, 2, R), np.zeros((2, 2)), -np.eye(2)
    )
    assert rnn.oslip(F, 2, R) == pytest.approx(expected)
    assert rnn.oslip(F, 2, R) > 0.6 > 0.0 == rnn.oslip(F, 2)  # mu(A) - d_min fails here
