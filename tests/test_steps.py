import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contraction import fixedpoint, norms, steps

matrices = st.integers(1, 5).flatmap(
    lambda n: arrays(float, (n, n), elements=st.floats(-5, 5, allow_nan=False))
)


@settings(max_examples=200, deadline=None)
@given(matrices, st.floats(0, 1))
def test_identity_holds_up_to_the_threshold(A, t):
    alpha = t * min(steps.linf_identity_threshold(A), 10.0)
    lhs = norms.induced_norm(np.eye(A.shape[0]) + alpha * A, np.inf)
    assert lhs == pytest.approx(1 + alpha * norms.lognorm(A, np.inf), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(matrices, st.floats(0, 20))
def test_norm_is_never_below_the_lognorm_line(A, alpha):
    lhs = norms.induced_norm(np.eye(A.shape[0]) + alpha * A, np.inf)
    assert lhs >= 1 + alpha * norms.lognorm(A, np.inf) - 1e-9


def test_threshold_values_and_sharpness():
    A = np.array([[-4.0, 1.0], [0.5, -2.0]])
    assert steps.linf_identity_threshold(A) == pytest.approx(0.25)
    assert steps.linf_identity_threshold(np.array([[1.0, 3.0], [0.0, 0.0]])) == np.inf
    # every row attains mu_inf, so the identity fails right after the threshold
    B = np.array([[-4.0, 3.0], [1.0, -2.0]])
    alpha = 1.01 * steps.linf_identity_threshold(B)
    assert norms.induced_norm(
        np.eye(2) + alpha * B, np.inf
    ) > 1 + alpha * norms.lognorm(B, np.inf)


def _brute_force(A, alpha, d_min, d_max):
    n = A.shape[0]
    return max(
        norms.induced_norm((1 - alpha) * np.eye(n) + alpha * np.diag(d) @ A, np.inf)
        for d in itertools.product((d_min, d_max), repeat=n)
    )


@pytest.mark.parametrize("seed", range(5))
def test_averaged_norm_matches_corner_enumeration(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(4, 4)) * 2
    d_min, d_max = sorted(rng.uniform(0, 2, 2))
    alphas = np.array([0.0, 0.05, 0.3, 0.9, 1.0, 1.7])
    got = steps.averaged_step_norm_inf(A, alphas, d_min, d_max)
    assert got.shape == alphas.shape
    expected = [_brute_force(A, a, d_min, d_max) for a in alphas]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # interior slopes never do worse than the corners
    for _ in range(20):
        d = rng.uniform(d_min, d_max, 4)
        inner = norms.induced_norm(0.7 * np.eye(4) + 0.3 * np.diag(d) @ A, np.inf)
        assert inner <= steps.averaged_step_norm_inf(A, 0.3, d_min, d_max) + 1e-12


@pytest.mark.parametrize("seed", range(5))
def test_averaged_norm_agrees_with_implicit_step_bounds(seed):
    rng = np.random.default_rng(seed)
    T = rng.normal(size=(6, 6))
    T[np.diag_indices(6)] = np.abs(np.diag(T))
    A = T - np.diag(np.abs(T).sum(axis=1)) + 0.5 * np.eye(6)  # mu_inf(A) = 0.5 exactly
    out = fixedpoint.implicit_step_bounds(A)
    value = steps.averaged_step_norm_inf(A, out["alpha"])
    assert isinstance(value, float)
    assert value == pytest.approx(out["factor"], rel=1e-12)
    # below the slides' step the factor is the straight line 1 - alpha * rate
    alphas = np.linspace(0, out["alpha"], 7)
    np.testing.assert_allclose(
        steps.averaged_step_norm_inf(A, alphas), 1 - alphas * out["rate"], rtol=1e-12
    )


def test_bad_input_is_rejected():
    A = np.eye(2)
    with pytest.raises(ValueError, match="A"):
        steps.linf_identity_threshold(np.ones((2, 3)))
    with pytest.raises(TypeError, match="A"):
        steps.averaged_step_norm_inf("A", 0.1)
    with pytest.raises(ValueError, match="alpha"):
        steps.averaged_step_norm_inf(A, -0.1)
    with pytest.raises(ValueError, match="alpha"):
        steps.averaged_step_norm_inf(A, [0.1, np.nan])
    with pytest.raises(ValueError, match="d_min"):
        steps.averaged_step_norm_inf(A, 0.1, d_min=2.0, d_max=1.0)
    with pytest.raises(ValueError, match="d_max"):
        steps.averaged_step_norm_inf(A, 0.1, d_max=-1.0)
    with pytest.raises(TypeError, match="d_min"):
        steps.averaged_step_norm_inf(A, 0.1, d_min="0")
