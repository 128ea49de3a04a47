r"""A fixed-point layer: :math:`z^\star = G(z^\star, \theta)`, differentiable three
ways.

:func:`fixed_point` solves the fixed point with :mod:`contraction.nn.solvers` and gives
it a gradient with respect to the tensors :math:`\theta` passed to it, chosen by
``backward``:

* ``"implicit"``: the implicit function theorem. For a loss with :math:`v = \partial
  L/\partial z^\star`,

  .. math:: \frac{\partial L}{\partial\theta}
            = \Big(\frac{\partial G}{\partial\theta}\Big)^{\!\top} g,
            \qquad g = v + J^\top g, \quad
            J = \frac{\partial G}{\partial z}(z^\star, \theta),

  where the adjoint fixed point :math:`g` is solved by the *same* solver (each step is
  one vector-Jacobian product), so no iteration is stored and memory does not grow with
  iterations;
* ``"jfb"``: Jacobian-free backpropagation, :math:`g = v` (the first term of the Neumann
  series
  :math:`g = \sum_k (J^\top)^k v`; Fung et al., AAAI 2022);
* ``"unrolled"``: autograd through every iteration (memory grows with the iteration
  count).

The layer is an ``autograd.Function``, so it composes with any module: a state may be a
hidden vector, an image (a CNN block) or a set of tokens, as long as rows of the batch
are independent. Second-order gradients (``create_graph=True``, e.g. a gradient penalty)
are refused with a clear error instead of being silently wrong. :class:`FixedPointLayer`
wraps a module ``f(z, x)`` and passes its parameters for you.

Introduced in the Chapter 4 section *Implicit networks*; Chapters 5-7 reuse it.
References: Bai, Kolter, Koltun, NeurIPS 2019 (``bai2019``); Fung et al., AAAI 2022
(``fung2022``).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.func import functional_call

from .solvers import SolveInfo, SolverConfig, iterate, problem_residuals, solve

__all__ = ["BACKWARDS", "SolveRecord", "fixed_point", "FixedPointLayer"]

BACKWARDS = ("implicit", "jfb", "unrolled")
_TINY = 1e-30


@dataclasses.dataclass
class SolveRecord:
    """The :class:`~contraction.nn.solvers.SolveInfo` of the latest forward and backward
    solves."""

    forward: SolveInfo | None = None
    backward: SolveInfo | None = None


def _needs_grad(tensors, flags):
    return [t.detach().requires_grad_(bool(f)) for t, f in zip(tensors, flags)]


class _FixedPoint(torch.autograd.Function):
    """Forward: solve without a graph. Backward: the adjoint fixed point (or JFB)."""

    @staticmethod
    def forward(ctx, spec, z0, *tensors):
        G, config, alpha, custom_forward, _, record, _ = spec
        if custom_forward is not None:
            z, info = custom_forward(z0)
        else:
            z, info = solve(lambda s: G(s, *tensors), z0, config, alpha=alpha)
        record.forward = info
        if z.untyped_storage().data_ptr() == z0.untyped_storage().data_ptr():
            # A solver that returns its start (already a fixed point) would hand back a
            # view of z0; a caller that then updates z0 in place (a warm-start buffer)
            # would corrupt the output, which autograd forbids. Return a copy.
            z = z.clone()
        ctx.spec = spec
        ctx.save_for_backward(z, *tensors)
        return z

    @staticmethod
    def backward(ctx, v):
        if torch.is_grad_enabled():
            raise RuntimeError(
                "fixed_point does not support second-order gradients "
                "(create_graph=True, e.g. a gradient penalty): its backward is solved "
                "once, without a graph. Use backward='unrolled' for such losses."
            )
        G, config, alpha, _, custom_adjoint, record, mode = ctx.spec
        z, *tensors = ctx.saved_tensors
        flags = ctx.needs_input_grad[2:]
        with torch.enable_grad():
            z_in = z.detach().requires_grad_(True)
            inputs = _needs_grad(tensors, flags)
            out = G(z_in, *inputs)

        def vjp(g):
            (grad,) = torch.autograd.grad(
                out, z_in, g, retain_graph=True, allow_unused=True
            )
            return torch.zeros_like(g) if grad is None else grad

        if mode == "jfb":
            g = v
        elif custom_adjoint is not None:
            g, record.backward = custom_adjoint(vjp, v)
        else:
            # the adjoint is linear in v, so its residual is judged relative to |v| per
            # problem
            scale = problem_residuals(v).clamp_min(_TINY)
            g, record.backward = solve(
                lambda s: v + vjp(s),
                v,
                config,
                alpha=alpha,
                scale=scale,
                what="backward (adjoint) fixed point",
            )
        wanted = [t for t, f in zip(inputs, flags) if f]
        grads = iter(
            torch.autograd.grad(out, wanted, g, allow_unused=True) if wanted else []
        )
        return (None, None, *[next(grads) if f else None for f in flags])


def _unrolled(G, z0, tensors, config, alpha, record):
    if config.method == "anderson":
        raise ValueError(
            "backward='unrolled' differentiates the picard or averaged iteration; got "
            "method='anderson'"
        )
    step_size = (
        1.0
        if config.method == "picard"
        else (alpha if alpha is not None else config.alpha or 1.0)
    )

    def step(z):
        delta = G(z, *tensors) - z
        return z + step_size * delta, problem_residuals(delta)

    z, record.forward = iterate(
        step,
        z0,
        config.tol,
        config.max_iter,
        config.method,
        float(step_size),
        config.check_every,
        None,
        config.strict,
    )
    return z


def fixed_point(
    G,
    z0,
    *tensors,
    backward="implicit",
    config=None,
    alpha=None,
    record=None,
    forward_solver=None,
    adjoint_solver=None,
):
    r"""The fixed point :math:`z^\star = G(z^\star, *tensors)`, differentiable in
    ``tensors``.

    Parameters
    ----------
    G : callable ``G(z, *tensors) -> z``
        Must depend on trainable quantities only through ``tensors`` (pass module
        parameters there, or use :class:`FixedPointLayer`), and must not mix rows of the
        batch.
    z0 : tensor ``(batch, *state)``
        The starting point.
    backward : {"implicit", "jfb", "unrolled"}
        How gradients are computed (module docstring).
    config : SolverConfig, optional
        Forward and adjoint solver settings (default ``SolverConfig()``); ``alpha``
        overrides its step and may be a 0-d tensor.
    record : SolveRecord, optional
        Receives the :class:`~contraction.nn.solvers.SolveInfo` of the forward and
        backward solves.
    forward_solver, adjoint_solver : callable, optional
        ``forward_solver(z0) -> (z, info)`` and ``adjoint_solver(vjp, v) -> (g, info)``
        replace the generic solves (operator splittings that know the structure of
        ``G``).
    """
    if not callable(G):
        raise TypeError(f"G must be callable, got {type(G).__name__}")
    if backward not in BACKWARDS:
        raise ValueError(f"backward must be one of {BACKWARDS}, got {backward!r}")
    config = SolverConfig() if config is None else config
    if not isinstance(config, SolverConfig):
        raise TypeError(f"config must be a SolverConfig, got {type(config).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(
                f"tensors[{i}] must be a torch tensor, got {type(t).__name__}"
            )
    record = SolveRecord() if record is None else record
    if backward == "unrolled":
        return _unrolled(G, z0, tensors, config, alpha, record)
    spec = (G, config, alpha, forward_solver, adjoint_solver, record, backward)
    return _FixedPoint.apply(spec, z0, *tensors)


class FixedPointLayer(nn.Module):
    r"""The equilibrium :math:`z^\star = f(z^\star, x)` of a module ``f`` (e.g. a CNN
    block).

    ``forward(x, z0)`` returns :math:`z^\star` with gradients for ``x`` and every
    parameter of ``f``; ``last_solve`` is a :class:`SolveRecord`. ``f`` must be a
    contraction in ``z`` (or the solver will say it is not converging).
    """

    def __init__(self, f, backward="implicit", config=None):
        super().__init__()
        if not isinstance(f, nn.Module):
            raise TypeError(f"f must be a torch.nn.Module, got {type(f).__name__}")
        if backward not in BACKWARDS:
            raise ValueError(f"backward must be one of {BACKWARDS}, got {backward!r}")
        self.f, self.backward = f, backward
        self.config = SolverConfig() if config is None else config
        self.last_solve = SolveRecord()

    def forward(self, x, z0):
        named = dict(self.f.named_parameters())
        names, params = list(named), list(named.values())

        def G(z, x_in, *p):
            return functional_call(self.f, dict(zip(names, p)), (z, x_in))

        return fixed_point(
            G,
            z0,
            x,
            *params,
            backward=self.backward,
            config=self.config,
            record=self.last_solve,
        )
