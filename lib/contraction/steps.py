r"""Step sizes that make a discrete iteration a contraction: every step-size bound in
one place.

Sections 1.1, 1.4 and 2.3 of the book. A vector field :math:`F` with
:math:`\mathrm{osLip}(F) \le -c` and :math:`\mathrm{Lip}(F) \le \ell` (condition number
:math:`\kappa = \ell/c`) gives a forward step :math:`x_{k+1} = x_k + \alpha F(x_k)`
whose Lipschitz constant is bounded by :func:`forward_step_factor`, with the admissible
and optimal steps of :func:`forward_step_bounds`. The averaged (Krasnosel'skii-Mann)
iteration of a map :math:`G` with :math:`\mathrm{osLip}(G) < 1` reduces to it
(:func:`averaged_step_bounds`), and the averaged iteration of an implicit layer has an
exact :math:`\ell_\infty` step (:func:`implicit_step_bounds`).

Exact factors for networks come from the maximum over the box of slopes
(:func:`contraction.slopes.box_max`): the one-sided Lipschitz and Lipschitz constants of
the firing-rate network (:func:`firing_rate_constants`), the exact factor of its forward
step (:func:`firing_rate_step_factor`) and the worst :math:`\ell_\infty` factor of the
averaged step of an implicit layer (:func:`averaged_step_norm_inf`), where the identity
:math:`\|I + \alpha A\|_\infty = 1 + \alpha\mu_\infty(A)` holds up to
:func:`linf_identity_threshold`.

References: F. Bullo, *Contraction Theory for Dynamical Systems*, KDP (2023); S.
Jafarpour, A. Davydov, A. V. Proskurnikov, F. Bullo, "Robust implicit networks via
non-Euclidean contractions", NeurIPS (2021).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import (
    as_positive_scalar,
    as_real_scalar,
    as_square_matrix,
    as_step_sizes,
    check_p,
    check_slopes,
)
from ._records import Record
from .norms import _induced_norm, _lognorm
from .slopes import MAX_BOX_DIM, _box_max

__all__ = [
    "ForwardStepBounds",
    "AveragedStepBounds",
    "ImplicitStepBounds",
    "forward_step_factor",
    "forward_step_bounds",
    "averaged_step_bounds",
    "implicit_step_bounds",
    "linf_identity_threshold",
    "averaged_step_norm_inf",
    "firing_rate_constants",
    "firing_rate_step_factor",
]

NORMS = ("euclidean", "non-euclidean")


@dataclass(frozen=True)
class ForwardStepBounds(Record):
    """Steps of :math:`x + \\alpha F(x)`: condition number, admissible and optimal step,
    factor."""

    kappa: float
    alpha_max: float
    alpha_opt: float
    factor_opt: float


@dataclass(frozen=True)
class AveragedStepBounds(Record):
    """:class:`ForwardStepBounds` of the averaged iteration, with its ``c`` and
    ``lip_eff``."""

    kappa: float
    alpha_max: float
    alpha_opt: float
    factor_opt: float
    c: float
    lip_eff: float


@dataclass(frozen=True)
class ImplicitStepBounds(Record):
    """Step ``alpha``, :math:`\\ell_\\infty` Banach ``factor`` and contraction
    ``rate``."""

    alpha: float
    factor: float
    rate: float


def _check_rates(c, lip, norm):
    c = as_positive_scalar(c, "c")
    lip = as_positive_scalar(lip, "lip")
    if lip < c:
        raise ValueError(
            f"lip must be at least c (osLip >= -Lip in any norm), got lip={lip} < c={c}"
        )
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    return c, lip


def _scalar_or_array(out: np.ndarray):
    return float(out) if out.ndim == 0 else out


def forward_step_factor(alpha, c, lip, norm="euclidean"):
    r"""Upper bound on :math:`\mathrm{Lip}(\mathrm{Id} + \alpha F)` for step size(s)
    ``alpha``.

    * Euclidean (any inner-product norm): :math:`\sqrt{1 - 2\alpha c + \alpha^2
      \ell^2}`.
    * Non-Euclidean (any norm): :math:`1 - \alpha c + \alpha^2\ell^2/(1 - \alpha\ell)`
      for :math:`\alpha < 1/\ell`, and ``inf`` (no bound) beyond.

    ``alpha`` may be a scalar or an array of non-negative step sizes.
    """
    c, lip = _check_rates(c, lip, norm)
    a = as_step_sizes(alpha)
    if norm == "euclidean":
        out = np.sqrt(np.maximum(1 - 2 * a * c + (a * lip) ** 2, 0.0))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(
                a * lip < 1, 1 - a * c + (a * lip) ** 2 / (1 - a * lip), np.inf
            )
    return _scalar_or_array(out)


def forward_step_bounds(c, lip, norm="euclidean") -> ForwardStepBounds:
    r"""Admissible and optimal step sizes of :math:`x_{k+1} = x_k + \alpha F(x_k)`.

    Assumes :math:`\mathrm{osLip}(F) \le -c < 0` and :math:`\mathrm{Lip}(F) \le \ell`,
    with condition number :math:`\kappa = \ell / c \ge 1`. Returns a record (read as
    ``out.alpha_opt`` or ``out["alpha_opt"]``) with

    * ``kappa``;
    * ``alpha_max``: the factor bound is below 1 exactly for ``0 < alpha < alpha_max``:
      :math:`2/(c\kappa^2)` (Euclidean), :math:`1/(c\kappa(1+\kappa))` (non-Euclidean);
    * ``alpha_opt``: the minimiser of the bound, :math:`1/(c\kappa^2)` (Euclidean),
      :math:`(1 - \sqrt{\kappa/(1+\kappa)})/\ell` (non-Euclidean);
    * ``factor_opt``: the bound at ``alpha_opt``, :math:`\sqrt{1 - 1/\kappa^2}`
      (Euclidean).

    These are exact; the slides' series :math:`\alpha^* = (1/(2\kappa^2) -
    3/(8\kappa^3))/c`, :math:`\ell^* = 1 - 1/(4\kappa^2) + 1/(8\kappa^3)` are their
    expansions for large kappa.
    """
    c, lip = _check_rates(c, lip, norm)
    kappa = lip / c
    if norm == "euclidean":
        alpha_max, alpha_opt = 2 / (c * kappa**2), 1 / (c * kappa**2)
    else:
        alpha_max = 1 / (c * kappa * (1 + kappa))
        # d/du [1 - u/kappa + u^2/(1-u)] = 0 with u = alpha*lip  <=>  (1+k)u^2 - 2(1+k)u
        # + 1 = 0
        alpha_opt = float((1 - np.sqrt(kappa / (1 + kappa))) / lip)
    return ForwardStepBounds(
        kappa, alpha_max, alpha_opt, forward_step_factor(alpha_opt, c, lip, norm)
    )


def averaged_step_bounds(os_lip, lip) -> AveragedStepBounds:
    r"""Step sizes of the averaged iteration :math:`x_{k+1} = (1-\alpha)x_k + \alpha
    G(x_k)`.

    In an inner-product norm, with :math:`\mathrm{osLip}(G) \le b < 1` and
    :math:`\mathrm{Lip}(G) \le \ell`, expanding the square gives for :math:`0 < \alpha
    \le 1`

    .. math:: \mathrm{Lip}((1-\alpha)\mathrm{Id} + \alpha G)^2
              \le 1 - 2\alpha(1 - b) + \alpha^2 (1 - 2b + \ell^2).

    The right-hand side is, as an expression in :math:`\alpha`, the Euclidean
    forward-step bound :func:`forward_step_factor` with :math:`c = 1 - b` and
    :math:`\ell_{\text{eff}} = \sqrt{1 - 2b + \ell^2}`, so the optimiser of
    :func:`forward_step_bounds` is reused. (Here :math:`\ell_{\text{eff}}` is only a
    name for that coefficient: it is *not* a Lipschitz bound on :math:`G - \mathrm{Id}`,
    since :math:`\mathrm{osLip}(G) \le b` gives no lower bound on :math:`\langle G(x) -
    G(y), x - y\rangle`.) Step sizes are capped at 1, beyond which the expansion no
    longer holds. Returns the fields of :func:`forward_step_bounds` plus ``c`` and
    ``lip_eff``.
    """
    try:
        b = as_real_scalar(os_lip, "os_lip")
    except (TypeError, ValueError):
        b = np.nan
    if not b < 1:
        raise ValueError(f"os_lip must be finite and below 1, got {os_lip}")
    lip = as_positive_scalar(lip, "lip")
    if lip < abs(b):  # -Lip(G) <= osLip(G) <= Lip(G) in every norm
        raise ValueError(f"lip must be at least |os_lip|, got lip={lip} < |{b}|")
    c, lip_eff = 1.0 - b, float(np.sqrt(1.0 - 2.0 * b + lip**2))
    fwd = forward_step_bounds(c, lip_eff, "euclidean")
    alpha_opt, factor_opt = fwd.alpha_opt, fwd.factor_opt
    if (
        alpha_opt > 1.0
    ):  # Picard (alpha = 1) is already best: Lip(G) < 1 is small enough
        alpha_opt, factor_opt = 1.0, forward_step_factor(1.0, c, lip_eff)
    return AveragedStepBounds(
        fwd.kappa, min(fwd.alpha_max, 1.0), alpha_opt, factor_opt, c, lip_eff
    )


def implicit_step_bounds(A) -> ImplicitStepBounds:
    r"""Step size and :math:`\ell_\infty` Banach factor of the averaged iteration of an
    implicit layer.

    For :math:`x_{k+1} = (1-\alpha)x_k + \alpha\Phi(Ax_k + Bu + b)` with :math:`\Phi`
    acting entrywise with slopes in :math:`[0, 1]` (ReLU, tanh, sigmoid up to scaling)
    and :math:`\mu_\infty(A) < 1`: the Jacobian :math:`(1-\alpha)I + \alpha DA` has
    nonnegative diagonal whenever :math:`\alpha \le 1/(1 - \min_i (a_{ii})_-)`, and then
    its :math:`\ell_\infty` norm is at most :math:`1 - \alpha(1 - \mu_\infty(A)_+)` (the
    identity :math:`\|I + \alpha M\|_\infty = 1 + \alpha\mu_\infty(M)` for small steps).
    The best such step is the largest one. Returns a record with ``alpha``, ``factor``
    and ``rate`` :math:`= 1 - \mu_\infty(A)_+`, the contraction rate of :math:`\dot x =
    -x + \Phi(Ax + Bu + b)` (Jafarpour et al., NeurIPS 2021; Chapters 2 and 4).
    """
    A = as_square_matrix(A, "A")
    mu = _lognorm(A, np.inf)
    if mu >= 1:
        raise ValueError(
            f"A must satisfy mu_inf(A) < 1 (well-posedness), got mu_inf(A) = {mu:.4g}"
        )
    rate = 1.0 - max(mu, 0.0)
    alpha = 1.0 / (1.0 - min(np.min(np.diag(A)), 0.0))
    return ImplicitStepBounds(alpha, 1.0 - alpha * rate, rate)


def linf_identity_threshold(A) -> float:
    r"""Largest step :math:`\bar\alpha` with :math:`\|I + \alpha A\|_\infty = 1 +
    \alpha\mu_\infty(A)` on :math:`[0, \bar\alpha]`.

    Row :math:`i` of :math:`I + \alpha A` has absolute sum :math:`|1 + \alpha a_{ii}| +
    \alpha\sum_{j \ne i}|a_{ij}|`, which equals :math:`1 + \alpha(a_{ii} + \sum_{j\ne
    i}|a_{ij}|)` whenever :math:`1 + \alpha a_{ii} \ge 0`. So the identity holds for
    :math:`0 \le \alpha \le 1/\max_i(-a_{ii})` (Section 2.3). Rows with :math:`a_{ii}
    \ge 0` impose no condition.

    Returns :math:`1/\max_i(-a_{ii})` if some diagonal entry is negative, ``inf``
    otherwise. The identity may continue to hold somewhat beyond this value (when the
    row that turns negative first does not attain the maximum), but it is guaranteed
    only up to it.
    """
    A = as_square_matrix(A, "A")
    worst = float(np.max(-np.diag(A)))
    return 1.0 / worst if worst > 0 else np.inf


def _averaged_factors(A, a, lo, hi, p) -> np.ndarray:
    """max over the slope box of ||(1 - alpha) I + alpha diag(d) A||_p, for each alpha
    in ``a``."""
    eye = np.eye(A.shape[0])
    return np.array(
        [_box_max(_induced_norm, (1 - ak) * eye, ak * A, lo, hi, p) for ak in a.ravel()]
    ).reshape(a.shape)


def averaged_step_norm_inf(A, alpha, d_min=0.0, d_max=1.0):
    r"""Exact worst-case :math:`\ell_\infty` Lipschitz constant of the averaged step of
    an implicit layer.

    Returns

    .. math:: \max_{d \in [d_{\min}, d_{\max}]^n}
              \|(1-\alpha)I_n + \alpha\operatorname{diag}(d)A\|_\infty ,

    an upper bound on :math:`\operatorname{Lip}_\infty` of
    :math:`x \mapsto (1-\alpha)x + \alpha\Phi(Ax + Bu + b)` for every entrywise
    :math:`\Phi` whose slopes lie in
    :math:`[d_{\min}, d_{\max}]` (difference quotients of :math:`\Phi_i` lie there, so
    :math:`T(x) - T(y)` is such a matrix times :math:`x - y`), and equal to it when
    every slope pattern occurs. Row :math:`i` of the matrix depends only on :math:`d_i`,
    and its absolute sum is convex in :math:`d_i`, so the maximum is taken at :math:`d_i
    \in \{d_{\min}, d_{\max}\}` row by row: two evaluations instead of :math:`2^n`
    corners (:func:`contraction.slopes.box_max`). Section 2.3; Chapter 4 uses it for
    trained implicit networks.

    ``alpha`` is a non-negative step size or an array of them (``alpha = 1`` is Picard);
    ``0 <= d_min <= d_max`` (ReLU and tanh: 0 and 1). Returns one value per step size.
    """
    A = as_square_matrix(A, "A")
    lo, hi = check_slopes(
        as_positive_scalar(d_min, "d_min", allow_zero=True),
        as_positive_scalar(d_max, "d_max", allow_zero=True),
    )
    return _scalar_or_array(_averaged_factors(A, as_step_sizes(alpha), lo, hi, np.inf))


def _firing_rate_weights(W) -> np.ndarray:
    W = as_square_matrix(W, "W")
    if W.shape[0] > MAX_BOX_DIM:
        raise ValueError(
            f"W must be at most {MAX_BOX_DIM}x{MAX_BOX_DIM} (2^n corners), got "
            f"{W.shape[0]}x{W.shape[0]}"
        )
    return W


def firing_rate_constants(W, p=2) -> tuple[float, float]:
    r"""One-sided Lipschitz and Lipschitz constants of ``F(x) = -x + tanh(Wx + u)``
    (Section 1.4).

    The Jacobian is :math:`-I + \operatorname{diag}(d)W` with slopes
    :math:`d_i = \tanh'(\cdot) \in (0, 1]`, so by the corner argument
    (:func:`contraction.slopes.box_max`)

    .. math:: \operatorname{osLip}_p(F) \le \max_{d \in \{0,1\}^n}
              \mu_p(-I + \operatorname{diag}(d)W), \qquad
              \operatorname{Lip}_p(F) \le \max_{d \in \{0,1\}^n}
              \|-I + \operatorname{diag}(d)W\|_p,

    with equality when every slope pattern is approached, e.g. when ``W`` is invertible.
    The bias ``u`` plays no role. ``W`` is at most 14 x 14. Returns ``(os_lip, lip)``:
    ``F`` is strongly contracting with rate ``c = -os_lip`` when ``os_lip < 0``.
    """
    p = check_p(p)
    W = _firing_rate_weights(W)
    minus_eye = -np.eye(W.shape[0])
    return (
        _box_max(_lognorm, minus_eye, W, 0.0, 1.0, p),
        _box_max(_induced_norm, minus_eye, W, 0.0, 1.0, p),
    )


def firing_rate_step_factor(W, alpha, p=2):
    r"""Exact :math:`\operatorname{Lip}_p(\mathrm{Id} + \alpha F)` for ``F(x) = -x +
    tanh(Wx + u)``.

    :math:`\operatorname{Lip}(\mathrm{Id} + \alpha F) = \sup_x \|I + \alpha DF(x)\|`,
    and by the corner argument of :func:`firing_rate_constants` this is :math:`\max_{d
    \in \{0,1\}^n} \|(1 - \alpha)I + \alpha\operatorname{diag}(d)W\|_p` (an upper bound
    in general, the exact value when every slope pattern is approached). Section 1.4.
    ``alpha`` is a non-negative step size or an array of them; one value per step size.
    """
    a = as_step_sizes(alpha)
    p = check_p(p)
    return _scalar_or_array(_averaged_factors(_firing_rate_weights(W), a, 0.0, 1.0, p))
