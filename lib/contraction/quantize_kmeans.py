r"""Soft k-means as a fixed point, differentiated three ways: DKM, IDKM and IDKM-JFB
(Chapter 5).

A layer's weights are cut into ``m`` sub-vectors :math:`w_i \in \mathbb R^d` (the rows
of :math:`W \in \mathbb R^{m\times d}`) and shared through a codebook :math:`C \in
\mathbb R^{k\times d}`. Soft k-means (Algorithm 1 of ``jaffe2024``, after DKM,
``cho2022``) alternates

.. math::

    D_{ij} = \|w_i - c_j\|, \qquad A = \operatorname{rowsoftmax}(-D/\tau), \qquad
    F(C, W) = \operatorname{diag}(A^\top \mathbb 1_m)^{-1} A^\top W ,

the E-step (2.8) and the M-step (2.10); the centers it returns are a fixed point
:math:`C^\star = F(C^\star, W)` (2.13). The distance is the Euclidean norm, *not* its
square, as in (2.5); ``distance="sqeuclidean"`` is the Gaussian-mixture variant. The
gradient of :math:`C^\star(W)` is taken

* ``"dkm"``: by autograd through every one of the ``t`` iterations (DKM), in memory
  :math:`O(t\,m\,k)`;
* ``"idkm"``: by the implicit function theorem (2.17), :math:`\partial C^\star/\partial
  W = (I - \partial_C F)^{-1}\partial_W F`, never forming the inverse: the adjoint
  vector solves :math:`g = v + (\partial_C F)^\top g` by the averaged iteration (2.22)
  with the dissertation's :math:`\alpha = 0.25`, restarted with :math:`\alpha/2` when it
  diverges. Only :math:`C^\star` is kept, so memory does not grow with ``t``;
* ``"jfb"``: Jacobian-free backpropagation (2.24), :math:`g = v`, the zeroth Neumann
  term (``fung2022``): no iteration at all in the backward pass.

The codebook is one coupled state (every center's update depends on every other through
the softmax), so it is solved whole: a state of shape ``(layers, k, d)`` for
:func:`contraction.nn.implicit.fixed_point`. The implicit gradient exists and the
adjoint iteration converges when the spectral radius of :math:`\partial_C F` at the
solution is below one (Section 2.4.2); :func:`check_contraction` estimates it.

Introduced in the Chapter 5 sections *Soft k-means and DKM* and *IDKM*. References: S.
Jaffe, *Dynamical Systems and Neural Networks*, PhD thesis, UCSB 2024, Chapter 2
(``jaffe2024``); M. Cho et al., "DKM: Differentiable k-means clustering layer for neural
network compression", ICLR 2022 (``cho2022``); S. W. Fung et al., "JFB: Jacobian-free
backpropagation for implicit networks", AAAI 2022 (``fung2022``).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import torch

from ._checks import as_positive_int, as_positive_scalar
from .nn.implicit import SolveRecord, fixed_point
from .nn.solvers import NotConverged, SolveInfo, iterate, problem_residuals, solve

__all__ = [
    "DISTANCES",
    "METHODS",
    "KMeansRecord",
    "ContractionCheck",
    "distances",
    "attention",
    "em_update",
    "soft_kmeans",
    "soft_quantize",
    "check_contraction",
]

DISTANCES = ("euclidean", "sqeuclidean")
METHODS = ("dkm", "idkm", "jfb")
# A center that no weight attends to (its softmax mass underflows to 0) would be 0/0;
# the tiny prior mass _DEAD at its current position keeps it in place and changes a live
# center by a relative 1e-12 / mass, far below float32 resolution.
_DEAD = 1e-12
_TINY_SQ = (
    1e-30  # sqrt is clamped here: its derivative at a zero distance would be infinite
)
_HALVINGS = 4  # restarts of the adjoint iteration with alpha / 2 (Section 2.4.2)


@dataclasses.dataclass
class KMeansRecord(SolveRecord):
    """The forward and backward :class:`~contraction.nn.solvers.SolveInfo` of one soft
    k-means, the adjoint step ``alpha`` finally used, and ``fallback`` (``"jfb"`` when a
    non-strict adjoint solve failed and the JFB direction was returned instead, else
    ``""``)."""

    alpha: float | None = None
    fallback: str = ""


# --- the map F and its pieces
# -----------------------------------------------------------------


def _distances_t(W, C, distance):
    """:math:`D^\\top`, shape ``(..., k, m)``: the layout in which the softmax over the
    k codewords runs along a long axis (along a last axis of size k it was 5x slower on
    a CPU)."""
    diff = C.unsqueeze(-2) - W.unsqueeze(
        -3
    )  # (..., k, m, d): exact, no |w|^2 - 2wc + |c|^2
    sq = diff.square().sum(-1)
    return sq if distance == "sqeuclidean" else sq.clamp_min(_TINY_SQ).sqrt()


def _attention_t(W, C, tau, distance):
    return torch.softmax(_distances_t(W, C, distance) / -tau, dim=-2)


def distances(W, C, distance="euclidean"):
    """The matrix :math:`D_{ij} = \\|w_i - c_j\\|` (or its square), shape ``(..., m,
    k)``."""
    return _distances_t(W, C, distance).transpose(-1, -2)


def attention(W, C, tau, distance="euclidean"):
    """The soft assignments :math:`A = \\operatorname{rowsoftmax}(-D/\\tau)` (2.8),
    shape ``(..., m, k)``."""
    return _attention_t(W, C, tau, distance).transpose(-1, -2)


def em_update(C, W, tau, distance="euclidean"):
    """One soft k-means step :math:`F(C, W)` (2.12): attention-weighted means of the
    rows of W."""
    At = _attention_t(W, C, tau, distance)  # (..., k, m) = A^T
    mass = At.sum(-1, keepdim=True)  # (..., k, 1) = A^T 1
    return (At @ W + _DEAD * C) / (mass + _DEAD)


def soft_quantize(W, C, tau, distance="euclidean"):
    """The soft-quantized sub-vectors :math:`r_\\tau(W, C) = A(W, C)\\,C` (2.7), shape
    of ``W``."""
    return _attention_t(W, C, tau, distance).transpose(-1, -2) @ C


# --- validation
# -------------------------------------------------------------------------------


def _check_tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if x.ndim not in (2, 3) or 0 in x.shape:
        raise ValueError(
            f"{name} must have shape ({'m' if name == 'W' else 'k'}, d) or (layers, "
            f"{'m' if name == 'W' else 'k'}, d), got {tuple(x.shape)}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} has non-finite entries (nan or inf)")


def _check_problem(W, C0):
    """``(W, C0, squeeze)`` as batched ``(layers, m, d)`` and ``(layers, k, d)``
    tensors."""
    _check_tensor(W, "W")
    _check_tensor(C0, "C0")
    if (
        C0.ndim != W.ndim
        or C0.shape[-1] != W.shape[-1]
        or C0.shape[:-2] != W.shape[:-2]
    ):
        raise ValueError(
            f"C0 must have shape (k, d) matching W's d (and layers), got C0 "
            f"{tuple(C0.shape)} for W {tuple(W.shape)}"
        )
    if C0.shape[-2] > W.shape[-2]:
        raise ValueError(
            f"k (rows of C0) must not exceed m (rows of W), got k = {C0.shape[-2]} > m "
            f"= {W.shape[-2]}"
        )
    C0 = C0.detach().to(dtype=W.dtype, device=W.device)
    squeeze = W.ndim == 2
    return (W.unsqueeze(0), C0.unsqueeze(0), True) if squeeze else (W, C0, False)


def _check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_tau(tau):
    if isinstance(tau, torch.Tensor) and tau.numel() == 1:
        tau = tau.item()
    return as_positive_scalar(tau, "tau")


def _check_step(alpha):
    alpha = as_positive_scalar(alpha, "alpha")
    if alpha > 1:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    return alpha


# --- the forward iteration and the adjoint solve
# ----------------------------------------------


def _em_iterations(G, C0, W, iters, tol):
    """At most ``iters`` steps ``C <- G(C, W)`` by
    :func:`contraction.nn.solvers.iterate`, stopping a layer once :math:`\\|C^+ -
    C\\|_\\infty \\le` ``tol`` (Algorithm 1); ``tol=None``: exactly ``iters`` steps.
    Under autograd this *is* DKM's unrolled graph.

    ``iterate`` alone cannot stop after exactly ``iters`` steps: a run that is not
    converged returns its last *checked* iterate and spends one more evaluation of G; so
    the step below reports "done" once the budget is spent, without evaluating G again.
    """
    count, last = 0, None

    def step(C):
        nonlocal count, last
        if count == iters:
            return C, torch.zeros(C.shape[0], dtype=C.dtype, device=C.device)
        C_next = G(C, W)
        count, last = count + 1, problem_residuals(C_next - C)
        return C_next, last

    # tol=None: only an exact fixed point (residual 0) stops early, and then C stays put
    # anyway
    C, info = iterate(step, C0, tol or 5e-324, iters, "picard", 1.0, strict=False)
    worst = float(last.max())
    converged = tol is not None and worst <= tol
    reason = (
        ""
        if converged
        else (
            f"stopped after iters={count} with max |C+ - C| = "
            f"{worst:.3g}" + ("" if tol is None else f" > tol={tol:.3g}")
        )
    )
    return C, SolveInfo(info.iterations, worst, converged, "picard", 1.0, last, reason)


def _adjoint_solver(method, alpha, tol, max_iter, strict, record):
    """``adjoint(vjp, v) -> (g, info)`` for
    :func:`~contraction.nn.implicit.fixed_point`: the averaged iteration (2.22) on
    :math:`g = v + J^\\top g` (or Anderson mixing of it), restarted with alpha / 2 on
    divergence."""

    def adjoint(vjp, v):
        scale = problem_residuals(v).clamp_min(
            1e-30
        )  # linear in v: judge the residual relatively
        step = alpha
        for _ in range(_HALVINGS + 1):
            g, info = solve(
                lambda s: v + vjp(s),
                v,
                method=method,
                alpha=step,
                tol=tol,
                max_iter=max_iter,
                check_every=4,
                strict=False,
                scale=scale,
            )
            if info.converged or not info.reason.startswith(("diverged", "non-finite")):
                break
            step /= 2
        record.alpha, record.fallback = step, ""
        if info.converged:
            return g, info
        if strict:
            raise NotConverged(info, "backward (adjoint) fixed point of soft k-means")
        warnings.warn(
            f"soft k-means: the adjoint fixed point did not converge ({info.reason}; "
            f"alpha = {step:g}); using the JFB direction for this gradient. Check "
            "check_contraction(), or raise tau.",
            RuntimeWarning,
            stacklevel=2,
        )
        record.fallback = "jfb"
        return v, info

    return adjoint


def soft_kmeans(
    W,
    C0,
    tau,
    distance="euclidean",
    method="idkm",
    *,
    iters=30,
    tol=1e-6,
    alpha=0.25,
    backward="averaged",
    backward_tol=1e-6,
    backward_max_iter=500,
    strict=False,
    record=None,
):
    r"""Soft k-means centers :math:`C^\star = F(C^\star, W)`, differentiable in ``W``.

    Parameters
    ----------
    W : tensor ``(m, d)`` or ``(layers, m, d)``
        The sub-vectors to cluster, one per row
        (:func:`contraction.quantize.to_subvectors`).
    C0 : tensor ``(k, d)`` or ``(layers, k, d)``
        The starting codebook (a warm start from the previous step, or
        :func:`~contraction.codebooks.init_codebook`); it receives no gradient.
    tau : float > 0
        The temperature (the dissertation trains with 5e-4, Section 2.5).
    distance : {"euclidean", "sqeuclidean"}
        :math:`\|w - c\|` as in (2.5), or its square.
    method : {"dkm", "idkm", "jfb"}
        Unrolled autograd, implicit differentiation, or Jacobian-free backpropagation.
    iters : int
        The most clustering iterations ``t`` (the dissertation caps them at 30).
    tol : float or None
        Stop once :math:`\max|C^+ - C| \le` ``tol`` :math:`\cdot \max|W|`; None runs
        exactly ``iters`` iterations (to measure cost against ``t``).
    alpha, backward, backward_tol, backward_max_iter, strict
        The adjoint solve of ``"idkm"``: its step (halved on divergence), its solver
        (``"averaged"``, the dissertation's (2.22), or ``"anderson"``, the same map with
        Anderson mixing), tolerance relative to the incoming gradient, iteration cap,
        and whether failure raises :class:`~contraction.nn.solvers.NotConverged`
        (otherwise a ``RuntimeWarning`` and the JFB direction).
    record : KMeansRecord, optional
        Receives the forward and backward :class:`~contraction.nn.solvers.SolveInfo`.

    Returns
    -------
    tensor
        The centers, shaped like ``C0``.
    """
    Wb, Cb, squeeze = _check_problem(W, C0)
    tau, distance = _check_tau(tau), _check_choice(distance, "distance", DISTANCES)
    method = _check_choice(method, "method", METHODS)
    iters = as_positive_int(iters, "iters")
    tol = (
        None
        if tol is None
        else as_positive_scalar(tol, "tol") * float(Wb.detach().abs().max())
    )
    record = KMeansRecord() if record is None else record
    if not isinstance(record, KMeansRecord):
        raise TypeError(f"record must be a KMeansRecord, got {type(record).__name__}")
    G = functools.partial(em_update, tau=tau, distance=distance)
    if method == "dkm":
        C, record.forward = _em_iterations(G, Cb, Wb, iters, tol)
        record.backward = None
    else:
        adjoint = _adjoint_solver(
            _check_choice(backward, "backward", ("averaged", "anderson")),
            _check_step(alpha),
            as_positive_scalar(backward_tol, "backward_tol"),
            as_positive_int(backward_max_iter, "backward_max_iter"),
            bool(strict),
            record,
        )
        W_fixed = Wb.detach()

        def forward(z0):
            return _em_iterations(G, z0, W_fixed, iters, tol)

        C = fixed_point(
            G,
            Cb,
            Wb,
            backward="implicit" if method == "idkm" else "jfb",
            record=record,
            forward_solver=forward,
            adjoint_solver=adjoint,
        )
    return C[0] if squeeze else C


# --- hard k-means and initial codebooks
# -------------------------------------------------------


@dataclasses.dataclass
class ContractionCheck:
    """The spectral radius of :math:`\\partial_C F` at a codebook (largest over layers),
    its value per layer, the power iterations used, and whether it is below one (Section
    2.4.2)."""

    spectral_radius: float
    radii: list
    iterations: int
    contracting: bool


def check_contraction(W, C, tau, distance="euclidean", iters=200, seed=0):
    r"""Estimate :math:`\rho(\partial F/\partial C)` at ``C`` (normally :math:`C^\star`)
    by power iteration with vector-Jacobian products on one stored evaluation of F (no
    matrix formed).

    :math:`J^\top` has the spectrum of :math:`J = \partial_C F`, which is not symmetric
    and may have a complex dominant pair, so the estimate is Gelfand's :math:`\rho =
    \lim \|(J^\top)^n v\|^{1/n}`: the mean log growth over the second half of the
    iterations. Below one, the forward iteration (2.13) is locally convergent and the
    adjoint iteration (2.21) converges (the averaged one too, for every alpha in (0,
    1]).
    """
    Wb, Cb, _ = _check_problem(W, C)
    tau, distance = _check_tau(tau), _check_choice(distance, "distance", DISTANCES)
    iters = as_positive_int(iters, "iters")
    with torch.enable_grad():
        C_in = Cb.detach().requires_grad_(True)
        out = em_update(C_in, Wb.detach(), tau, distance)
    g = torch.Generator().manual_seed(int(seed))
    v = torch.randn(Cb.shape, generator=g, dtype=torch.float64).to(Cb)
    logs = []
    for _ in range(iters):
        v = v / v.flatten(1).norm(dim=1).clamp_min(1e-300).reshape(-1, 1, 1)
        (v,) = torch.autograd.grad(out, C_in, v, retain_graph=True)
        logs.append(v.flatten(1).norm(dim=1).clamp_min(1e-300).log())
    radii = torch.stack(logs[iters // 2 :]).mean(0).exp()
    radii = torch.where(radii < 1e-100, torch.zeros_like(radii), radii).tolist()
    worst = max(radii)
    return ContractionCheck(worst, radii, iters, worst < 1.0)
