r"""Hard k-means: nearest codewords, Lloyd's algorithm and starting codebooks (Chapter
5).

The limit :math:`\tau \to 0` of soft k-means (:mod:`contraction.quantize_em`): every
weight sub-vector goes to its nearest codeword (:func:`hard_assign`,
:func:`hard_quantize`), and Lloyd's algorithm alternates that assignment with the mean
of each cluster (:func:`lloyd`), the post-training baseline of Section 5.1.
:func:`init_codebook` gives the starting codebooks. Reference: S. Lloyd, "Least squares
quantization in PCM", 1982; D. Arthur, S. Vassilvitskii, "k-means++", 2007
(``jaffe2024``, Chapter 2, for the setting).
"""

from __future__ import annotations

import numbers

import torch

from ._checks import as_positive_int
from .quantize_em import _check_choice, _check_problem, _check_tensor, distances

__all__ = ["INITS", "hard_assign", "hard_quantize", "lloyd", "init_codebook"]

INITS = ("kmeans++", "quantile")


def hard_assign(W, C):
    """Index of the nearest codeword for every row of ``W`` (the limit tau -> 0),
    ``(..., m)``."""
    return distances(W, C, "sqeuclidean").argmin(-1)


def hard_quantize(W, C):
    """Every row of ``W`` replaced by its nearest codeword, :math:`q(W, C)` (Section
    2.3)."""
    index = hard_assign(W, C)
    return torch.gather(C, -2, index.unsqueeze(-1).expand(*index.shape, C.shape[-1]))


def lloyd(W, C0, max_iter=300):
    """Hard k-means (Lloyd) from ``C0``: nearest-codeword assignment, then means, until
    the assignment repeats. A codeword that loses all its weights stays where it is.
    Returns the centers (no gradient); the limit of
    :func:`~contraction.quantize_kmeans.soft_kmeans` as tau -> 0."""
    Wb, C, squeeze = _check_problem(W, C0)
    max_iter = as_positive_int(max_iter, "max_iter")
    Wb, index = Wb.detach(), None
    for _ in range(max_iter):
        new = hard_assign(Wb, C)
        if index is not None and torch.equal(new, index):
            break
        index = new
        onehot = torch.nn.functional.one_hot(index, C.shape[-2]).to(
            Wb.dtype
        )  # (L, m, k)
        count = onehot.sum(-2).unsqueeze(-1)
        C = torch.where(
            count > 0, onehot.transpose(-1, -2) @ Wb / count.clamp_min(1), C
        )
    return C[0] if squeeze else C


def init_codebook(W, k, method="kmeans++", generator=None):
    """A starting codebook ``(k, d)`` for the rows of ``W`` ``(m, d)``.

    ``"kmeans++"``: the first codeword a random row, each next one a row drawn with
    probability proportional to its squared distance to the nearest codeword so far
    (Arthur and Vassilvitskii, 2007); ``generator`` seeds it. ``"quantile"``:
    deterministic; the rows at the quantiles (j + 1/2)/k of their projection on the
    first principal direction (for d = 1, of the weights).
    """
    _check_tensor(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must have shape (m, d), got {tuple(W.shape)}")
    if (
        isinstance(k, bool)
        or not isinstance(k, numbers.Integral)
        or not 1 <= k <= W.shape[0]
    ):
        raise ValueError(f"k must be an integer in 1..m = {W.shape[0]}, got {k!r}")
    _check_choice(method, "method", INITS)
    W = W.detach()
    if method == "quantile":
        centered = W - W.mean(0)
        direction = torch.linalg.eigh(centered.T @ centered)[1][:, -1]
        order = torch.argsort(centered @ direction)
        positions = (
            (torch.arange(k, dtype=torch.float64) + 0.5) * W.shape[0] / k
        ).long()
        return W[order[positions.clamp_max(W.shape[0] - 1).to(W.device)]].clone()
    first = torch.randint(W.shape[0], (1,), generator=generator).item()
    chosen = [first]
    nearest = (W - W[first]).square().sum(-1)
    for _ in range(1, k):
        weights = nearest.double().cpu()
        # fewer distinct rows than k: every distance is 0, so draw uniformly (duplicates
        # follow)
        weights = weights if float(weights.sum()) > 0 else torch.ones_like(weights)
        nxt = torch.multinomial(weights, 1, generator=generator).item()
        chosen.append(nxt)
        nearest = torch.minimum(nearest, (W - W[nxt]).square().sum(-1))
    return W[chosen].clone()


# --- the convergence condition
# ----------------------------------------------------------------
