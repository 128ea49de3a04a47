r"""Weight sharing for whole layers: product quantization, quantization-aware layers
(Chapter 5).

Product quantization (Section 2.3 of ``jaffe2024``): a layer's ``n`` weights are read in
order and cut into ``m = n / d`` sub-vectors of ``d`` entries, each replaced by one of
``k`` shared codewords. Storing an index costs :math:`\log_2 k` bits per sub-vector, so

.. math:: \text{bits per weight} = \frac{\log_2 k}{d}, \qquad
          \text{compression} = \frac{32\,n}{n \log_2(k)/d + 32\,k\,d}

against 32-bit floats, the second term of the denominator being the codebook (k = 2, d =
2 gives half a bit per weight, Table 2.4). Non-power-of-two k are counted at
:math:`\log_2 k` bits, the rate an entropy coder of the indices reaches; a fixed-width
code needs the ceiling.

:class:`QuantizedLayer` makes a ``nn.Linear`` or ``nn.Conv2d`` quantization-aware
(Algorithm 2): each training forward pass clusters the current weights with
:func:`contraction.quantize.soft_kmeans` from a warm start (the previous codebook, a
buffer), and the layer computes with the soft-quantized weights :math:`A C^\star`, so
the loss sees the quantized model and the gradient reaches the full-precision weights
through DKM, IDKM or JFB. In ``eval()`` mode the layer uses the hard-quantized weights,
what would be deployed.

Introduced in the Chapter 5 section *Weight-sharing quantization*. References: S. Jaffe,
PhD thesis, UCSB 2024, Chapter 2 (``jaffe2024``); M. Cho et al., ICLR 2022
(``cho2022``).
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn
from torch.func import functional_call

from ._checks import as_positive_int
from .codebooks import hard_assign, hard_quantize, init_codebook
from .quantize_em import soft_quantize
from .quantize_kmeans import KMeansRecord, soft_kmeans

__all__ = [
    "to_subvectors",
    "from_subvectors",
    "bits_per_weight",
    "compression_ratio",
    "QuantizedLayer",
    "QuantizedLinear",
    "QuantizedConv2d",
    "quantize_model",
]


def _check_k_d(k, d):
    for value, name in ((k, "k"), (d, "d")):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < 1
        ):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(k), int(d)


def to_subvectors(weight, d):
    """The ``n`` entries of ``weight`` (any shape, read in memory order) as ``(n / d,
    d)`` rows."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch tensor, got {type(weight).__name__}")
    d = as_positive_int(d, "d")
    if weight.numel() % d:
        raise ValueError(
            f"d must divide the number of weights, got d = {d} for n = {weight.numel()}"
        )
    return weight.reshape(-1, d)


def from_subvectors(W, shape):
    """The inverse of :func:`to_subvectors`: rows ``(m, d)`` back to the layer's
    ``shape``."""
    if not isinstance(W, torch.Tensor):
        raise TypeError(f"W must be a torch tensor, got {type(W).__name__}")
    if W.numel() != math.prod(shape):
        raise ValueError(
            f"shape {tuple(shape)} does not hold the {W.numel()} entries of W"
        )
    return W.reshape(shape)


def bits_per_weight(k, d):
    """:math:`\\log_2(k) / d`, the index bits per weight of a k-word codebook of
    d-vectors."""
    k, d = _check_k_d(k, d)
    return math.log2(k) / d


def compression_ratio(n, k, d, float_bits=32, codebook=True):
    """Size of ``n`` floats of ``float_bits`` over their quantized size (indices, plus
    the codebook of ``k`` codewords of ``d`` floats when ``codebook``)."""
    n = as_positive_int(n, "n")
    k, d = _check_k_d(k, d)
    float_bits = as_positive_int(float_bits, "float_bits")
    if n % d:
        raise ValueError(f"d must divide n, got d = {d} for n = {n}")
    quantized = n * bits_per_weight(k, d) + (k * d * float_bits if codebook else 0)
    return math.inf if quantized == 0 else n * float_bits / quantized


