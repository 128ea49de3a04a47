import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import networks, norms, systems
from contraction.book import exercises


def _ring_network(k=0.3):
    blocks = [np.array([[a, -0.3], [0.3, a]]) for a in (0.2, 0.0, 0.3, 0.1)]
    C = np.array([[0.8, 0.4], [-0.2, 0.6]])
    return blocks, networks.ring_couplings(4, k * C, [1.0, 0.6, 1.2, 0.8])


def test_gain_matrix_layout_and_metzler_hurwitz():
    G = networks.gain_matrix([1.0, 2.0], [[0.0, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(G, [[-1.0, 0.5], [1.0, -2.0]])
    assert norms.is_metzler(G) and networks.is_hurwitz(G)
    assert not norms.is_metzler([[-1.0, -0.1], [0.0, -1.0]])
    assert norms.is_metzler([[-1.0, -0.1], [0.0, -1.0]], tol=0.2)
    assert not networks.is_hurwitz(
        [[0.0, 1.0], [-1.0, 0.0]]
    )  # purely imaginary eigenvalues


@pytest.mark.parametrize(
    "rates, gains, match",
    [
        ([1.0, 0.0], np.zeros((2, 2)), "rates"),
        ([1.0, 1.0], [[0.0, -1.0], [0.0, 0.0]], "gains"),
        ([1.0, 1.0], [[0.5, 0.0], [0.0, 0.0]], "gains"),
        ([1.0, 1.0, 1.0], np.zeros((2, 2)), "gains"),
        ([[1.0]], np.zeros((1, 1)), "rates"),
    ],
)
def test_gain_matrix_rejects_bad_input(rates, gains, match):
    with pytest.raises(ValueError, match=match):
        networks.gain_matrix(rates, gains)


def test_certificate_irreducible_attains_the_spectral_abscissa():
    G = networks.gain_matrix([1.0, 2.0, 0.5], [[0, 0.3, 0], [0, 0, 0.7], [0.2, 0, 0]])
    cert = networks.interconnection_certificate(G)
    assert cert["contracting"] and cert["irreducible"]
    assert cert["rate"] == pytest.approx(-norms.spectral_abscissa(G))
    assert cert["rate_achieved"] == pytest.approx(cert["rate"], abs=1e-10)
    assert cert["weight"].max() == pytest.approx(1.0) and np.all(cert["weight"] > 0)


def test_certificate_reducible_cascade_is_approached():
    G = networks.gain_matrix(
        [1.0, 1.0], [[0.0, 5.0], [0.0, 0.0]]
    )  # a cascade: any gain is fine
    cert = networks.interconnection_certificate(G)
    assert cert["contracting"] and not cert["irreducible"]
    assert cert["rate"] == pytest.approx(1.0)
    assert cert["rate"] - 1e-4 <= cert["rate_achieved"] <= cert["rate"] + 1e-12


def test_certificate_lost_beyond_small_gain_and_for_non_metzler():
    c1, c2 = 1.0, 0.5
    for g in (0.6, 0.8):  # g12 * g21 = g**2 versus c1 * c2 = 0.5
        G = networks.gain_matrix([c1, c2], [[0, g], [g, 0]])
        assert networks.interconnection_certificate(G)["contracting"] == (
            g * g < c1 * c2
        )
    cert = networks.interconnection_certificate([[-1.0, -0.5], [0.2, -1.0]])
    assert not cert["contracting"]


def test_certified_rate_two_subsystems_closed_form():
    c1, c2, g12, g21 = 1.0, 0.5, 0.4, 0.6
    expected = (c1 + c2 - np.sqrt((c1 - c2) ** 2 + 4 * g12 * g21)) / 2
    assert networks.certified_rate([c1, c2], [[0, g12], [g21, 0]]) == pytest.approx(
        expected
    )
    assert networks.certified_rate([c1, c2], [[0, 2.0], [2.0, 0]]) == 0.0


def test_gain_certificate_exercise_accepts_reference():
    assert "ch3.gain_certificate" in exercises.available()
    assert exercises.check("ch3.gain_certificate", networks.certified_rate, quiet=True)
    assert not exercises.check(
        "ch3.gain_certificate",
        lambda r, g: -np.max(np.linalg.eigvals(networks.gain_matrix(r, g)).real),
        quiet=True,
    )  # forgets the "0.0 if not Hurwitz" case


def test_composite_norm_values_and_trajectories():
    x = np.array([3.0, -4.0, 1.0, 1.0, -2.0])
    sizes, eta = [2, 3], np.array([0.5, 2.0])
    assert networks.composite_norm(x, sizes, 2, eta) == pytest.approx(
        max(0.5 * 5, 2 * 6**0.5)
    )
    assert networks.composite_norm(x, sizes, [np.inf, 1], eta) == pytest.approx(
        max(2.0, 8.0)
    )
    X = np.stack([x, 2 * x])
    np.testing.assert_allclose(
        networks.composite_norm(X, sizes, 2, eta),
        np.array([1, 2]) * networks.composite_norm(x, sizes, 2, eta),
    )
    w = networks.expand_weight(eta, sizes)
    assert networks.composite_norm(x, sizes, np.inf, eta) == pytest.approx(
        norms.vector_norm(x, np.inf, w)
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.ones(4)}, "x"),
        ({"sizes": [2, 0, 3]}, "sizes"),
        ({"sizes": 5}, "sizes"),
        ({"eta": [1.0, -1.0]}, "eta"),
        ({"eta": [1.0, 1.0, 1.0]}, "eta"),
        ({"norms_per_block": 3}, "p"),
        ({"norms_per_block": [2]}, "norms_per_block"),
    ],
)
def test_composite_norm_rejects_bad_input(kwargs, match):
    args = {"x": np.ones(5), "sizes": [2, 3], "norms_per_block": 2, "eta": [1.0, 1.0]}
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        networks.composite_norm(**args)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from([1, 2, np.inf]))
def test_block_majorant_bounds_the_composite_lognorm(seed, p):
    """Ström: (||(I + hJ)x|| - ||x||)/h <= mu_inf,eta(majorant) ||x|| in the composite
    norm."""
    rng = np.random.default_rng(seed)
    sizes = [2, 1, 3]
    J = rng.normal(size=(6, 6))
    eta = rng.uniform(0.3, 2.0, 3)
    bound = norms.lognorm(networks.block_majorant(J, sizes, p), np.inf, eta)
    h = 1e-7
    for x in rng.normal(size=(20, 6)):
        nx = networks.composite_norm(x, sizes, p, eta)
        slope = (networks.composite_norm(x + h * J @ x, sizes, p, eta) - nx) / h
        assert slope <= bound * nx + 1e-5 * (1 + abs(bound)) * nx
    if p == np.inf:  # l_inf blocks: the composite norm is a weighted l_inf norm
        assert (
            norms.lognorm(J, np.inf, networks.expand_weight(eta, sizes))
            <= bound + 1e-12
        )


