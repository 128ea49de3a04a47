r"""The classical Hopfield network: Hebbian storage of binary patterns and recall
(Chapter 6).

States are spins :math:`s \in \{-1, 1\}^N`. Storing patterns :math:`\xi^1, \dots, \xi^P`
by Hebb's rule gives the symmetric weights :math:`W = \frac1N \sum_\mu \xi^\mu
(\xi^\mu)^\top` with zero diagonal, and the energy :math:`E(s) = -\tfrac12 s^\top W s`.
An *asynchronous* update sets one neuron to the sign of its local field, :math:`s_i
\leftarrow \operatorname{sign}((Ws)_i)` (keeping :math:`s_i` when the field is zero). It
changes the energy by :math:`\Delta E = -(Ws)_i\,\Delta s_i \le 0` (exact because
:math:`W` is symmetric with zero diagonal, and :math:`\Delta s_i` has the sign of the
field), so asynchronous recall never climbs the energy and stops at a local minimum.
*Synchronous* updates of all neurons at once have no such guarantee: they may end in a
2-cycle.

With random patterns recall works up to a load :math:`P/N \approx 0.138` (Amit,
Gutfreund and Sompolinsky); :func:`capacity_curve` measures it on small networks,
seeded.

Everything here is NumPy in float64 and seeded, so results reproduce exactly across
machines.

References: J. J. Hopfield, "Neural networks and physical systems with emergent
collective computational abilities", PNAS 79, 1982 (``hopfield1982``); D. J. Amit, H.
Gutfreund, H. Sompolinsky, "Storing infinite numbers of patterns in a spin-glass model
of neural networks", Phys. Rev. Lett. 55, 1985; S. Jaffe, PhD thesis, UCSB 2024, Section
3.1 (``jaffe2024``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._checks import as_positive_int, as_real_array, as_square_matrix

MODES = ("async", "sync")

__all__ = [
    "as_spins",
    "random_patterns",
    "hebbian_weights",
    "energy",
    "update_neuron",
    "async_sweep",
    "sync_step",
    "recall",
    "Recall",
    "overlap",
    "flip_bits",
    "capacity_curve",
    "MODES",
]


def as_spins(value, name: str = "s") -> np.ndarray:
    """Return ``value`` as a float array of spins, or raise unless every entry is -1 or
    +1."""
    arr = as_real_array(value, name)
    if not np.all(np.abs(arr) == 1.0):
        raise ValueError(f"{name} must have entries -1 or +1 only")
    return arr


def random_patterns(n_patterns: int, n_neurons: int, seed: int = 0) -> np.ndarray:
    """``n_patterns`` independent uniform random spin patterns, shape (P, N), seeded."""
    n_patterns = as_positive_int(n_patterns, "n_patterns")
    n_neurons = as_positive_int(n_neurons, "n_neurons")
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=(n_patterns, n_neurons))


def hebbian_weights(patterns) -> np.ndarray:
    """Hebb's rule: W = patterns^T patterns / N with a zero diagonal; patterns (P, N) of
    spins."""
    xi = as_spins(patterns, "patterns")
    if xi.ndim != 2:
        raise ValueError(f"patterns must have shape (P, N), got {xi.shape}")
    W = xi.T @ xi / xi.shape[1]
    np.fill_diagonal(W, 0.0)  # no self-coupling: it is what makes async updates descend
    return W


def _check_pair(W, s):
    W = as_square_matrix(W, "W")
    s = as_spins(s, "s")
    if s.shape[-1] != W.shape[0]:
        raise ValueError(
            f"s has {s.shape[-1]} neurons but W is {W.shape[0]} x {W.shape[0]}"
        )
    return W, s


def energy(W, s) -> np.ndarray:
    """Hopfield energy E(s) = -s^T W s / 2 for states ``s`` of shape (..., N); shape
    (...,)."""
    W, s = _check_pair(W, s)
    return -0.5 * np.einsum("...i,ij,...j->...", s, W, s)


def _tie(W):
    return 1e-9 * np.abs(W).max()


def _sign_keep(field, s, tie):
    # Sign of the local field; a zero field keeps the old spin (so energy cannot rise).
    # "Zero" allows for rounding: Hebbian fields are multiples of 1/N, and a BLAS that
    # sums in another order must not turn an exact tie into a flip on some machines
    # only.
    return np.where(field > tie, 1.0, np.where(field < -tie, -1.0, s))


def update_neuron(W, s, i: int) -> np.ndarray:
    """Asynchronous update of neuron ``i`` in every state of the batch ``s`` (..., N); a
    copy."""
    W, s = _check_pair(W, s)
    if (
        isinstance(i, bool)
        or not isinstance(i, numbers.Integral)
        or not 0 <= i < W.shape[0]
    ):
        raise ValueError(f"i must be a neuron index in 0..{W.shape[0] - 1}, got {i!r}")
    return _update(W, s.copy(), int(i), _tie(W))


def _update(W, s, i, tie):
    s[..., i] = _sign_keep(s @ W[:, i], s[..., i], tie)
    return s


def async_sweep(W, s, order=None) -> np.ndarray:
    """Update every neuron once, one at a time, in ``order`` (default 0..N-1); returns a
    copy."""
    W, s = _check_pair(W, s)
    order = range(W.shape[0]) if order is None else order
    s, tie = s.copy(), _tie(W)
    for i in order:
        s = _update(W, s, int(i), tie)
    return s


def sync_step(W, s) -> np.ndarray:
    """All neurons at once: s+ = sign(W s), keeping a spin whose field is zero."""
    W, s = _check_pair(W, s)
    return _sign_keep(s @ W, s, _tie(W))


@dataclass
class Recall:
    """Outcome of :func:`recall`: final states, energy after each sweep (sweeps + 1,
    ...)."""

    states: np.ndarray
    energies: np.ndarray
    sweeps: int
    converged: bool
    mode: str


def recall(W, s0, mode: str = "async", max_sweeps: int = 100, seed: int = 0) -> Recall:
    """Run the network from ``s0`` (..., N) until no spin changes or ``max_sweeps`` run
    out.

    ``mode="async"`` updates neurons one at a time in a fresh random order each sweep
    (shared by the batch, seeded); ``"sync"`` updates all at once and may stop in a
    2-cycle (``converged`` False).
    """
    W, s = _check_pair(W, s0)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    max_sweeps = as_positive_int(max_sweeps, "max_sweeps")
    rng = np.random.default_rng(seed)
    energies = [energy(W, s)]
    for sweep in range(1, max_sweeps + 1):
        new = (
            async_sweep(W, s, rng.permutation(W.shape[0]))
            if mode == "async"
            else sync_step(W, s)
        )
        energies.append(energy(W, new))
        if np.array_equal(new, s):
            return Recall(new, np.array(energies), sweep, True, mode)
        s = new
    return Recall(s, np.array(energies), max_sweeps, False, mode)


def overlap(s, patterns) -> np.ndarray:
    """Overlaps m = s . xi / N of states (..., N) with patterns (P, N); shape (..., P),
    in [-1, 1]."""
    s = as_spins(s, "s")
    xi = as_spins(patterns, "patterns")
    if xi.ndim != 2 or xi.shape[1] != s.shape[-1]:
        raise ValueError(f"patterns must have shape (P, {s.shape[-1]}), got {xi.shape}")
    return s @ xi.T / xi.shape[1]


def flip_bits(s, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of ``s`` (..., N) with ``round(fraction * N)`` spins flipped in each
    state, seeded."""
    s = as_spins(s, "s").copy()
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, numbers.Real)
        or not 0.0 <= fraction <= 1.0
    ):
        raise ValueError(f"fraction must be a number in [0, 1], got {fraction!r}")
    rng = np.random.default_rng(seed)
    n = s.shape[-1]
    flat = s.reshape(-1, n)
    count = int(round(fraction * n))
    for row in flat:
        row[rng.choice(n, size=count, replace=False)] *= -1.0
    return flat.reshape(s.shape)


