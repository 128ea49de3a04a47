import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contraction import norms

P_VALUES = (1, 2, np.inf)
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def square(n=3):
    return arrays(float, (n, n), elements=finite)


@pytest.mark.parametrize("p", P_VALUES)
def test_closed_forms_match_limit_definition(p):
    A = np.array([[-2.0, 1.0, 0.5], [3.0, -4.0, 1.0], [0.0, -1.0, 0.3]])
    quotient = norms.lognorm_limit_quotient(A, 1e-7, p)
    assert quotient == pytest.approx(norms.lognorm(A, p), abs=1e-5)


def test_known_values():
    A = np.array([[-2.0, 1.0], [3.0, -4.0]])
    assert norms.lognorm(A, 1) == pytest.approx(1.0)
    assert norms.lognorm(A, np.inf) == pytest.approx(-1.0)
    assert norms.lognorm(A, 2) == pytest.approx(-3 + np.sqrt(5))
    assert norms.induced_norm(A, 1) == pytest.approx(5.0)
    assert norms.induced_norm(A, np.inf) == pytest.approx(7.0)
    assert norms.spectral_abscissa(A) == pytest.approx(-1.0)


@pytest.mark.parametrize("p", P_VALUES)
def test_vector_weight_is_similarity(p):
    rng = np.random.default_rng(0)
    A, eta = rng.normal(size=(4, 4)), rng.uniform(0.5, 2, 4)
    D = np.diag(eta)
    assert norms.lognorm(A, p, eta) == pytest.approx(
        norms.lognorm(D @ A @ np.linalg.inv(D), p)
    )
    assert norms.induced_norm(A, p, eta) == pytest.approx(
        norms.induced_norm(D @ A @ np.linalg.inv(D), p)
    )
    x = rng.normal(size=4)
    assert norms.vector_norm(x, p, eta) == pytest.approx(np.linalg.norm(eta * x, p))


def test_matrix_weight_is_lmi_rate():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 3))
    L = np.tril(rng.normal(size=(3, 3))) + 3 * np.eye(3)
    P = L @ L.T
    R = np.linalg.cholesky(P).T
    b = norms.lognorm(A, 2, R)
    lmi = A.T @ P + P @ A - 2 * b * P
    assert np.linalg.eigvalsh(lmi)[-1] == pytest.approx(0.0, abs=1e-8)


