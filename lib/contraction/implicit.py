r"""Implicit neural networks that contract in the :math:`\ell_\infty` norm (Chapter 4 of
the book).

An implicit network (INN) maps an input :math:`u` to

.. math:: x = \Phi(Ax + Bu + b), \qquad y = Cx + c,

with :math:`\Phi` acting entrywise with slopes in :math:`[0, 1]` (here ReLU). If
:math:`\mu_\infty(A) < 1` the fixed point exists and is unique, the averaged iteration
:math:`x_{k+1} = (1-\alpha)x_k + \alpha\Phi(Ax_k + Bu + b)` with :math:`\alpha = 1/(1 -
\min_i (a_{ii})_-)` is a Banach contraction with factor :math:`1 - (1 -
\mu_\infty(A)_+)/(1 - \min_i(a_{ii})_-)`
(:func:`contraction.fixedpoint.implicit_step_bounds`), and :math:`u \mapsto y` is
Lipschitz with constant :math:`\|B\|_\infty\|C\|_\infty/(1 - \mu_\infty(A)_+)`
(:func:`lipschitz_bound`).

The network is built on :mod:`contraction.nn`: the fixed point is a
:func:`contraction.nn.implicit.fixed_point` layer (implicit, JFB or unrolled backward)
and the attacks and certificates of Section 4.3 live in
:mod:`contraction.nn.robustness`. This module holds the network
(:class:`ImplicitNetwork`), the plumbing it shares with the monotone baseline
(:class:`EquilibriumModel`) and a one-hidden-layer baseline (:class:`FeedForward`).

Reference: S. Jafarpour, A. Davydov, A. V. Proskurnikov, F. Bullo, "Robust implicit
networks via non-Euclidean contractions", NeurIPS 2021 (key ``jafarpour2021``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from . import fixedpoint, norms
from ._checks import as_positive_int
from .nn.implicit import BACKWARDS, SolveRecord, fixed_point
from .nn.solvers import SolverConfig

__all__ = [
    "constrained_matrix",
    "EquilibriumModel",
    "ImplicitNetwork",
    "FeedForward",
    "mu_inf",
    "lipschitz_bound",
    "INN_METHODS",
    "principal_subnetwork",
]

INN_METHODS = ("picard", "averaged", "anderson")


def constrained_matrix(T, gamma):
    r"""The matrix :math:`A = T - \mathrm{diag}(|T|\mathbb 1) + \gamma I`, so that
    :math:`\mu_\infty(A) \le \gamma`.

    Proof (row sums): :math:`a_{ii} = t_{ii} - |t_{ii}| - \sum_{j\ne i}|t_{ij}| +
    \gamma` and :math:`a_{ij} = t_{ij}` for :math:`j \ne i`, so row :math:`i` of
    :math:`\mu_\infty` reads :math:`a_{ii} + \sum_{j\ne i}|a_{ij}| = t_{ii} - |t_{ii}| +
    \gamma \le \gamma`, with equality when :math:`t_{ii} \ge 0`. Conversely every
    :math:`A` with :math:`\mu_\infty(A) \le \gamma` is reached: keep its off-diagonal
    entries and take :math:`t_{ii} = (a_{ii} - \gamma + \sum_{j \ne i}|a_{ij}|)/2 \le
    0`.
    """
    if not isinstance(T, torch.Tensor) or T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ValueError("T must be a square torch tensor")
    gamma = _check_gamma(gamma)
    eye = torch.eye(T.shape[0], dtype=T.dtype, device=T.device)
    return T - torch.diag(T.abs().sum(1)) + gamma * eye


def _check_gamma(gamma):
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, numbers.Real)
        or not math.isfinite(gamma)
        or gamma >= 1
    ):
        raise ValueError(f"gamma must be a finite real number below 1, got {gamma!r}")
    return float(gamma)


def _flat_input(x, n_in, name="x"):
    """``x`` of shape ``(batch, *features)`` with ``n_in`` features in all, as ``(batch,
    n_in)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if x.ndim < 2 or math.prod(x.shape[1:]) != n_in:
        raise ValueError(
            f"{name} must have shape (batch, {n_in}) or (batch, *features) with {n_in} "
            f"features, got {tuple(x.shape)}"
        )
    return x.reshape(x.shape[0], n_in)


def _inf_norm(M):
    """:math:`\\|M\\|_\\infty` (largest absolute row sum) as a differentiable torch
    scalar."""
    return M.abs().sum(1).max()


