"""One figure style for the whole book, and the plots that several chapters draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .._checks import as_real_array

BOUND_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.5}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

__all__ = [
    "use_book_style",
    "stream_plot",
    "bound_vs_measured",
    "residual_curves",
    "distance_ratios",
    "step_window",
    "BOUND_STYLE",
    "PALETTE",
]


def use_book_style() -> None:
    """Apply the book's figure defaults (size, fonts, grid, colour cycle)."""
    plt.rcParams.update(
        {
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
        }
    )


def stream_plot(ax, field, xlim=(-2, 2), ylim=(-2, 2), density=1.0, num=40):
    """Stream plot of a planar vector field ``field(x) -> x'`` on the box ``xlim x
    ylim``."""
    xs, ys = np.linspace(*xlim, num), np.linspace(*ylim, num)
    X, Y = np.meshgrid(xs, ys)
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    V = np.array([field(p) for p in pts])
    if V.shape != (pts.shape[0], 2):
        raise ValueError("field must map a point of R^2 to a vector of R^2")
    U, W = V[:, 0].reshape(X.shape), V[:, 1].reshape(X.shape)
    ax.streamplot(
        X, Y, U, W, density=density, color="0.65", linewidth=0.8, arrowsize=0.8
    )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    return ax


def bound_vs_measured(
    ax, x, measured, bound, xlabel="t", log=True, labels=("measured", "bound")
):
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


def residual_curves(ax, runs, fmt="-", ylabel="residual", lw=1.5, **settings):
    """Residuals of fixed-point runs (``run.residuals``) on a log scale, one curve per
    run.

    ``runs`` maps a legend label to a :func:`contraction.fixedpoint.solve` result;
    ``settings`` go to ``ax.set`` (title, ylim, ...). Section 1.1 (Picard, averaged and
    Anderson iterations) and Section 1.3 (averaged iteration of a non-contractive map)
    draw these.
    """
    for label, run in runs.items():
        ax.semilogy(run.residuals, fmt, ms=3, lw=lw, label=label)
    ax.set(xlabel="iteration $k$", ylabel=ylabel, **settings)
    ax.legend()
    return ax


def distance_ratios(ax, t, distances, rate=None, bound_label="$e^{-ct}$", **line):
    r"""Distances between solutions divided by their initial value, against ``e^{-rate
    t}``.

    ``distances`` is one array per pair of solutions (sampled at the times ``t``), or a
    dict mapping a legend label to such an array; each is drawn as ``d(t) / d(0)`` on a
    log scale with the keyword arguments ``line``. With a ``rate``, the bound
    :math:`e^{-\text{rate}\, t}` of a contraction certificate is drawn dashed. Section
    1.2 (Gronwall and the firing-rate network) and Section 1.3 (the gradient flow)
    compare measured distances with their certified rate this way.
    """
    t = as_real_array(t, "t", ndim=1)
    labelled = (
        distances.items()
        if isinstance(distances, dict)
        else ((line.pop("label", None), d) for d in distances)
    )
    for label, d in labelled:
        d = as_real_array(d, "distances", ndim=1)
        ax.semilogy(t, d / d[0], label=label, **line)
    if rate is not None:
        ax.semilogy(t, np.exp(-rate * t), **BOUND_STYLE, label=bound_label)
    ax.set_xlabel("t")
    return ax


def step_window(ax, bounds, ylim=None):
    r"""Axes for contraction factors against the step size :math:`\alpha`.

    Shades the certified step sizes ``0 < alpha < bounds["alpha_max"]``, marks the
    optimal step ``bounds["alpha_opt"]`` (dotted) and the factor 1 that separates
    contraction from expansion; ``bounds`` is a dict of
    :func:`contraction.steps.forward_step_bounds`. Section 1.4 (forward Euler steps)
    draws its step-size figures on these axes.
    """
    ax.axvspan(0, bounds["alpha_max"], color="0.92", zorder=0)
    ax.axvline(bounds["alpha_opt"], color="0.3", lw=1, ls=":")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set(xlabel=r"step size $\alpha$", ylabel="contraction factor", ylim=ylim)
    return ax
