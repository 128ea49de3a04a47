r"""Sum-softmax and k-softmax: soft top-k selection for retrieving k memories (Chapter
6).

Softmax is the entropy-regularised argmax. Its top-k counterpart, the *sum-softmax* (the
"limited multi-label projection" of Amos et al.), is the entropy-regularised projection
of ``x`` onto the capped simplex:

.. math::

    \operatorname{ssm}(x; k) = \arg\min_{y \in [0,1]^n,\ \mathbb 1^\top y = k}
        -x^\top y - H_b(y), \qquad H_b(y) = -\textstyle\sum_i y_i\log y_i +
        (1-y_i)\log(1-y_i).

The optimality conditions give :math:`y = \sigma(x + \nu\mathbb 1)` with the scalar dual
variable :math:`\nu` the root of :math:`\varphi(\nu) = \sum_i \sigma(x_i + \nu) - k`,
which is increasing (:math:`\varphi' = \sum_i h_i`, :math:`h = y(1-y)`). We solve it by
*safeguarded Newton*: Newton steps kept inside a bracket that every evaluation shrinks,
with a bisection step whenever Newton would leave it, so the iteration can neither
diverge nor stall even for inputs of size 1e3, and it converges quadratically near the
root. The gradient is implicit (no iteration is differentiated):

.. math::

    \frac{\partial\,\operatorname{ssm}}{\partial x}
    = \operatorname{diag}(h) - \frac{h h^\top}{\mathbb 1^\top h},

a symmetric Laplacian (rows sum to zero), so the vector-Jacobian product costs O(n).

Facts checked in the book (Section 6.3): ``ssm(beta x; k)`` tends to the top-k indicator
as ``beta`` grows (Prop. 3.5.1 of ``jaffe2024``); ``ssm`` is monotone in ``k`` (Prop.
3.5.2), so the columns of :func:`ksoftmax`, ``ssm(x; i) - ssm(x; i-1)``, are
non-negative (Def. 3.2.2); and ``ssm(., k)`` is the gradient of a convex potential
:math:`V_k` (Prop. 3.6.1). The dissertation writes :math:`V_k(x) = \int_0^1 x^\top
\operatorname{ssm}(tx; k)\,dt`; convex duality gives it in closed form, :math:`V_k(x) =
\sum_i \operatorname{softplus}(x_i + \nu) - k\nu - n H_b(k/n)` (:func:`ssm_potential`).

References: S. Jaffe, *Dynamical Systems and Neural Networks*, PhD thesis, UCSB 2024,
Chapter 3 (``jaffe2024``); B. Amos, V. Koltun, J. Z. Kolter, "The limited multi-label
projection layer", arXiv:1906.08707, 2019 (``amos2019``).
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

METHODS = ("newton", "bisection")
# steps between convergence checks on a GPU (one host sync each)
FIRST_CHECK, CHECK_EVERY = 4, 2
# bisection alone needs ~log2(range / tol) < 100 steps even in float64 at scale 1e3
MAX_ITER = 200

__all__ = [
    "ssm",
    "ksoftmax",
    "ssm_potential",
    "solve_dual",
    "as_float_tensor",
    "check_ssm_input",
    "check_k",
    "METHODS",
]


def as_float_tensor(
    value, name: str, min_last: int = 1, finite: bool = True
) -> torch.Tensor:
    """Return ``value`` as a floating tensor whose last dimension has ``min_last``
    entries.

    ``finite=False`` leaves the check for nan/inf to the caller (ssm does it on the row
    extremes it needs anyway, which is cheaper than a pass over every entry).
    """
    if isinstance(value, (str, bytes, numbers.Number)) or value is None:
        raise TypeError(f"{name} must be a tensor or array, got {type(value).__name__}")
    if not isinstance(value, torch.Tensor):
        try:
            value = torch.as_tensor(value)
        except Exception as exc:  # ragged lists, objects
            raise TypeError(f"{name} must be a tensor or array: {exc}") from None
    if not torch.is_floating_point(value):
        raise TypeError(
            f"{name} must have a floating dtype (float32 or float64), got {value.dtype}"
        )
    if value.dim() == 0 or value.shape[-1] < min_last:
        raise ValueError(
            f"{name} must have a last dimension of size >= {min_last}, got shape "
            f"{tuple(value.shape)}"
        )
    if finite and value.numel() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} has non-finite entries (nan or inf)")
    return value


def check_ssm_input(x, name: str = "x", finite: bool = True) -> torch.Tensor:
    """Return ``x`` as a floating tensor of shape (..., n) with n >= 2 (finite unless
    told)."""
    return as_float_tensor(x, name, min_last=2, finite=finite)


def check_k(k, n: int, name: str = "k") -> int:
    """Return ``k`` as an int in 1..n-1, the range where the projection is not
    trivial."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(k).__name__}")
    if not 1 <= k <= n - 1:
        raise ValueError(
            f"{name} must be in 1..{n - 1} for vectors of length n = {n}, got {k}"
        )
    return int(k)