class EquilibriumModel(nn.Module):
    """Shared plumbing of the equilibrium models: logits ``output(equilibrium(x))``, the
    solver settings ``solver`` (a :class:`~contraction.nn.solvers.SolverConfig`), the
    ``backward`` mode and the record of the latest solves (``last_solve``,
    ``last_backward_solve``).

    Inputs may have any shape ``(batch, *features)``; they are flattened. Nothing in the
    forward pass reads values back to the host except the solver's periodic convergence
    check.
    """

    methods: tuple = ()

    def _configure(self, method, alpha, tol, max_iter, strict, backward):
        if method not in self.methods:
            raise ValueError(f"method must be one of {self.methods}, got {method!r}")
        if backward not in BACKWARDS:
            raise ValueError(f"backward must be one of {BACKWARDS}, got {backward!r}")
        self.solver = SolverConfig(method, alpha, tol, max_iter, strict=strict)
        self.backward = backward
        self.record = SolveRecord()

    @property
    def last_solve(self):
        """:class:`~contraction.nn.solvers.SolveInfo` of the latest forward solve (or
        None)."""
        return self.record.forward

    @property
    def last_backward_solve(self):
        """:class:`~contraction.nn.solvers.SolveInfo` of the latest adjoint solve (or
        None)."""
        return self.record.backward

    def forward(self, x):
        """Logits for a batch ``x`` of shape ``(batch, n_in)`` or ``(batch,
        *features)``."""
        return self.output(self.equilibrium(x))

    def _check_method(self):
        if self.solver.method not in self.methods:
            raise ValueError(
                f"solver.method must be one of {self.methods}, got "
                f"{self.solver.method!r}"
            )


