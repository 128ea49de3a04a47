"""Figure helpers for Chapter 7 (learning contracting dynamics): phase portraits of
learned fields.

:func:`field_on_grid` evaluates a learned 2-D vector field on a square grid and
:func:`portrait` draws it as a stream plot with the demonstrations and model rollouts on
top; the section *Learning LASA shapes* uses both for its figures and its widget.
:func:`latent_certificate` and :func:`unpadded_equilibria` are the numeric checks of the
same section's comparison of ELCD and NCDS during training (``jaffe2024``, Sections
4.3.2 and 4.3.5).
"""

from __future__ import annotations

import numpy as np
import torch

from ..elcd import rollout

__all__ = ["field_on_grid", "rollouts", "portrait", "start_grid"]
__all__ += ["box_states", "latent_certificate", "unpadded_equilibria"]


def start_grid(data, num: int = 4, margin: float = 0.3) -> np.ndarray:
    """``num`` x ``num`` initial states spread over the box around the
    demonstrations."""
    points = np.concatenate(data.positions)
    lo, hi = points.min(0) - margin, points.max(0) + margin
    xs, ys = np.linspace(lo[0], hi[0], num), np.linspace(lo[1], hi[1], num)
    return np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)


def field_on_grid(model, data, num: int = 25, margin: float = 0.6):
    """(xs, ys, U, V): the model's velocities on a ``num`` x ``num`` grid around the
    data."""
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
    """Model trajectories (steps + 1, len(starts), 2) from ``starts`` over ``horizon``
    times the demonstrations' duration, on their time grid."""
    steps = int(horizon * max(len(p) for p in data.positions))
    return rollout(model, np.asarray(starts), data.dt, steps).numpy()


def portrait(
    ax, field, data, paths=None, highlight=None, colors=("#1f77b4", "#d62728")
):
    """Stream plot of ``field`` (from :func:`field_on_grid`), demonstrations in black,
    ``paths`` (from :func:`rollouts`) in a light colour, path number ``highlight``
    emphasised."""
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


def box_states(data, count: int = 64, margin: float = 0.3, seed: int = 0):
    """``count`` states drawn uniformly (seeded) from the box around the demonstrations,
    as a float32 tensor (count, dim): probes away from the data as well as near it."""
    points = np.concatenate(data.positions)
    lo, hi = points.min(0) - margin, points.max(0) + margin
    rng = np.random.default_rng(seed)
    return torch.as_tensor(rng.uniform(lo, hi, (count, len(lo))), dtype=torch.float32)


def latent_certificate(model, x):
    r"""The ELCD guarantee of a latent ELCD ``model``, measured at states ``x``.

    Returns ``(top, ratio)``: ``top`` is the largest eigenvalue of the symmetric part of
    :math:`A(z, z^*)` over the latent points :math:`z = \phi(x)` (at most
    :math:`-\alpha` for every parameter value), and ``ratio`` is the smallest
    :math:`\|g(z)\|/\|z - z^*\|`, which is at least :math:`\alpha` because
    :math:`(z - z^*)^\top g(z) \le -\alpha\|z - z^*\|^2`: no zero but :math:`z^*`.
    """
    with torch.no_grad():
        z, z_star = model.encode(x), model.latent_star()
        a = model.field.matrix(z, z_star)
        top = torch.linalg.eigvalsh((a + a.mT) / 2)[:, -1].max()
        speed = model.field(z, z_star).norm(dim=-1)
        ratio = (speed / (z - z_star).norm(dim=-1)).min()
    return float(top), float(ratio)


def unpadded_equilibria(model, count: int = 8, scale: float = 1.0, seed: int = 0):
    r"""States other than :math:`x^*` where a latent model that drops coordinates stops.

    For a :class:`~contraction.elcd.LatentDynamics` with ``latent_dim < dim`` (NCDS as
    compared in Section 4.5) the encoder keeps the first coordinates of
    :math:`\phi(x)`, so every :math:`x = \phi^{-1}(z^*, w)` has latent state
    :math:`z^*` and velocity zero, whatever :math:`w`. Returns ``count`` such states for
    seeded Gaussian :math:`w` of standard deviation ``scale``: a float32 tensor.
    """
    if model.latent_dim >= model.dim:
        raise ValueError("model must drop coordinates (latent_dim < dim)")
    generator = torch.Generator().manual_seed(seed)
    rest = scale * torch.randn(count, model.dim - model.latent_dim, generator=generator)
    with torch.no_grad():
        z_star = model.latent_star().expand(count, -1)
        return model.transform.inverse(torch.cat([z_star, rest], dim=-1))
