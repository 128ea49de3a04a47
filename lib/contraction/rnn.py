r"""Continuous-time recurrent neural networks and their non-Euclidean contraction
certificates.

Section 4.1 of the book. An activation :math:`\Phi` acts entrywise with slopes in
:math:`[d_{\min}, d_{\max}]` (``tanh``: :math:`(0, 1]`, sigmoid: :math:`(0, 1/4]`, ReLU:
:math:`\{0, 1\}`, leaky ReLU: :math:`\{a, 1\}`), so every Jacobian has one of four
shapes with a diagonal :math:`D = \operatorname{diag}(d)`, :math:`d \in [d_{\min},
d_{\max}]^n`:

==============  ==================================  ==========================
model           vector field                        Jacobian
==============  ==================================  ==========================
Hopfield        :math:`-Cx + A\Phi(x) + u`          :math:`-C + AD`
firing rate     :math:`-Cx + \Phi(Ax + u)`          :math:`-C + DA`
Persidskii      :math:`A\Phi(x)`                    :math:`AD`
Lur'e           :math:`Ax - \Phi(x)`                :math:`A - D`
==============  ==================================  ==========================

with a positive diagonal leak :math:`C` (the identity by default). :func:`oslip` turns
the shape into the one-sided Lipschitz constant (the supremum of the log norm over all
slope patterns) by the two-vertex formulas of
:func:`contraction.norms.max_lognorm_diag`, and :func:`optimal_weight_firing_rate` finds
the diagonal weight that certifies the fastest :math:`\ell_\infty` rate for the
firing-rate model.

References: J. J. Hopfield, PNAS 81 (1984); A. Davydov, A. V. Proskurnikov and F. Bullo,
"Non-Euclidean contractivity of recurrent neural networks", ACC 2022.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import linprog

from . import norms
from ._checks import (
    as_positive_scalar,
    as_real_array,
    as_square_matrix,
    as_vector,
    check_p,
    check_slopes,
)
from .slopes import box_max
from .systems import VectorField

__all__ = [
    "Activation",
    "activation",
    "hopfield",
    "firing_rate",
    "persidskii",
    "lure",
    "oslip",
    "optimal_weight_firing_rate",
]


@dataclass(frozen=True)
class Activation:
    """An entrywise activation ``phi`` with derivative ``slope`` taking values in
    ``[d_min, d_max]``."""

    name: str
    phi: Callable[[np.ndarray], np.ndarray]
    slope: Callable[[np.ndarray], np.ndarray]
    d_min: float
    d_max: float


def _sigmoid(y):
    return 0.5 * (1 + np.tanh(y / 2))  # no overflow for large |y|


def activation(name="tanh", negative_slope=0.1) -> Activation:
    """The activation called ``name``: ``"tanh"``, ``"sigmoid"``, ``"relu"`` or
    ``"leaky_relu"``.

    ``negative_slope`` (in ``[0, 1]``) is the slope of the leaky ReLU for negative
    inputs, which makes ``d_min = negative_slope`` positive. An :class:`Activation` is
    returned unchanged. ReLU-type slopes at the kink ``0`` are taken from the right (a
    valid generalised derivative).
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a string or an Activation, got {type(name).__name__}"
        )
    a = as_positive_scalar(negative_slope, "negative_slope", allow_zero=True)
    if a > 1:
        raise ValueError(f"negative_slope must lie in [0, 1], got {a}")
    table = {
        "tanh": (np.tanh, lambda y: 1 - np.tanh(y) ** 2, 0.0, 1.0),
        "sigmoid": (_sigmoid, lambda y: _sigmoid(y) * (1 - _sigmoid(y)), 0.0, 0.25),
        "relu": (
            lambda y: np.maximum(y, 0.0),
            lambda y: (y >= 0).astype(float),
            0.0,
            1.0,
        ),
        "leaky_relu": (
            lambda y: np.where(y >= 0, y, a * y),
            lambda y: np.where(y >= 0, 1.0, a),
            a,
            1.0,
        ),
    }
    if name not in table:
        raise ValueError(f"name must be one of {sorted(table)}, got {name!r}")
    phi, slope, lo, hi = table[name]
    return Activation(name, phi, slope, lo, hi)


def _leak(C, n: int) -> np.ndarray:
    """The diagonal of the leak matrix C: a positive scalar, vector or diagonal
    matrix."""
    c = as_real_array(C, "C")
    if c.ndim == 2:
        if c.shape != (n, n) or np.any(c != np.diag(np.diag(c))):
            raise ValueError(
                f"C must be a positive diagonal ({n}, {n}) matrix, a vector or a scalar"
            )
        c = np.diag(c)
    c = np.full(n, float(c)) if c.ndim == 0 else c
    if c.shape != (n,):
        raise ValueError(f"C must be a scalar or have length {n}, got shape {c.shape}")
    if np.any(c <= 0):
        raise ValueError("C must have positive entries (leak rates)")
    return c


