"""One figure style for the whole book, and the plots that several chapters draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .._checks import as_real_array

BOUND_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.5}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

__all__ = ["use_book_style", "stream_plot", "bound_vs_measured", "BOUND_STYLE", "PALETTE"]


def use_book_style() -> None:
    """Apply the book's figure defaults (size, fonts, grid, colour cycle)."""
    plt.rcParams.update({
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": 90,
        "savefig.dpi": 90,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": plt.cycler(color=PALETTE),
        "font.size": 10,
        "legend.frameon": False,
    })


def stream_plot(ax, field, xlim=(-2, 2), ylim=(-2, 2), density=1.0, num=40):
    """Stream plot of a planar vector field ``field(x) -> x'`` on the box ``xlim x ylim``."""
    xs, ys = np.linspace(*xlim, num), np.linspace(*ylim, num)
    X, Y = np.meshgrid(xs, ys)
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    V = np.array([field(p) for p in pts])
    if V.shape != (pts.shape[0], 2):
        raise ValueError("field must map a point of R^2 to a vector of R^2")
    U, W = V[:, 0].reshape(X.shape), V[:, 1].reshape(X.shape)
    ax.streamplot(X, Y, U, W, density=density, color="0.65", linewidth=0.8, arrowsize=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    return ax


def bound_vs_measured(ax, x, measured, bound, xlabel="t", log=True, labels=("measured", "bound")):
    """Plot a measured curve against the bound that theory puts on it (dashed black)."""
    x = as_real_array(x, "x", ndim=1)
    measured = as_real_array(measured, "measured", ndim=1)
    bound = as_real_array(bound, "bound", ndim=1)
    ax.plot(x, measured, label=labels[0], linewidth=2)
    ax.plot(x, bound, label=labels[1], **BOUND_STYLE)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.legend()
    return ax
