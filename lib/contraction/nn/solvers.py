r"""Fixed-point solvers on tensors of any shape: Picard, averaged iteration, Anderson
acceleration.

A batch of independent problems :math:`z_b = G(z)_b` is a tensor ``z`` of shape
``(batch, *state)``: row ``b`` is one whole problem (a hidden state, a k-means codebook,
the tokens of an attention layer), and ``G`` must not mix rows. Each problem has its own
residual :math:`r_b = \|G(z)_b - z_b\|_\infty` (the largest entry over its state) and
converges on its own; a converged problem is held fixed while the others go on, so no
noise is added to it.

* ``picard``: :math:`z \leftarrow G(z)`;
* ``averaged``: :math:`z \leftarrow (1-\alpha)z + \alpha G(z)` (Krasnosel'skii-Mann);
* ``anderson``: type-II Anderson mixing of the averaged map with memory ``m``, solved on
  each problem's *flattened* state, since the state is one coupled unknown (Walker and
  Ni, 2011).

Convergence is read on the host only every ``check_every`` iterations, so a GPU is not
stalled by a synchronisation per step; the iteration count reported is still exact,
because each problem's first converged iteration is tracked on the device. Non-finite
values or a residual that grows by ``1e8`` end the run at the last finite checked
iterate; ``strict=True`` (the default) then raises :class:`NotConverged`,
``strict=False`` returns a :class:`SolveInfo` whose ``reason`` says why. A solver never
returns NaN silently.

The Chapter 4 section *Implicit networks* introduces these solvers;
:mod:`contraction.nn.implicit` differentiates through them. References: Walker, Ni, SIAM
J. Numer. Anal. 2011 (Anderson); Bai, Kolter, Koltun, NeurIPS 2019 (``bai2019``).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import torch

from .._checks import as_positive_int, as_positive_scalar

__all__ = [
    "METHODS",
    "SolverConfig",
    "SolveInfo",
    "NotConverged",
    "iterate",
    "solve",
    "solve_affine",
]

METHODS = ("picard", "averaged", "anderson")
DIVERGENCE_FACTOR = 1e8


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    r"""How a fixed point is solved: ``method``, step ``alpha`` (None: 1, or the model's
    theory step), tolerance ``tol`` on :math:`\max_b r_b`, ``max_iter``, Anderson
    ``memory``, ``check_every`` (host reads of the residual) and ``strict`` (raise on
    non-convergence).

    Change one field with ``dataclasses.replace(config, tol=1e-8)``.
    """

    method: str = "anderson"
    alpha: float | None = None
    tol: float = 1e-6
    max_iter: int = 500
    memory: int = 5
    check_every: int = 4
    strict: bool = True

    def __post_init__(self):
        # a model may name its own splitting here; solve() accepts only METHODS
        if not isinstance(self.method, str):
            raise TypeError(
                f"method must be a string, got {type(self.method).__name__}"
            )
        if self.alpha is not None:
            alpha = as_positive_scalar(self.alpha, "alpha")
            if alpha > 1:
                raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
            object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "tol", as_positive_scalar(self.tol, "tol"))
        for name in ("max_iter", "memory", "check_every"):
            object.__setattr__(self, name, as_positive_int(getattr(self, name), name))
        if not isinstance(self.strict, bool):
            raise TypeError(f"strict must be True or False, got {self.strict!r}")


@dataclasses.dataclass
class SolveInfo:
    """The outcome of one solve. ``residual`` is the largest per-problem residual,
    ``residuals`` the per-problem ones (a tensor on the solve's device); ``reason`` is
    empty exactly when ``converged``."""

    iterations: int
    residual: float
    converged: bool
    method: str
    alpha: float
    residuals: torch.Tensor | None = None
    reason: str = ""


class NotConverged(RuntimeError):
    """A strict solve failed; ``info`` is its :class:`SolveInfo`."""

    def __init__(self, info: SolveInfo, what: str = "fixed point"):
        super().__init__(f"{what} did not converge: {info.reason}")
        self.info = info


def problem_residuals(delta: torch.Tensor) -> torch.Tensor:
    """:math:`\\|\\delta_b\\|_\\infty` for each problem ``b`` of a ``(batch, *state)``
    tensor."""
    return delta.detach().reshape(delta.shape[0], -1).abs().amax(1)


def _check_state(z0, name="z0"):
    if not isinstance(z0, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(z0).__name__}")
    if z0.ndim < 2 or z0.shape[0] == 0 or z0.numel() == 0:
        raise ValueError(
            f"{name} must have shape (batch, *state) with batch >= 1, got "
            f"{tuple(z0.shape)}"
        )
    if not z0.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {z0.dtype}")
    if not bool(torch.isfinite(z0).all()):
        raise ValueError(f"{name} has non-finite entries (nan or inf)")


def _hold(mask, kept, moved):
    """``kept`` where the per-problem ``mask`` is set, ``moved`` elsewhere."""
    return torch.where(mask.reshape(-1, *([1] * (kept.ndim - 1))), kept, moved)


def iterate(
    step,
    z0,
    tol,
    max_iter,
    method="",
    alpha=1.0,
    check_every=4,
    scale=None,
    strict=True,
    what="fixed point",
):
    """Run ``z <- step(z)`` where ``step(z) -> (z_next, residuals)`` and ``residuals``
    (batch,) are those *at* ``z``; the engine behind :func:`solve` and custom
    splittings.

    A problem stops moving once its residual (divided by ``scale``, a (batch,) tensor,
    if given) is at most ``tol``. Returns ``(z, SolveInfo)``; see the module docstring
    for the stopping rules.
    """
    _check_state(z0)
    tol = as_positive_scalar(tol, "tol")
    max_iter, check_every = (
        as_positive_int(max_iter, "max_iter"),
        as_positive_int(check_every, "check_every"),
    )
    z, good = z0, z0
    done_at = torch.full((z0.shape[0],), -1, dtype=torch.long, device=z0.device)
    first = None
    for k in range(max_iter + 1):
        z_next, res = step(z)
        res = res if scale is None else res / scale
        done = res <= tol
        done_at = torch.where(
            (done_at < 0) & done, torch.full_like(done_at, k), done_at
        )
        if k % check_every == 0 or k == max_iter:
            info = _check(res, done_at, k, max_iter, tol, first, method, alpha)
            first = float(res.max()) if first is None else first
            if info is not None:
                # a finite run that ran out of iterations keeps its latest iterate; a
                # run that went non-finite or diverged falls back to the last finite
                # checked one
                latest = info.converged or info.reason.startswith("max_iter")
                return _finish(z if latest else good, info, strict, what)
            good = z
        z = _hold(done, z, z_next)
    raise AssertionError("unreachable")  # pragma: no cover


def _check(res, done_at, k, max_iter, tol, first, method, alpha):
    """The :class:`SolveInfo` that ends the run at iteration ``k``, or None to go on."""
    worst = float(res.max()) if bool(torch.isfinite(res).all()) else math.inf
    if math.isinf(worst):
        reason = f"non-finite values by iteration {k}"
    elif bool((done_at >= 0).all()):
        return SolveInfo(int(done_at.max()), worst, True, method, alpha, res)
    elif first is not None and worst > DIVERGENCE_FACTOR * max(first, tol):
        reason = f"diverged: residual grew to {worst:.3g} by iteration {k}"
    elif k == max_iter:
        reason = f"max_iter={max_iter} reached with residual {worst:.3g} > tol={tol:g}"
    else:
        return None
    return SolveInfo(k, worst, False, method, alpha, res, reason)


def _finish(z, info, strict, what):
    if strict and not info.converged:
        raise NotConverged(info, what)
    return z, info


class _Anderson:
    """Type-II Anderson mixing on flattened states: one small least-squares problem per
    problem.

    The last ``memory`` differences of iterates and residuals sit in ring buffers of
    shape (batch, memory, n), and their Gram matrix is updated one row at a time:
    batched products of tiny matrices cost as much as an evaluation of ``G`` on a CPU.
    """

    def __init__(self, memory, beta, regularization=1e-8):
        self.memory, self.beta, self.reg = memory, beta, regularization
        self.prev, self.count = None, 0

    def step(self, x, f):
        if self.prev is None:
            self.prev = (x, f)
            self.dx, self.df = (
                x.new_zeros(x.shape[0], self.memory, x.shape[1]) for _ in "xf"
            )
            self.gram = x.new_zeros(x.shape[0], self.memory, self.memory)
            return x + self.beta * f
        slot = self.count % self.memory
        self.dx[:, slot], self.df[:, slot] = x - self.prev[0], f - self.prev[1]
        row = (self.df * self.df[:, slot, None, :]).sum(-1)
        self.gram[:, slot, :], self.gram[:, :, slot] = row, row
        self.count, self.prev = self.count + 1, (x, f)
        used = min(self.count, self.memory)
        DX, DF, gram = self.dx[:, :used], self.df[:, :used], self.gram[:, :used, :used]
        # a relative regularisation keeps the system well posed as the differences
        # shrink
        scale = gram.diagonal(dim1=1, dim2=2).mean(-1)[:, None, None] * self.reg + 1e-30
        eye = torch.eye(used, dtype=x.dtype, device=x.device)
        gamma, failed = torch.linalg.solve_ex(
            gram + scale * eye, (DF * f[:, None, :]).sum(-1, keepdim=True)
        )
        # a problem whose small system is singular (its differences vanished) takes a
        # plain step
        ok = (failed == 0)[:, None, None] & torch.isfinite(gamma).all(1, keepdim=True)
        gamma = torch.where(ok, gamma, torch.zeros_like(gamma)).transpose(1, 2)
        return x + self.beta * f - ((gamma @ DX) + self.beta * (gamma @ DF)).squeeze(1)


def _as_alpha(alpha):
    if isinstance(alpha, torch.Tensor):
        if alpha.numel() != 1:
            raise ValueError("alpha must be a scalar")
        return alpha
    return as_positive_scalar(alpha, "alpha")


def solve(G, z0, config=None, *, scale=None, what="fixed point", **overrides):
    r"""Solve :math:`z = G(z)` for every problem of ``z0`` (shape ``(batch, *state)``),
    no graph.

    ``config`` is a :class:`SolverConfig` (default ``SolverConfig()``: Anderson,
    ``tol=1e-6``, strict); keyword ``overrides`` replace its fields, e.g. ``solve(G, z0,
    method="averaged", alpha=0.5)``. ``alpha`` may also be a 0-d tensor (a step computed
    on the device). ``scale`` (batch,) makes the stopping rule relative: :math:`r_b /
    s_b \le` ``tol``. Returns ``(z, SolveInfo)``; raises :class:`NotConverged` when
    strict and unsuccessful.
    """
    if not callable(G):
        raise TypeError(f"G must be callable, got {type(G).__name__}")
    alpha = overrides.pop("alpha", None)
    config = dataclasses.replace(config or SolverConfig(), **overrides)
    if alpha is None:
        alpha = config.alpha if config.alpha is not None else 1.0
    alpha = _as_alpha(alpha)
    if config.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {config.method!r}")
    if config.method == "picard":
        alpha = 1.0
    _check_state(z0)
    shape = z0.shape
    anderson = _Anderson(config.memory, alpha) if config.method == "anderson" else None

    def step(z):
        image = G(z)
        if not isinstance(image, torch.Tensor) or image.shape != shape:
            got = (
                tuple(image.shape)
                if isinstance(image, torch.Tensor)
                else type(image).__name__
            )
            raise ValueError(
                f"G must return a tensor of the state's shape {tuple(shape)}, got {got}"
            )
        delta = image - z
        if anderson is None:
            return z + alpha * delta, problem_residuals(delta)
        flat = anderson.step(z.reshape(shape[0], -1), delta.reshape(shape[0], -1))
        return flat.reshape(shape), problem_residuals(delta)

    reported = (
        float(alpha) if isinstance(alpha, (numbers.Real, torch.Tensor)) else alpha
    )
    with torch.no_grad():
        return iterate(
            step,
            z0,
            config.tol,
            config.max_iter,
            config.method,
            reported,
            config.check_every,
            scale,
            config.strict,
            what,
        )


def solve_affine(
    A,
    b,
    *,
    alpha=1.0,
    tol=1e-6,
    max_iter=500,
    check_every=16,
    scale=None,
    strict=True,
    what="fixed point",
):
    r"""Solve :math:`z = A z + b` for every problem of a batch of *explicit* matrices
    ``A`` ``(batch, n, n)`` and vectors ``b`` ``(batch, n)`` by the averaged iteration

    .. math::

        z \leftarrow (1-\alpha) z + \alpha (A z + b), \qquad z_0 = b,

    one batched product per step with the matrix :math:`(1-\alpha) I + \alpha A`.

    These are the iterates of ``solve(lambda z: A z + b, b, method="averaged")``; the
    point of this form is cost. When ``A`` is the transposed Jacobian of a small state
    (a k-means codebook of ``n = k d`` numbers), forming it once with ``n``
    vector-Jacobian products is cheaper than the hundreds of products an adjoint
    iteration with a spectral radius near one takes, and each step then costs
    microseconds. The iteration converges for every ``alpha`` in (0, 1] when the
    spectral radius of ``A`` is below one, and for small enough ``alpha`` whenever
    every eigenvalue of ``A`` has real part below one. The residual
    :math:`\|Az + b - z\|_\infty` (divided by ``scale``, (batch,), if given) is read
    every ``check_every`` steps, so ``iterations`` is a multiple of it (or
    ``max_iter``); the stopping and failure rules are those of :func:`solve`.
    """
    for value, name, ndim in ((A, "A", 3), (b, "b", 2)):
        if not isinstance(value, torch.Tensor) or value.ndim != ndim:
            raise ValueError(f"{name} must be a tensor with {ndim} dimensions")
    if A.shape != (*b.shape, b.shape[-1]):
        raise ValueError(
            f"A must have shape (batch, n, n) for b of shape (batch, n), got A "
            f"{tuple(A.shape)} and b {tuple(b.shape)}"
        )
    alpha, tol = as_positive_scalar(alpha, "alpha"), as_positive_scalar(tol, "tol")
    max_iter = as_positive_int(max_iter, "max_iter")
    check_every = as_positive_int(check_every, "check_every")
    b = b.unsqueeze(-1)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    step, shift = torch.lerp(eye, A, alpha), alpha * b
    z, good, first, k = b, b, None, 0
    with torch.no_grad():
        while True:
            res = problem_residuals(torch.baddbmm(b, A, z) - z)
            res = res if scale is None else res / scale
            done_at = torch.where(res <= tol, k, -1)
            info = _check(res, done_at, k, max_iter, tol, first, "averaged", alpha)
            if info is not None:
                latest = info.converged or info.reason.startswith("max_iter")
                return _finish((z if latest else good).squeeze(-1), info, strict, what)
            first, good = float(res.max()) if first is None else first, z
            for _ in range(min(check_every, max_iter - k)):
                z = torch.baddbmm(shift, step, z)
            k = min(k + check_every, max_iter)