def capacity_curve(
    n_neurons: int,
    n_patterns,
    trials: int = 5,
    noise: float = 0.0,
    min_overlap: float = 0.95,
    max_sweeps: int = 30,
    seed: int = 0,
) -> dict:
    """Measured recall against load P/N: the seeded capacity experiment of Section 6.1.

    For each P in ``n_patterns`` and each trial, store P random patterns in a network of
    ``n_neurons``, start from every pattern with a ``noise`` fraction of spins flipped,
    recall asynchronously, and count a pattern as recalled when the final overlap is >=
    ``min_overlap``. Returns arrays ``n_patterns``, ``load`` (P/N), ``recalled`` (mean
    fraction over trials), ``recalled_std`` and ``overlap`` (mean final overlap).
    """
    n_neurons = as_positive_int(n_neurons, "n_neurons")
    counts = [
        as_positive_int(p, "n_patterns") for p in np.atleast_1d(n_patterns).tolist()
    ]
    trials = as_positive_int(trials, "trials")
    rng = np.random.default_rng(seed)
    recalled, overlaps = (
        np.zeros((len(counts), trials)),
        np.zeros((len(counts), trials)),
    )
    for a, p in enumerate(counts):
        for t in range(trials):
            child = int(rng.integers(2**31))  # one independent seed per (P, trial)
            xi = random_patterns(p, n_neurons, seed=child)
            start = flip_bits(xi, noise, seed=child + 1)
            final = recall(
                hebbian_weights(xi), start, max_sweeps=max_sweeps, seed=child + 2
            )
            m = np.einsum("pi,pi->p", final.states, xi) / n_neurons
            recalled[a, t] = np.mean(m >= min_overlap)
            overlaps[a, t] = m.mean()
    return {
        "n_patterns": np.array(counts),
        "load": np.array(counts) / n_neurons,
        "recalled": recalled.mean(1),
        "recalled_std": recalled.std(1),
        "overlap": overlaps.mean(1),
    }