def _field(model: str, f, jacobian, A, act, **extra) -> VectorField:
    """A VectorField tagged with its model, so that :func:`oslip` knows its Jacobian
    shape."""
    params = {
        "model": model,
        "A": A,
        "activation": act,
        "d_min": act.d_min,
        "d_max": act.d_max,
    }
    return VectorField(model, f, jacobian, A.shape[0], {**params, **extra})


def hopfield(A, u=None, phi="tanh", C=1.0) -> VectorField:
    r"""Hopfield network :math:`\dot x = -Cx + A\Phi(x) + u`; Jacobian :math:`-C +
    A\,\Phi'(x)`.

    ``phi`` is an activation name or :class:`Activation`; ``C`` a positive leak (scalar,
    vector or diagonal matrix); ``u`` a constant input (zero by default).
    """
    A = as_square_matrix(A, "A")
    n, act = A.shape[0], activation(phi)
    u, c = as_vector(u, "u", n, default=np.zeros(n)), _leak(C, n)
    return _field(
        "hopfield",
        lambda x: -c * x + A @ act.phi(x) + u,
        lambda x: -np.diag(c) + A * act.slope(x)[None, :],
        A,
        act,
        u=u,
        C=c,
    )


def firing_rate(A, u=None, phi="tanh", C=1.0) -> VectorField:
    r"""Firing-rate network :math:`\dot x = -Cx + \Phi(Ax + u)`; Jacobian :math:`-C +
    \Phi'(Ax+u)A`.

    Arguments as for :func:`hopfield`. The book's one firing-rate model: with the
    defaults (``tanh``, ``C = 1``) it is the network :math:`\dot x = -x + \tanh(Ax + u)`
    of Chapter 1, contracting with rate :math:`1 - \|A\|` in every norm where
    :math:`\|A\| < 1`.
    """
    A = as_square_matrix(A, "A")
    n, act = A.shape[0], activation(phi)
    u, c = as_vector(u, "u", n, default=np.zeros(n)), _leak(C, n)
    return _field(
        "firing rate",
        lambda x: -c * x + act.phi(A @ x + u),
        lambda x: -np.diag(c) + act.slope(A @ x + u)[:, None] * A,
        A,
        act,
        u=u,
        C=c,
    )


def persidskii(A, phi="tanh") -> VectorField:
    r"""Persidskii-type system :math:`\dot x = A\Phi(x)`; Jacobian
    :math:`A\,\Phi'(x)`."""
    A = as_square_matrix(A, "A")
    act = activation(phi)
    return _field(
        "persidskii",
        lambda x: A @ act.phi(x),
        lambda x: A * act.slope(x)[None, :],
        A,
        act,
        C=np.zeros(A.shape[0]),
    )


def lure(A, phi="tanh") -> VectorField:
    r"""Lur'e-type system :math:`\dot x = Ax - \Phi(x)`; Jacobian :math:`A -
    \Phi'(x)`."""
    A = as_square_matrix(A, "A")
    act = activation(phi)
    return _field(
        "lure",
        lambda x: A @ x - act.phi(x),
        lambda x: A - np.diag(act.slope(x)),
        A,
        act,
    )


_SIDES = {
    "hopfield": "right",
    "firing rate": "left",
    "persidskii": "right",
}  # where D sits


def oslip(field: VectorField, p=np.inf, weight=None, d_min=None, d_max=None) -> float:
    r"""The largest log norm of the Jacobian of an RNN model over all slope patterns.

    For a field built by :func:`hopfield`, :func:`firing_rate`, :func:`persidskii` or
    :func:`lure` this is :math:`\max_{d \in [d_{\min}, d_{\max}]^n} \mu_p(J(d))`, an
    upper bound on :math:`\operatorname{osLip}_p` of the field, and equal to it when
    every slope pattern is approached (``tanh`` with an invertible ``A``: the "tight
    transcription" of Section 4.1). The maximum over the box of slopes is
    :func:`contraction.slopes.box_max`: ``p`` = 1 or inf use its two-vertex formulas;
    ``p=2`` (vector or matrix ``weight``) visits the :math:`2^n` corners (``n <= 14``).
    For the Lur'e model the answer is :math:`\mu_p(A) - d_{\min}` for ``p`` in ``{1, 2,
    inf}`` with no weight or a diagonal (vector) weight, where :math:`\mu(-D) \le 0` for
    every non-negative diagonal ``D``; a matrix weight (``p=2``) can break that, and the
    corners are visited instead. ``d_min``/``d_max`` override the activation's slope
    bounds.
    """
    if not isinstance(field, VectorField) or field.params.get("model") not in (
        *_SIDES,
        "lure",
    ):
        raise TypeError(
            "field must come from rnn.hopfield, firing_rate, persidskii or lure"
        )
    p = check_p(p)
    A = field.params["A"]
    lo = field.params["d_min"] if d_min is None else d_min
    hi = field.params["d_max"] if d_max is None else d_max
    lo, hi = check_slopes(lo, hi)
    if field.params["model"] == "lure":  # Jacobian A - D: base A, gain -I
        if (
            weight is None or np.ndim(weight) == 1
        ):  # mu(-D) <= 0 for diagonally weighted l_p
            return norms.lognorm(A - lo * np.eye(A.shape[0]), p, weight)
        return box_max(-np.eye(A.shape[0]), lo, hi, base=A, p=p, weight=weight)
    side = _SIDES[field.params["model"]]
    return box_max(A, lo, hi, base=-field.params["C"], p=p, side=side, weight=weight)


