r"""Monotone operator equilibrium networks (MON), the Euclidean baseline of Chapter 4.

Winston and Kolter (NeurIPS 2020, key ``winston2020``) parametrise

.. math:: W = (1 - m)I - P^\top P + S - S^\top, \qquad z = \mathrm{ReLU}(Wz + Uu + b),
          \qquad y = Cz + c,

so that :math:`I - W = mI + P^\top P + (S^\top - S)` is strongly monotone:
:math:`x^\top(I - W)x \ge m\|x\|_2^2`. The fixed point solves the monotone inclusion
:math:`0 \in (I - W)z - (Uu + b) + N_{\ge 0}(z)` (:math:`N_{\ge 0}` the normal cone of
the nonnegative orthant, whose resolvent is ReLU), and two operator splittings find it:

* forward-backward: :math:`z \leftarrow \mathrm{ReLU}((1-\alpha)z + \alpha(Wz + Uu +
  b))`, a contraction in :math:`\ell_2` for :math:`\alpha < 2m/L^2`, :math:`L = \|I -
  W\|_2`; the default :math:`\alpha = m/L^2` minimises the bound :math:`\sqrt{1 -
  2\alpha m + \alpha^2L^2}`;
* Peaceman-Rachford: :math:`u^{1/2} = 2z - u`,
  :math:`z^{1/2} = (I + \alpha(I - W))^{-1}(u^{1/2} + \alpha(Uu + b))`, :math:`u
  \leftarrow 2z^{1/2} - u^{1/2}`, :math:`z = \mathrm{ReLU}(u)`; it converges for every
  :math:`\alpha > 0` and uses one cached LU factorisation of :math:`I + \alpha(I - W)`.

The backward pass is the implicit differentiation of
:func:`contraction.nn.implicit.fixed_point`, with its adjoint solved by the same
splitting. Its adjoint equation :math:`g = v + W^\top D g` (:math:`D =
\mathrm{diag}(\mathrm{ReLU}'(Wz + Uu + b))`) is, with :math:`y = Dg` and :math:`g = v +
W^\top y`, the monotone inclusion :math:`0 \in (I - W^\top)y - v + N_{K}(y)` where
:math:`K = \{y : y_i = 0 \text{ if } D_{ii} = 0\}`, so the same splitting (with
:math:`W^\top`, the projection :math:`y \mapsto Dy` and the transposed LU) solves it.
The input-output Lipschitz bound is Euclidean
(:meth:`MonotoneNetwork.lipschitz_bound_l2`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import fixedpoint
from ._checks import as_positive_int, as_positive_scalar
from .implicit import EquilibriumModel, _flat_input
from .nn.implicit import fixed_point
from .nn.solvers import iterate, problem_residuals

__all__ = ["MonotoneNetwork", "MON_METHODS"]

MON_METHODS = ("forward-backward", "peaceman-rachford")


def _forward_backward(Wmat, project, offset, alpha, config, scale):
    """Solve ``y = project(y Wmat^T + offset)`` by forward-backward splitting (rows =
    batch)."""

    def step(y):
        pre = y @ Wmat.T + offset
        return project((1 - alpha) * y + alpha * pre), problem_residuals(
            project(pre) - y
        )

    return iterate(
        step,
        torch.zeros_like(offset),
        config.tol,
        config.max_iter,
        MON_METHODS[0],
        alpha,
        config.check_every,
        scale,
        config.strict,
    )


def _peaceman_rachford(Wmat, resolvent, project, offset, alpha, config, scale):
    """Solve ``y = project(y Wmat^T + offset)`` by Peaceman-Rachford; ``resolvent``
    applies :math:`(I + \\alpha(I - W_{mat}))^{-1}` to rows."""

    def step(u):
        y = project(u)
        residual = problem_residuals(project(y @ Wmat.T + offset) - y)
        u_half = 2 * y - u
        return 2 * resolvent(u_half + alpha * offset) - u_half, residual

    u, info = iterate(
        step,
        torch.zeros_like(offset),
        config.tol,
        config.max_iter,
        MON_METHODS[1],
        alpha,
        config.check_every,
        scale,
        config.strict,
    )
    return project(u), info


class MonotoneNetwork(EquilibriumModel):
    r"""Monotone operator equilibrium network :math:`z = \mathrm{ReLU}(Wz + Uu + b)`,
    logits :math:`Cz + c`.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input size, number of equilibrium neurons, output size.
    m : float
        Strong monotonicity :math:`I - W \succeq mI`, ``0 < m``.
    method : {"peaceman-rachford", "forward-backward"}
        The splitting used forward and backward.
    alpha : float or None
        Step size; ``None`` means :math:`m/L^2` for forward-backward and 1 for
        Peaceman-Rachford.
    tol, max_iter, strict
        As in :class:`contraction.nn.solvers.SolverConfig` (stored in ``self.solver``).

    Notes
    -----
    ``last_solve`` and ``last_backward_solve`` hold the latest
    :class:`~contraction.nn.solvers.SolveInfo`.
    """

    methods = MON_METHODS

    def __init__(
        self,
        n_in,
        n_hidden,
        n_out,
        m=0.1,
        method="peaceman-rachford",
        alpha=None,
        tol=1e-6,
        max_iter=500,
        strict=True,
    ):
        super().__init__()
        self.n_in = as_positive_int(n_in, "n_in")
        n = as_positive_int(n_hidden, "n_hidden")
        self.m = as_positive_scalar(m, "m")
        self._configure(method, alpha, tol, max_iter, strict, "implicit")
        # P^T P has spectral radius about 4 n scale^2: this keeps ||I - W||_2 near 1-2
        scale = 0.5 / math.sqrt(n)
        self.P = nn.Parameter(torch.randn(n, n) * scale)
        self.S = nn.Parameter(torch.randn(n, n) * scale)
        self.input = nn.Linear(self.n_in, n)
        self.output = nn.Linear(n, as_positive_int(n_out, "n_out"))
        self._lu_cache = None

    def W(self):
        """:math:`(1 - m)I - P^\\top P + S - S^\\top`."""
        eye = torch.eye(self.P.shape[0], dtype=self.P.dtype, device=self.P.device)
        return (1 - self.m) * eye - self.P.T @ self.P + self.S - self.S.T

    def step_size(self, W=None):
        """The configured ``alpha``, or the default of the module docstring."""
        if self.solver.alpha is not None:
            return self.solver.alpha
        if self.solver.method == "peaceman-rachford":
            return 1.0
        W = self.W() if W is None else W
        eye = torch.eye(W.shape[0], dtype=W.dtype, device=W.device)
        lip = float(torch.linalg.matrix_norm((eye - W).detach(), ord=2))
        return fixedpoint.forward_step_bounds(self.m, max(lip, self.m))["alpha_opt"]

    def _lu(self, W, alpha):
        """LU factors of :math:`I + \\alpha(I - W)`, reused while the parameters are
        unchanged."""
        key = (
            self.P._version,
            self.S._version,
            id(self.P),
            id(self.S),
            self.m,
            alpha,
            W.dtype,
            W.device,
        )
        if self._lu_cache is None or self._lu_cache[0] != key:
            eye = torch.eye(W.shape[0], dtype=W.dtype, device=W.device)
            self._lu_cache = (
                key,
                torch.linalg.lu_factor(eye + alpha * (eye - W.detach())),
            )
        return self._lu_cache[1]

    def _split(self, W, alpha, project, offset, transpose):
        """Solve ``y = project(y Wmat^T + offset)``, ``Wmat = W`` (forward) or ``W^T``
        (adjoint)."""
        cfg = self.solver
        Wmat = W.T if transpose else W
        # the adjoint is linear in its right-hand side: its residual is relative
        scale = problem_residuals(offset).clamp_min(1e-30) if transpose else None
        if cfg.method == "forward-backward":
            return _forward_backward(Wmat, project, offset, alpha, cfg, scale)
        LU, pivots = self._lu(W, alpha)

        def resolvent(
            rows,
        ):  # V y = r for each row y, r: rows @ V^-T; adjoint: rows @ V^-1
            return torch.linalg.lu_solve(
                LU, pivots, rows, left=False, adjoint=not transpose
            )

        return _peaceman_rachford(Wmat, resolvent, project, offset, alpha, cfg, scale)

    def equilibrium(self, x):
        """The fixed point ``z*`` (batch, n_hidden), differentiable by implicit
        differentiation."""
        self._check_method()
        W, drive = self.W(), self.input(_flat_input(x, self.n_in))
        alpha = self.step_size(W)
        Wd, drive_d = W.detach(), drive.detach()
        state = {}

        def forward_solver(z0):
            z, info = self._split(Wd, alpha, torch.relu, drive_d, transpose=False)
            state["active"] = (z @ Wd.T + drive_d > 0).to(z.dtype)
            return z, info

        def adjoint_solver(
            vjp, v
        ):  # the splitting needs D and W^T, not the generic vjp
            with torch.no_grad():
                y, info = self._split(
                    Wd, alpha, lambda p: p * state["active"], v, transpose=True
                )
                return v + y @ Wd, info

        return fixed_point(
            _relu_step,
            torch.zeros_like(drive_d),
            drive,
            W,
            config=self.solver,
            record=self.record,
            forward_solver=forward_solver,
            adjoint_solver=adjoint_solver,
        )

    def lipschitz_penalty_l2(self):
        r"""The bound of :meth:`lipschitz_bound_l2` as a differentiable torch scalar.

        The penalty of Lipschitz-regularised training (Section 4.3): its gradient flows
        through the spectral norms of :math:`U` and :math:`C`.
        """
        norm = lambda M: torch.linalg.matrix_norm(M, ord=2)  # noqa: E731
        return norm(self.input.weight) * norm(self.output.weight) / self.m

    def lipschitz_bound_l2(self):
        r"""Bound :math:`\|U\|_2\|C\|_2/m` on the :math:`\ell_2` Lipschitz constant of
        :math:`u \mapsto y`.

        Proof: subtract the inclusions of two inputs and take the inner product with
        :math:`\Delta z`; monotonicity of the normal cone and :math:`I - W \succeq mI`
        give :math:`m\|\Delta z\|_2^2 \le \Delta z^\top U\Delta u`.
        """
        with torch.no_grad():
            return float(self.lipschitz_penalty_l2())

    def logit_error_bound(self, x, z):
        r"""Bound on :math:`\|Cz + c - y^\star\|_\infty` per row, for an approximate
        fixed point ``z`` of the inputs ``x`` (rows).

        With :math:`z' = \mathrm{ReLU}(Wz + Uu + b)` and :math:`e = z' - z`, :math:`z'`
        solves the inclusion of the input drive :math:`Uu + b - We`, so strong
        monotonicity gives :math:`m\|z' - z^\star\|_2 \le \|W\|_2\|e\|_2` and :math:`\|z
        - z^\star\|_2 \le (1 + \|W\|_2/m)\|e\|_2`; each logit is off by at most
        :math:`\max_i\|C_{i,:}\|_2` times that. Certificates of computed logits (Section
        4.3) add it to the margin, as
        :meth:`contraction.implicit.ImplicitNetwork.logit_error_bound` does in
        :math:`\ell_\infty`.
        """
        x = _flat_input(x, self.n_in)
        if not isinstance(z, torch.Tensor) or z.shape != (x.shape[0], self.P.shape[0]):
            raise ValueError(
                f"z must be a tensor of shape ({x.shape[0]}, {self.P.shape[0]})"
            )
        with torch.no_grad():
            W = self.W()
            e = torch.relu(z @ W.T + self.input(x)) - z
            gain = 1 + float(torch.linalg.matrix_norm(W, ord=2)) / self.m
            row = float(self.output.weight.norm(dim=1).max())
            return e.norm(dim=1) * gain * row


def _relu_step(z, drive, W):
    return torch.relu(z @ W.T + drive)
