r"""The baselines of Chapter 7: SDD, Euclideanizing Flows and NCDS, small and clear
(Section 4.4).

Each is a torch module (or a builder of one) mapping states (batch, dim) to velocities,
trained and rolled out with :func:`contraction.elcd.train` and
:func:`contraction.elcd.rollout`.

* **Stable deep dynamics** (:class:`SDD`, Manek and Kolter 2019): a free network
  :math:`\hat f` and a Lyapunov function :math:`V`, with :math:`\hat f` projected in
  closed form onto :math:`\{u : \nabla V^\top u \le -\alpha V\}` (eq. 4.19),

  .. math:: \dot x = \hat f(x) - \nabla V(x)\,
            \frac{\mathrm{ReLU}(\nabla V(x)^\top \hat f(x) + \alpha V(x))}{\|\nabla
            V(x)\|^2},

  so :math:`\dot V \le -\alpha V` everywhere: global exponential stability of
  :math:`x^*`, but no contraction guarantee (the projection is not differentiable).
  :math:`V(x) = \sigma(g(x) - g(x^*)) + \varepsilon\|x - x^*\|^2` with :math:`g` an
  input-convex network (Amos et al. 2017) and :math:`\sigma` the smoothed ReLU, so
  :math:`V` is convex, positive and zero only at :math:`x^*`. Here :math:`\hat f(x) =
  h(x) - h(x^*)` so that the projected field vanishes at :math:`x^*`, where
  :math:`\nabla V = 0` and the formula would divide by zero.
* **Euclideanizing flows** (:func:`eflow`, Rana et al. 2020): natural-gradient descent
  :math:`\dot x = -G_\psi(x)^{-1}\nabla(\Phi\circ\psi)(x)` with :math:`G_\psi =
  D\psi^\top D\psi`, i.e. :math:`\dot y = -\nabla\Phi(y)` in the latent :math:`y =
  \psi(x)` (eq. 4.18). :math:`\Phi(y) = \|y - y^*\|`: the latent speed is constant, here
  a learned positive scale :math:`k`, and the norm is smoothed as
  :math:`\sqrt{\|y-y^*\|^2 + \delta^2}` so that the field is defined at :math:`y^*`.
  Only weakly contracting (convex, not strongly convex potential).
* **Neural contractive dynamical systems** (:class:`NCDS`, Beik-Mohammadi et al. 2024):
  the
  *Jacobian* is parametrized, :math:`Df(x) = -(J_\theta(x)^\top J_\theta(x) +
  \varepsilon I)` (eq. 4.20), and the field recovered by the line integral (eq. 4.21)
  from the equilibrium, :math:`f(x) = \int_0^1 Df(x^* + \tau(x - x^*))\,d\tau\,(x -
  x^*)`, here by Gauss-Legendre quadrature with ``nodes`` points: ``nodes`` network
  evaluations per velocity, against one for ELCD. The Jacobian is symmetric, so :math:`f
  = -\nabla V` for a strongly convex :math:`V`. :func:`latent_ncds` adds the encoder of
  the dissertation's comparison: the same coupling flow as ELCD, then an un-pad to a 2-D
  latent space (Section 4.5), so that contraction holds only on the decoder's image. The
  encoder is trained jointly, as for ELCD (not as a VAE first).

References: ``jaffe2024`` (Section 4.4); G. Manek, J. Z. Kolter, "Learning stable deep
dynamics models", NeurIPS 2019 (``manek2019``); B. Amos, L. Xu, J. Z. Kolter, "Input
convex neural networks", ICML 2017 (``amos2017``); M. A. Rana, A. Li, D. Fox, B. Boots,
F. Ramos, N. Ratliff, "Euclideanizing flows: diffeomorphic reduction for learning stable
dynamical systems", L4DC 2020 (``rana2020``); H. Beik-Mohammadi, S. Hauberg, G.
Arvanitidis, N. Figueroa, G. Neumann, L. Rozo, "Neural contractive dynamical systems",
ICLR 2024 (``beikmohammadi2024``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import as_positive_int, as_positive_scalar
from .diffeomorphisms import CouplingFlow
from .elcd import LatentDynamics, as_state, check_states

__all__ = ["SDD", "ICNN", "smooth_relu", "EFlowField", "eflow", "NCDS", "latent_ncds"]


def smooth_relu(x, width: float = 0.1):
    """Manek and Kolter's smoothed ReLU: 0 below 0, x^2 / (2 width) up to width, then
    x - width/2; convex, non-decreasing and continuously differentiable."""
    return torch.where(
        x <= 0,
        torch.zeros_like(x),
        torch.where(x < width, x * x / (2 * width), x - width / 2),
    )


class ICNN(nn.Module):
    r"""An input-convex network :math:`g:\mathbb R^d \to \mathbb R` (Amos et al. 2017):
    :math:`z_{k+1} = \sigma(U_k z_k + W_k x + b_k)` with :math:`U_k \ge 0` (softplus of
    free weights) and :math:`\sigma` convex and non-decreasing, so :math:`g` is convex
    in :math:`x`."""

    def __init__(self, dim: int, hidden: int = 32, layers: int = 2):
        super().__init__()
        dim, hidden = as_positive_int(dim, "dim"), as_positive_int(hidden, "hidden")
        layers = as_positive_int(layers, "layers")
        self.inputs = nn.ModuleList(
            [nn.Linear(dim, hidden) for _ in range(layers)] + [nn.Linear(dim, 1)]
        )
        self.hidden = nn.ParameterList(
            [nn.Parameter(0.1 * torch.randn(hidden, hidden)) for _ in range(layers - 1)]
            + [nn.Parameter(0.1 * torch.randn(1, hidden))]
        )

    def forward(self, x):
        z = smooth_relu(self.inputs[0](x))
        for direct, weight in zip(self.inputs[1:], self.hidden):
            z = (
                direct(x) + z @ F.softplus(weight).T
            )  # non-negative z-weights keep convexity
            z = smooth_relu(z) if direct is not self.inputs[-1] else z
        return z[..., 0]


class SDD(nn.Module):
    """Stable deep dynamics, eq. (4.19): a free field projected to decrease an ICNN
    Lyapunov function at rate ``alpha``; equilibrium ``x_star`` (default the origin)."""

    def __init__(
        self,
        dim: int,
        hidden: int = 32,
        alpha: float = 0.01,
        x_star=None,
        eps: float = 0.01,
    ):
        super().__init__()
        self.dim = as_positive_int(dim, "dim")
        hidden = as_positive_int(hidden, "hidden")
        self.alpha, self.eps = (
            as_positive_scalar(alpha, "alpha"),
            as_positive_scalar(eps, "eps"),
        )
        self.free = nn.Sequential(
            nn.Linear(self.dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, self.dim),
        )
        self.convex = ICNN(self.dim, hidden)
        self.register_buffer("x_star", as_state(x_star, self.dim))

    def lyapunov(self, x):
        """V(x) >= eps ||x - x*||^2, zero only at x*."""
        check_states(x, self.dim)
        shift = self.convex(x) - self.convex(self.x_star[None])
        return smooth_relu(shift) + self.eps * ((x - self.x_star) ** 2).sum(-1)

    def forward(self, x):
        training = torch.is_grad_enabled()
        with torch.enable_grad():
            # V's gradient is part of the model: keep its graph when training, not in
            # rollouts
            x_in = x if x.requires_grad else x.detach().requires_grad_(True)
            value = self.lyapunov(x_in)
            grad = torch.autograd.grad(value.sum(), x_in, create_graph=training)[0]
        if not training:
            value = value.detach()
        nominal = self.free(x) - self.free(self.x_star[None])
        excess = F.relu((grad * nominal).sum(-1) + self.alpha * value)
        norm2 = (grad * grad).sum(-1).clamp_min(torch.finfo(x.dtype).tiny)
        return nominal - grad * (excess / norm2)[..., None]


class EFlowField(nn.Module):
    r"""The latent field of Euclideanizing flows, :math:`\dot y = -k\,(y - y^*) /
    \sqrt{\|y - y^*\|^2 + \delta^2}`, with a learned speed :math:`k > 0`."""

    def __init__(self, delta: float = 0.1):
        super().__init__()
        self.delta = as_positive_scalar(delta, "delta")
        self.log_speed = nn.Parameter(torch.zeros(()))

    def forward(self, y, y_star):
        e = y - y_star
        norm = torch.sqrt((e * e).sum(-1, keepdim=True) + self.delta**2)
        return -torch.exp(self.log_speed) * e / norm


def eflow(
    dim: int,
    x_star=None,
    *,
    delta: float = 0.1,
    bins: int = 10,
    bound: float = 10.0,
    flow_hidden: int = 30,
) -> LatentDynamics:
    """Euclideanizing flows with the same coupling-flow diffeomorphism as ELCD."""
    return LatentDynamics(
        EFlowField(delta), CouplingFlow(dim, bins, bound, flow_hidden), x_star=x_star
    )


class NCDS(nn.Module):
    r"""The NCDS vector field: :math:`Df = -(J^\top J + \varepsilon I)` integrated from
    :math:`x^*` by ``nodes``-point Gauss-Legendre quadrature (eqs. 4.20-4.21).

    ``NCDS(dim, hidden=16, eps=0.01, nodes=8, x_star=None)``; :math:`J_\theta` is a
    two-layer tanh network of width ``hidden``, as ELCD's factors, so the two compare at
    equal width.
    """

    def __init__(
        self, dim: int, hidden: int = 16, eps: float = 0.01, nodes: int = 8, x_star=None
    ):
        super().__init__()
        self.dim, hidden = (
            as_positive_int(dim, "dim"),
            as_positive_int(hidden, "hidden"),
        )
        self.eps = as_positive_scalar(eps, "eps")
        points, weights = np.polynomial.legendre.leggauss(
            as_positive_int(nodes, "nodes")
        )
        # nodes and weights mapped from [-1, 1] to [0, 1]
        self.register_buffer(
            "taus", torch.tensor((points + 1) / 2, dtype=torch.float32)
        )
        self.register_buffer("weights", torch.tensor(weights / 2, dtype=torch.float32))
        self.jacobian_factor = nn.Sequential(
            nn.Linear(self.dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, self.dim * self.dim),
        )
        self.register_buffer("x_star", as_state(x_star, self.dim))

    def forward(self, x, x_star=None):
        check_states(x, self.dim)
        x_star = self.x_star if x_star is None else x_star
        e = x - x_star
        # all quadrature points in one batch: (nodes, ..., dim)
        points = x_star + self.taus.reshape(-1, *([1] * x.ndim)) * e
        factor = self.jacobian_factor(points).reshape(*points.shape, self.dim)
        je = torch.einsum("...ij,...j->...i", factor, e.expand_as(points))
        jtje = torch.einsum("...ji,...j->...i", factor, je)
        average = torch.einsum("q,q...->...", self.weights, jtje)
        return -average - self.eps * e


def latent_ncds(
    dim: int,
    latent_dim: int = 2,
    hidden: int = 16,
    eps: float = 0.01,
    nodes: int = 8,
    x_star=None,
    *,
    bins: int = 10,
    bound: float = 10.0,
    flow_hidden: int = 30,
) -> LatentDynamics:
    """NCDS as compared in Section 4.5: coupling-flow encoder, un-pad to
    ``latent_dim``."""
    latent_dim = as_positive_int(latent_dim, "latent_dim")
    return LatentDynamics(
        NCDS(latent_dim, hidden, eps, nodes),
        CouplingFlow(dim, bins, bound, flow_hidden),
        x_star=x_star,
        latent_dim=latent_dim,
    )
