r"""Batched fixed-point solves in torch and the implicit-differentiation backward (Chapter 4).

The torch companion of :mod:`contraction.fixedpoint`: :func:`solve_fixed_point` runs the averaged
iteration or Anderson acceleration on a batch of fixed-point problems :math:`z = G(z)` at once,
reporting convergence in a :class:`SolveInfo` instead of returning NaN; :func:`attach_implicit_gradient`
gives the solution its gradient by the implicit function theorem, solving the adjoint fixed point
:math:`g = v + (\partial G/\partial z)^\top g` with the same solver, so no iteration is unrolled.
Every equilibrium model of the book (:mod:`contraction.implicit`, :mod:`contraction.monotone`)
uses these two functions.

Reference: S. Bai, J. Z. Kolter, V. Koltun, "Deep equilibrium models", NeurIPS 2019 (``bai2019``);
H. F. Walker, P. Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal. 2011.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import fixedpoint
from ._checks import as_positive_int, as_positive_scalar

METHODS = ("averaged", "anderson")

__all__ = ["SolverConfig", "SolveInfo", "iterate", "solve_fixed_point", "attach_implicit_gradient",
           "adjoint_tolerance"]


@dataclass(frozen=True)
class SolverConfig:
    r"""How an equilibrium model solves its forward and backward fixed points.

    ``method`` names the iteration (the model says which it accepts); ``alpha=None`` means the
    step size from theory; ``tol`` bounds the residual :math:`\max_{\text{batch}}\|G(x)-x\|_\infty`;
    ``memory`` is Anderson's; ``strict=True`` turns non-convergence into a ``RuntimeError``.
    Change a model's settings with ``dataclasses.replace(model.solver, alpha=1.0)``.
    """

    method: str = "averaged"
    alpha: float | None = None
    tol: float = 1e-6
    max_iter: int = 500
    memory: int = 5
    strict: bool = False

    def __post_init__(self):
        if not isinstance(self.method, str):
            raise TypeError(f"method must be a string, got {type(self.method).__name__}")
        if self.alpha is not None:
            object.__setattr__(self, "alpha", as_positive_scalar(self.alpha, "alpha"))
        object.__setattr__(self, "tol", as_positive_scalar(self.tol, "tol"))
        object.__setattr__(self, "max_iter", as_positive_int(self.max_iter, "max_iter"))
        object.__setattr__(self, "memory", as_positive_int(self.memory, "memory"))
        if not isinstance(self.strict, bool):
            raise TypeError(f"strict must be True or False, got {self.strict!r}")


@dataclass
class SolveInfo:
    """Outcome of one batched fixed-point solve: ``reason`` is empty exactly when it converged."""

    iterations: int
    residual: float
    converged: bool
    method: str
    alpha: float
    reason: str = ""


def iterate(step, x0, tol, max_iter, method="", alpha=1.0):
    """Run ``x <- step(x)[0]`` until the residual ``step(x)[1]`` (at ``x``) is at most ``tol``.

    Stops, keeping the last finite iterate, on non-finite values, on divergence (residual above
    ``1e8`` times the first one) or when ``max_iter`` runs out; returns ``(x, SolveInfo)``.
    """
    x, first = x0, None
    for k in range(max_iter + 1):
        x_next, r = step(x)
        if not math.isfinite(r):
            return x, SolveInfo(k, r, False, method, alpha, f"non-finite values at iteration {k}")
        if r <= tol:
            return x, SolveInfo(k, r, True, method, alpha)
        first = r if first is None else first
        if r > fixedpoint.DIVERGENCE_FACTOR * max(first, tol):
            reason = f"diverged: residual grew to {r:.3g} by iteration {k}"
        elif k == max_iter:
            reason = f"max_iter={max_iter} reached with residual {r:.3g} > tol={tol:g}"
        elif not bool(torch.isfinite(x_next).all()):
            reason = f"non-finite iterate at iteration {k + 1}"
        else:
            x = x_next
            continue
        return x, SolveInfo(k, r, False, method, alpha, reason)
    raise AssertionError("unreachable")  # pragma: no cover


class _BatchedAnderson:
    """Type-II Anderson mixing, one small least-squares problem per batch row (as in fixedpoint).

    The last ``memory`` differences of iterates and residuals live in ring buffers of shape
    (batch, memory, n) and their Gram matrix is updated one row at a time, because batched
    products of tiny matrices cost as much as an evaluation of ``G`` on a CPU.
    """

    def __init__(self, memory, beta, regularization=1e-8):
        self.memory, self.beta, self.reg = memory, beta, regularization
        self.prev, self.count = None, 0

    def step(self, x, f):
        if self.prev is None:
            self.prev = (x, f)
            self.dx, self.df = (x.new_zeros(x.shape[0], self.memory, x.shape[1]) for _ in "xf")
            self.gram = x.new_zeros(x.shape[0], self.memory, self.memory)
            return x + self.beta * f
        slot = self.count % self.memory
        self.dx[:, slot], self.df[:, slot] = x - self.prev[0], f - self.prev[1]
        row = (self.df * self.df[:, slot, None, :]).sum(-1)
        self.gram[:, slot, :], self.gram[:, :, slot] = row, row
        self.count, self.prev = self.count + 1, (x, f)
        used = min(self.count, self.memory)
        DX, DF, gram = self.dx[:, :used], self.df[:, :used], self.gram[:, :used, :used]
        # relative regularisation keeps the solve well posed as the differences shrink
        scale = gram.diagonal(dim1=1, dim2=2).mean(-1)[:, None, None] * self.reg + 1e-30
        eye = torch.eye(used, dtype=x.dtype, device=x.device)
        gamma, failed = torch.linalg.solve_ex(gram + scale * eye,
                                              (DF * f[:, None, :]).sum(-1, keepdim=True))
        # a row whose small system is singular (its differences vanished) takes a plain step
        ok = (failed == 0)[:, None, None] & torch.isfinite(gamma).all(1, keepdim=True)
        gamma = torch.where(ok, gamma, torch.zeros_like(gamma)).transpose(1, 2)  # (batch, 1, used)
        return x + self.beta * f - ((gamma @ DX) + self.beta * (gamma @ DF)).squeeze(1)


def solve_fixed_point(G, x0, alpha=1.0, method="averaged", tol=1e-6, max_iter=500, memory=5):
    r"""Solve ``x = G(x)`` for a batch ``x0`` of shape (batch, n), without building a graph.

    ``method="averaged"``: :math:`x_{k+1} = (1-\alpha)x_k + \alpha G(x_k)` (``alpha=1`` is
    Picard); ``method="anderson"``: Anderson acceleration of that averaged map. The residual is
    :math:`\max_{\text{batch}} \|G(x_k) - x_k\|_\infty`, the same for every ``alpha``.
    Returns ``(x, SolveInfo)``.
    """
    if not callable(G):
        raise TypeError(f"G must be callable, got {type(G).__name__}")
    if not isinstance(x0, torch.Tensor) or x0.ndim != 2:
        raise ValueError("x0 must be a torch tensor of shape (batch, n)")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    alpha = as_positive_scalar(alpha, "alpha")
    if alpha > 1:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    anderson = _BatchedAnderson(as_positive_int(memory, "memory"), alpha) \
        if method == "anderson" else None

    def step(x):
        delta = G(x) - x
        row_residual = delta.abs().amax(1, keepdim=True)
        x_next = anderson.step(x, delta) if anderson else x + alpha * delta
        # rows already within tol stay put: Anderson on vanishing differences amplifies noise
        return torch.where(row_residual <= tol, x, x_next), float(row_residual.max())

    tol = as_positive_scalar(tol, "tol")
    with torch.no_grad():
        return iterate(step, x0, tol, as_positive_int(max_iter, "max_iter"), method, alpha)


def attach_implicit_gradient(G, z_star, solve_adjoint, on_solve=None, strict=False):
    r"""Return ``G(z_star)`` with the gradient of the fixed point :math:`z^* = G(z^*, \theta)`.

    Implicit function theorem: for a loss with :math:`v = \partial L/\partial z^*`, the gradient
    with respect to the parameters (and inputs) :math:`\theta` of ``G`` is
    :math:`(\partial G/\partial\theta)^\top g`, where ``g`` solves the adjoint fixed point

    .. math:: g = v + J^\top g, \qquad J = \partial G/\partial z\,(z^*).

    One more step ``G(z_star)`` with a graph supplies :math:`(\partial G/\partial\theta)^\top`;
    a hook on it replaces the incoming :math:`v` by ``g``. ``solve_adjoint(vjp, v)`` returns
    ``(g, SolveInfo)``, where ``vjp(g)`` computes :math:`J^\top g` by autograd. ``on_solve``
    receives the ``SolveInfo``; ``strict=True`` raises ``RuntimeError`` if the adjoint did not
    converge. For :math:`G = \Phi(Az + Bu + b)`, :math:`J = DA` with
    :math:`D = \mathrm{diag}(\Phi'(\cdot))` and :math:`\mu_1((DA)^\top) = \mu_\infty(DA) \le
    \mu_\infty(A)_+ < 1`, so the averaged iteration with the forward step contracts in
    :math:`\ell_1` with the forward factor.
    """
    z_out = G(z_star.detach())
    if not z_out.requires_grad:
        return z_out
    z_in = z_star.detach().requires_grad_(True)
    g_in = G(z_in)

    def vjp(g):
        return torch.autograd.grad(g_in, z_in, g, retain_graph=True)[0]

    def hook(v):
        if v is None:  # an undefined incoming gradient (gradcheck probes this) stays undefined
            return None
        g, info = solve_adjoint(vjp, v)
        if on_solve is not None:
            on_solve(info)
        if strict and not info.converged:
            raise RuntimeError(f"backward (adjoint) fixed point did not converge: {info.reason}")
        return g

    z_out.register_hook(hook)
    return z_out


def adjoint_tolerance(tol, v):
    """Stopping tolerance for an adjoint solve with right-hand side ``v``: ``tol * max|v|``.

    The adjoint fixed point is linear in ``v``, and loss gradients are small (a loss averaged over
    a batch), so an absolute tolerance would end the solve before its first step and hand the
    optimiser, or an attack, a crude gradient. A zero ``v`` keeps ``tol``.
    """
    scale = float(v.detach().abs().max())
    return tol * scale if scale > 0 else tol