def _default_tol(dtype: torch.dtype, k_max: int, n: int) -> float:
    # The sum of n sigmoids carries a rounding error of about log2(n) * eps * k; ask for
    # a few times that, so the tolerance is reachable in float32 and tight in float64.
    eps = torch.finfo(dtype).eps
    return 8.0 * eps * max(k_max, 1) * (math.log2(n) + 1.0)


def _start(z, kt, k_max, method):
    """Bracket [lo, hi] and starting point of the dual variable for the shifted input
    ``z``."""
    n = z.shape[-1]
    # phi(lo) <= 0 <= phi(hi): at lo every sigmoid is at most k/n, at hi at least k/n.
    logit = torch.log(kt / (n - kt))
    lo = logit - z.amax(-1)
    hi = logit - z.amin(-1)
    if method == "bisection":
        return lo, hi, 0.5 * (lo + hi)
    # Newton starts midway between the k-th and (k+1)-th largest entries: there the
    # sigmoids of the top k are above 1/2 and the rest below, which is the answer when
    # the input is large.
    top = torch.topk(z, k_max + 1, dim=-1).values
    idx = kt.long().unsqueeze(-1)
    mid = 0.5 * (top.gather(-1, idx - 1) + top.gather(-1, idx)).squeeze(-1)
    return lo, hi, torch.minimum(torch.maximum(-mid, lo), hi)


def _step(z, kt, nu, lo, hi, tol, method, y):
    """One safeguarded step from ``nu``: returns (new nu, lo, hi, |phi| at ``nu``,
    step).

    The sigmoids at ``nu`` are written into ``y``, one buffer of the input's size reused
    by every step, because on a CPU the page faults of a fresh tensor per step cost as
    much as the arithmetic.
    """
    n = z.shape[-1]
    torch.add(z, nu.unsqueeze(-1), out=y).sigmoid_()
    total = y.sum(-1)
    phi = total - kt
    lo = torch.where(phi <= 0, torch.maximum(lo, nu), lo)
    hi = torch.where(phi >= 0, torch.minimum(hi, nu), hi)
    new = 0.5 * (lo + hi)
    if method == "newton":
        # Newton on psi(nu) = logit(S/n) - logit(k/n), a monotone rescaling of phi that
        # is nearly linear in nu both in the softmax regime (S << n) and when S is close
        # to n, so a step from the top-k midpoint lands within a few digits of the root
        # (about 4 steps to 1e-10 in float64 on the benchmark's inputs, where plain
        # Newton on phi needs up to 10).
        # sum of y (1 - y) as S - |y|^2: one reduction that writes no temporary (a
        # norm), instead of passes that write memory. It cancels when every sigmoid is
        # saturated, but there the true slope is tiny, a wrong or zero one gives a step
        # outside the bracket (nu is one of its ends now), and the safeguard bisects.
        slope = total - torch.linalg.vector_norm(y, dim=-1).square()
        psi = torch.log(total / kt) - torch.log((n - total) / (n - kt))
        newton = nu - psi * total * (n - total) / (n * slope)
        # Keep Newton only strictly inside the bracket (non-finite fails the test): the
        # safeguard.
        new = torch.where((newton > lo) & (newton < hi), newton, new)
    res = phi.abs()
    # a solved row stays put (bisection would move it)
    new = torch.where(res <= tol, nu, new)
    return new, lo, hi, res, (new - nu).abs()


