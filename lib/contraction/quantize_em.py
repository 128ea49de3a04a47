r"""The soft k-means step :math:`F(C, W)` of Chapter 5: distances, soft assignments,
the map itself, its Jacobian in closed form, and the contraction check at a codebook.

A layer's weights are cut into ``m`` sub-vectors :math:`w_i \in \mathbb R^d` (the rows
of :math:`W \in \mathbb R^{m\times d}`) and shared through a codebook :math:`C \in
\mathbb R^{k\times d}`. One step of soft k-means (Algorithm 1 of ``jaffe2024``, after
DKM, ``cho2022``) is

.. math::

    D_{ij} = \|w_i - c_j\|, \qquad A = \operatorname{rowsoftmax}(-D/\tau), \qquad
    F(C, W) = \operatorname{diag}(A^\top \mathbb 1_m)^{-1} A^\top W ,

the E-step (2.8) and the M-step (2.10). The distance is the Euclidean norm, *not* its
square, as in (2.5); ``distance="sqeuclidean"`` is the Gaussian-mixture variant.
:mod:`contraction.quantize_kmeans` iterates F to its fixed point and differentiates it;
whether that fixed point attracts, and whether its implicit gradient exists, is a
question about :math:`\partial_C F` (:func:`em_jacobian`, :func:`check_contraction`).

References: S. Jaffe, *Dynamical Systems and Neural Networks*, PhD thesis, UCSB 2024,
Chapter 2 (``jaffe2024``); M. Cho et al., "DKM: Differentiable k-means clustering layer
for neural network compression", ICLR 2022 (``cho2022``).
"""

from __future__ import annotations

import dataclasses

import torch

from ._checks import as_positive_int, as_positive_scalar

__all__ = [
    "DISTANCES",
    "ContractionCheck",
    "distances",
    "attention",
    "em_update",
    "em_jacobian",
    "soft_quantize",
    "check_contraction",
]

DISTANCES = ("euclidean", "sqeuclidean")
# A center that no weight attends to (its softmax mass underflows to 0) would be 0/0;
# the tiny prior mass _DEAD at its current position keeps it in place and changes a live
# center by a relative 1e-12 / mass, far below float32 resolution.
_DEAD = 1e-12
# sqrt is clamped here: its derivative at a zero distance would be infinite
_TINY_SQ = 1e-30


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


# --- the Jacobian and the contraction check
# --------------------------------------------------------------------------------


def em_jacobian(C, W, tau, distance="euclidean"):
    r"""The Jacobian :math:`\partial_C F(C, W)` of one soft k-means step, in closed
    form, shape ``(..., k d, k d)`` with rows and columns ordered like ``C.flatten()``.

    With :math:`u_{il} = \partial D_{il} / \partial c_l` (:math:`(c_l - w_i)/D_{il}`,
    or :math:`2(c_l - w_i)` for the squared distance), the softmax gives
    :math:`\partial A_{ij}/\partial c_l = -\tau^{-1} A_{ij}(\delta_{jl} - A_{il})
    u_{il}^\top`, and the quotient rule on :math:`F_j = \sum_i A_{ij} w_i / \sum_i
    A_{ij}` gives the :math:`d \times d` block

    .. math::

        \frac{\partial F_j}{\partial c_l} = \frac{1}{\tau M_j} \Big(\sum_i
        A_{ij} A_{il} (w_i - F_j)\, u_{il}^\top - \delta_{jl} \sum_i A_{ij}
        (w_i - F_j)\, u_{ij}^\top\Big), \qquad M_j = \sum_i A_{ij},

    (with the tiny prior mass that keeps a dead center in place, exactly as
    :func:`em_update` has it). The first sum over all pairs is one product of two
    ``(m, k d)`` matrices, so the whole Jacobian costs a few passes over the weights:
    far less than the ``k d`` vector-Jacobian products autograd would take.
    """
    Wb, Cb, squeeze = _check_problem(W, C)
    tau, distance = _check_tau(tau), _check_choice(distance, "distance", DISTANCES)
    layers, k, d = Cb.shape
    diff = Cb.unsqueeze(-2) - Wb.unsqueeze(-3)  # (layers, k, m, d): c_j - w_i
    sq = diff.square().sum(-1)
    if distance == "sqeuclidean":
        dist, slope = sq, torch.full_like(sq, 2.0)
    else:  # the clamp has zero derivative below _TINY_SQ, as in _distances_t
        dist = sq.clamp_min(_TINY_SQ).sqrt()
        slope = torch.where(sq >= _TINY_SQ, 1.0 / dist, torch.zeros_like(dist))
    At = torch.softmax(dist / -tau, dim=-2)  # (layers, k, m)
    mass = At.sum(-1) + _DEAD  # (layers, k)
    F = (At @ Wb + _DEAD * Cb) / mass.unsqueeze(-1)
    spread = At.unsqueeze(-1) * (Wb.unsqueeze(-3) - F.unsqueeze(-2))  # A_ij (w_i - F_j)
    U = slope.unsqueeze(-1) * diff  # u_ij
    pairs = spread.transpose(-2, -3).flatten(-2).transpose(-1, -2) @ (
        At.unsqueeze(-1) * U
    ).transpose(-2, -3).flatten(-2)  # (layers, kd, kd): sum_i A_ij A_il (.) u_il^T
    own = torch.einsum("zjia,zjib->zjab", spread, U)  # (layers, k, d, d)
    blocks = pairs.reshape(layers, k, d, k, d)
    jk = torch.arange(k, device=Cb.device)
    eye_d = torch.eye(d, dtype=Cb.dtype, device=Cb.device)
    blocks[:, jk, :, jk, :] += tau * _DEAD * eye_d - own.transpose(0, 1)
    J = blocks / (tau * mass)[:, :, None, None, None]
    J = J.reshape(layers, k * d, k * d)
    return J[0] if squeeze else J


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