class ImplicitNetwork(EquilibriumModel):
    r"""Implicit network :math:`x = \mathrm{ReLU}(Ax + Bu + b)`, logits :math:`y = Cx +
    c`.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input size, number of implicit neurons ``n``, output size.
    gamma : float
        The bound :math:`\mu_\infty(A) \le \gamma < 1`, enforced by
        :func:`constrained_matrix`.
    weighted : bool
        Learn a diagonal weight :math:`\eta = e^{s} > 0` and use :math:`A =
        \mathrm{diag}(\eta)^{-1} A_T\,\mathrm{diag}(\eta)` with :math:`A_T` from
        :func:`constrained_matrix`. Then :math:`\mu_{\infty,[\eta]}(A) = \mu_\infty(A_T)
        \le \gamma` in the norm :math:`\|\mathrm{diag}(\eta)x\|_\infty`, and :math:`A`
        has the diagonal of :math:`A_T`, so the step size is unchanged.
    tol, max_iter : float, int
        Stopping rule of the forward and backward solves.
    unconstrained : bool
        Learn :math:`A` freely (no guarantee: a solve may fail, which is reported).
    method : {"picard", "averaged", "anderson"}; alpha : float or None; strict : bool
        See :class:`~contraction.nn.solvers.SolverConfig`; ``alpha=None`` is the theory
        step of :func:`contraction.fixedpoint.implicit_step_bounds`, ``alpha=1`` is
        Picard.
    backward : {"implicit", "jfb", "unrolled"}
        How gradients are computed (:func:`contraction.nn.implicit.fixed_point`).
    """

    methods = INN_METHODS

    def __init__(
        self,
        n_in,
        n_hidden,
        n_out,
        gamma=0.5,
        weighted=False,
        tol=1e-6,
        max_iter=500,
        *,
        unconstrained=False,
        method="averaged",
        alpha=None,
        strict=True,
        backward="implicit",
    ):
        super().__init__()
        self.n_in, self.n_hidden, self.n_out = (
            as_positive_int(v, k)
            for v, k in ((n_in, "n_in"), (n_hidden, "n_hidden"), (n_out, "n_out"))
        )
        self.gamma = _check_gamma(gamma)
        for flag, name in ((weighted, "weighted"), (unconstrained, "unconstrained")):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if weighted and unconstrained:
            raise ValueError(
                "weighted=True needs the constraint; it is meaningless with "
                "unconstrained=True"
            )
        self.weighted, self.unconstrained = weighted, unconstrained
        self._configure(method, alpha, tol, max_iter, strict, backward)
        n = self.n_hidden
        # small off-diagonal rows keep min_i a_ii near gamma at the start, hence a large
        # step
        scale = 1.0 / n if not unconstrained else 1.0 / math.sqrt(n)
        self.T = nn.Parameter(torch.empty(n, n).uniform_(-scale, scale))
        self.log_eta = nn.Parameter(torch.zeros(n)) if weighted else None
        self.input = nn.Linear(self.n_in, n)
        self.output = nn.Linear(n, self.n_out)

    def frame_matrix(self):
        """``A`` in the coordinates of its norm: :math:`A_T` (constrained) or ``A``
        (free)."""
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
        """``alpha``, ``factor`` and ``rate`` of the averaged iteration
        (``factor=None``: none)."""
        M = self.frame_matrix().detach().cpu().double().numpy()
        try:
            return fixedpoint.implicit_step_bounds(M)
        except ValueError:  # mu_inf(A) >= 1, possible only when unconstrained
            return {
                "alpha": 1.0 / (1.0 - min(float(np.min(np.diag(M))), 0.0)),
                "factor": None,
                "rate": None,
            }

    def theory_step(self, A=None):
        r""":math:`\alpha = 1/(1 - \min_i (a_{ii})_-)` as a 0-d tensor on the model's
        device."""
        A = self.A() if A is None else A
        return 1.0 / (1.0 - A.detach().diagonal().min().clamp(max=0.0))

    def equilibrium(self, x):
        """The fixed point ``x*`` (batch, n_hidden), differentiable as ``self.backward``
        says."""
        self._check_method()
        drive, A = self.input(_flat_input(x, self.n_in)), self.A()
        alpha = (
            self.solver.alpha if self.solver.alpha is not None else self.theory_step(A)
        )
        return fixed_point(
            _relu_step,
            drive.new_zeros(drive.shape),
            drive,
            A,
            backward=self.backward,
            config=self.solver,
            alpha=alpha,
            record=self.record,
        )

    def lipschitz_bound(self):
        r"""The :math:`\ell_\infty` Lipschitz bound as a differentiable torch scalar.

        :math:`\|\mathrm{diag}(\eta)B\|_\infty\|C\mathrm{diag}(\eta)^{-1}\|_\infty /
        (1 - \mu_{\infty,[\eta]}(A)_+)` (``inf`` when :math:`\mu \ge 1`); see
        :func:`lipschitz_bound` for the proof. The penalty of robust training.
        """
        M = self.frame_matrix()
        diagonal = M.diagonal()
        mu = (diagonal + M.abs().sum(1) - diagonal.abs()).max()
        eta = self.eta()
        gain = _inf_norm(eta[:, None] * self.input.weight) * _inf_norm(
            self.output.weight / eta[None, :]
        )
        # mu >= 1 is possible only unconstrained: then no bound
        return torch.where(mu < 1, gain / (1.0 - mu.clamp(0.0, 1.0 - 1e-12)), torch.inf)

    def logit_error_bound(self, residuals=None):
        r"""Bound on :math:`\|\hat y - y\|_\infty` per point from the latest solve's
        residuals.

        With :math:`r = \|\mathrm{diag}(\eta)(G(\hat x) - \hat x)\|_\infty` and the
        contraction rate :math:`c = 1 - \mu_{\infty,[\eta]}(A)_+` of :math:`-x + G(x)`,
        :math:`\|\hat x - x^\star\| \le r/c`, so each logit is off by at most
        :math:`\|C\mathrm{diag}(\eta)^{-1}\|_\infty\, r/c`. Residuals are measured in
        the plain :math:`\ell_\infty` norm, so the weighted norm costs a factor
        :math:`\max\eta`.
        """
        if residuals is None:
            if self.last_solve is None:
                raise ValueError("no solve yet: run the model first or pass residuals")
            residuals = self.last_solve.residuals
        mu = mu_inf(self)
        if mu >= 1:
            return None
        with torch.no_grad():
            eta = self.eta()
            gain = _inf_norm(self.output.weight / eta[None, :]) * eta.max()
            return residuals.detach() * gain / (1.0 - max(mu, 0.0))


def _relu_step(z, drive, A):
    return torch.relu(z @ A.T + drive)


