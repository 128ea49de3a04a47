r"""Neural network quantization by implicit, differentiable k-means (Chapter 5): the
public face.

**Idea.** Weight sharing stores a layer as ``k`` codewords in :math:`\mathbb R^d` and
one :math:`\log_2 k`-bit index per sub-vector of ``d`` weights. Training the network
*through* the clustering (quantization-aware training) needs the gradient of the
codebook with respect to the weights. Soft k-means makes the clustering smooth; its
centers are a fixed point :math:`C^\star = F(C^\star, W)`, so they can be differentiated
without storing the iterations.

**Math** (``jaffe2024``, Sections 2.3-2.4). For sub-vectors :math:`W \in \mathbb
R^{m\times d}`, temperature :math:`\tau > 0` and :math:`D_{ij} = \|w_i - c_j\|`,

.. math::

    A = \operatorname{rowsoftmax}(-D/\tau), \qquad
    F(C, W) = \operatorname{diag}(A^\top\mathbb 1)^{-1} A^\top W, \qquad
    W_q = A\,C^\star ,

    \frac{\partial C^\star}{\partial W} = \Big(I - \frac{\partial F}{\partial
    C}\Big)^{-1} \frac{\partial F}{\partial W} \quad\text{(IDKM)}, \qquad \frac{\partial
    C^\star}{\partial W} \approx \frac{\partial F}{\partial W} \quad\text{(JFB)},

against DKM's autograd through all ``t`` iterations (``cho2022``). The inverse exists,
and the adjoint iteration converges, when :math:`\rho(\partial F/\partial C) < 1` at the
solution.

**What is here** (one module per idea, re-exported):

* :mod:`contraction.quantize_em`: the step :func:`em_update`, :func:`distances`,
  :func:`attention`, :func:`soft_quantize`, the Jacobian :func:`em_jacobian` and
  :func:`check_contraction`;
* :mod:`contraction.quantize_kmeans`: :func:`soft_kmeans`
  (``method="dkm"|"idkm"|"jfb"``);
* :mod:`contraction.codebooks`: :func:`hard_quantize`, :func:`lloyd` (hard k-means),
  :func:`init_codebook`;
* :mod:`contraction.quantize_layers`: product quantization (:func:`to_subvectors`,
  :func:`bits_per_weight`, :func:`compression_ratio`) and the quantization-aware
  :class:`QuantizedLinear`, :class:`QuantizedConv2d`, :func:`quantize_model`;
* :mod:`contraction.quantize_costs`: backward memory (:class:`SavedTensorMeter`,
  :func:`backward_memory`), time per step (:func:`time_step`) and the angle between
  two methods' gradients (:func:`gradient_angle`).

References: S. Jaffe, *Dynamical Systems and Neural Networks*, PhD thesis, UCSB 2024,
Chapter 2 (``jaffe2024``); M. Cho, K. Alizadeh-Vahid, S. Adya, M. Rastegari, "DKM:
Differentiable k-means clustering layer for neural network compression", ICLR 2022
(``cho2022``); S. W. Fung, H. Heaton, Q. Li, D. McKenzie, S. Osher, W. Yin, "JFB:
Jacobian-free backpropagation for implicit networks", AAAI 2022 (``fung2022``).
"""

from __future__ import annotations

from .codebooks import hard_assign, hard_quantize, init_codebook, lloyd
from .quantize_costs import (
    MemoryReport,
    SavedTensorMeter,
    backward_memory,
    gradient_angle,
    time_step,
)
from .quantize_em import (
    DISTANCES,
    ContractionCheck,
    attention,
    check_contraction,
    distances,
    em_jacobian,
    em_update,
    soft_quantize,
)
from .quantize_kmeans import METHODS, KMeansRecord, soft_kmeans
from .quantize_layers import (
    QuantizedConv2d,
    QuantizedLayer,
    QuantizedLinear,
    bits_per_weight,
    compression_ratio,
    from_subvectors,
    quantize_model,
    to_subvectors,
)

__all__ = [
    "DISTANCES",
    "METHODS",
    "KMeansRecord",
    "ContractionCheck",
    "soft_kmeans",
    "em_update",
    "em_jacobian",
    "distances",
    "attention",
    "soft_quantize",
    "hard_assign",
    "hard_quantize",
    "lloyd",
    "init_codebook",
    "check_contraction",
    "to_subvectors",
    "from_subvectors",
    "bits_per_weight",
    "compression_ratio",
    "QuantizedLayer",
    "QuantizedLinear",
    "QuantizedConv2d",
    "quantize_model",
    "SavedTensorMeter",
    "MemoryReport",
    "backward_memory",
    "time_step",
    "gradient_angle",
]
