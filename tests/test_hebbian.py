"""Tests of contraction.hebbian: the classical Hopfield network."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import hebbian as hb
from contraction import hopfield

FAST = settings(max_examples=20, deadline=None)


def test_hebbian_weights_are_symmetric_with_zero_diagonal():
    xi = hb.random_patterns(3, 50, seed=0)
    W = hb.hebbian_weights(xi)
    assert np.array_equal(W, W.T) and np.all(np.diag(W) == 0)
    assert np.allclose(W, (xi.T @ xi - 3 * np.eye(50)) / 50)
    assert hopfield.hebbian is hb  # the classical network is reachable from hopfield


def test_few_patterns_are_stored_and_recalled_from_noisy_cues():
    xi = hb.random_patterns(4, 100, seed=1)
    W = hb.hebbian_weights(xi)
    assert np.array_equal(hb.sync_step(W, xi), xi)  # stored patterns are fixed points
    cue = hb.flip_bits(xi, 0.15, seed=2)
    assert np.all(hb.overlap(cue, xi).diagonal() < 0.75)
    for mode in hb.MODES:
        out = hb.recall(W, cue, mode=mode, seed=3)
        assert out.converged and np.array_equal(out.states, xi)


@FAST
@given(st.integers(0, 10**6), st.integers(1, 12))
def test_energy_never_increases_under_asynchronous_updates(seed, n_patterns):
    xi = hb.random_patterns(n_patterns, 30, seed=seed)
    W = hb.hebbian_weights(xi)
    s = hb.random_patterns(3, 30, seed=seed + 1)
    rng = np.random.default_rng(seed)
    energies = [hb.energy(W, s)]
    for i in rng.integers(0, 30, size=60):  # single-neuron updates, in a random order
        s = hb.update_neuron(W, s, int(i))
        energies.append(hb.energy(W, s))
    E = np.array(energies)
    assert np.all(np.diff(E, axis=0) <= 1e-12)
    run = hb.recall(W, s, mode="async", seed=seed)
    assert run.converged and np.all(np.diff(run.energies, axis=0) <= 1e-12)
    assert np.array_equal(hb.async_sweep(W, run.states), run.states)  # a fixed point


def test_synchronous_updates_can_end_in_a_two_cycle():
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    run = hb.recall(W, np.array([1.0, -1.0]), mode="sync", max_sweeps=5)
    assert not run.converged and np.array_equal(run.states, [-1.0, 1.0])
    assert hb.recall(W, np.array([1.0, -1.0]), mode="async").converged


def test_capacity_curve_drops_past_the_critical_load():
    curve = hb.capacity_curve(100, [5, 10, 30], trials=3, seed=0)
    assert np.allclose(curve["load"], [0.05, 0.10, 0.30])
    assert curve["recalled"][0] == 1.0 and curve["recalled"][1] >= 0.95
    assert curve["recalled"][2] < 0.5 and curve["overlap"][2] < 0.9
    again = hb.capacity_curve(100, [5, 10, 30], trials=3, seed=0)
    assert all(np.array_equal(curve[key], again[key]) for key in curve)  # seeded


def test_zero_field_keeps_the_spin():
    W = np.zeros((3, 3))
    s = np.array([1.0, -1.0, 1.0])
    assert np.array_equal(hb.sync_step(W, s), s)
    assert np.array_equal(hb.update_neuron(W, s, 1), s)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: hb.hebbian_weights([[1.0, 0.5]]),
            ValueError,
            "patterns must have entries -1",
        ),
        (
            lambda: hb.hebbian_weights([1.0, -1.0]),
            ValueError,
            "patterns must have shape",
        ),
        (lambda: hb.energy(np.eye(3), np.ones(2)), ValueError, "s has 2 neurons"),
        (
            lambda: hb.energy(np.ones((2, 3)), np.ones(3)),
            ValueError,
            "W must be square",
        ),
        (
            lambda: hb.update_neuron(np.eye(3), np.ones(3), 3),
            ValueError,
            "i must be a neuron",
        ),
        (
            lambda: hb.recall(np.eye(3), np.ones(3), mode="chaotic"),
            ValueError,
            "mode must be",
        ),
        (
            lambda: hb.recall(np.eye(3), np.ones(3), max_sweeps=0),
            ValueError,
            "max_sweeps",
        ),
        (lambda: hb.flip_bits(np.ones(3), 1.5), ValueError, "fraction must be"),
        (
            lambda: hb.overlap(np.ones(3), np.ones((2, 4))),
            ValueError,
            "patterns must have shape",
        ),
        (lambda: hb.random_patterns(0, 5), ValueError, "n_patterns"),
        (lambda: hb.capacity_curve(10, [2.5]), TypeError, "n_patterns"),
        (lambda: hb.energy(np.eye(2), "ab"), TypeError, "s must be"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
