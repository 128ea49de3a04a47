r"""Implicit neural networks that contract in the :math:`\ell_\infty` norm (Chapter 4 of the book).

An implicit network (INN) maps an input :math:`u` to

.. math:: x = \Phi(Ax + Bu + b), \qquad y = Cx + c,

with :math:`\Phi` acting entrywise with slopes in :math:`[0, 1]` (here ReLU). If
:math:`\mu_\infty(A) < 1` the fixed point exists and is unique, the averaged iteration
:math:`x_{k+1} = (1-\alpha)x_k + \alpha\Phi(Ax_k + Bu + b)` with
:math:`\alpha = 1/(1 - \min_i (a_{ii})_-)` is a Banach contraction with factor
:math:`1 - (1 - \mu_\infty(A)_+)/(1 - \min_i(a_{ii})_-)`
(:func:`contraction.fixedpoint.implicit_step_bounds`), and :math:`u \mapsto y` is Lipschitz with
constant :math:`\|B\|_\infty\|C\|_\infty/(1 - \mu_\infty(A)_+)` (:func:`lipschitz_bound`).

The batched torch solver and the implicit-differentiation backward live in
:mod:`contraction.fixedpoint_torch` (re-exported here). This module holds the network itself (:class:`ImplicitNetwork`), a one-hidden-layer baseline (:class:`FeedForward`) and
:math:`\ell_\infty` attacks (:func:`fgsm`, :func:`pgd`, :func:`empirical_lipschitz`).

Reference: S. Jafarpour, A. Davydov, A. V. Proskurnikov, F. Bullo, "Robust implicit networks via
non-Euclidean contractions", NeurIPS 2021 (key ``jafarpour2021``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import fixedpoint, norms
from ._checks import as_positive_int, as_positive_scalar
from .fixedpoint_torch import (  # noqa: F401  (re-exported: the chapter's notebooks use them)
    METHODS,
    SolveInfo,
    SolverConfig,
    adjoint_tolerance,
    attach_implicit_gradient,
    iterate,
    solve_fixed_point,
)

__all__ = ["SolverConfig", "SolveInfo", "iterate", "solve_fixed_point", "attach_implicit_gradient",
           "constrained_matrix", "ImplicitNetwork", "FeedForward", "mu_inf", "lipschitz_bound",
           "fgsm", "pgd", "empirical_lipschitz"]

INN_METHODS = METHODS


def constrained_matrix(T, gamma):
    r"""The matrix :math:`A = T - \mathrm{diag}(|T|\mathbb 1) + \gamma I`, so that
    :math:`\mu_\infty(A) \le \gamma`.

    Proof (row sums): :math:`a_{ii} = t_{ii} - |t_{ii}| - \sum_{j\ne i}|t_{ij}| + \gamma` and
    :math:`a_{ij} = t_{ij}` for :math:`j \ne i`, so row :math:`i` of :math:`\mu_\infty` reads
    :math:`a_{ii} + \sum_{j\ne i}|a_{ij}| = t_{ii} - |t_{ii}| + \gamma \le \gamma`, with equality
    when :math:`t_{ii} \ge 0`. Conversely every :math:`A` with :math:`\mu_\infty(A) \le \gamma` is
    reached: keep its off-diagonal entries and take
    :math:`t_{ii} = (a_{ii} - \gamma + \sum_{j \ne i}|a_{ij}|)/2 \le 0`.
    """
    if not isinstance(T, torch.Tensor) or T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ValueError("T must be a square torch tensor")
    gamma = _check_gamma(gamma)
    eye = torch.eye(T.shape[0], dtype=T.dtype, device=T.device)
    return T - torch.diag(T.abs().sum(1)) + gamma * eye


def _check_gamma(gamma):
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) \
            or not math.isfinite(gamma) or gamma >= 1:
        raise ValueError(f"gamma must be a finite real number below 1, got {gamma!r}")
    return float(gamma)


def _check_batch(x, n_in, dtype, name="x"):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"{name} must have shape (batch, {n_in}), got {tuple(x.shape)}")
    if x.dtype != dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but the model's parameters are {dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} has non-finite entries (nan or inf)")
    return x


def _check_parameters(model):
    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            raise ValueError(f"parameter {name} has non-finite entries (nan or inf)")
    return next(model.parameters()).dtype


def _inf_norm(M):
    return float(M.detach().abs().sum(1).max())


class EquilibriumModel(nn.Module):
    """Shared plumbing of the equilibrium models: logits ``output(equilibrium(x))``, input checks,
    the record of the latest solves (``last_solve``, ``last_backward_solve``) and ``strict``."""

    methods: tuple = ()

    def _configure(self, method, alpha, tol, max_iter, strict):
        if method not in self.methods:
            raise ValueError(f"method must be one of {self.methods}, got {method!r}")
        self.solver = SolverConfig(method, alpha, tol, max_iter, strict=strict)
        self.last_solve = self.last_backward_solve = None

    def forward(self, x):
        """Logits for a batch ``x`` of shape (batch, n_in)."""
        return self.output(self.equilibrium(x))

    def _start_solve(self, x):
        _check_batch(x, self.n_in, _check_parameters(self))
        if self.solver.method not in self.methods:
            raise ValueError(f"solver.method must be one of {self.methods}, "
                             f"got {self.solver.method!r}")
        return self.solver

    def _finish_solve(self, G, z, info, solve_adjoint):
        self.last_solve = info
        if self.solver.strict and not info.converged:
            raise RuntimeError(f"forward fixed point did not converge: {info.reason}")
        return attach_implicit_gradient(G, z, solve_adjoint, self._record_backward,
                                        self.solver.strict)

    def _record_backward(self, info):
        self.last_backward_solve = info


class ImplicitNetwork(EquilibriumModel):
    r"""Implicit network :math:`x = \mathrm{ReLU}(Ax + Bu + b)`, logits :math:`y = Cx + c`.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input size, number of implicit neurons ``n``, output size.
    gamma : float
        The bound :math:`\mu_\infty(A) \le \gamma < 1`, enforced by :func:`constrained_matrix`.
    weighted : bool
        Learn a diagonal weight :math:`\eta = e^{s} > 0` and use
        :math:`A = \mathrm{diag}(\eta)^{-1} A_T\,\mathrm{diag}(\eta)` with :math:`A_T` from
        :func:`constrained_matrix`. Then :math:`\mu_{\infty,[\eta]}(A) = \mu_\infty(A_T) \le \gamma`
        in the norm :math:`\|\mathrm{diag}(\eta)x\|_\infty`, and :math:`A` has the diagonal of
        :math:`A_T`, so the step size is unchanged; only :math:`\mu_\infty(A)` itself may exceed
        ``gamma``.
    tol, max_iter : float, int
        Stopping rule of the forward and backward solves.
    unconstrained : bool
        Learn :math:`A` freely (no guarantee: a solve may fail, which is reported).
    method : {"averaged", "anderson"}; alpha : float or None; strict : bool
        See :class:`SolverConfig`; ``alpha=None`` is the theory step of
        :func:`contraction.fixedpoint.implicit_step_bounds`, ``alpha=1`` is Picard.

    The forward pass solves the fixed point without a graph and attaches gradients by implicit
    differentiation (:func:`attach_implicit_gradient`); ``last_solve`` and ``last_backward_solve``
    hold the :class:`SolveInfo` of the latest solves.
    """

    methods = INN_METHODS

    def __init__(self, n_in, n_hidden, n_out, gamma=0.5, weighted=False, tol=1e-6, max_iter=500,
                 *, unconstrained=False, method="averaged", alpha=None, strict=False):
        super().__init__()
        self.n_in, self.n_hidden, self.n_out = (as_positive_int(v, k) for v, k in (
            (n_in, "n_in"), (n_hidden, "n_hidden"), (n_out, "n_out")))
        self.gamma = _check_gamma(gamma)
        for flag, name in ((weighted, "weighted"), (unconstrained, "unconstrained")):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if weighted and unconstrained:
            raise ValueError("weighted=True needs the constraint; it is meaningless with "
                             "unconstrained=True")
        self.weighted, self.unconstrained = weighted, unconstrained
        self._configure(method, alpha, tol, max_iter, strict)
        n = self.n_hidden
        # small off-diagonal rows keep min_i a_ii near gamma at the start, hence a large step
        scale = 1.0 / n if not unconstrained else 1.0 / math.sqrt(n)
        self.T = nn.Parameter(torch.empty(n, n).uniform_(-scale, scale))
        self.log_eta = nn.Parameter(torch.zeros(n)) if weighted else None
        self.input = nn.Linear(self.n_in, n)
        self.output = nn.Linear(n, self.n_out)

    def frame_matrix(self):
        """``A`` in the coordinates of its norm: :math:`A_T` (constrained) or ``A`` (free)."""
        return self.T if self.unconstrained else constrained_matrix(self.T, self.gamma)

    def eta(self):
        """The diagonal weight of the norm (ones when ``weighted=False``)."""
        if self.log_eta is None:
            return torch.ones(self.n_hidden, dtype=self.T.dtype, device=self.T.device)
        return torch.exp(self.log_eta)

    def A(self):
        """The synaptic matrix of the fixed-point equation."""
        A = self.frame_matrix()
        if self.weighted:
            eta = self.eta()
            A = A * eta[None, :] / eta[:, None]  # diag(eta)^-1 A_T diag(eta)
        return A

    def step_bounds(self):
        """``alpha``, ``factor`` and ``rate`` of the averaged iteration (``factor=None``: none)."""
        M = self.frame_matrix().detach().cpu().double().numpy()
        try:
            return fixedpoint.implicit_step_bounds(M)
        except ValueError:  # mu_inf(A) >= 1, possible only when unconstrained
            return {"alpha": 1.0 / (1.0 - min(float(np.min(np.diag(M))), 0.0)),
                    "factor": None, "rate": None}

    def equilibrium(self, x):
        """The fixed point ``x*`` (batch, n_hidden), differentiable by implicit differentiation."""
        cfg = self._start_solve(x)
        alpha = cfg.alpha if cfg.alpha is not None else self.step_bounds()["alpha"]
        A, drive = self.A(), self.input(x)

        def G(z):
            return torch.relu(z @ A.T + drive)

        settings = dict(alpha=alpha, method=cfg.method, tol=cfg.tol, max_iter=cfg.max_iter,
                        memory=cfg.memory)
        z, info = solve_fixed_point(G, x.new_zeros(x.shape[0], self.n_hidden), **settings)

        def solve_adjoint(vjp, v):
            tol = adjoint_tolerance(settings["tol"], v)
            return solve_fixed_point(lambda g: v + vjp(g), v, **{**settings, "tol": tol})

        return self._finish_solve(G, z, info, solve_adjoint)


class FeedForward(nn.Module):
    """Baseline: one hidden ReLU layer, ``y = W2 relu(W1 u + b1) + b2``."""

    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.n_in = as_positive_int(n_in, "n_in")
        self.hidden = nn.Linear(self.n_in, as_positive_int(n_hidden, "n_hidden"))
        self.output = nn.Linear(n_hidden, as_positive_int(n_out, "n_out"))

    def forward(self, x):
        _check_batch(x, self.n_in, _check_parameters(self))
        return self.output(torch.relu(self.hidden(x)))


def mu_inf(model):
    r""":math:`\mu_\infty(A)`, or :math:`\mu_{\infty,[\eta]}(A)` for a weighted model (its norm)."""
    if not isinstance(model, ImplicitNetwork):
        raise TypeError(f"model must be an ImplicitNetwork, got {type(model).__name__}")
    return norms.lognorm(model.frame_matrix().detach().cpu().double().numpy(), np.inf)


def lipschitz_bound(model):
    r"""Upper bound on the :math:`\ell_\infty \to \ell_\infty` Lipschitz constant of the model.

    :class:`ImplicitNetwork`: :math:`\|\mathrm{diag}(\eta)B\|_\infty
    \|C\mathrm{diag}(\eta)^{-1}\|_\infty / (1 - \mu_{\infty,[\eta]}(A)_+)` (``eta = 1`` if not
    weighted). Proof: :math:`\Delta x = D(A\Delta x + B\Delta u)` with :math:`D` diagonal in
    :math:`[0, 1]`, and :math:`\mu(DA) \le \mu(A)_+`, so
    :math:`\|\Delta x\| \le \|B\Delta u\|/(1 - \mu(A)_+)`. ``inf`` if :math:`\mu \ge 1`.
    :class:`FeedForward`: :math:`\|W_1\|_\infty\|W_2\|_\infty`.
    """
    if isinstance(model, FeedForward):
        return _inf_norm(model.hidden.weight) * _inf_norm(model.output.weight)
    mu = mu_inf(model)
    if mu >= 1:
        return math.inf
    eta = model.eta().detach()
    gain_in = _inf_norm(eta[:, None] * model.input.weight)
    gain_out = _inf_norm(model.output.weight / eta[None, :])
    return gain_in * gain_out / (1.0 - max(mu, 0.0))


def _check_attack(model, x, eps, clamp, y=None):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise ValueError("x must be a torch tensor of shape (batch, n_in)")
    if y is not None and (not isinstance(y, torch.Tensor) or y.shape != (x.shape[0],)
                          or y.dtype != torch.long):
        raise ValueError(f"y must be a torch.long tensor of shape ({x.shape[0]},)")
    if clamp is not None and (not isinstance(clamp, (tuple, list)) or len(clamp) != 2
                              or not clamp[0] < clamp[1]):
        raise ValueError(f"clamp must be None or a pair (low, high), low < high, got {clamp!r}")
    return as_positive_scalar(eps, "eps")


def _loss_gradient(model, x, y):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(F.cross_entropy(model(x), y), x)[0]


def _clip(x, clamp):
    return x if clamp is None else x.clamp(clamp[0], clamp[1])


def fgsm(model, x, y, eps, clamp=(0.0, 1.0)):
    r"""Fast gradient sign attack :math:`x + \varepsilon\,\mathrm{sign}(\nabla_x L)`.

    Goodfellow, Shlens, Szegedy, ICLR 2015. ``clamp`` keeps the result in the data range
    (``None``: no clipping).
    """
    eps = _check_attack(model, x, eps, clamp, y)
    return _clip(x + eps * _loss_gradient(model, x, y).sign(), clamp).detach()


def pgd(model, x, y, eps, steps=10, step_size=None, clamp=(0.0, 1.0), random_start=False,
        generator=None):
    r"""Projected gradient ascent of the loss on the :math:`\ell_\infty` ball of radius ``eps``.

    Each step adds ``step_size`` (default :math:`2.5\varepsilon/\text{steps}`, Madry et al. 2018)
    times the gradient sign, then projects onto the ball and into ``clamp``.
    """
    eps = _check_attack(model, x, eps, clamp, y)
    steps = as_positive_int(steps, "steps")
    step_size = (2.5 * eps / steps if step_size is None
                 else as_positive_scalar(step_size, "step_size"))
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
    r"""A lower estimate of the :math:`\ell_\infty` Lipschitz constant near the batch ``x``.

    The largest ratio :math:`\|f(x_i + \delta) - f(x_i)\|_\infty/\|\delta\|_\infty` over
    ``n_random`` random corners :math:`\delta \in \{\pm\varepsilon\}^{n}` and ``steps`` steps of
    sign-gradient ascent of the output change (from one more random corner), for every row
    :math:`x_i`. Never above the true constant, so never above :func:`lipschitz_bound`.
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
        best = max(float(_output_gap(model, x, corner(), y0).max()) / eps
                   for _ in range(n_random))
    delta = corner()
    for k in range(steps + 1):
        delta.requires_grad_(k < steps)
        gap = _output_gap(model, x, delta, y0)
        size = delta.detach().abs().amax(1).clamp_min(1e-12)
        best = max(best, float((gap.detach() / size).max()))
        if k < steps:
            grad = torch.autograd.grad(gap.sum(), delta)[0]
            delta = (delta.detach() + 2.5 * eps / steps * grad.sign()).clamp(-eps, eps)
    return best
