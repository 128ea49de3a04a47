"""Figures for Chapter 5 (quantization by soft k-means): a layer's weights and its
codebook.

:func:`codebook_panel` draws the sub-vectors of a layer with the codewords of a codebook
and the soft assignments :math:`A = \\operatorname{rowsoftmax}(-D/\\tau)`: for ``d = 1``
a histogram of the weights with the assignment curves :math:`a_j(w)` over it, for ``d =
2`` a scatter of the sub-vectors coloured by their nearest codeword and shaded by how
hard their assignment is. Introduced in the Chapter 5 section *Weight sharing and soft
k-means*.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import quantize as Q
from .plot import PALETTE

__all__ = ["codebook_panel"]


def _colors(k):
    return [PALETTE[j % len(PALETTE)] for j in range(k)]


def codebook_panel(ax, W, C, tau, distance="euclidean", bins=60):
    """Draw the rows of ``W`` (``(m, 1)`` or ``(m, 2)``) and the codebook ``C`` (``(k,
    d)``) on ``ax``, with the soft assignments at temperature ``tau``. Returns
    ``ax``."""
    W = torch.as_tensor(W, dtype=torch.float64).detach()
    C = torch.as_tensor(C, dtype=torch.float64).detach()
    if (
        W.ndim != 2
        or W.shape[1] not in (1, 2)
        or C.ndim != 2
        or C.shape[1] != W.shape[1]
    ):
        raise ValueError(
            f"W and C must have shapes (m, d), (k, d) with d in (1, 2), got "
            f"{tuple(W.shape)} and {tuple(C.shape)}"
        )
    colors = _colors(C.shape[0])
    if W.shape[1] == 1:
        w = W[:, 0].numpy()
        ax.hist(w, bins=bins, color="0.75", density=True)
        ax.set(xlabel="weight $w$", ylabel="density")
        twin = ax.twinx()
        pad = 0.05 * (w.max() - w.min() + 1e-12)
        grid = torch.linspace(w.min() - pad, w.max() + pad, 400, dtype=torch.float64)
        A = Q.attention(grid[:, None], C, tau, distance).numpy()
        for j, color in enumerate(colors):
            twin.plot(grid.numpy(), A[:, j], color=color, lw=1.5)
            ax.axvline(float(C[j, 0]), color=color, ls="--", lw=1.2)
        twin.set(ylim=(0, 1.05), ylabel="soft assignment $a_j(w)$")
        return ax
    A = Q.attention(W, C, tau, distance).numpy()
    nearest = A.argmax(1)
    shade = np.clip(A.max(1), 0.15, 1.0)
    rgba = np.array([list(_rgb(colors[j])) + [s] for j, s in zip(nearest, shade)])
    ax.scatter(W[:, 0].numpy(), W[:, 1].numpy(), s=6, c=rgba, linewidths=0)
    ax.scatter(
        C[:, 0].numpy(),
        C[:, 1].numpy(),
        s=90,
        marker="X",
        c=colors,
        edgecolors="k",
        linewidths=1,
    )
    ax.set(xlabel="first entry of a sub-vector", ylabel="second entry")
    return ax


def _rgb(color):
    from matplotlib.colors import to_rgb

    return to_rgb(color)
