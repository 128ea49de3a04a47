"""Figure helpers for Chapter 7 (learning contracting dynamics): phase portraits of learned fields.

:func:`field_on_grid` evaluates a learned 2-D vector field on a square grid and
:func:`portrait` draws it as a stream plot with the demonstrations and model rollouts on top; the
section *Learning LASA shapes* uses both for its figures and its widget.
"""

from __future__ import annotations

import numpy as np
import torch

from ..elcd import rollout

__all__ = ["field_on_grid", "rollouts", "portrait", "start_grid"]


def start_grid(data, num: int = 4, margin: float = 0.3) -> np.ndarray:
    """``num`` x ``num`` initial states spread over the box around the demonstrations."""
    points = np.concatenate(data.positions)
    lo, hi = points.min(0) - margin, points.max(0) + margin
    xs, ys = np.linspace(lo[0], hi[0], num), np.linspace(lo[1], hi[1], num)
    return np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)


def field_on_grid(model, data, num: int = 25, margin: float = 0.6):
    """(xs, ys, U, V): the model's velocities on a ``num`` x ``num`` grid around the data."""
    points = np.concatenate(data.positions)
    lo, hi = points.min(0) - margin, points.max(0) + margin
    xs, ys = np.linspace(lo[0], hi[0], num), np.linspace(lo[1], hi[1], num)
    grid = torch.as_tensor(
        np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32
    )
    with torch.no_grad():
        velocity = model(grid).detach().numpy().reshape(num, num, 2)
    return xs, ys, velocity[..., 0], velocity[..., 1]


def rollouts(model, data, starts, horizon: float = 4.0) -> np.ndarray:
    """Model trajectories (steps + 1, len(starts), 2) from ``starts`` over ``horizon`` times the
    demonstrations' duration, on their time grid."""
    steps = int(horizon * max(len(p) for p in data.positions))
    return rollout(model, np.asarray(starts), data.dt, steps).numpy()


def portrait(
    ax, field, data, paths=None, highlight=None, colors=("#1f77b4", "#d62728")
):
    """Stream plot of ``field`` (from :func:`field_on_grid`), demonstrations in black, ``paths``
    (from :func:`rollouts`) in a light colour, path number ``highlight`` emphasised."""
    xs, ys, u, v = field
    ax.streamplot(xs, ys, u, v, color="0.75", density=0.9, linewidth=0.7, arrowsize=0.7)
    for k, demo in enumerate(data.positions):
        ax.plot(
            *demo.T, color="black", lw=2, label="demonstrations" if k == 0 else None
        )
    if paths is not None:
        for k in range(paths.shape[1]):
            ax.plot(
                *paths[:, k].T,
                color=colors[0],
                lw=0.8,
                alpha=0.5,
                label="rollouts" if k == 0 else None,
            )
        if highlight is not None:
            ax.plot(*paths[:, highlight].T, color=colors[1], lw=2.2)
            ax.plot(*paths[0, highlight], "o", color=colors[1], label="chosen start")
    ax.plot(*data.x_star, "k*", markersize=12)
    ax.set(xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]), xlabel="$x_1$", ylabel="$x_2$")
