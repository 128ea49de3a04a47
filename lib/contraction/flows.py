r"""Flows of torch vector fields: fixed-step Runge-Kutta integration and the converse
contraction metric (Chapter 7).

:func:`rk4` integrates :math:`\dot x = f(x)` for a batch of states with the classical
fourth-order Runge-Kutta method at a fixed step; it is how the book rolls out learned
dynamics (:func:`contraction.elcd.rollout`), with no adaptive solver whose step count
depends on the model. :func:`contraction_metric` integrates the variational equation
along the flow to compute the metric of the converse contraction theorem (``jaffe2024``,
Proposition 4.3.3, eqs. 4.15-4.16; P. Giesl, S. Hafstein, I. Mehrabinezhad, J. Comput.
Appl. Math. 390, 2021).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._checks import as_positive_int, as_positive_scalar, as_real_array

__all__ = ["rk4", "contraction_metric"]


def _shift(state, h, slopes):
    return tuple(torch.add(s, k, alpha=h) for s, k in zip(state, slopes))


def _rk4_step(field, state, h):
    """One classical Runge-Kutta step for a state that is a tuple of tensors."""
    k1 = field(state)
    k2 = field(_shift(state, 0.5 * h, k1))
    k3 = field(_shift(state, 0.5 * h, k2))
    k4 = field(_shift(state, h, k3))
    return tuple(
        torch.add(s, torch.add(a + d, b + c, alpha=2.0), alpha=h / 6.0)
        for s, a, b, c, d in zip(state, k1, k2, k3, k4)
    )


def rk4(field, x0, dt: float, steps: int, substeps: int = 1):
    """Classical Runge-Kutta (order 4) with fixed step ``dt / substeps``; returns the
    states at times 0, dt, ..., steps*dt stacked on a new first axis (local error O(h^5)
    per step)."""
    dt = as_positive_scalar(dt, "dt")
    steps = as_positive_int(steps, "steps")
    substeps = as_positive_int(substeps, "substeps")
    state, path = (x0,), [x0]
    for _ in range(steps):
        for _ in range(substeps):
            state = _rk4_step(lambda s: (field(s[0]),), state, dt / substeps)
        path.append(state[0])
    return torch.stack(path)


def _as_input(model, x, name):
    """``x`` as a tensor in the dtype and on the device of ``model``'s parameters;
    without any, in ``x``'s own floating dtype, else torch's default dtype."""
    tensors = list(model.parameters()) if isinstance(model, nn.Module) else []
    floating = [t for t in tensors if t.is_floating_point()]
    if floating:
        return torch.as_tensor(x).to(floating[0].device, floating[0].dtype)
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        return x
    if not isinstance(x, torch.Tensor):
        array = as_real_array(x, name)
        if np.issubdtype(array.dtype, np.floating):
            return torch.as_tensor(array)
    return torch.as_tensor(x, dtype=torch.get_default_dtype())


def contraction_metric(field, x, horizon: float = 20.0, steps: int = 2000):
    r"""The converse contraction metric :math:`M(x) = \int_0^T \Psi(\tau, x)^\top
    \Psi(\tau, x)\,d\tau` of eq. (4.15) with :math:`C = I`, truncated at ``horizon``
    :math:`T`.

    :math:`\Psi` solves the variational equation :math:`\dot \Psi = Df(\phi(\tau,
    x))\Psi`, :math:`\Psi(0) = I` (eq. 4.16); both it and the flow are integrated by RK4
    with ``steps`` steps and the integral by the trapezoidal rule. ``field`` maps
    (batch, d) to (batch, d); ``x`` is (batch, d), used in the dtype of ``field``'s
    parameters (else its own floating dtype). Returns ``(M, tail)``: M of shape (batch,
    d, d) and :math:`\max\|\Psi(T)\|_2`, to judge the truncation (it should be small).
    """
    horizon = as_positive_scalar(horizon, "horizon")
    steps = as_positive_int(steps, "steps")
    x = _as_input(field, x, "x")
    jacobian = torch.vmap(torch.func.jacrev(lambda p: field(p[None])[0]))

    def augmented(state):
        point, psi = state
        return field(point), jacobian(point) @ psi

    h = horizon / steps
    eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    state = (x, eye.expand(len(x), -1, -1))
    metric = 0.5 * h * state[1].transpose(-1, -2) @ state[1]
    with torch.no_grad():
        for step in range(steps):
            state = _rk4_step(augmented, state, h)
            weight = 0.5 if step == steps - 1 else 1.0  # trapezoidal rule
            metric = metric + weight * h * state[1].transpose(-1, -2) @ state[1]
    return metric, float(torch.linalg.matrix_norm(state[1], ord=2).max())