def _feasible_weight(vertices, b: float, max_ratio: float):
    """A vector v in [1, max_ratio]^n with (M - b I) v <= 0 for every M, or None if
    there is none."""
    n = vertices[0].shape[0]
    A_ub = np.vstack([M - b * np.eye(n) for M in vertices])
    res = linprog(
        np.zeros(n),
        A_ub=A_ub,
        b_ub=np.zeros(A_ub.shape[0]),
        bounds=[(1.0, max_ratio)] * n,
        method="highs",
    )
    if res.status == 0:
        return res.x
    if res.status == 2:
        return None
    raise RuntimeError(
        f"linprog failed on the feasibility problem at b = {b}: {res.message}"
    )


def _lp_weight(
    vertices, lower: float, upper: float, tol: float, max_ratio: float, max_iter: int
):
    """Bisection on b between an infeasible ``lower`` and the feasible ``upper`` (v =
    1)."""
    best = np.ones(vertices[0].shape[0])
    for _ in range(max_iter):
        if upper - lower <= tol * max(1.0, abs(upper)):
            return best
        mid = 0.5 * (lower + upper)
        v = _feasible_weight(vertices, mid, max_ratio)
        if v is None:
            lower = mid
        else:
            upper, best = mid, v
    raise RuntimeError(
        f"bisection did not reach tol={tol} in max_iter={max_iter} steps"
    )


def optimal_weight_firing_rate(
    A, C, d_min, d_max, method="perron", tol=1e-9, max_ratio=1e6, max_iter=200
):
    r"""The diagonal weight with the smallest
    :math:`\operatorname{osLip}_{\infty,[\eta]}` for :math:`\dot x = -Cx + \Phi(Ax +
    u)`, and that value (Section 4.1).

    For every :math:`\eta > 0`, with :math:`v = 1/\eta` and :math:`M = |A|_{\mathrm M}`
    the Metzler majorant, :math:`\operatorname{osLip}_{\infty,[\eta]} \le b` if and only
    if :math:`(-C + d_{\min}M)v \le bv` and :math:`(-C + d_{\max}M)v \le bv`: a linear
    feasibility problem in ``v`` for fixed ``b``, so the best ``b`` is a quasiconvex
    program.

    * ``method="lp"`` bisects on ``b`` between :math:`\max_k \alpha(-C + d_k M)` (no
      weight does better) and the value at :math:`\eta = \mathbb 1`, solving each
      feasibility problem with ``scipy.optimize.linprog`` over :math:`1 \le v \le`
      ``max_ratio``, to relative accuracy ``tol``.
    * ``method="perron"`` (needs ``d_min = 0``): the first constraint is :math:`b \ge
      -\min_i c_i` for every ``v``, so the optimum is the Perron weight of the Metzler
      matrix :math:`-C + d_{\max}M` (:func:`contraction.norms.optimal_weight`), with
      value :math:`\max\{\alpha(-C), \alpha(-C + d_{\max}M)\}`.

    ``C`` is a positive scalar, vector or diagonal matrix. Returns ``(eta, value)``,
    ``eta`` normalised to ``max(eta) = 1`` and ``value`` the
    :math:`\operatorname{osLip}_{\infty,[\eta]}` that this ``eta`` achieves; ``-value``
    is the certified contraction rate. Raises ``RuntimeError`` if a linear program fails
    or the bisection does not converge.
    """
    A = as_square_matrix(A, "A")
    n = A.shape[0]
    c = _leak(C, n)
    lo, hi = check_slopes(d_min, d_max, nonnegative=True)
    tol = as_positive_scalar(tol, "tol")
    if method == "perron":
        if lo != 0:
            raise ValueError("method='perron' needs d_min = 0; use method='lp'")
        eta, _ = norms.optimal_weight(-np.diag(c) + hi * A, np.inf)
    elif method == "lp":
        max_ratio = as_positive_scalar(max_ratio, "max_ratio")
        if max_ratio <= 1:
            raise ValueError(f"max_ratio must exceed 1, got {max_ratio}")
        M = norms.metzler_majorant(A)
        vertices = [-np.diag(c) + d * M for d in (lo, hi)]
        lower = max(norms.spectral_abscissa(V) for V in vertices)
        upper = norms.max_lognorm_diag(A, lo, hi, np.inf, "left", -c)
        v = _lp_weight(vertices, lower, upper, tol, max_ratio, max_iter)
        eta = (1.0 / v) / (1.0 / v).max()
    else:
        raise ValueError(f"method must be 'perron' or 'lp', got {method!r}")
    return eta, norms.max_lognorm_diag(A, lo, hi, np.inf, "left", -c, eta)
