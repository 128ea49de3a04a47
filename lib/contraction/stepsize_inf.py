r"""Forward and averaged steps in the :math:`\ell_\infty` norm, computed exactly.

Section 2.3 of the book ("Forward steps in non-Euclidean norms") contrasts the step-size bound
that holds in every norm (:func:`contraction.fixedpoint.forward_step_bounds` with
``norm="non-euclidean"``) with what the :math:`\ell_\infty` norm gives directly. Two facts make
the :math:`\ell_\infty` case exact and cheap:

* the identity :math:`\|I + \alpha A\|_\infty = 1 + \alpha\mu_\infty(A)`, valid as long as every
  diagonal entry :math:`1 + \alpha a_{ii}` is non-negative (:func:`linf_identity_threshold` gives
  the largest such step);
* for an entrywise activation with slopes in :math:`[d_{\min}, d_{\max}]`, the worst Jacobian of
  the averaged iteration :math:`x \mapsto (1-\alpha)x + \alpha\Phi(Ax + b)` is found row by row,
  because row :math:`i` of :math:`(1-\alpha)I + \alpha\operatorname{diag}(d)A` depends on
  :math:`d_i` only, convexly (:func:`averaged_step_norm_inf`).

References: S. Jafarpour, A. Davydov, A. V. Proskurnikov, F. Bullo, "Robust implicit networks via
non-Euclidean contractions", NeurIPS (2021); F. Bullo, *Contraction Theory for Dynamical Systems*,
KDP (2023).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_positive_scalar, as_square_matrix

__all__ = ["linf_identity_threshold", "averaged_step_norm_inf"]


def linf_identity_threshold(A) -> float:
    r"""Largest step :math:`\bar\alpha` with :math:`\|I + \alpha A\|_\infty = 1 + \alpha\mu_\infty(A)` on :math:`[0, \bar\alpha]`.

    Row :math:`i` of :math:`I + \alpha A` has absolute sum
    :math:`|1 + \alpha a_{ii}| + \alpha\sum_{j \ne i}|a_{ij}|`, which equals
    :math:`1 + \alpha(a_{ii} + \sum_{j\ne i}|a_{ij}|)` whenever :math:`1 + \alpha a_{ii} \ge 0`.
    So the identity holds for :math:`0 \le \alpha \le 1/\max_i(-a_{ii})` (Section 2.3). Rows with
    :math:`a_{ii} \ge 0` impose no condition.

    Parameters
    ----------
    A : array_like, shape (n, n)
        A real square matrix.

    Returns
    -------
    float
        :math:`1/\max_i(-a_{ii})` if some diagonal entry is negative, ``inf`` otherwise. The
        identity may continue to hold somewhat beyond this value (when the row that turns
        negative first does not attain the maximum), but it is guaranteed only up to it.
    """
    A = as_square_matrix(A, "A")
    worst = float(np.max(-np.diag(A)))
    return 1.0 / worst if worst > 0 else np.inf


def averaged_step_norm_inf(A, alpha, d_min=0.0, d_max=1.0):
    r"""Exact worst-case :math:`\ell_\infty` Lipschitz constant of the averaged step of an implicit layer.

    Returns

    .. math:: \max_{d \in [d_{\min}, d_{\max}]^n}
              \|(1-\alpha)I_n + \alpha\operatorname{diag}(d)A\|_\infty ,

    an upper bound on :math:`\operatorname{Lip}_\infty` of
    :math:`x \mapsto (1-\alpha)x + \alpha\Phi(Ax + Bu + b)` for every entrywise :math:`\Phi`
    whose slopes lie in :math:`[d_{\min}, d_{\max}]` (difference quotients of :math:`\Phi_i`
    lie there, so :math:`T(x) - T(y)` is such a matrix times :math:`x - y`), and equal to it when
    every slope pattern occurs. Row :math:`i` of the matrix depends only on :math:`d_i`, and its
    absolute sum :math:`|1 - \alpha + \alpha d_i a_{ii}| + \alpha d_i\sum_{j\ne i}|a_{ij}|` is
    convex in :math:`d_i`, so the maximum is taken at :math:`d_i \in \{d_{\min}, d_{\max}\}` row
    by row: :math:`2n` evaluations instead of :math:`2^n` corners. Section 2.3; Chapter 4 uses it
    for trained implicit networks.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Synaptic matrix of the layer.
    alpha : float or array_like
        Non-negative step size(s); ``alpha = 1`` is the Picard iteration.
    d_min, d_max : float
        Slope bounds of the activation, ``0 <= d_min <= d_max`` (ReLU and tanh: 0 and 1).

    Returns
    -------
    float or ndarray
        One value per step size (same shape as ``alpha``).
    """
    A = as_square_matrix(A, "A")
    d_min = as_positive_scalar(d_min, "d_min", allow_zero=True)
    d_max = as_positive_scalar(d_max, "d_max", allow_zero=True)
    if d_min > d_max:
        raise ValueError(f"d_min must not exceed d_max, got d_min={d_min} > d_max={d_max}")
    a = np.asarray(alpha, dtype=float)
    if a.dtype == object or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alpha must be a finite non-negative number or array of them")
    diag = np.diag(A)
    off = np.abs(A).sum(axis=1) - np.abs(diag)
    al = a.reshape(-1, 1)  # one row per step size, one column per neuron
    rows = [np.abs(1 - al + al * d * diag) + al * d * off for d in (d_min, d_max)]
    out = np.maximum(*rows).max(axis=1).reshape(a.shape)
    return float(out) if out.ndim == 0 else out
