r"""A small vision transformer whose attention is multi-head or k-Hopfield (Section
6.4).

The model of :class:`ViT` follows Dosovitskiy et al. (``dosovitskiy2021``) in its
simplest form:

1. cut the image into non-overlapping ``patch x patch`` squares, flatten each and map it
   linearly to a token of width ``dim`` (:class:`PatchEmbedding`);
2. prepend a learned ``[class]`` token (or, with ``pool="mean"``, none) and add a
   learned position embedding;
3. ``depth`` pre-norm blocks (:class:`Block`), each
   :math:`z \leftarrow z + \mathrm{Attn}(\mathrm{LN}(z))`, then
   :math:`z \leftarrow z + \mathrm{MLP}(\mathrm{LN}(z))` with a GELU MLP of hidden width
   ``mlp_dim``;
4. a final layer norm, the ``[class]`` token (or the mean of the tokens), and a linear
   map to the class scores.

The attention is chosen by name (:data:`ATTENTIONS`): ``"multihead"`` is
``torch.nn.MultiheadAttention`` with ``heads`` heads of width ``dim // heads``, and
``"khopfield"`` is :class:`contraction.hopfield.KHopfieldAttention` with ``heads``
ksoftmax columns, the query, key and value projections of a single head, and
:math:`\beta = 1/\sqrt{\text{head width}}` (eq. 3.7 of ``jaffe2024``). Everything else
is shared, so two models built with the same arguments differ only in their attention.
:func:`attention_parameters` counts the parameters of the attention modules alone. No
dropout, as in the dissertation's experiment.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import as_positive_int
from .hopfield import KHopfieldAttention

__all__ = [
    "ATTENTIONS",
    "PatchEmbedding",
    "MultiheadSelfAttention",
    "Block",
    "ViT",
    "make_attention",
    "attention_parameters",
    "count_parameters",
]

ATTENTIONS = ("multihead", "khopfield")


class PatchEmbedding(nn.Module):
    """Images to tokens: non-overlapping ``patch x patch`` squares, each mapped
    linearly.

    Input (batch, channels, height, width), or (batch, channels * height * width)
    flattened as :func:`contraction.data.digits` and :func:`contraction.data.mnist` give
    them; output (batch, tokens, dim) with ``tokens = (height // patch) * (width //
    patch)``, in row-major order of the patches. ``image_shape`` is ``(channels, height,
    width)``; height and width must be multiples of ``patch``.
    """

    def __init__(self, image_shape, patch: int, dim: int):
        super().__init__()
        if len(image_shape) != 3:
            raise ValueError(
                f"image_shape must be (channels, height, width), got {image_shape!r}"
            )
        c, h, w = (as_positive_int(s, "image_shape") for s in image_shape)
        self.patch = as_positive_int(patch, "patch")
        if h % self.patch or w % self.patch:
            raise ValueError(
                f"height and width ({h}, {w}) must be multiples of patch ({patch})"
            )
        self.image_shape = (c, h, w)
        self.tokens = (h // self.patch) * (w // self.patch)
        self.proj = nn.Linear(c * self.patch * self.patch, as_positive_int(dim, "dim"))

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened patches, shape (batch, tokens, channels * patch * patch)."""
        c, h, w = self.image_shape
        if x.dim() == 2 and x.shape[1] == c * h * w:
            x = x.reshape(-1, c, h, w)
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"x must have shape (batch, {c}, {h}, {w}) or (batch, {c * h * w}), "
                f"got {tuple(x.shape)}"
            )
        p = self.patch
        x = x.reshape(-1, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(len(x), self.tokens, c * p * p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.patches(x))


class MultiheadSelfAttention(nn.Module):
    """``torch.nn.MultiheadAttention`` as self-attention on (batch, tokens, dim)
    tensors.

    Queries, keys and values are all the input; only the output is returned (no
    weights).
    """

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.mha = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=False)[0]