class FeedForward(nn.Module):
    """Baseline: one hidden ReLU layer, ``y = W2 relu(W1 u + b1) + b2``."""

    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.n_in = as_positive_int(n_in, "n_in")
        self.hidden = nn.Linear(self.n_in, as_positive_int(n_hidden, "n_hidden"))
        self.output = nn.Linear(n_hidden, as_positive_int(n_out, "n_out"))

    def forward(self, x):
        return self.output(torch.relu(self.hidden(_flat_input(x, self.n_in))))

    def lipschitz_bound(self):
        r""":math:`\|W_1\|_\infty\|W_2\|_\infty` as a differentiable torch scalar."""
        return _inf_norm(self.hidden.weight) * _inf_norm(self.output.weight)


def mu_inf(model):
    r""":math:`\mu_\infty(A)`, or :math:`\mu_{\infty,[\eta]}(A)` for a weighted model
    (its norm)."""
    if not isinstance(model, ImplicitNetwork):
        raise TypeError(f"model must be an ImplicitNetwork, got {type(model).__name__}")
    return norms.lognorm(model.frame_matrix().detach().cpu().double().numpy(), np.inf)


def lipschitz_bound(model):
    r"""Upper bound on the :math:`\ell_\infty \to \ell_\infty` Lipschitz constant, as a
    float.

    :class:`ImplicitNetwork`: :math:`\|\mathrm{diag}(\eta)B\|_\infty
    \|C\mathrm{diag}(\eta)^{-1}\|_\infty / (1 - \mu_{\infty,[\eta]}(A)_+)` (``eta = 1``
    if not weighted). Proof: :math:`\Delta x = D(A\Delta x + B\Delta u)` with :math:`D`
    diagonal in :math:`[0, 1]`, and :math:`\mu(DA) \le \mu(A)_+`, so :math:`\|\Delta x\|
    \le \|B\Delta u\|/(1 - \mu(A)_+)`. ``inf`` if :math:`\mu \ge 1`.
    :class:`FeedForward`: :math:`\|W_1\|_\infty\|W_2\|_\infty`. Both are
    ``model.lipschitz_bound()``, the penalty of robust training, read as a number.
    """
    if not isinstance(model, (ImplicitNetwork, FeedForward)):
        raise TypeError(
            f"model must be an ImplicitNetwork or FeedForward, got "
            f"{type(model).__name__}"
        )
    if isinstance(model, ImplicitNetwork) and mu_inf(model) >= 1:
        return math.inf
    with torch.no_grad():
        return float(model.lipschitz_bound())


def principal_subnetwork(model, keep):
    r"""The implicit network on the neurons ``keep`` only (the others dropped, held at
    zero).

    Its matrix is the principal submatrix :math:`A_{SS}`, and :math:`\mu_\infty(A_{SS})
    \le \mu_\infty(A) \le \gamma` (each row of :math:`A_{SS}` drops off-diagonal terms
    of a row of :math:`A`), so it is again well posed with the same :math:`\gamma`. The
    parameter ``T`` reproducing :math:`A_{SS}` keeps its off-diagonal entries and takes
    :math:`t_{ii} = (a_{ii} - \gamma + \sum_{j \ne i}|a_{ij}|)/2 \le 0` (the converse in
    :func:`constrained_matrix`). Section 4.3.
    """
    if not isinstance(model, ImplicitNetwork) or model.unconstrained:
        raise TypeError("model must be a constrained ImplicitNetwork")
    keep = torch.as_tensor(keep, dtype=torch.long).flatten()
    n = model.n_hidden
    if (
        keep.numel() == 0
        or keep.unique().numel() != keep.numel()
        or int(keep.min()) < 0
        or int(keep.max()) >= n
    ):
        raise ValueError(
            f"keep must hold distinct neuron indices in 0..{n - 1}, at least one"
        )
    with torch.no_grad():
        M = model.frame_matrix()[keep][:, keep]
        off = M - torch.diag(M.diagonal())
        T = off + torch.diag((M.diagonal() - model.gamma + off.abs().sum(1)) / 2)
        sub = ImplicitNetwork(
            model.n_in,
            keep.numel(),
            model.n_out,
            model.gamma,
            model.weighted,
            model.solver.tol,
            model.solver.max_iter,
        )
        sub.solver = model.solver
        sub.T.copy_(T)
        if model.weighted:
            sub.log_eta.copy_(model.log_eta[keep])
        sub.input.weight.copy_(model.input.weight[keep])
        sub.input.bias.copy_(model.input.bias[keep])
        sub.output.weight.copy_(model.output.weight[:, keep])
        sub.output.bias.copy_(model.output.bias)
    return sub.to(model.T.device)
