r"""Fixed-point iterations for ``x = G(x)`` and the step sizes that make them
contractions.

Three iterations (Section 1.1 of the book):

* Picard: :math:`x_{k+1} = G(x_k)`, a Banach contraction when :math:`\mathrm{Lip}(G) <
  1`;
* averaged (Krasnosel'skii-Mann): :math:`x_{k+1} = (1-\alpha)x_k + \alpha G(x_k)`, a
  contraction for small :math:`\alpha` exactly when :math:`\mathrm{osLip}(G) < 1`, even
  if :math:`\mathrm{Lip}(G) \ge 1`;
* Anderson acceleration (type II, memory ``m``): extrapolates from the last ``m``
  residuals.

Every run returns a :class:`FixedPointResult`; a run that diverges, produces non-finite
values or exhausts ``max_iter`` says so in ``converged``/``reason`` and keeps the last
finite iterate, so no NaN is ever handed back as an answer.

:func:`forward_step_bounds` (the admissible and optimal step sizes of the forward step
:math:`x_{k+1} = x_k + \alpha F(x_k)`) and :func:`implicit_step_bounds` are defined,
with every other step-size bound, in :mod:`contraction.steps`; they are reachable here
under their stable names (Bullo, *Contraction Theory for Dynamical Systems*, 2023;
Jafarpour et al., NeurIPS 2021).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_positive_int, as_positive_scalar, as_real_array, check_callable
from ._records import Record

# Stable names (book/building.md; the torch side calls implicit_step_bounds): defined in
# steps.py.
from .steps import forward_step_bounds, implicit_step_bounds

__all__ = [
    "FixedPointResult",
    "solve",
    "forward_step_bounds",
    "implicit_step_bounds",
]

METHODS = ("picard", "averaged", "anderson")
DIVERGENCE_FACTOR = (
    1e8  # residual growth (relative to the first) that counts as divergence
)


@dataclass(frozen=True)
class FixedPointResult(Record):
    """Outcome of :func:`solve`.

    ``x`` is the last finite iterate; ``residuals[k] = ||G(x_k) - x_k||_2`` for each
    evaluated iterate; ``converged`` is True only if a residual fell below ``tol``;
    ``reason`` explains a failure (empty on success).
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
            raise ValueError(
                "alpha must be None (or 1) for method='picard'; use 'averaged'"
            )
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

    Keeps the differences of the last ``m`` iterates and residuals; each step solves a
    small regularised least-squares problem for the extrapolation weights.
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
            self.dx, self.df = self.dx[-self.memory :], self.df[-self.memory :]
        self.prev = (x, f)
        if not self.df:
            return x + self.beta * f
        DX, DF = np.stack(self.dx, axis=1), np.stack(self.df, axis=1)
        gram = DF.T @ DF + self.reg * np.eye(DF.shape[1])
        gamma = np.linalg.solve(gram, DF.T @ f)
        return x + self.beta * f - (DX + self.beta * DF) @ gamma


def solve(
    G,
    x0,
    method="picard",
    alpha=None,
    tol=1e-8,
    max_iter=1000,
    memory=5,
    keep_history=False,
) -> FixedPointResult:
    r"""Iterate towards a fixed point of ``G`` from ``x0``.

    Parameters
    ----------
    G : callable
        Maps a 1-D float array to an array of the same shape.
    x0 : array_like, shape (n,)
        Starting point.
    method : {"picard", "averaged", "anderson"}
        ``"averaged"`` uses :math:`x_{k+1} = (1-\alpha)x_k + \alpha G(x_k)` with ``0 <
        alpha <= 1`` (default 0.5); ``"anderson"`` uses ``alpha`` as its damping
        (default 1) and ``memory`` past steps.
    tol : float
        Stop when the residual :math:`\|G(x_k) - x_k\|_2` is at most ``tol``.
    max_iter : int
        Largest number of iterations.
    keep_history : bool
        Also return every iterate in ``result.history`` (for plots).

    Returns
    -------
    FixedPointResult
        ``converged=False`` with a ``reason`` if the residual exceeded ``1e8`` times its
        first value, a non-finite value appeared, or ``max_iter`` ran out.
    """
    check_callable(G, "G")
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
            return FixedPointResult(
                x, k, np.array(residuals), True, method, alpha, "", history
            )
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
    return FixedPointResult(
        x,
        len(residuals) - 1,
        np.array(residuals),
        False,
        method,
        alpha,
        reason,
        history,
    )
