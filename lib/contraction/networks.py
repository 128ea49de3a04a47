r"""Networks of contracting systems: gain matrices, composite norms and a coupled
network model.

Chapter 3, Section 3.1 of the book ("Networks of contracting systems"). A network of
``n`` subsystems :math:`\dot x_i = f_i(x_i, x_{-i})`, :math:`x_i \in \mathbb{R}^{N_i}`
with a norm :math:`\|\cdot\|_i`, is summarised by two kinds of numbers:

* the rate :math:`c_i > 0` at which subsystem ``i`` contracts on its own,
  :math:`\operatorname{osLip}_i\big(f_i(\cdot, x_{-i})\big) \le -c_i` for every
  :math:`x_{-i}`;
* the coupling gains :math:`\gamma_{ij} \ge 0`, :math:`\|f_i(x_i, x_{-i}) - f_i(x_i,
  y_{-i})\|_i \le \sum_{j \ne i}\gamma_{ij}\|x_j - y_j\|_j`.

They form the **gain matrix** :math:`\Gamma` (:math:`-c_i` on the diagonal,
:math:`\gamma_{ij}` off it), a Metzler matrix. For every weight :math:`\eta > 0` two
solutions of the network obey :math:`\|x(t) - y(t)\|_\eta \le
e^{\mu_{\infty,[\eta]}(\Gamma)t}\|x(0) - y(0)\|_\eta` in the **composite norm**
:math:`\|x\|_\eta = \max_i \eta_i\|x_i\|_i`; if :math:`\Gamma` is Hurwitz the best
weight (the inverse right Perron vector) makes the exponent :math:`\alpha(\Gamma) < 0`.

Reference: A. Davydov, S. Jafarpour, F. Bullo, "Non-Euclidean contraction theory for
robust nonlinear stability", IEEE TAC 67(12), 2022; F. Bullo, *Contraction Theory for
Dynamical Systems*, KDP (2023), Chapter 3; T. Ström, "On logarithmic norms", SIAM J.
Numer. Anal. 12(5), 1975.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from . import norms
from ._checks import as_positive_int, as_real_array, as_square_matrix, check_p
from ._records import Record
from .rnn import firing_rate
from .systems import VectorField

__all__ = [
    "InterconnectionCertificate",
    "gain_matrix",
    "is_hurwitz",
    "interconnection_certificate",
    "certified_rate",
    "composite_norm",
    "expand_weight",
    "block_majorant",
    "ring_couplings",
    "coupled_firing_rate",
    "firing_rate_gains",
]


@dataclass(frozen=True)
class InterconnectionCertificate(Record):
    """Outcome of :func:`interconnection_certificate` (fields described there)."""

    contracting: bool
    rate: float
    weight: np.ndarray
    rate_achieved: float
    irreducible: bool


def gain_matrix(rates, gains) -> np.ndarray:
    r"""The gain matrix :math:`\Gamma`: ``-rates`` on the diagonal, ``gains`` off it.

    Parameters
    ----------
    rates : array of shape (n,)
        Contraction rates :math:`c_i > 0` of the isolated subsystems.
    gains : array of shape (n, n)
        Coupling gains :math:`\gamma_{ij} \ge 0` (the Lipschitz constant of :math:`f_i`
        in :math:`x_j`), with a zero diagonal.

    Returns
    -------
    Gamma : array of shape (n, n), a Metzler matrix.

    Section 3.1; see Davydov, Jafarpour, Bullo (IEEE TAC 2022).
    """
    rates = as_real_array(rates, "rates", ndim=1)
    gains = as_square_matrix(gains, "gains")
    if gains.shape[0] != rates.size:
        raise ValueError(
            f"gains must have shape ({rates.size}, {rates.size}) to match rates, got "
            f"{gains.shape}"
        )
    if np.any(rates <= 0):
        raise ValueError(
            "rates must be strictly positive (each subsystem must contract)"
        )
    if np.any(gains < 0):
        raise ValueError("gains must be non-negative")
    if np.any(np.diag(gains) != 0):
        raise ValueError(
            "gains must have a zero diagonal (a subsystem does not couple to itself)"
        )
    return gains - np.diag(rates)


def is_hurwitz(M) -> bool:
    r"""True if every eigenvalue of ``M`` has negative real part (:math:`\alpha(M) <
    0`).

    For a Metzler ``M`` this holds exactly when :math:`Mv < 0` for some vector :math:`v
    > 0` (Section 3.1; Bullo 2023, Chapter 3).
    """
    return norms.spectral_abscissa(as_square_matrix(M, "M")) < 0


def interconnection_certificate(Gamma, tol=1e-6) -> InterconnectionCertificate:
    r"""The contraction certificate of a network with gain matrix ``Gamma``.

    Returns an :class:`InterconnectionCertificate` with

    * ``"contracting"``: True when ``Gamma`` is Metzler and Hurwitz (the theorem applies
      and certifies strong contraction);
    * ``"rate"``: :math:`-\alpha(\Gamma)`. For a Metzler :math:`\Gamma` every rate below
      it is certified: :math:`\|x(t)-y(t)\|_\eta \le e^{-ct}\|x(0)-y(0)\|_\eta` with
      :math:`c` as close to ``rate`` as wanted (a negative value bounds how fast
      solutions can separate);
    * ``"weight"``: :math:`\eta` from :func:`contraction.norms.optimal_weight` with
      ``p=inf`` (normalised to ``max = 1``); the certifying norm is :math:`\|x\|_\eta =
      \max_i\eta_i\|x_i\|_i`;
    * ``"rate_achieved"``: :math:`-\mu_{\infty,[\eta]}(\Gamma)`, the rate this weight
      certifies. For an irreducible ``Gamma`` it equals ``rate`` (:math:`\eta = 1/v`,
      :math:`v` the right Perron vector). For a reducible one the best rate may not be
      attained by any weight; the returned weight achieves ``rate`` up to ``tol`` times
      the scale of ``Gamma``, and ``rate_achieved <= rate``;
    * ``"irreducible"``: whether the coupling graph of ``Gamma`` is strongly connected.

    For a matrix that is not Metzler the theorem does not apply (``contracting`` is
    False). Section 3.1; Davydov, Jafarpour, Bullo (IEEE TAC 2022).
    """
    Gamma = as_square_matrix(Gamma, "Gamma")
    alpha = norms.spectral_abscissa(Gamma)
    eta, value = norms.optimal_weight(Gamma, np.inf, tol=tol)
    return InterconnectionCertificate(
        contracting=norms.is_metzler(Gamma) and alpha < 0,
        rate=-alpha,
        weight=eta,
        rate_achieved=-norms.lognorm(Gamma, np.inf, eta),
        irreducible=norms.is_irreducible(Gamma),
    )


def certified_rate(rates, gains) -> float:
    r"""The contraction rate the gain-matrix theorem certifies: :math:`-\alpha(\Gamma)`,
    or 0.0.

    ``Gamma = gain_matrix(rates, gains)``; returns :math:`-\alpha(\Gamma)` when it is
    positive (``Gamma`` Hurwitz) and ``0.0`` when the theorem certifies nothing. For two
    subsystems this is :math:`\big(c_1 + c_2 - \sqrt{(c_1 - c_2)^2 +
    4\gamma_{12}\gamma_{21}}\big)/2`, positive exactly when
    :math:`\gamma_{12}\gamma_{21} < c_1c_2` (small gain). Reference solution of the
    self-check ``ch3.gain_certificate`` (Section 3.1).
    """
    alpha = norms.spectral_abscissa(gain_matrix(rates, gains))
    return float(-alpha) if alpha < 0 else 0.0


def _check_sizes(sizes) -> list[int]:
    if (
        isinstance(sizes, numbers.Integral)
        or not hasattr(sizes, "__len__")
        or len(sizes) == 0
    ):
        raise TypeError("sizes must be a non-empty sequence of positive integers")
    return [as_positive_int(s, "sizes") for s in sizes]


def _check_block_norms(norms_per_block, n: int) -> list[float]:
    if isinstance(norms_per_block, (list, tuple, np.ndarray)):
        if len(norms_per_block) != n:
            raise ValueError(
                f"norms_per_block must have {n} entries, got {len(norms_per_block)}"
            )
        return [check_p(p) for p in norms_per_block]
    return [check_p(norms_per_block)] * n


def _check_eta(eta, n: int) -> np.ndarray:
    eta = as_real_array(eta, "eta", ndim=1)
    if eta.shape != (n,):
        raise ValueError(
            f"eta must have length {n} (one weight per block), got {eta.size}"
        )
    if np.any(eta <= 0):
        raise ValueError("eta must have strictly positive entries")
    return eta


def composite_norm(x, sizes, norms_per_block, eta):
    r"""The composite norm :math:`\|x\|_\eta = \max_i \eta_i \|x_i\|_{p_i}` of a stacked
    state.

    Parameters
    ----------
    x : array of shape (N,) or (T, N)
        A stacked state :math:`(x_1, \dots, x_n)`, or one state per row (e.g. a
        trajectory).
    sizes : sequence of n positive ints
        Block sizes :math:`N_i`, summing to ``N``.
    norms_per_block : 1, 2, np.inf, or a sequence of n of them
        The norm :math:`p_i` of each block.
    eta : array of shape (n,)
        Positive block weights.

    Returns
    -------
    float or ndarray of shape (T,)
        One value for a single state, one per row for a trajectory. Section 3.1.
    """
    sizes = _check_sizes(sizes)
    ps = _check_block_norms(norms_per_block, len(sizes))
    eta = _check_eta(eta, len(sizes))
    x = as_real_array(x, "x")
    if x.ndim not in (1, 2) or x.shape[-1] != sum(sizes):
        raise ValueError(
            f"x must have shape (N,) or (T, N) with N = sum(sizes) = {sum(sizes)}, got "
            f"{x.shape}"
        )
    X = np.atleast_2d(x)
    parts = np.split(X, np.cumsum(sizes)[:-1], axis=1)
    block_norms = np.stack(
        [np.linalg.norm(xi, ord=p, axis=1) for xi, p in zip(parts, ps)], axis=1
    )
    values = (block_norms * eta).max(axis=1)
    return float(values[0]) if x.ndim == 1 else values


def expand_weight(eta, sizes) -> np.ndarray:
    r"""The weight of the flat weighted :math:`\ell_\infty` norm equal to the composite
    norm.

    With :math:`\ell_\infty` in every block, :math:`\max_i \eta_i\|x_i\|_\infty` is the
    weighted norm :math:`\|x\|_{\infty,[w]}` with :math:`w` = ``eta[i]`` repeated
    ``sizes[i]`` times, so :func:`contraction.norms.lognorm` with ``weight=w`` gives the
    exact log norm in the composite norm. Section 3.1.
    """
    sizes = _check_sizes(sizes)
    return np.repeat(_check_eta(eta, len(sizes)), sizes)


def block_majorant(J, sizes, p=np.inf) -> np.ndarray:
    r"""Block majorant of ``J``: :math:`\mu_p(J_{ii})` on the diagonal,
    :math:`\|J_{ij}\|_p` off it.

    Ström's bound: in the composite norm
    :math:`\|x\|_\eta = \max_i \eta_i\|x_i\|_p` the log norm of ``J`` satisfies
    :math:`\mu_\eta(J) \le \mu_{\infty,[\eta]}(\text{block\_majorant}(J))` for every
    :math:`\eta > 0`. For the
    Jacobian of a network it is entrywise at most the gain matrix. Section 3.1; T.
    Ström, SIAM J. Numer. Anal. 12(5), 1975.
    """
    J = as_square_matrix(J, "J")
    sizes = _check_sizes(sizes)
    p = check_p(p)
    if sum(sizes) != J.shape[0]:
        raise ValueError(
            f"sizes must sum to the size {J.shape[0]} of J, got {sum(sizes)}"
        )
    cuts = np.cumsum([0] + sizes)
    n = len(sizes)
    M = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            Jij = J[cuts[i] : cuts[i + 1], cuts[j] : cuts[j + 1]]
            M[i, j] = norms.lognorm(Jij, p) if i == j else np.linalg.norm(Jij, ord=p)
    return M


def ring_couplings(n, coupling, strengths=None) -> dict:
    r"""Couplings of a directed ring: block ``i`` is driven by block ``i - 1`` (mod
    ``n``).

    Returns ``{(i, (i - 1) % n): strengths[i] * coupling}``, the ``couplings`` argument
    of :func:`coupled_firing_rate`. ``strengths`` defaults to all ones. Section 3.1.
    """
    n = as_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2 for a ring, got {n}")
    coupling = as_real_array(coupling, "coupling", ndim=2)
    s = (
        np.ones(n)
        if strengths is None
        else as_real_array(strengths, "strengths", ndim=1)
    )
    if s.shape != (n,):
        raise ValueError(f"strengths must have length {n}, got {s.size}")
    return {(i, (i - 1) % n): s[i] * coupling for i in range(n)}


def _assemble(blocks, couplings):
    """Validate the blocks and couplings of a network and return (sizes, full matrix
    W)."""
    if not isinstance(blocks, (list, tuple)) or len(blocks) == 0:
        raise TypeError("blocks must be a non-empty list of square matrices")
    blocks = [as_square_matrix(B, f"blocks[{i}]") for i, B in enumerate(blocks)]
    if not isinstance(couplings, dict):
        raise TypeError("couplings must be a dict {(i, j): W_ij}")
    sizes = [B.shape[0] for B in blocks]
    n, cuts = len(sizes), np.cumsum([0] + sizes)
    W = np.zeros((cuts[-1], cuts[-1]))
    for i, B in enumerate(blocks):
        W[cuts[i] : cuts[i + 1], cuts[i] : cuts[i + 1]] = B
    for key, Wij in couplings.items():
        if not (
            isinstance(key, tuple)
            and len(key) == 2
            and all(isinstance(k, numbers.Integral) and 0 <= k < n for k in key)
        ):
            raise ValueError(
                f"couplings keys must be pairs (i, j) of block indices < {n}, got "
                f"{key!r}"
            )
        i, j = key
        if i == j:
            raise ValueError(f"couplings must join different blocks, got key {key!r}")
        Wij = as_real_array(Wij, f"couplings[{key!r}]", ndim=2)
        if Wij.shape != (sizes[i], sizes[j]):
            raise ValueError(
                f"couplings[{key!r}] must have shape {(sizes[i], sizes[j])}, got "
                f"{Wij.shape}"
            )
        W[cuts[i] : cuts[i + 1], cuts[j] : cuts[j + 1]] = Wij
    return sizes, W


def coupled_firing_rate(blocks, couplings, u=None) -> VectorField:
    r"""A network of firing-rate blocks,
    :math:`\dot x_i = -x_i + \tanh(\sum_j W_{ij}x_j + u_i)`.

    Block ``i`` has its own recurrent weights :math:`W_{ii}` and is driven by the other
    blocks through :math:`W_{ij}`, :math:`j \ne i`.

    Parameters
    ----------
    blocks : list of n square arrays
        The recurrent weights :math:`W_{ii}` of the subsystems (sizes :math:`N_i`).
    couplings : dict
        ``{(i, j): W_ij}`` with ``i != j`` and ``W_ij`` of shape ``(N_i, N_j)``: block
        ``j`` drives block ``i``. Missing pairs are zero (e.g. :func:`ring_couplings`).
    u : array of shape (N,), optional
        Constant input (zero by default).

    Returns
    -------
    contraction.systems.VectorField
        The firing-rate network :func:`contraction.rnn.firing_rate` of the full matrix
        ``W``, with Jacobian :math:`-I + \operatorname{diag}(\tanh'(Wx + u))W`; its
        ``params`` hold ``W``, ``u`` and the block ``sizes``. Section 3.1.
    """
    sizes, W = _assemble(blocks, couplings)
    base = firing_rate(W, u)
    params = {**base.params, "W": W, "sizes": sizes}
    return VectorField("coupled firing rate", base.f, base.jacobian, base.dim, params)


def firing_rate_gains(blocks, couplings, p=np.inf):
    r"""Subsystem rates :math:`c_i` and gains :math:`\gamma_{ij}` of
    :func:`coupled_firing_rate`.

    Each block uses the plain ``p``-norm, ``p`` in ``{2, np.inf}``. Since :math:`\tanh`
    has slopes in :math:`(0, 1]` and is 1-Lipschitz,

    * ``p=inf``: :math:`c_i = 1 - \max(0, \mu_\infty(W_{ii}))`, the exact value of
      :math:`-\sup_{D} \mu_\infty(-I + DW_{ii})` over diagonal :math:`0 < D \le I`;
    * ``p=2``: :math:`c_i = 1 - \|W_{ii}\|_2`, a sufficient bound
      (:math:`\mu_2(-I + DW_{ii}) \le -1 + \|DW_{ii}\|_2`);
    * both: :math:`\gamma_{ij} = \|W_{ij}\|_p` for each coupling, 0 for absent ones.

    Returns ``(rates, gains)``. A rate ``<= 0`` means that block is not certified to
    contract on its own (and :func:`gain_matrix` refuses it). Section 3.1.
    """
    p = check_p(p)
    if p == 1:
        raise ValueError("p must be 2 or np.inf for firing_rate_gains")
    sizes, _ = _assemble(blocks, couplings)
    n = len(sizes)
    if p == np.inf:
        rates = np.array([1 - max(0.0, norms.lognorm(B, np.inf)) for B in blocks])
    else:
        rates = np.array(
            [1 - np.linalg.norm(np.asarray(B, dtype=float), 2) for B in blocks]
        )
    gains = np.zeros((n, n))
    for (i, j), Wij in couplings.items():
        gains[i, j] = np.linalg.norm(np.asarray(Wij, dtype=float), ord=p)
    return rates, gains