def test_metzler_majorant():
    A = np.array([[-1.0, -2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(norms.metzler_majorant(A), [[-1, 2], [3, -4]])
    for p in (1, np.inf):
        assert norms.lognorm(A, p) == norms.lognorm(norms.metzler_majorant(A), p)


@settings(max_examples=60, deadline=None)
@given(square(), square(), st.sampled_from(P_VALUES))
def test_subadditive(A, B, p):
    assert norms.lognorm(A + B, p) <= norms.lognorm(A, p) + norms.lognorm(B, p) + 1e-9


@settings(max_examples=60, deadline=None)
@given(square(), st.floats(0, 5), st.sampled_from(P_VALUES))
def test_positive_homogeneous(A, b, p):
    assert norms.lognorm(b * A, p) == pytest.approx(b * norms.lognorm(A, p), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(square(), st.sampled_from(P_VALUES))
def test_sandwiched_between_spectral_abscissa_and_norm(A, p):
    mu = norms.lognorm(A, p)
    assert norms.spectral_abscissa(A) <= mu + 1e-8
    assert mu <= norms.induced_norm(A, p) + 1e-9
    assert -norms.induced_norm(A, p) - 1e-9 <= mu


@settings(max_examples=40, deadline=None)
@given(square(), square(), st.floats(0, 1), st.sampled_from(P_VALUES))
def test_convex(A, B, theta, p):
    mixed = norms.lognorm(theta * A + (1 - theta) * B, p)
    assert (
        mixed <= theta * norms.lognorm(A, p) + (1 - theta) * norms.lognorm(B, p) + 1e-8
    )


@pytest.mark.parametrize("func", [norms.lognorm, norms.induced_norm])
def test_bad_matrix_input(func):
    with pytest.raises(ValueError, match="A must be square"):
        func(np.ones((2, 3)))
    with pytest.raises(ValueError, match="A must have 2 dimension"):
        func(np.ones(3))
    with pytest.raises(ValueError, match="A has non-finite"):
        func(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="A must be real"):
        func(np.eye(2) * 1j)
    with pytest.raises(TypeError, match="A must be a real array"):
        func("matrix")
    with pytest.raises(ValueError, match="p must be 1, 2 or np.inf"):
        func(np.eye(2), p=3)
    with pytest.raises(ValueError, match="weight must have strictly positive"):
        func(np.eye(2), 1, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="weight must have length 2"):
        func(np.eye(2), 1, np.ones(3))
    with pytest.raises(ValueError, match="matrix weight is only defined for p=2"):
        func(np.eye(2), np.inf, np.eye(2))
    with pytest.raises(ValueError, match="weight must be an invertible"):
        func(np.eye(2), 2, np.zeros((2, 2)))


def test_bad_input_other_functions():
    with pytest.raises(ValueError, match="x must have 1 dimension"):
        norms.vector_norm(np.eye(2))
    with pytest.raises(ValueError, match="h must be a positive"):
        norms.lognorm_limit_quotient(np.eye(2), 0.0)
    with pytest.raises(ValueError, match="A must be square"):
        norms.metzler_majorant(np.ones((1, 2)))
    with pytest.raises(ValueError, match="A has non-finite"):
        norms.spectral_abscissa(np.array([[np.inf]]))
    with pytest.raises(ValueError, match="p must be"):
        norms.vector_norm(np.ones(2), p="fro")


@pytest.mark.parametrize("p", [1, np.inf])
def test_lumer_equality_and_compatibility(p):
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 3))
    xs = rng.normal(size=(4000, 3))
    xs /= np.linalg.norm(xs, ord=p, axis=1, keepdims=True)
    sampled = max(norms.weak_pairing(A @ x, x, p) for x in xs)
    assert sampled <= norms.lognorm(A, p) + 1e-12
    for x in xs[:20]:
        assert norms.weak_pairing(x, x, p) == pytest.approx(
            norms.vector_norm(x, p) ** 2
        )


def test_weak_pairing_values():
    x, y = np.array([1.0, 2.0, -3.0]), np.array([0.5, -2.0, 2.0])
    assert norms.weak_pairing(x, y, 2) == pytest.approx(x @ y)
    assert norms.weak_pairing(x, y, 1) == pytest.approx(4.5 * (1.0 - 2.0 - 3.0))
    assert norms.weak_pairing(x, y, np.inf) == pytest.approx(
        max(-2.0 * 2.0, 2.0 * -3.0)
    )
    with pytest.raises(ValueError, match="x and y must have the same length"):
        norms.weak_pairing(np.ones(2), np.ones(3))


@pytest.mark.parametrize("p", [1, np.inf])
def test_optimal_weight_irreducible(p):
    A = np.array([[-2.0, 1.0, 0.0], [0.5, -3.0, 2.0], [1.0, 0.0, -1.0]])
    eta, value = norms.optimal_weight(A, p)
    alpha = norms.spectral_abscissa(norms.metzler_majorant(A))
    assert value == pytest.approx(alpha) and value < norms.lognorm(A, p)
    rng = np.random.default_rng(0)
    for _ in range(200):  # no other weight does better
        assert norms.lognorm(A, p, rng.uniform(0.01, 1, 3)) >= value - 1e-12


@pytest.mark.parametrize("p", [1, np.inf])
def test_optimal_weight_reducible_approaches_infimum(p):
    A = np.array(
        [[-1.0, 5.0], [0.0, -2.0]]
    )  # upper triangular: the infimum -1 is not attained
    eta, value = norms.optimal_weight(A, p)
    assert np.all(eta > 0)
    assert -1.0 <= value <= -1.0 + 1e-5
    eta, value = norms.optimal_weight(np.diag([-1.0, -3.0]), p)
    np.testing.assert_array_equal(eta, [1.0, 1.0])


def test_optimal_weight_bad_input():
    with pytest.raises(ValueError, match="p must be 1 or np.inf"):
        norms.optimal_weight(np.eye(2), 2)
    with pytest.raises(ValueError, match="A must be square"):
        norms.optimal_weight(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tol must be positive"):
        norms.optimal_weight(np.eye(2), np.inf, tol=0)
