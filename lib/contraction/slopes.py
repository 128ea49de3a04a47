r"""Jacobians of layers with slope-restricted activations: the corner argument.

A map built from an entrywise activation :math:`\phi` with slopes in :math:`[d_{\min}, d_{\max}]`
(``tanh``: :math:`(0, 1]`), such as the firing-rate field :math:`-x + \tanh(Wx + u)` or the layer
:math:`\tanh(Wx + Uu)`, has Jacobians of the form :math:`B + \operatorname{diag}(d)\,K` with
``d`` in the box :math:`[d_{\min}, d_{\max}]^n`. Norms and log norms are convex functions of a
matrix, and the Jacobian is affine in ``d``, so their largest value over the box sits at one of
its :math:`2^n` corners. :func:`corner_max` visits them; the result is a proof (an upper bound
on :math:`\sup_x` of the quantity), and the exact supremum when every slope pattern is
approached (for instance ``tanh`` with an invertible ``W``). Sections 1.1, 1.2 and 1.4 of the book
use it; Chapter 4 sharpens it for :math:`\ell_\infty` to two corners.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._checks import as_real_array

__all__ = ["corner_max", "MAX_BOX_DIM"]

MAX_BOX_DIM = 14  # corner_max visits 2^n corners


def check_slopes(d_min, d_max) -> tuple[float, float]:
    """Validate a slope interval ``d_min <= d_max`` (both finite)."""
    lo, hi = (float(v) for v in as_real_array([d_min, d_max], "d_min, d_max", ndim=1))
    if lo > hi:
        raise ValueError(f"d_min must not exceed d_max, got {lo} > {hi}")
    return lo, hi


def corner_max(fn, base, gain, d_min=0.0, d_max=1.0) -> float:
    r"""Largest value of ``fn(base + diag(d) @ gain)`` over the corners of the slope box.

    Parameters
    ----------
    fn : callable
        A convex function of a matrix, e.g. ``norms.lognorm`` or ``norms.induced_norm`` (with a
        ``functools.partial`` or lambda to fix ``p``).
    base, gain : array_like, shape (n, m)
        The Jacobian is ``base + diag(d) @ gain``: for instance ``-I`` and ``W`` for the
        firing-rate field ``-x + tanh(W x + u)``, ``0`` and ``W`` for the layer ``tanh(W x + u)``,
        ``(1 - alpha) I`` and ``alpha W`` for its averaged map, ``M`` and ``beta I`` for
        ``M x + beta tanh(x)``.
    d_min, d_max : float
        The slopes of the activation lie in ``[d_min, d_max]``.

    Returns
    -------
    float
        The maximum over the ``2^n`` corners (``n <= MAX_BOX_DIM``), which is the maximum over the
        whole box because ``d -> fn(base + diag(d) gain)`` is convex.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    base = as_real_array(base, "base", ndim=2)
    gain = as_real_array(gain, "gain", ndim=2)
    if gain.shape != base.shape:
        raise ValueError(f"gain must have shape {base.shape}, got {gain.shape}")
    n = base.shape[0]
    if n > MAX_BOX_DIM:
        raise ValueError(f"base must have at most {MAX_BOX_DIM} rows (2^n corners), got {n}")
    lo, hi = check_slopes(d_min, d_max)
    return max(float(fn(base + np.asarray(d)[:, None] * gain))
               for d in itertools.product((lo, hi), repeat=n))
