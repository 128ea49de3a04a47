r"""Unit balls of (weighted) norms, their images under a matrix, and brute-force induced
norms.

Section 2.1 of the book ("Norms, induced norms and log norms") draws the unit ball
:math:`B = \{x : \|x\| \le 1\}` of the norms of :mod:`contraction.norms` and its image
:math:`AB` under a matrix, and checks the closed forms of the induced norm

.. math:: \|A\| = \max_{\|x\| = 1} \|Ax\| = \min\{r \ge 0 : AB \subseteq rB\}

against a brute-force maximisation over many points of the unit sphere.

Weights follow :mod:`contraction.norms`: ``weight=None`` is the plain ``p``-norm, a
positive vector ``eta`` gives :math:`\|\operatorname{diag}(\eta)x\|_p`, and (``p=2``
only) an invertible matrix ``R`` gives :math:`\|Rx\|_2`. With :math:`T` the weight
matrix, the weighted unit ball is :math:`T^{-1}` applied to the plain one, so its
corners are exactly the images of the plain corners.
"""

from __future__ import annotations

import numpy as np

from .. import norms
from .._checks import as_positive_int, as_real_array, as_square_matrix, check_p
from .plot import BOUND_STYLE

__all__ = [
    "unit_circle",
    "ball_vertices",
    "sphere_samples",
    "max_stretch",
    "plot_ball",
    "plot_stretch",
]


def _weight_matrix(weight, n: int, p: float) -> np.ndarray:
    """The matrix T of the norm ||T x||_p: the identity for the plain norm (validated by
    norms)."""
    T = norms.weight_matrix(weight, n, p)
    return np.eye(n) if T is None else T


