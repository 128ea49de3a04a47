r"""Traffic on a network of road cells: Daganzo's cell transmission model
(Section 3.2).

With non-FIFO junctions each turning movement is limited only by its own demand and
supply, so the Jacobian of the model is Metzler with column sums at most zero (cars
enter from outside, move between cells or leave): the model is weakly contracting in
:math:`\ell_1`, and the total density difference between two traffic states never
grows. It is one of the weakly contracting network models of Section 3.2, beside those
of :mod:`contraction.weak_networks`.

References: C. F. Daganzo, "The cell transmission model: a dynamic representation of
highway traffic consistent with the hydrodynamic theory", Transportation Research B
28(4), 1994 (``daganzo1994``); F. Bullo, *Contraction Theory for Dynamical Systems*,
KDP, 2023 (``bullo2023``).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_square_matrix, as_vector
from .systems import VectorField

__all__ = ["ctm_traffic"]


def ctm_traffic(
    routing,
    arrivals,
    capacity,
    jam_density,
    free_speed=1.0,
    congestion_speed=1.0,
    priority=None,
    arrival_priority=None,
) -> VectorField:
    r"""Daganzo's cell transmission model on a network of cells, non-FIFO junctions
    (Section 3.2).

    Cell :math:`i` holds density :math:`\rho_i \in [0, \bar\rho_i]`. It *demands* to
    send :math:`D_i(\rho_i) = \min(v_i\rho_i, c_i)` and can *supply* room for
    :math:`S_i(\rho_i) = \min(c_i, w_i(\bar\rho_i - \rho_i))` (capacity :math:`c_i`,
    free speed :math:`v_i`, congestion wave speed :math:`w_i`, jam density
    :math:`\bar\rho_i`). With turning ratios :math:`R_{ij}` (row sums :math:`\le 1`, the
    rest leaves the network) and supply shares :math:`P_{ij}`, the flows are

    .. math::
        f_{ij} = \min(R_{ij}D_i, P_{ij}S_j), \quad f_{0j} = \min(\lambda_j, p_{0j}S_j),
        \quad f_{i0} = (1 - \textstyle\sum_j R_{ij})D_i,

    and :math:`\dot\rho_j = f_{0j} + \sum_i f_{ij} - \sum_k f_{jk} - f_{j0}`. Each
    turning movement is limited only by its own demand and supply (non-FIFO), so the
    Jacobian (taken on the active branch of each ``min``; ties use the first argument)
    is Metzler and its column sums are :math:`\partial f_{0j}/\partial\rho_j - \partial
    f_{j0}/\partial\rho_j \le 0`: the model is weakly contracting in :math:`\ell_1`.

    Parameters
    ----------
    routing : (n, n) array
        Turning ratios :math:`R_{ij} \ge 0`, zero diagonal, row sums at most 1.
    arrivals : (n,) array
        External demands :math:`\lambda_j \ge 0`.
    capacity, jam_density, free_speed, congestion_speed : scalar or (n,) array
        Positive cell parameters :math:`c, \bar\rho, v, w`.
    priority : (n, n) array, optional
        Supply shares :math:`P_{ij} \ge 0`, zero where :math:`R_{ij} = 0`. Default:
        proportional to :math:`R_{ij}c_i` among the upstream cells and the external
        demand of cell ``j``.
    arrival_priority : (n,) array, optional
        Shares :math:`p_{0j}` for external demand; default as above. For each ``j`` the
        shares :math:`p_{0j} + \sum_i P_{ij}` must not exceed 1.
    """
    R = as_square_matrix(routing, "routing")
    n = R.shape[0]
    if np.any(R < 0) or np.any(np.diag(R) != 0):
        raise ValueError("routing must be non-negative with a zero diagonal")
    if np.any(R.sum(axis=1) > 1 + 1e-12):
        raise ValueError("routing rows must sum to at most 1")
    lam = as_vector(arrivals, "arrivals", n, nonnegative=True)
    cap = as_vector(capacity, "capacity", n, positive=True)
    jam = as_vector(jam_density, "jam_density", n, positive=True)
    v = as_vector(free_speed, "free_speed", n, positive=True)
    w = as_vector(congestion_speed, "congestion_speed", n, positive=True)
    if (priority is None) != (arrival_priority is None):
        raise ValueError("give both priority and arrival_priority, or neither")
    if priority is None:
        weights = np.vstack([R * cap[:, None], lam[None, :]])
        totals = weights.sum(axis=0)
        shares = np.divide(
            weights, totals, out=np.zeros_like(weights), where=totals > 0
        )
        P, p0 = shares[:n], shares[n]
    else:
        P = as_square_matrix(priority, "priority")
        if P.shape != (n, n):
            raise ValueError(f"priority must have shape ({n}, {n}), got {P.shape}")
        p0 = as_vector(arrival_priority, "arrival_priority", n, nonnegative=True)
        if np.any(P < 0) or np.any((R == 0) & (P != 0)):
            raise ValueError(
                "priority must be non-negative and zero where routing is zero"
            )
        if np.any(P.sum(axis=0) + p0 > 1 + 1e-12):
            raise ValueError(
                "priority columns plus arrival_priority must sum to at most 1"
            )
    exit_share = 1.0 - R.sum(axis=1)

    def demand_supply(rho):
        D = np.minimum(v * rho, cap)
        S = np.minimum(cap, w * (jam - rho))
        return D, S

    def f(rho):
        D, S = demand_supply(rho)
        F = np.minimum(R * D[:, None], P * S[None, :])
        inflow = np.minimum(lam, p0 * S)
        return inflow + F.sum(axis=0) - F.sum(axis=1) - exit_share * D

    def jacobian(rho):
        D, S = demand_supply(rho)
        dD = np.where(v * rho <= cap, v, 0.0)
        dS = np.where(w * (jam - rho) < cap, -w, 0.0)
        demand_side = (
            R * D[:, None] <= P * S[None, :]
        )  # flow i -> j limited by demand of i
        Fi = np.where(demand_side, R * dD[:, None], 0.0)  # d f_ij / d rho_i
        Fj = np.where(demand_side, 0.0, P * dS[None, :])  # d f_ij / d rho_j
        d_in = np.where(lam <= p0 * S, 0.0, p0 * dS)  # external inflow, supply-limited?
        # rho_j' gains f_ij (depends on rho_i and rho_j) and loses f_jk (on rho_j and
        # rho_k)
        return (
            Fi.T
            - Fj
            + np.diag(Fj.sum(axis=0) - Fi.sum(axis=1) + d_in - exit_share * dD)
        )

    return VectorField(
        "cell transmission model",
        f,
        jacobian,
        n,
        {
            "routing": R,
            "arrivals": lam,
            "capacity": cap,
            "jam_density": jam,
            "free_speed": v,
            "congestion_speed": w,
            "priority": P,
            "arrival_priority": p0,
        },
    )