def solve_dual(z, kt, method="newton", tol=None, max_iter=MAX_ITER):
    r"""Solve :math:`\sum_i \sigma(z_i + \nu) = k` for ``nu`` in every row of ``z``.

    ``z`` has shape (..., n); ``kt`` (targets, broadcastable to ``z.shape[:-1]``) has
    the same dtype. Returns ``(nu, y, iterations)`` with ``y = sigmoid(z + nu)``, the
    last evaluation (so the answer costs no extra pass). Converged means ``|phi(nu)| <=
    tol`` or ``nu`` pinned to rounding level. Raises ``RuntimeError`` otherwise, never
    returns NaN. On a GPU, convergence is checked (one host sync) after ``FIRST_CHECK``
    steps and then every ``CHECK_EVERY`` steps, never per step; on a CPU, where a check
    costs nothing, after every step.
    """
    n = z.shape[-1]
    kt = torch.broadcast_to(kt, z.shape[:-1])
    if kt.numel() == 0:  # an empty batch: nothing to solve
        return z.new_zeros(z.shape[:-1]), torch.empty_like(z), 0
    k_max = int(kt.max())
    if tol is None:
        tol = _default_tol(z.dtype, k_max, n)
    lo, hi, nu = _start(z, kt, k_max, method)
    eps = torch.finfo(z.dtype).eps
    y = torch.empty_like(z)
    # a check costs a host sync: rare on a GPU, free on a CPU
    block, every = (FIRST_CHECK, CHECK_EVERY) if z.device.type != "cpu" else (1, 1)
    iterations = 0
    while iterations < max_iter:
        for _ in range(block):
            evaluated = nu
            nu, lo, hi, res, step = _step(z, kt, nu, lo, hi, tol, method, y)
        iterations, block = iterations + block, every
        # y and res belong to the evaluated nu: that is the answer checked and returned.
        level = 2 * eps * (1.0 + evaluated.abs())  # a bracket of a few floats
        pinned = (step <= level) | (hi - lo <= level)
        if bool(((res <= tol) | pinned).all()):  # the one host sync per block of steps
            if bool(
                (res > 0.5).any()
            ):  # pinned far from the root: the dtype cannot resolve it
                raise RuntimeError(
                    "ssm: the input's spread is too large for its dtype (the sum of "
                    "the projection cannot reach k); rescale the input"
                )
            return evaluated, y, iterations
    worst = float(res.max())
    raise RuntimeError(
        f"ssm: the {method} solve for the dual variable did not converge in {max_iter} "
        f"iterations (largest |sum(y) - k| = {worst:.3g}, tol = {tol:.3g}); this "
        f"should not happen for finite inputs, please report it"
    )


def _shifted(x):
    """x minus its row maximum (ssm is shift invariant), after checking that it is
    finite.

    The row extremes are all it takes to check for nan/inf (they propagate nan, and an
    infinite entry is an extreme), far cheaper than a pass of ``isfinite`` over every
    entry.
    """
    top, bottom = x.amax(-1, keepdim=True), x.amin(-1, keepdim=True)
    if x.numel() and not bool(torch.isfinite(bottom - top).all()):
        if not bool((torch.isfinite(top) & torch.isfinite(bottom)).all()):
            raise ValueError("x has non-finite entries (nan or inf)")
        raise ValueError("x spans more than the largest float of its dtype; rescale x")
    # Shifting keeps nu moderate: no cancellation between a huge x_i and a huge nu in
    # the entries that decide the answer.
    return x - top


def _solve(x, kt, method):
    """The projection y = sigmoid(x + nu) for (..., n) inputs and broadcastable targets
    ``kt``."""
    work = (
        x if x.dtype in (torch.float32, torch.float64) else x.float()
    )  # half: solve in float32
    _, y, _ = solve_dual(_shifted(work), kt.to(work.dtype), method)
    return y.to(x.dtype)


