r"""Fixed-point iterations for ``x = G(x)`` and the step sizes that make them contractions.

Three iterations (Section 1.1 of the book):

* Picard: :math:`x_{k+1} = G(x_k)`, a Banach contraction when :math:`\mathrm{Lip}(G) < 1`;
* averaged (Krasnosel'skii-Mann): :math:`x_{k+1} = (1-\alpha)x_k + \alpha G(x_k)`, a contraction
  for small :math:`\alpha` exactly when :math:`\mathrm{osLip}(G) < 1`, even if
  :math:`\mathrm{Lip}(G) \ge 1`;
* Anderson acceleration (type II, memory ``m``): extrapolates from the last ``m`` residuals.

Every run returns a :class:`FixedPointResult`; a run that diverges, produces non-finite values or
exhausts ``max_iter`` says so in ``converged``/``reason`` and keeps the last finite iterate, so no
NaN is ever handed back as an answer.

:func:`forward_step_bounds` gives the admissible and optimal step sizes of the forward step
:math:`x_{k+1} = x_k + \alpha F(x_k)` for a vector field with
:math:`\mathrm{osLip}(F) \le -c` and :math:`\mathrm{Lip}(F) \le \ell`
(Bullo, *Contraction Theory for Dynamical Systems*, 2023; Jafarpour et al., NeurIPS 2021).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_positive_int, as_positive_scalar, as_real_array, as_square_matrix

__all__ = [
    "FixedPointResult",
    "solve",
    "forward_step_factor",
    "forward_step_bounds",
    "averaged_step_bounds",
    "implicit_step_bounds",
]

METHODS = ("picard", "averaged", "anderson")
NORMS = ("euclidean", "non-euclidean")
DIVERGENCE_FACTOR = 1e8  # residual growth (relative to the first) that counts as divergence


@dataclass
class FixedPointResult:
    """Outcome of :func:`solve`.

    ``x`` is the last finite iterate; ``residuals[k] = ||G(x_k) - x_k||_2`` for each evaluated
    iterate; ``converged`` is True only if a residual fell below ``tol``; ``reason`` explains a
    failure (empty on success).
    """

    x: np.ndarray
    iterations: int
    residuals: np.ndarray
    converged: bool
    method: str
    alpha: float
    reason: str = ""
    history: list = field(default_factory=list, repr=False)

    def __bool__(self) -> bool:
        return self.converged


def _check_method_alpha(method, alpha):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "picard":
        if alpha not in (None, 1, 1.0):
            raise ValueError("alpha must be None (or 1) for method='picard'; use 'averaged'")
        return 1.0
    if alpha is None:
        return 0.5 if method == "averaged" else 1.0
    alpha = as_positive_scalar(alpha, "alpha")
    if method == "averaged" and alpha > 1:
        raise ValueError(f"alpha must lie in (0, 1] for method='averaged', got {alpha}")
    return alpha


def _evaluate(G, x, shape):
    gx = np.asarray(G(x), dtype=float)
    if gx.shape != shape:
        raise ValueError(f"G must return an array of shape {shape}, got {gx.shape}")
    return gx


class _Anderson:
    """Type-II Anderson mixing with memory ``m`` and damping ``beta``.

    Keeps the differences of the last ``m`` iterates and residuals; each step solves a small
    regularised least-squares problem for the extrapolation weights.
    """

    def __init__(self, memory: int, beta: float, regularization: float = 1e-10):
        self.memory, self.beta, self.reg = memory, beta, regularization
        self.prev = None  # (x, f) of the previous step
        self.dx, self.df = [], []

    def step(self, x, gx):
        f = gx - x
        if self.prev is not None:
            self.dx.append(x - self.prev[0])
            self.df.append(f - self.prev[1])
            self.dx, self.df = self.dx[-self.memory:], self.df[-self.memory:]
        self.prev = (x, f)
        if not self.df:
            return x + self.beta * f
        DX, DF = np.stack(self.dx, axis=1), np.stack(self.df, axis=1)
        gram = DF.T @ DF + self.reg * np.eye(DF.shape[1])
        gamma = np.linalg.solve(gram, DF.T @ f)
        return x + self.beta * f - (DX + self.beta * DF) @ gamma


def solve(G, x0, method="picard", alpha=None, tol=1e-8, max_iter=1000, memory=5,
          keep_history=False) -> FixedPointResult:
    r"""Iterate towards a fixed point of ``G`` from ``x0``.

    Parameters
    ----------
    G : callable
        Maps a 1-D float array to an array of the same shape.
    x0 : array_like, shape (n,)
        Starting point.
    method : {"picard", "averaged", "anderson"}
        ``"averaged"`` uses :math:`x_{k+1} = (1-\alpha)x_k + \alpha G(x_k)` with
        ``0 < alpha <= 1`` (default 0.5); ``"anderson"`` uses ``alpha`` as its damping (default 1)
        and ``memory`` past steps.
    tol : float
        Stop when the residual :math:`\|G(x_k) - x_k\|_2` is at most ``tol``.
    max_iter : int
        Largest number of iterations.
    keep_history : bool
        Also return every iterate in ``result.history`` (for plots).

    Returns
    -------
    FixedPointResult
        ``converged=False`` with a ``reason`` if the residual exceeded ``1e8`` times its first
        value, a non-finite value appeared, or ``max_iter`` ran out.
    """
    if not callable(G):
        raise TypeError(f"G must be callable, got {type(G).__name__}")
    alpha = _check_method_alpha(method, alpha)
    x = as_real_array(x0, "x0", ndim=1).copy()
    tol = as_positive_scalar(tol, "tol")
    max_iter = as_positive_int(max_iter, "max_iter")
    memory = as_positive_int(memory, "memory")
    anderson = _Anderson(memory, alpha) if method == "anderson" else None

    residuals, history, reason = [], [x.copy()] if keep_history else [], ""
    for k in range(max_iter + 1):
        gx = _evaluate(G, x, x.shape)
        if not np.all(np.isfinite(gx)):
            reason = f"G returned non-finite values at iteration {k}"
            break
        r = float(np.linalg.norm(gx - x))
        residuals.append(r)
        if r <= tol:
            return FixedPointResult(x, k, np.array(residuals), True, method, alpha, "", history)
        if r > DIVERGENCE_FACTOR * max(residuals[0], tol):
            reason = f"diverged: residual grew to {r:.3g} by iteration {k}"
            break
        if k == max_iter:
            reason = f"max_iter={max_iter} reached with residual {r:.3g} > tol={tol:g}"
            break
        x_next = anderson.step(x, gx) if anderson else (1 - alpha) * x + alpha * gx
        if not np.all(np.isfinite(x_next)):
            reason = f"non-finite iterate at iteration {k + 1}"
            break
        x = x_next
        if keep_history:
            history.append(x.copy())
    return FixedPointResult(x, len(residuals) - 1, np.array(residuals), False, method, alpha,
                            reason, history)


def _check_rates(c, lip, norm):
    c = as_positive_scalar(c, "c")
    lip = as_positive_scalar(lip, "lip")
    if lip < c:
        raise ValueError(f"lip must be at least c (osLip >= -Lip in any norm), got lip={lip} < c={c}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    return c, lip


def forward_step_factor(alpha, c, lip, norm="euclidean"):
    r"""Upper bound on :math:`\mathrm{Lip}(\mathrm{Id} + \alpha F)` for step size(s) ``alpha``.

    * Euclidean (any inner-product norm): :math:`\sqrt{1 - 2\alpha c + \alpha^2 \ell^2}`.
    * Non-Euclidean (any norm): :math:`1 - \alpha c + \alpha^2\ell^2/(1 - \alpha\ell)` for
      :math:`\alpha < 1/\ell`, and ``inf`` (no bound) beyond.

    ``alpha`` may be a scalar or an array of non-negative step sizes.
    """
    c, lip = _check_rates(c, lip, norm)
    a = np.asarray(alpha, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alpha must be finite and non-negative")
    if norm == "euclidean":
        out = np.sqrt(np.maximum(1 - 2 * a * c + (a * lip) ** 2, 0.0))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(a * lip < 1, 1 - a * c + (a * lip) ** 2 / (1 - a * lip), np.inf)
    return float(out) if out.ndim == 0 else out


def forward_step_bounds(c, lip, norm="euclidean") -> dict:
    r"""Admissible and optimal step sizes of :math:`x_{k+1} = x_k + \alpha F(x_k)`.

    Assumes :math:`\mathrm{osLip}(F) \le -c < 0` and :math:`\mathrm{Lip}(F) \le \ell`, with
    condition number :math:`\kappa = \ell / c \ge 1`. Returns a dict with

    * ``kappa``;
    * ``alpha_max``: the factor bound is below 1 exactly for ``0 < alpha < alpha_max``:
      :math:`2/(c\kappa^2)` (Euclidean), :math:`1/(c\kappa(1+\kappa))` (non-Euclidean);
    * ``alpha_opt``: the minimiser of the bound, :math:`1/(c\kappa^2)` (Euclidean),
      :math:`(1 - \sqrt{\kappa/(1+\kappa)})/\ell` (non-Euclidean);
    * ``factor_opt``: the bound at ``alpha_opt``, :math:`\sqrt{1 - 1/\kappa^2}` (Euclidean).

    These are exact; the slides' series :math:`\alpha^* = (1/(2\kappa^2) - 3/(8\kappa^3))/c`,
    :math:`\ell^* = 1 - 1/(4\kappa^2) + 1/(8\kappa^3)` are their expansions for large kappa.
    """
    c, lip = _check_rates(c, lip, norm)
    kappa = lip / c
    if norm == "euclidean":
        alpha_max, alpha_opt = 2 / (c * kappa**2), 1 / (c * kappa**2)
    else:
        alpha_max = 1 / (c * kappa * (1 + kappa))
        # d/du [1 - u/kappa + u^2/(1-u)] = 0 with u = alpha*lip  <=>  (1+k)u^2 - 2(1+k)u + 1 = 0
        alpha_opt = (1 - np.sqrt(kappa / (1 + kappa))) / lip
    factor_opt = forward_step_factor(alpha_opt, c, lip, norm)
    return {"kappa": kappa, "alpha_max": alpha_max, "alpha_opt": float(alpha_opt),
            "factor_opt": factor_opt}


def averaged_step_bounds(os_lip, lip) -> dict:
    r"""Step sizes of the averaged iteration :math:`x_{k+1} = (1-\alpha)x_k + \alpha G(x_k)`.

    In an inner-product norm, with :math:`\mathrm{osLip}(G) \le b < 1` and
    :math:`\mathrm{Lip}(G) \le \ell`, expanding the square gives for :math:`0 < \alpha \le 1`

    .. math:: \mathrm{Lip}((1-\alpha)\mathrm{Id} + \alpha G)^2
              \le 1 - 2\alpha(1 - b) + \alpha^2 (1 - 2b + \ell^2).

    The right-hand side is, as an expression in :math:`\alpha`, the Euclidean forward-step bound
    :func:`forward_step_factor` with :math:`c = 1 - b` and :math:`\ell_{\text{eff}} =
    \sqrt{1 - 2b + \ell^2}`, so the optimiser of :func:`forward_step_bounds` is reused. (Here
    :math:`\ell_{\text{eff}}` is only a name for that coefficient: it is *not* a Lipschitz bound
    on :math:`G - \mathrm{Id}`, since :math:`\mathrm{osLip}(G) \le b` gives no lower bound on
    :math:`\langle G(x) - G(y), x - y\rangle`.) Step sizes are capped at 1, beyond which the
    expansion no longer holds. Returns the same keys plus ``c`` and ``lip_eff``.
    """
    b = float(os_lip)
    if not np.isfinite(b) or b >= 1:
        raise ValueError(f"os_lip must be finite and below 1, got {os_lip}")
    lip = as_positive_scalar(lip, "lip")
    if lip < abs(b):  # -Lip(G) <= osLip(G) <= Lip(G) in every norm
        raise ValueError(f"lip must be at least |os_lip|, got lip={lip} < |{b}|")
    c, lip_eff = 1.0 - b, float(np.sqrt(1.0 - 2.0 * b + lip**2))
    out = forward_step_bounds(c, lip_eff, "euclidean")
    if out["alpha_opt"] > 1.0:  # Picard (alpha = 1) is already best: Lip(G) < 1 is small enough
        out["alpha_opt"], out["factor_opt"] = 1.0, forward_step_factor(1.0, c, lip_eff)
    out["alpha_max"] = min(out["alpha_max"], 1.0)
    out.update(c=c, lip_eff=lip_eff)
    return out


def implicit_step_bounds(A) -> dict:
    r"""Step size and :math:`\ell_\infty` Banach factor of the averaged iteration of an implicit layer.

    For :math:`x_{k+1} = (1-\alpha)x_k + \alpha\Phi(Ax_k + Bu + b)` with :math:`\Phi` acting
    entrywise with slopes in :math:`[0, 1]` (ReLU, tanh, sigmoid up to scaling) and
    :math:`\mu_\infty(A) < 1`: the Jacobian :math:`(1-\alpha)I + \alpha DA` has nonnegative
    diagonal whenever :math:`\alpha \le 1/(1 - \min_i (a_{ii})_-)`, and then its
    :math:`\ell_\infty` norm is at most :math:`1 - \alpha(1 - \mu_\infty(A)_+)` (the identity
    :math:`\|I + \alpha M\|_\infty = 1 + \alpha\mu_\infty(M)` for small steps). The best such step
    is the largest one. Returns a dict with ``alpha``, ``factor`` and ``rate``
    :math:`= 1 - \mu_\infty(A)_+`, the contraction rate of :math:`\dot x = -x + \Phi(Ax + Bu + b)`
    (Jafarpour et al., NeurIPS 2021; Chapters 2 and 4).
    """
    from .norms import lognorm  # local import: norms does not depend on fixedpoint

    A = as_square_matrix(A, "A")
    mu = lognorm(A, np.inf)
    if mu >= 1:
        raise ValueError(f"A must satisfy mu_inf(A) < 1 (well-posedness), got mu_inf(A) = {mu:.4g}")
    rate = 1.0 - max(mu, 0.0)
    alpha = 1.0 / (1.0 - min(np.min(np.diag(A)), 0.0))
    return {"alpha": alpha, "factor": 1.0 - alpha * rate, "rate": rate}