class QuantizedLayer(nn.Module):
    r"""A ``nn.Linear`` or ``nn.Conv2d`` that computes with its weights quantized by
    soft k-means.

    Parameters
    ----------
    layer : nn.Linear or nn.Conv2d
        The layer (its parameters are trained in full precision; it is used, not
        copied).
    k, d : int
        Codewords and sub-vector size (``d`` must divide the number of weights).
    tau, distance, method, iters, tol
        Passed to :func:`contraction.quantize.soft_kmeans` (defaults: the dissertation's
        tau = 5e-4 and 30 iterations, Section 2.5); ``solver`` holds its other keywords.
    init : {"quantile", "kmeans++"}
        How the first codebook is chosen (``seed`` for k-means++).

    Notes
    -----
    The codebook (a buffer, saved with the state dict) is the warm start of the next
    forward pass; ``record`` holds the latest
    :class:`~contraction.quantize.KMeansRecord`.
    """

    def __init__(
        self,
        layer,
        k,
        d=1,
        tau=5e-4,
        distance="euclidean",
        method="idkm",
        iters=30,
        tol=1e-6,
        init="quantile",
        seed=0,
        **solver,
    ):
        super().__init__()
        if not isinstance(layer, (nn.Linear, nn.Conv2d)):
            raise TypeError(
                f"layer must be an nn.Linear or nn.Conv2d, got {type(layer).__name__}"
            )
        k, d = _check_k_d(k, d)
        W = to_subvectors(layer.weight.detach(), d)
        if k > W.shape[0]:
            raise ValueError(
                f"k must not exceed the m = {W.shape[0]} sub-vectors, got {k}"
            )
        self.layer, self.k, self.d = layer, k, d
        self.options = dict(
            tau=tau, distance=distance, method=method, iters=iters, tol=tol, **solver
        )
        soft_kmeans(
            W, W[:k], **self.options
        )  # validates every option now, not mid-training
        generator = torch.Generator().manual_seed(int(seed))
        self.register_buffer("codebook", init_codebook(W, k, init, generator=generator))
        self.record = KMeansRecord()

    def forward(self, x):
        weight = self.layer.weight
        W = to_subvectors(weight, self.d)
        if self.training:
            C = soft_kmeans(W, self.codebook, record=self.record, **self.options)
            self.codebook.copy_(
                C.detach()
            )  # the warm start for the next step (DKM, Alg. 2)
            Wq = soft_quantize(W, C, self.options["tau"], self.options["distance"])
        else:
            Wq = self.quantized_weight(hard=True)
        return functional_call(
            self.layer, {"weight": from_subvectors(Wq, weight.shape)}, (x,)
        )

    @torch.no_grad()
    def centers(self):
        """The codebook for the current weights (soft k-means from the stored warm
        start)."""
        W = to_subvectors(self.layer.weight.detach(), self.d)
        return soft_kmeans(W, self.codebook, record=self.record, **self.options)

    @torch.no_grad()
    def quantized_weight(self, hard=True):
        """The layer's weight quantized with :meth:`centers`: nearest codeword
        (``hard``) or the soft assignment :math:`A C`, in the weight's shape."""
        W = to_subvectors(self.layer.weight.detach(), self.d)
        C = self.centers()
        Wq = (
            hard_quantize(W, C)
            if hard
            else soft_quantize(W, C, self.options["tau"], self.options["distance"])
        )
        return from_subvectors(Wq, self.layer.weight.shape)

    @torch.no_grad()
    def indices(self):
        """The codeword index of every sub-vector (what is stored with the codebook)."""
        return hard_assign(
            to_subvectors(self.layer.weight.detach(), self.d), self.centers()
        )

    def extra_repr(self):
        return (
            f"k={self.k}, d={self.d}, "
            f"bits/weight={bits_per_weight(self.k, self.d):.3g}, "
            f"method={self.options['method']!r}, tau={self.options['tau']:g}"
        )


class QuantizedLinear(QuantizedLayer):
    """:class:`QuantizedLayer` for an ``nn.Linear`` (refuses any other layer)."""

    def __init__(self, layer, k, d=1, **options):
        if not isinstance(layer, nn.Linear):
            raise TypeError(f"layer must be an nn.Linear, got {type(layer).__name__}")
        super().__init__(layer, k, d, **options)


class QuantizedConv2d(QuantizedLayer):
    """:class:`QuantizedLayer` for an ``nn.Conv2d`` (refuses any other layer)."""

    def __init__(self, layer, k, d=1, **options):
        if not isinstance(layer, nn.Conv2d):
            raise TypeError(f"layer must be an nn.Conv2d, got {type(layer).__name__}")
        super().__init__(layer, k, d, **options)


def quantize_model(model, k, d=1, **options):
    """Replace, in place, every ``nn.Linear`` and ``nn.Conv2d`` of ``model`` by a
    :class:`QuantizedLayer` with the same ``k``, ``d`` and options; returns
    ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if isinstance(model, (nn.Linear, nn.Conv2d)):
        return QuantizedLayer(model, k, d, **options)
    for name, child in list(model.named_children()):
        if isinstance(child, QuantizedLayer):
            continue
        setattr(model, name, quantize_model(child, k, d, **options))
    return model