def test_block_majorant_rejects_bad_sizes():
    with pytest.raises(ValueError, match="sizes"):
        networks.block_majorant(np.eye(4), [2, 3])


def test_coupled_firing_rate_matches_its_full_matrix_and_jacobian():
    blocks, couplings = _ring_network()
    F = networks.coupled_firing_rate(blocks, couplings)
    assert F.dim == 8 and F.params["sizes"] == [2, 2, 2, 2]
    W = F.params["W"]
    np.testing.assert_array_equal(W[2:4, 0:2], couplings[(1, 0)])
    np.testing.assert_array_equal(W[0:2, 0:2], blocks[0])
    x = np.random.default_rng(1).normal(size=8)
    np.testing.assert_allclose(
        F.jacobian(x), systems.numerical_jacobian(F, x), atol=1e-6
    )


def test_firing_rate_gains_and_gain_matrix_bound_the_jacobian():
    blocks, couplings = _ring_network()
    rates, gains = networks.firing_rate_gains(blocks, couplings, np.inf)
    np.testing.assert_allclose(rates, [0.5, 0.7, 0.4, 0.6])
    assert gains[1, 0] == pytest.approx(0.6 * 0.3 * 1.2)
    G = networks.gain_matrix(rates, gains)
    F = networks.coupled_firing_rate(blocks, couplings)
    rng = np.random.default_rng(2)
    for x in rng.normal(scale=2.0, size=(50, 8)):
        assert np.all(networks.block_majorant(F.jacobian(x), [2] * 4) <= G + 1e-12)
    r2, g2 = networks.firing_rate_gains(blocks, couplings, 2)
    np.testing.assert_allclose(r2, [1 - np.linalg.norm(B, 2) for B in blocks])
    assert (
        g2[1, 0] == pytest.approx(np.linalg.norm(couplings[(1, 0)], 2))
        and g2[0, 1] == 0.0
    )


def test_certified_rate_holds_for_simulated_pairs():
    blocks, couplings = _ring_network(0.3)
    cert = networks.interconnection_certificate(
        networks.gain_matrix(*networks.firing_rate_gains(blocks, couplings))
    )
    assert cert["contracting"]
    F = networks.coupled_firing_rate(blocks, couplings)
    rng = np.random.default_rng(3)
    t, X = systems.simulate(F, rng.uniform(-2, 2, 8), 10.0)
    _, Y = systems.simulate(F, rng.uniform(-2, 2, 8), 10.0)
    d = networks.composite_norm(X - Y, [2] * 4, np.inf, cert["weight"])
    assert systems.measured_rate(t, d) >= cert["rate"] - 1e-6


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: networks.coupled_firing_rate([], {}), "blocks"),
        (lambda: networks.coupled_firing_rate([np.eye(2)], []), "couplings"),
        (
            lambda: networks.coupled_firing_rate(
                [np.eye(2), np.eye(1)], {(0, 0): np.eye(2)}
            ),
            "different",
        ),
        (
            lambda: networks.coupled_firing_rate(
                [np.eye(2), np.eye(1)], {(0, 2): np.eye(2)}
            ),
            "keys",
        ),
        (
            lambda: networks.coupled_firing_rate(
                [np.eye(2), np.eye(1)], {(0, 1): np.eye(2)}
            ),
            "shape",
        ),
        (lambda: networks.coupled_firing_rate([np.ones((2, 3))], {}), "blocks"),
        (lambda: networks.ring_couplings(1, np.eye(2)), "n"),
        (lambda: networks.ring_couplings(3, np.eye(2), [1.0, 2.0]), "strengths"),
        (lambda: networks.firing_rate_gains([np.eye(2)], {}, 1), "p"),
    ],
)
def test_network_builders_reject_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