def make_attention(
    kind: str, dim: int, heads: int, head_dim: int | None = None
) -> nn.Module:
    """A self-attention module of ``kind`` (one of :data:`ATTENTIONS`) on tokens of
    width ``dim``.

    ``"multihead"``: :class:`MultiheadSelfAttention` with ``heads`` heads.
    ``"khopfield"``: :class:`contraction.hopfield.KHopfieldAttention` with ``heads``
    ksoftmax columns, head width ``head_dim`` (default ``dim // heads``, the width of
    one multi-head head) and no bias on the query, key and value projection.
    ``head_dim`` is for ``"khopfield"`` only.
    """
    if kind not in ATTENTIONS:
        raise ValueError(f"attention must be one of {ATTENTIONS}, got {kind!r}")
    dim, heads = as_positive_int(dim, "dim"), as_positive_int(heads, "heads")
    if dim % heads:
        raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
    if kind == "multihead":
        if head_dim is not None:
            raise ValueError("head_dim is dim // heads for multihead attention")
        return MultiheadSelfAttention(dim, heads)
    return KHopfieldAttention(dim, heads, head_dim)


class Block(nn.Module):
    """A pre-norm transformer block: ``z + attn(LN(z))``, then ``z + MLP(LN(z))`` (GELU
    MLP)."""

    def __init__(
        self, dim: int, heads: int, mlp_dim: int, attention: str, head_dim=None
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = make_attention(attention, dim, heads, head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, as_positive_int(mlp_dim, "mlp_dim")),
            nn.GELU(),
            nn.Linear(mlp_dim, dim),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z + self.attn(self.norm1(z))
        return z + self.mlp(self.norm2(z))


class ViT(nn.Module):
    """A vision transformer for images of ``image_shape`` = (channels, height, width).

    ``attention`` is ``"multihead"`` or ``"khopfield"`` (:func:`make_attention`), with
    ``heads`` heads or ksoftmax columns; ``pool`` is ``"cls"`` (a learned ``[class]``
    token) or ``"mean"`` (the mean of the patch tokens); ``head_dim`` sets the
    k-Hopfield head width (default ``dim // heads``; :func:`make_attention`). Inputs as
    :class:`PatchEmbedding` takes them; output (batch, num_classes) class scores.
    k-Hopfield attention needs ``heads`` less than the number of tokens. Section 6.4.
    """

    def __init__(
        self,
        image_shape,
        patch: int,
        num_classes: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_dim: int,
        attention: str = "multihead",
        pool: str = "cls",
        head_dim: int | None = None,
    ):
        super().__init__()
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        self.embed = PatchEmbedding(image_shape, patch, dim)
        self.pool, self.attention = pool, attention
        tokens = self.embed.tokens + (pool == "cls")
        if attention == "khopfield" and heads >= tokens:
            raise ValueError(
                f"heads ({heads}) must be less than the number of tokens ({tokens})"
            )
        self.cls = nn.Parameter(torch.zeros(1, 1, dim)) if pool == "cls" else None
        self.pos = nn.Parameter(0.02 * torch.randn(1, tokens, dim))
        depth = as_positive_int(depth, "depth")
        self.blocks = nn.Sequential(
            *[Block(dim, heads, mlp_dim, attention, head_dim) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, as_positive_int(num_classes, "num_classes"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.embed(x)
        if self.cls is not None:
            z = torch.cat([self.cls.expand(len(z), -1, -1), z], dim=1)
        z = self.norm(self.blocks(z + self.pos))
        return self.head(z[:, 0] if self.cls is not None else z.mean(1))


def count_parameters(module: nn.Module) -> int:
    """The number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def attention_parameters(model: nn.Module) -> int:
    """The number of trainable parameters in the attention modules of ``model`` (all
    blocks).

    Counts :class:`MultiheadSelfAttention` and
    :class:`contraction.hopfield.KHopfieldAttention` submodules; the rest of a
    :class:`ViT` (patch and position embeddings, norms, MLPs, head) is the same for both
    kinds.
    """
    kinds = (MultiheadSelfAttention, KHopfieldAttention)
    return sum(count_parameters(m) for m in model.modules() if isinstance(m, kinds))
