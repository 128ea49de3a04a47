r"""Learned diffeomorphisms of :math:`\mathbb R^d`: coupling layers with
rational-quadratic splines.

Contraction survives a smooth change of coordinates: if :math:`\dot z = g(z)` contracts
in the metric :math:`M(z)` and :math:`z = \phi(x)` is a diffeomorphism, then :math:`\dot
x = D\phi(x)^{-1} g(\phi(x))` contracts in :math:`D\phi(x)^\top M(\phi(x)) D\phi(x)`
(Lohmiller and Slotine 1998, Theorem 2). Chapter 7 learns :math:`\phi` jointly with the
latent dynamics (``jaffe2024``, Sections 4.3.3-4.3.5), so the model contracts in a
learned metric.

:class:`CouplingFlow` is the encoder of the dissertation's experiments (Section 4.5): a
permutation and an invertible linear layer before, between and after two coupling layers
whose elementwise map is a monotonic rational-quadratic spline (Durkan et al. 2019) on
:math:`[-B, B]` with ``bins`` bins and the identity outside (slope 1 at the ends, so the
map is linearly extrapolated and stays a bijection of the whole line). A coupling layer
keeps one part :math:`x_a` of the coordinates and maps each other coordinate by a spline
whose knots a network computes from :math:`x_a`; it is inverted coordinate by
coordinate, in closed form (Dinh et al. 2015). The splines and coupling come from the
``zuko`` library; the linear layer is :math:`W = LU` with unit lower-triangular
:math:`L` and upper-triangular :math:`U` with positive diagonal :math:`e^{s}`,
invertible for every parameter value and the identity at initialisation.

Every transform has ``forward``, ``inverse`` and ``dim`` (the dimension it acts on), so
they compose freely. Everything is twice differentiable in reverse mode, which is how
:class:`contraction.elcd.LatentDynamics` maps latent velocities back to data space (a
Jacobian-vector product of :meth:`CouplingFlow.inverse`).

References: ``jaffe2024`` (Section 4.3.5, Section 4.5); L. Dinh, D. Krueger, Y. Bengio,
"NICE: non-linear independent components estimation", 2015 (``dinh2015``); C. Durkan, A.
Bekasov, I. Murray, G. Papamakarios, "Neural spline flows", NeurIPS 2019
(``durkan2019``); W. Lohmiller, J.-J. Slotine, "On contraction analysis for non-linear
systems", Automatica 1998 (``lohmiller1998``).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ._checks import as_positive_int, as_positive_scalar

__all__ = ["LULinear", "Permutation", "SplineCoupling", "CouplingFlow"]


def _zuko():
    # zuko is imported on first use so that importing the library stays light
    from zuko.flows.coupling import GeneralCouplingTransform
    from zuko.transforms import MonotonicRQSTransform

    return GeneralCouplingTransform, MonotonicRQSTransform


class Permutation(nn.Module):
    """A fixed random permutation of the coordinates (drawn from torch's global
    generator)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = as_positive_int(dim, "dim")
        order = torch.randperm(self.dim)
        self.register_buffer("order", order)
        self.register_buffer("inverse_order", torch.argsort(order))

    def forward(self, x):
        return x[..., self.order]

    def inverse(self, z):
        return z[..., self.inverse_order]


class LULinear(nn.Module):
    r"""The invertible affine map :math:`x \mapsto LUx + b`, the identity at
    initialisation."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim = as_positive_int(dim, "dim")
        self.lower = nn.Parameter(torch.zeros(dim, dim))
        self.upper = nn.Parameter(torch.zeros(dim, dim))
        self.log_diagonal = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def _factors(self):
        eye = torch.eye(len(self.bias), dtype=self.bias.dtype, device=self.bias.device)
        lower = torch.tril(self.lower, -1) + eye
        upper = torch.triu(self.upper, 1) + torch.diag(torch.exp(self.log_diagonal))
        return lower, upper

    def forward(self, x):
        lower, upper = self._factors()
        return x @ (lower @ upper).T + self.bias

    def inverse(self, z):
        lower, upper = self._factors()
        rows = (z - self.bias).reshape(-1, z.shape[-1]).T
        # two triangular solves: O(d^2) per point and exact, no matrix inverse formed
        y = torch.linalg.solve_triangular(lower, rows, upper=False, unitriangular=True)
        x = torch.linalg.solve_triangular(upper, y, upper=True)
        return x.T.reshape(z.shape)


class SplineCoupling(nn.Module):
    """A coupling layer: coordinates where ``mask`` is True condition splines on the
    others.

    The spline parameters come from an MLP with two hidden layers of ``hidden`` units
    (zuko's ``GeneralCouplingTransform``); ``bins`` bins on ``[-bound, bound]``,
    identity outside.
    """

    def __init__(self, mask, bins: int = 10, bound: float = 10.0, hidden: int = 30):
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.bool)
        if mask.ndim != 1 or mask.all() or not mask.any():
            raise ValueError(
                "mask must be a 1-D boolean vector with both True and False entries"
            )
        bins, hidden = as_positive_int(bins, "bins"), as_positive_int(hidden, "hidden")
        if bins < 2:
            raise ValueError(f"bins must be at least 2, got {bins}")
        self.dim = len(mask)
        coupling, spline = _zuko()
        univariate = partial(spline, bound=as_positive_scalar(bound, "bound"))
        self.layer = coupling(
            len(mask),
            mask=mask,
            univariate=univariate,
            shapes=[(bins,), (bins,), (bins - 1,)],
            hidden_features=(hidden, hidden),
        )

    def forward(self, x):
        return self.layer()(x)

    def inverse(self, z):
        return self.layer().inv(z)


class CouplingFlow(nn.Module):
    r"""The encoder :math:`\phi` of Section 4.5: [perm, linear, spline coupling] x 2,
    perm, linear.

    ``CouplingFlow(dim)`` maps (..., dim) to (..., dim); :meth:`inverse` undoes it
    exactly (up to rounding). The two coupling layers use complementary masks, so every
    coordinate is transformed. ``dim`` must be at least 2 (a coupling layer needs a part
    to condition on).
    """

    def __init__(self, dim: int, bins: int = 10, bound: float = 10.0, hidden: int = 30):
        super().__init__()
        dim = as_positive_int(dim, "dim")
        if dim < 2:
            raise ValueError(f"dim must be at least 2 for coupling layers, got {dim}")
        first = torch.arange(dim) % 2 == 0
        layers = []
        for mask in (first, ~first):
            layers += [
                Permutation(dim),
                LULinear(dim),
                SplineCoupling(mask, bins, bound, hidden),
            ]
        layers += [Permutation(dim), LULinear(dim)]
        self.layers = nn.ModuleList(layers)
        self.dim = dim

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z
