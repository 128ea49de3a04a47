import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import lyapunov, norms


def _random_spd(rng, n):
    L = rng.normal(size=(n, n))
    return L @ L.T + 0.5 * np.eye(n)


def _random_hurwitz(rng, n, margin=0.3):
    M = rng.normal(size=(n, n))
    return M - (norms.spectral_abscissa(M) + margin) * np.eye(n)


# ------------------------------------------------------------------
# check_positive_definite
def test_check_positive_definite_symmetrises_round_off():
    P = np.array([[2.0, 1.0], [1.0 + 1e-12, 3.0]])
    out = lyapunov.check_positive_definite(P)
    assert np.array_equal(out, out.T)


@pytest.mark.parametrize(
    "P, message",
    [
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
        (np.zeros((2, 2)), "positive definite"),
        (np.ones((2, 3)), "square"),
    ],
)
def test_check_positive_definite_rejects(P, message):
    with pytest.raises(ValueError, match=message):
        lyapunov.check_positive_definite(P, "Pmat")


def test_check_positive_definite_names_argument():
    with pytest.raises(ValueError, match="Q must be symmetric"):
        lyapunov.check_positive_definite(np.array([[1.0, 2.0], [0.0, 1.0]]), "Q")


# ------------------------------------------------------------------------
# cholesky_weight
def test_cholesky_weight_factors_P_and_matches_norms():
    rng = np.random.default_rng(0)
    P = _random_spd(rng, 4)
    R = lyapunov.cholesky_weight(P)
    assert np.allclose(R.T @ R, P)
    assert np.allclose(R, np.triu(R))
    x = rng.normal(size=4)
    assert np.isclose(norms.vector_norm(x, 2, weight=R), np.sqrt(x @ P @ x))


def test_cholesky_weight_rejects_bad_input():
    with pytest.raises(ValueError, match="P must be positive definite"):
        lyapunov.cholesky_weight(-np.eye(2))
    with pytest.raises(TypeError, match="P"):
        lyapunov.cholesky_weight("not a matrix")


# -----------------------------------------------------------------------
# lyapunov_weight
def test_lyapunov_weight_solves_the_equation():
    rng = np.random.default_rng(1)
    A, Q = _random_hurwitz(rng, 3), _random_spd(rng, 3)
    s = 0.2
    P = lyapunov.lyapunov_weight(A, s, Q)
    As = A + s * np.eye(3)
    assert np.allclose(As.T @ P + P @ As, -Q)
    assert np.allclose(P, P.T) and np.linalg.eigvalsh(P)[0] > 0


def test_lyapunov_weight_known_scalar_case():
    # a = -2, s = 0.5, q = 3: 2 (a + s) p = -q gives p = 1.
    assert np.allclose(lyapunov.lyapunov_weight([[-2.0]], 0.5, [[3.0]]), [[1.0]])


def test_lyapunov_weight_rate_formula():
    A = np.array([[-1.0, 6.0], [0.0, -2.0]])
    for s in (-0.5, 0.0, 0.5, 0.9, 0.99):
        P = lyapunov.lyapunov_weight(A, s)
        mu = norms.lognorm(A, 2, lyapunov.cholesky_weight(P))
        lam_min = scipy.linalg.eigh(np.eye(2), P, eigvals_only=True)[0]
        assert np.isclose(mu, -s - lam_min / 2)
        assert norms.spectral_abscissa(A) - 1e-9 <= mu < -s


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), frac=st.floats(0.0, 0.98))
def test_lyapunov_weight_certifies_rates_between_s_and_alpha(seed, n, frac):
    rng = np.random.default_rng(seed)
    A = _random_hurwitz(rng, n)
    alpha = norms.spectral_abscissa(A)
    s = frac * -alpha
    P = lyapunov.lyapunov_weight(A, s)
    mu = norms.lognorm(A, 2, lyapunov.cholesky_weight(P))
    assert alpha - 1e-7 <= mu < -s + 1e-12


def test_lyapunov_weight_rejects_bad_input():
    A = np.array([[-1.0, 6.0], [0.0, -2.0]])
    with pytest.raises(ValueError, match="s must be below"):
        lyapunov.lyapunov_weight(A, 1.0)
    with pytest.raises(ValueError, match="s must be below"):
        lyapunov.lyapunov_weight(np.eye(2))
    with pytest.raises(TypeError, match="s must be a real number"):
        lyapunov.lyapunov_weight(A, "0.5")
    with pytest.raises(TypeError, match="s must be a real number"):
        lyapunov.lyapunov_weight(A, True)
    with pytest.raises(ValueError, match="s must be finite"):
        lyapunov.lyapunov_weight(A, np.nan)
    with pytest.raises(ValueError, match="Q must have shape"):
        lyapunov.lyapunov_weight(A, 0.0, np.eye(3))
    with pytest.raises(ValueError, match="Q must be positive definite"):
        lyapunov.lyapunov_weight(A, 0.0, -np.eye(2))
    with pytest.raises(ValueError, match="A must be square"):
        lyapunov.lyapunov_weight(np.ones((2, 3)))


# -------------------------------------------------------------------------------
# ellipse
def test_ellipse_points_lie_on_the_level_set():
    P = np.array([[2.0, 0.5], [0.5, 1.0]])
    center = np.array([1.0, -2.0])
    E = lyapunov.ellipse(P, radius=1.5, center=center, num=50)
    assert E.shape == (50, 2)
    D = E - center
    assert np.allclose(np.einsum("ij,jk,ik->i", D, P, D), 1.5**2)
    assert np.allclose(E[0], E[-1])


def test_ellipse_of_identity_is_the_circle():
    E = lyapunov.ellipse(np.eye(2), num=9)
    assert np.allclose(np.linalg.norm(E, axis=1), 1.0)


def test_ellipse_rejects_bad_input():
    with pytest.raises(ValueError, match="P must be 2 x 2"):
        lyapunov.ellipse(np.eye(3))
    with pytest.raises(ValueError, match="radius must be positive"):
        lyapunov.ellipse(np.eye(2), radius=0.0)
    with pytest.raises(ValueError, match="center must have length 2"):
        lyapunov.ellipse(np.eye(2), center=np.zeros(3))
    with pytest.raises(TypeError, match="num must be an integer"):
        lyapunov.ellipse(np.eye(2), num=2.5)
