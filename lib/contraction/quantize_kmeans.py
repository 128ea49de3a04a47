r"""Soft k-means as a fixed point, differentiated three ways: DKM, IDKM and IDKM-JFB
(Chapter 5).

Soft k-means iterates the step :math:`F(C, W)` of :mod:`contraction.quantize_em` (the
E-step (2.8) and the M-step (2.10) of Algorithm 1 of ``jaffe2024``, after DKM,
``cho2022``) on a codebook :math:`C \in \mathbb R^{k\times d}` for the sub-vectors
:math:`W \in \mathbb R^{m\times d}` of a layer; the centers it returns are a fixed
point :math:`C^\star = F(C^\star, W)` (2.13). The gradient of :math:`C^\star(W)` is
taken

* ``"dkm"``: by autograd through every one of the ``t`` iterations (DKM), in memory
  :math:`O(t\,m\,k)`;
* ``"idkm"``: by the implicit function theorem (2.17), :math:`\partial C^\star/\partial
  W = (I - \partial_C F)^{-1}\partial_W F`, never forming the inverse: the adjoint
  vector solves :math:`g = v + (\partial_C F)^\top g` by the averaged iteration (2.22)
  with the dissertation's :math:`\alpha = 0.25`, restarted with :math:`\alpha/2` when it
  diverges. Only :math:`C^\star` is kept, so memory does not grow with ``t``. For a
  codebook of at most 64 numbers the iteration runs on :math:`(\partial_C F)^\top`
  formed once in closed form (:func:`~contraction.quantize_em.em_jacobian`): the same
  iterates, each a tiny matrix product instead of a pass over the m weights;
* ``"jfb"``: Jacobian-free backpropagation (2.24), :math:`g = v`, the zeroth Neumann
  term (``fung2022``): no iteration at all in the backward pass.

The codebook is one coupled state (every center's update depends on every other through
the softmax), so it is solved whole: a state of shape ``(layers, k, d)`` for
:func:`contraction.nn.implicit.fixed_point`. The implicit gradient exists and the
adjoint iteration converges when the spectral radius of :math:`\partial_C F` at the
solution is below one (Section 2.4.2);
:func:`~contraction.quantize_em.check_contraction` estimates it.

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
from .nn.solvers import (
    NotConverged,
    SolveInfo,
    iterate,
    problem_residuals,
    solve,
    solve_affine,
)
from .quantize_em import (
    DISTANCES,
    _check_choice,
    _check_problem,
    _check_tau,
    em_jacobian,
    em_update,
)

__all__ = ["METHODS", "KMeansRecord", "soft_kmeans"]

METHODS = ("dkm", "idkm", "jfb")
_HALVINGS = 4  # restarts of the adjoint iteration with alpha / 2 (Section 2.4.2)
# A codebook of at most this many numbers has its Jacobian formed for the adjoint solve
_EXPLICIT_MAX = 64


@dataclasses.dataclass
class KMeansRecord(SolveRecord):
    """The forward and backward :class:`~contraction.nn.solvers.SolveInfo` of one soft
    k-means, the adjoint step ``alpha`` finally used, and ``fallback`` (``"jfb"`` when a
    non-strict adjoint solve failed and the JFB direction was returned instead, else
    ``""``)."""

    alpha: float | None = None
    fallback: str = ""


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


def _adjoint_solver(method, alpha, tol, max_iter, strict, record, jacobian):
    """``adjoint(vjp, v) -> (g, info)`` for
    :func:`~contraction.nn.implicit.fixed_point`: the averaged iteration (2.22) on
    :math:`g = v + J^\\top g` (or Anderson mixing of it), restarted with alpha / 2 on
    divergence. ``jacobian()`` returns :math:`J` at the solution, or None where the
    codebook is too large to form it; then each step is one vector-Jacobian product."""

    def adjoint(vjp, v):
        # linear in v: judge the residual relatively
        scale = problem_residuals(v).clamp_min(1e-30)
        J = jacobian() if method == "averaged" else None
        if J is not None:
            b = v.reshape(J.shape[:-1])

            def run(step):
                g, info = solve_affine(
                    J.transpose(-1, -2), b, alpha=step, tol=tol, max_iter=max_iter,
                    scale=scale, strict=False,
                )  # fmt: skip
                return g.reshape(v.shape), info
        else:

            def run(step):
                return solve(
                    lambda s: v + vjp(s), v, method=method, alpha=step, tol=tol,
                    max_iter=max_iter, check_every=4, strict=False, scale=scale,
                )  # fmt: skip

        step = alpha
        for _ in range(_HALVINGS + 1):
            g, info = run(step)
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
            lambda: (
                em_jacobian(solution[0], W_fixed, tau, distance)
                if Cb[0].numel() <= _EXPLICIT_MAX
                else None
            ),
        )
        W_fixed, solution = Wb.detach(), []

        def forward(z0):
            C, info = _em_iterations(G, z0, W_fixed, iters, tol)
            solution[:] = [C]
            return C, info

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
