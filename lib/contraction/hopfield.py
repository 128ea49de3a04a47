r"""Hopfield memory: modern continuous Hopfield networks and retrieving k memories
(Chapter 6).

A *modern continuous Hopfield network* stores memories :math:`\xi_1, \dots, \xi_N \in
\mathbb R^n` (here the rows of ``memories``, shape (N, n)) and updates a query by

.. math:: x^+ = \Xi^\top \operatorname{softmax}(\beta\, \Xi x),

the attention mechanism of transformers. It is the concave-convex step on the energy
:math:`E(x) = -\beta^{-1}\log\sum_i e^{\beta \xi_i^\top x} + \tfrac12 x^\top x +
\beta^{-1}\log N + \tfrac12 M^2` (:math:`M = \max_i\|\xi_i\|`), so the energy never
increases, and for well separated memories one step retrieves the nearest one (Ramsauer
et al.).

The *k-Hopfield layer* retrieves the k nearest memories at once by replacing softmax
with :func:`~contraction.sumsoftmax.ksoftmax`, whose i-th column is a soft indicator of
the i-th largest score:

.. math:: X = \Xi^\top \operatorname{ksoftmax}(\beta\, \operatorname{sim}(\Xi, x))
          \in \mathbb R^{n\times k},

with similarity the dot product, the negative squared Euclidean or the negative
Manhattan distance, optionally followed by one modern Hopfield step on each column (eq.
3.6 of ``jaffe2024``). Column i alone is a dynamical system, :math:`x^+ = \Xi^\top
\operatorname{ksoftmax}_i(\beta \Xi x)`, and it is a unit gradient step on the energy
:func:`khopfield_energy` (Section 3.6). For :math:`i = 1` the subtracted potential is
convex, so as for the modern network the step is concave-convex and the energy never
increases.

:class:`KHopfieldAttention` uses ksoftmax in place of multi-head attention: one head's
queries, keys and values, and ksoftmax of each query's scores gives ``heads`` attention
patterns (eq. 3.7), so the query/key/value parameters are those of a single head.

The classical network (binary states, Hebbian storage) is :mod:`contraction.hebbian`,
also reachable as ``hopfield.hebbian``.

References: S. Jaffe, PhD thesis, UCSB 2024, Chapter 3 (``jaffe2024``); H. Ramsauer et
al., "Hopfield networks is all you need", ICLR 2021 (``ramsauer2021``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

# the classical network, reachable as hopfield.hebbian
from . import hebbian  # noqa: F401
from ._checks import as_positive_int, as_positive_scalar
from .sumsoftmax import as_float_tensor, check_k, ksoftmax, ssm, ssm_potential

SIMILARITIES = ("dot", "sqeuclidean", "manhattan")

__all__ = [
    "ssm",
    "ksoftmax",
    "ssm_potential",
    "similarity",
    "mchn_update",
    "mchn_energy",
    "khopfield",
    "khopfield_indices",
    "khopfield_column_update",
    "khopfield_energy",
    "KHopfieldAttention",
    "SIMILARITIES",
    "hebbian",
]


def _check_memories(memories, x):
    """Validate memories (N, n) and queries (..., n); promote both to one floating
    dtype."""
    memories = as_float_tensor(memories, "memories")
    if memories.dim() != 2:
        raise ValueError(
            f"memories must have shape (N, n), one memory per row, got "
            f"{tuple(memories.shape)}"
        )
    x = as_float_tensor(x, "x")
    if x.shape[-1] != memories.shape[1]:
        raise ValueError(
            f"x has last dimension {x.shape[-1]} but the memories have n = "
            f"{memories.shape[1]} entries"
        )
    if x.device != memories.device:
        raise ValueError(f"x is on {x.device} but memories on {memories.device}")
    dtype = torch.promote_types(memories.dtype, x.dtype)
    return memories.to(dtype), x.to(dtype)


def _check_kind(kind):
    if kind not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {kind!r}")


def _similarity(memories, x, kind):
    if kind == "dot":
        return x @ memories.T
    if kind == "sqeuclidean":
        # -|x - xi|^2 expanded, so no (..., N, n) difference tensor is formed
        sq = (
            (x * x).sum(-1, keepdim=True)
            - 2 * x @ memories.T
            + (memories * memories).sum(-1)
        )
        return -sq.clamp_min(0.0)
    flat = x.reshape(-1, x.shape[-1])
    return -torch.cdist(flat, memories, p=1).reshape(*x.shape[:-1], memories.shape[0])


def similarity(memories, x, kind: str = "dot") -> torch.Tensor:
    """Scores sim(xi_i, x) of queries (..., n) against memories (N, n); shape (..., N).

    ``kind``: ``"dot"`` (``xi . x``), ``"sqeuclidean"`` (``-||xi - x||^2``) or
    ``"manhattan"`` (``-||xi - x||_1``): large when the query is close to the memory
    (eq. 3.5 of ``jaffe2024``).
    """
    memories, x = _check_memories(memories, x)
    _check_kind(kind)
    return _similarity(memories, x, kind)


def mchn_update(memories, x, beta, similarity: str = "dot") -> torch.Tensor:
    r"""One modern Hopfield step x+ = memories^T softmax(beta sim(memories, x)); shape
    of ``x``.

    ``memories`` (N, n), one memory per row; ``x`` (..., n); ``beta`` > 0 the inverse
    temperature. With ``similarity="dot"`` this is eq. (3.1) of ``jaffe2024`` (Ramsauer
    et al.'s update).
    """
    memories, x = _check_memories(memories, x)
    beta = as_positive_scalar(beta, "beta")
    _check_kind(similarity)
    weights = torch.softmax(beta * _similarity(memories, x, similarity), dim=-1)
    return weights @ memories


def mchn_energy(memories, x, beta) -> torch.Tensor:
    """Ramsauer et al.'s energy of queries (..., n), shape (...,); non-negative, and
    never increased by :func:`mchn_update` with the dot similarity."""
    memories, x = _check_memories(memories, x)
    beta = as_positive_scalar(beta, "beta")
    lse = torch.logsumexp(beta * (x @ memories.T), dim=-1) / beta
    big = memories.norm(dim=-1).max()
    return (
        -lse + 0.5 * (x * x).sum(-1) + math.log(memories.shape[0]) / beta + 0.5 * big**2
    )


def khopfield(
    memories, x, beta, k: int, similarity: str = "dot", beta2=None
) -> torch.Tensor:
    r"""The k-Hopfield layer: X = memories^T ksoftmax(beta sim(memories, x)), shape
    (..., n, k).

    Column i approximates the i-th nearest memory to ``x`` (eq. 3.4/3.5 of
    ``jaffe2024``). With ``beta2`` (> 0), each column then takes one modern Hopfield
    step at inverse temperature ``beta2`` with the same similarity, which snaps it onto
    the memory it is near (eq. 3.6). ``k`` in 1..N-1 for N memories.
    """
    memories, x = _check_memories(memories, x)
    beta = as_positive_scalar(beta, "beta")
    _check_kind(similarity)
    k = check_k(k, memories.shape[0])
    weights = ksoftmax(beta * _similarity(memories, x, similarity), k)  # (..., N, k)
    X = torch.einsum("...Nk,Nn->...nk", weights, memories)
    if beta2 is None:
        return X
    return mchn_update(memories, X.transpose(-1, -2), beta2, similarity).transpose(
        -1, -2
    )


def khopfield_indices(
    memories, x, beta, k: int, similarity: str = "dot"
) -> torch.Tensor:
    """Hard retrieval: the index of the largest entry of each ksoftmax column, shape
    (..., k).

    Eq. (3.8) of ``jaffe2024``: what the recall@k experiment scores (no gradient).
    """
    memories, x = _check_memories(memories, x)
    beta = as_positive_scalar(beta, "beta")
    _check_kind(similarity)
    k = check_k(k, memories.shape[0])
    with torch.no_grad():
        return ksoftmax(beta * _similarity(memories, x, similarity), k).argmax(dim=-2)


def _column_weights(scores, i):
    """ksoftmax column i alone: ssm(scores; i) - ssm(scores; i-1), two solves instead of
    i."""
    upper = ssm(scores, i)
    return upper if i == 1 else upper - ssm(scores, i - 1)


def khopfield_column_update(memories, x, beta, i: int) -> torch.Tensor:
    """The column-i dynamical system x+ = memories^T ksoftmax_i(beta memories x) (eq.
    3.17)."""
    memories, x = _check_memories(memories, x)
    beta = as_positive_scalar(beta, "beta")
    i = check_k(i, memories.shape[0], "i")
    return _column_weights(beta * (x @ memories.T), i) @ memories


def khopfield_energy(memories, x, beta, i: int) -> torch.Tensor:
    r"""Energy whose unit gradient step is :func:`khopfield_column_update`; shape
    (...,).

    :math:`E(x) = \tfrac12 x^\top x - \beta^{-1}\bigl(V_i(\beta\Xi x) - V_{i-1}(\beta\Xi
    x)\bigr)` with :math:`V` the potential of ssm
    (:func:`~contraction.sumsoftmax.ssm_potential`, :math:`V_0 = 0`): eqs. (3.18)-(3.19)
    of ``jaffe2024``, in closed form. Its gradient is ``x -
    khopfield_column_update(memories, x, beta, i)``.
    """
    memories, x = _check_memories(memories, x)
    beta = as_positive_scalar(beta, "beta")
    i = check_k(i, memories.shape[0], "i")
    scores = beta * (x @ memories.T)
    potential = ssm_potential(scores, i) - ssm_potential(scores, i - 1)
    return 0.5 * (x * x).sum(-1) - potential / beta


class KHopfieldAttention(nn.Module):
    r"""k-Hopfield attention, a drop-in for multi-head self-attention (eq. 3.7 of
    ``jaffe2024``).

    Input and output (batch, tokens, dim). One head's projections give queries, keys and
    values of size ``head_dim`` (default ``dim // heads``, as in
    :class:`torch.nn.MultiheadAttention`); for each query, ksoftmax of its scores over
    the keys, :math:`\operatorname{ksoftmax}(\beta K q)`, gives ``heads`` weightings of
    the values; their ``heads`` outputs are concatenated and projected back to ``dim``.
    ``beta`` defaults to :math:`1/\sqrt{\text{head\_dim}}`. Needs ``heads`` < tokens.
    Attention parameters: ``3 dim head_dim`` (+ biases) for the projections and ``heads
    head_dim dim + dim`` for the output, against ``4 dim^2 + 4 dim`` for multi-head
    attention with the same ``heads`` and ``dim``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        head_dim: int | None = None,
        beta=None,
        bias: bool = False,
    ):
        super().__init__()
        self.dim = as_positive_int(dim, "dim")
        self.heads = as_positive_int(heads, "heads")
        if head_dim is None:
            if dim % heads:
                raise ValueError(
                    f"dim ({dim}) must be divisible by heads ({heads}), or give "
                    "head_dim"
                )
            head_dim = dim // heads
        self.head_dim = as_positive_int(head_dim, "head_dim")
        default = 1.0 / math.sqrt(self.head_dim)
        self.beta = default if beta is None else as_positive_scalar(beta, "beta")
        self.qkv = nn.Linear(self.dim, 3 * self.head_dim, bias=bias)
        self.out = nn.Linear(self.heads * self.head_dim, self.dim)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The ksoftmax weights, shape (batch, queries, keys, heads); each sums to 1
        over keys."""
        q, key, _ = self._qkv(x)
        return ksoftmax(self.beta * q @ key.transpose(-1, -2), self.heads)

    def _qkv(self, x):
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != self.dim:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"x must have shape (batch, tokens, {self.dim}), got {shape}"
            )
        if x.shape[1] <= self.heads:
            raise ValueError(
                f"heads ({self.heads}) must be less than the number of tokens "
                f"({x.shape[1]}): ksoftmax picks heads of them per query"
            )
        return self.qkv(x).chunk(3, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, key, value = self._qkv(x)
        weights = ksoftmax(self.beta * q @ key.transpose(-1, -2), self.heads)
        mixed = torch.einsum("bqsh,bsd->bqhd", weights, value)  # one value mix per head
        return self.out(mixed.flatten(-2))