class _SumSoftmax(torch.autograd.Function):
    """ssm with the implicit backward J = diag(h) - h h^T / sum(h), never formed as a
    matrix."""

    @staticmethod
    def forward(ctx, x, kt, method):
        y = _solve(x, kt, method)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        h = torch.sub(1.0, y).mul_(y)
        total = h.sum(-1, keepdim=True).clamp_min(torch.finfo(h.dtype).tiny)
        # J v = h * v - h (h . v) / sum(h); J is symmetric, so this is also the VJP.
        # One temporary besides the result, and the subtraction fused in place.
        out = grad * h
        mean = out.sum(-1, keepdim=True) / total
        return out.addcmul_(h, mean, value=-1.0), None, None


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def ssm(x, k, method: str = "newton") -> torch.Tensor:
    r"""Sum-softmax :math:`\operatorname{ssm}(x; k) = \sigma(x + \nu)` along the last
    dimension.

    ``x``: floating tensor (or array) of shape (..., n), any leading dims,
    float32/float64 (half precision is solved in float32), CPU or CUDA. ``k``: int in
    1..n-1 (for k = n the answer would be all ones and for k = 0 all zeros, with no
    gradient: both are refused). The result has entries in (0, 1) summing to ``k``, and
    it is differentiable with an implicit backward. ``method="bisection"`` is the
    bracketing baseline of the benchmark (same tolerance, slower). Introduced in Section
    6.3 of the book (Definition 3.2.1 of ``jaffe2024``).
    """
    x = check_ssm_input(x, finite=False)  # _shifted checks nan/inf on the row extremes
    k = check_k(k, x.shape[-1])
    _check_method(method)
    kt = torch.full(x.shape[:-1], float(k), dtype=x.dtype, device=x.device)
    return _SumSoftmax.apply(x, kt, method)


def ksoftmax(x, k, method: str = "newton") -> torch.Tensor:
    r"""k-softmax: shape (..., n, k), column i = ssm(x; i) - ssm(x; i-1) with ssm(x; 0)
    = 0.

    As the input is scaled up, column i tends to the indicator of the i-th largest entry
    of ``x`` (Definition 3.2.2 of ``jaffe2024``). Every entry is non-negative because
    ssm is monotone in k, the columns sum to ``ssm(x; k)`` and every column sums to 1.
    ``k`` in 1..n-1; all k projections are solved in one batched call. Introduced in
    Section 6.3 of the book.
    """
    x = check_ssm_input(x, finite=False)  # _shifted checks nan/inf on the row extremes
    k = check_k(k, x.shape[-1])
    _check_method(method)
    targets = torch.arange(1, k + 1, dtype=x.dtype, device=x.device)
    # One solve for all targets: rows (..., k, n) share x, the targets broadcast over
    # (..., k).
    stacked = x.unsqueeze(-2).expand(*x.shape[:-1], k, x.shape[-1])
    kt = targets.expand(*x.shape[:-1], k)
    y = _SumSoftmax.apply(stacked, kt, method)
    columns = torch.diff(y, dim=-2, prepend=torch.zeros_like(y[..., :1, :]))
    return columns.transpose(-1, -2)


def _binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1.0 - p) * math.log1p(-p))


def ssm_potential(x, k) -> torch.Tensor:
    r"""The convex potential :math:`V_k` with :math:`\nabla V_k =
    \operatorname{ssm}(\cdot; k)`.

    Closed form :math:`V_k(x) = \sum_i \operatorname{softplus}(x_i + \nu) - k\nu - n
    H_b(k/n)` with :math:`\nu` the dual variable of ``ssm(x; k)``: it is :math:`\max_y
    x^\top y + H_b(y)` over the capped simplex, shifted so that :math:`V_k(0) = 0`,
    which makes it equal to the dissertation's :math:`\int_0^1 x^\top
    \operatorname{ssm}(tx;k)dt` (Prop. 3.6.1 of ``jaffe2024``). ``k = 0`` gives 0 and
    ``k = n`` gives ``x.sum(-1)``. Shape (...,). Differentiable: ``nu`` enters at a
    stationary point, so it is held fixed (envelope theorem) and autograd returns
    exactly ``ssm(x; k)``.
    """
    x = check_ssm_input(x)
    n = x.shape[-1]
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in 0..{n} for vectors of length n = {n}, got {k}")
    if k == 0:
        return x.sum(-1) * 0.0
    if k == n:
        return x.sum(-1)
    top = x.amax(-1, keepdim=True)
    z = x - top  # the shift of ssm: no cancellation between a large x and a large nu
    with torch.no_grad():
        kt = torch.full(x.shape[:-1], float(k), dtype=x.dtype, device=x.device)
        nu = solve_dual(z, kt)[0]  # only nu: y would be the gradient
    value = F.softplus(z + nu.unsqueeze(-1)).sum(-1) - k * nu + k * top.squeeze(-1)
    return value - n * _binary_entropy(k / n)