def _plain_circle(p: float, num: int) -> np.ndarray:
    """num points (closed curve) on the plain unit sphere of R^2; polygons keep their
    corners."""
    if p == 2:
        theta = np.linspace(0.0, 2 * np.pi, num)
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    if p == 1:
        corners = np.array(
            [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 0.0]]
        )
    else:
        corners = np.array(
            [[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]]
        )
    # spread the points over the 4 edges; every corner is one of the points
    per_edge = max((num - 1) // 4, 1)
    s = np.linspace(0.0, 1.0, per_edge, endpoint=False)[:, None]
    edges = [(1 - s) * corners[k] + s * corners[k + 1] for k in range(4)]
    return np.vstack(edges + [corners[:1]])


def unit_circle(p=2, weight=None, num=401) -> np.ndarray:
    r"""Points on the boundary of the unit ball of a (weighted) norm on
    :math:`\mathbb{R}^2`.

    Parameters
    ----------
    p : {1, 2, np.inf}
        The norm: diamond (1), disk (2) or square (inf) before weighting.
    weight : None, array of shape (2,), or array of shape (2, 2)
        A positive vector ``eta`` or (``p=2``) an invertible matrix ``R``; see the
        module docstring.
    num : int
        About how many points to return (at least 5).

    Returns
    -------
    ndarray of shape (m, 2)
        A closed curve (the last point equals the first), ordered counterclockwise,
        every point of norm one. For ``p`` = 1 or inf the corners of the polygon are
        among the points.
    """
    p = check_p(p)
    num = as_positive_int(num, "num")
    if num < 5:
        raise ValueError(f"num must be at least 5, got {num}")
    T = _weight_matrix(weight, 2, p)
    plain = _plain_circle(p, num)
    if (
        np.linalg.det(T) < 0
    ):  # T^{-1} reverses orientation: walk the plain curve backwards
        plain = plain[::-1]
    return np.linalg.solve(T, plain.T).T


def ball_vertices(n, p, weight=None) -> np.ndarray:
    r"""The vertices of the unit ball of a (weighted) :math:`\ell_1` or
    :math:`\ell_\infty` norm.

    The plain :math:`\ell_1` ball has the :math:`2n` vertices :math:`\pm e_j`, the plain
    :math:`\ell_\infty` ball the :math:`2^n` sign vectors; a diagonal weight maps them
    by :math:`\operatorname{diag}(\eta)^{-1}`. A convex function such as :math:`x
    \mapsto \|Ax\|` attains its maximum over the ball at a vertex, so these points give
    the induced norm exactly.

    Returns an array of shape (number of vertices, n). ``p=inf`` is limited to ``n <=
    16``.
    """
    n = as_positive_int(n, "n")
    p = check_p(p)
    if p == 2:
        raise ValueError("p must be 1 or np.inf: the l2 ball has no vertices")
    if p == np.inf and n > 16:
        raise ValueError(f"n must be at most 16 for p=inf (2^n vertices), got {n}")
    T = _weight_matrix(weight, n, p)
    if p == 1:
        plain = np.vstack([np.eye(n), -np.eye(n)])
    else:
        grid = np.indices((2,) * n).reshape(n, -1).T
        plain = 1.0 - 2.0 * grid
    return plain / np.diag(T)


def sphere_samples(n, num, p=2, weight=None, rng=None) -> np.ndarray:
    r"""``num`` random points of norm one in :math:`\mathbb{R}^n` (Gaussian directions,
    rescaled).

    For ``p=2`` without weight they are uniform on the sphere; otherwise they are spread
    over it but not uniformly. Rows are the points. ``rng`` is a NumPy generator
    (default: seed 0).
    """
    n = as_positive_int(n, "n")
    num = as_positive_int(num, "num")
    p = check_p(p)
    T = _weight_matrix(weight, n, p)
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    y = rng.normal(size=(num, n))
    y /= np.linalg.norm(y, ord=p, axis=1, keepdims=True)
    return np.linalg.solve(T, y.T).T


def max_stretch(A, points, p=2, weight=None) -> float:
    r"""Brute-force induced norm: :math:`\max_k \|Ax_k\| / \|x_k\|` over the rows
    ``x_k`` of ``points``.

    It never exceeds the induced norm :math:`\|A\|`, and equals it when the maximiser is
    among the points (a vertex for ``p`` = 1 or inf, see :func:`ball_vertices`) or
    approaches it as the points fill the sphere (:func:`unit_circle`,
    :func:`sphere_samples`).
    """
    p = check_p(p)
    A = as_square_matrix(A, "A")
    X = as_real_array(points, "points", ndim=2)
    n = A.shape[0]
    if X.shape[1] != n:
        raise ValueError(
            f"points must have {n} columns (one point per row), got {X.shape[1]}"
        )
    T = _weight_matrix(weight, n, p)
    num = np.linalg.norm(X @ A.T @ T.T, ord=p, axis=1)
    den = np.linalg.norm(X @ T.T, ord=p, axis=1)
    if np.any(den == 0):
        raise ValueError("points must not contain the zero vector")
    return float(np.max(num / den))


def plot_ball(ax, p=2, weight=None, A=None, scale=1.0, num=401, fill=False, **kwargs):
    r"""Draw the boundary of :math:`r\,A B`: the unit ball ``B``, mapped by ``A``,
    scaled by ``r``.

    ``A=None`` draws the ball itself. ``fill=True`` shades the region (``alpha`` 0.25
    unless given). Other keyword arguments go to ``ax.plot`` / ``ax.fill``. Returns the
    line.
    """
    pts = unit_circle(p, weight, num)
    if A is not None:
        A = as_square_matrix(A, "A")
        if A.shape != (2, 2):
            raise ValueError(
                f"A must be 2 x 2 to draw in the plane, got shape {A.shape}"
            )
        pts = pts @ A.T
    scale = float(scale)
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a non-negative finite number, got {scale}")
    pts = scale * pts
    if fill:
        kwargs.setdefault("alpha", 0.25)
        return ax.fill(pts[:, 0], pts[:, 1], **kwargs)[0]
    return ax.plot(pts[:, 0], pts[:, 1], **kwargs)[0]


def plot_stretch(ax, A, p=2, weight=None, num=401, color=None):
    r"""The induced-norm picture of Section 2.1 for a 2 x 2 matrix ``A``; returns
    :math:`\|A\|`.

    Draws the unit ball ``B`` (thin grey), its image ``AB`` (shaded, in ``color``) and
    the smallest scaled ball :math:`\|A\| B` that contains the image (dashed black). The
    axes' aspect ratio is set to equal; limits and titles are left to the caller.
    """
    r = norms.induced_norm(A, p, weight)
    plot_ball(ax, p, weight, num=num, color="0.4", lw=1)
    plot_ball(ax, p, weight, A=A, num=num, fill=True, color=color)
    plot_ball(ax, p, weight, scale=r, num=num, **BOUND_STYLE)
    ax.set_aspect("equal")
    return r
