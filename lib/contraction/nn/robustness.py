r"""Robustness of trained classifiers in :math:`\ell_\infty`: attacks, certificates,
penalties.

* :func:`fgsm` and :func:`pgd`: the fast gradient sign attack (Goodfellow et al., ICLR
  2015) and projected gradient ascent (Madry et al., ICLR 2018) on the
  :math:`\ell_\infty` ball; they give *upper* bounds on robust accuracy.
* :func:`certified_accuracy`: a *lower* bound. A point is certified at radius
  :math:`\varepsilon` when it is classified correctly with logit margin :math:`>
  2L\varepsilon + 2\delta`, where :math:`L` bounds the :math:`\ell_\infty \to
  \ell_\infty` Lipschitz constant of the logits and :math:`\delta` bounds the error of
  each computed logit (an equilibrium model stops its solver at a tolerance, so its
  logits are within :math:`\delta` of the exact ones).
* :func:`empirical_lipschitz`: a lower estimate of :math:`L` near the data (never above
  a true upper bound).
* :func:`lipschitz_penalty`: the differentiable Lipschitz bound a model reports through
  its ``lipschitz_bound()`` method, added to the loss during robust training (Section
  4.3); the model's float bound and the penalty are the same formula.

Inputs have shape ``(batch, *features)``; ``clamp`` keeps attacked inputs in the data
range.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import as_positive_int, as_positive_scalar

__all__ = [
    "fgsm",
    "pgd",
    "empirical_lipschitz",
    "certified_accuracy",
    "lipschitz_penalty",
]


def _check_attack(model, x, eps, clamp, y=None):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or not x.is_floating_point():
        raise ValueError(
            "x must be a floating-point torch tensor of shape (batch, *features)"
        )
    if y is not None and (
        not isinstance(y, torch.Tensor)
        or y.shape != (x.shape[0],)
        or y.dtype != torch.long
    ):
        raise ValueError(f"y must be a torch.long tensor of shape ({x.shape[0]},)")
    if clamp is not None and (
        not isinstance(clamp, (tuple, list))
        or len(clamp) != 2
        or not clamp[0] < clamp[1]
    ):
        raise ValueError(
            f"clamp must be None or a pair (low, high), low < high, got {clamp!r}"
        )
    return as_positive_scalar(eps, "eps")


def _loss_gradient(model, x, y):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(F.cross_entropy(model(x), y), x)[0]


def _clip(x, clamp):
    return x if clamp is None else x.clamp(clamp[0], clamp[1])


def fgsm(model, x, y, eps, clamp=(0.0, 1.0)):
    r"""Fast gradient sign attack :math:`x + \varepsilon\,\mathrm{sign}(\nabla_x L)`."""
    eps = _check_attack(model, x, eps, clamp, y)
    return _clip(x + eps * _loss_gradient(model, x, y).sign(), clamp).detach()


def pgd(
    model,
    x,
    y,
    eps,
    steps=10,
    step_size=None,
    clamp=(0.0, 1.0),
    random_start=False,
    generator=None,
):
    r"""Projected gradient ascent of the loss on the :math:`\ell_\infty` ball of radius
    ``eps``.

    Each step adds ``step_size`` (default :math:`2.5\varepsilon/\text{steps}`, Madry et
    al.) times the gradient sign, then projects onto the ball and into ``clamp``.
    """
    eps = _check_attack(model, x, eps, clamp, y)
    steps = as_positive_int(steps, "steps")
    step_size = (
        2.5 * eps / steps
        if step_size is None
        else as_positive_scalar(step_size, "step_size")
    )
    x_adv = x.detach()
    if random_start:
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        x_adv = _clip(x + eps * (2 * noise - 1), clamp)
    for _ in range(steps):
        x_adv = x_adv + step_size * _loss_gradient(model, x_adv, y).sign()
        x_adv = _clip(x + (x_adv - x).clamp(-eps, eps), clamp).detach()
    return x_adv


def _output_gap(model, x, delta, y0):
    return (model(x + delta) - y0).abs().amax(1)


def empirical_lipschitz(model, x, eps, n_random=10, steps=10, generator=None):
    r"""A lower estimate of the :math:`\ell_\infty` Lipschitz constant near the batch
    ``x``.

    The largest ratio :math:`\|f(x_i + \delta) - f(x_i)\|_\infty/\|\delta\|_\infty` over
    ``n_random`` random corners :math:`\delta \in \{\pm\varepsilon\}^{n}` and ``steps``
    steps of sign-gradient ascent of the output change, for every row :math:`x_i`.
    """
    eps = _check_attack(model, x, eps, None)
    n_random = as_positive_int(n_random, "n_random")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")

    def corner():
        bits = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return eps * torch.where(bits < 0.5, -1.0, 1.0).to(x.dtype)

    with torch.no_grad():
        y0 = model(x)
        best = max(
            float(_output_gap(model, x, corner(), y0).max()) / eps
            for _ in range(n_random)
        )
    delta = corner()
    for k in range(steps + 1):
        delta.requires_grad_(k < steps)
        gap = _output_gap(model, x, delta, y0)
        size = delta.detach().flatten(1).abs().amax(1).clamp_min(1e-12)
        best = max(best, float((gap.detach() / size).max()))
        if k < steps:
            grad = torch.autograd.grad(gap.sum(), delta)[0]
            delta = (delta.detach() + 2.5 * eps / steps * grad.sign()).clamp(-eps, eps)
    return best


def _as_bound(value, name):
    return as_positive_scalar(value, name, allow_zero=True)


def certified_accuracy(logits, y, lipschitz, eps, logit_error=0.0):
    r"""Fraction of points certified correct at each radius in ``eps``.

    ``logits`` (batch, classes) are the computed outputs, ``lipschitz`` the bound
    :math:`L` in the units of ``eps``, ``logit_error`` a bound :math:`\delta` (a number,
    or one per point) on :math:`\|\hat f(u) - f(u)\|_\infty`. Certified: correct and
    margin :math:`> 2L\varepsilon + 2\delta`, so no input within :math:`\varepsilon`
    changes the exact model's prediction.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(
            "logits must be a torch tensor of shape (batch, classes), classes >= 2"
        )
    if not isinstance(y, torch.Tensor) or y.shape != (logits.shape[0],):
        raise ValueError(f"y must be a torch tensor of shape ({logits.shape[0]},)")
    lipschitz = _as_bound(lipschitz, "lipschitz")
    eps = np.asarray(eps, dtype=float)
    if (
        eps.ndim != 1
        or eps.size == 0
        or not np.all(np.isfinite(eps))
        or np.any(eps < 0)
    ):
        raise ValueError(
            "eps must be a non-empty 1-d sequence of finite non-negative radii"
        )
    if isinstance(logit_error, torch.Tensor):
        delta = logit_error.detach().double().cpu().numpy()
        if (
            delta.shape != (logits.shape[0],)
            or not np.all(np.isfinite(delta))
            or np.any(delta < 0)
        ):
            raise ValueError(
                "logit_error must be one finite non-negative bound per point"
            )
    else:
        delta = _as_bound(logit_error, "logit_error")
    top2 = logits.detach().topk(2, dim=1).values.double().cpu().numpy()
    margin = top2[:, 0] - top2[:, 1]
    correct = (logits.argmax(1) == y).cpu().numpy()
    return [
        float(np.mean(correct & (margin > 2 * lipschitz * e + 2 * delta))) for e in eps
    ]


def lipschitz_penalty(model):
    """The model's differentiable Lipschitz bound (a torch scalar),
    ``model.lipschitz_bound()``."""
    bound = getattr(model, "lipschitz_bound", None)
    if not callable(bound):
        raise TypeError(
            f"{type(model).__name__} has no lipschitz_bound() method to penalise"
        )
    value = bound()
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        raise TypeError("model.lipschitz_bound() must return a torch scalar")
    return value
