"""Daganzo's cell transmission model (contraction.traffic)."""

import numpy as np
import pytest

from contraction import estimates, norms, systems, traffic


def _merge_diverge():
    R = np.zeros((5, 5))
    R[0, 2] = R[1, 2] = 1.0
    R[2, 3], R[3, 4] = 0.7, 1.0
    return traffic.ctm_traffic(
        R,
        [0.3, 0.2, 0, 0, 0],
        capacity=[1.0, 1.0, 0.6, 0.5, 0.5],
        jam_density=3.0,
        free_speed=[2, 2, 0.5, 1, 1],
        congestion_speed=0.8,
    )


def test_ctm_is_monotone_and_weakly_contracting_in_l1():
    T = _merge_diverge()
    rng = np.random.default_rng(3)
    pts = rng.uniform(0.05, 2.9, (30, 5))
    for x in pts[:10]:
        np.testing.assert_allclose(
            T.jacobian(x), systems.numerical_jacobian(T, x), atol=1e-5
        )
    for x in pts:
        J = T.jacobian(x)
        assert norms.is_metzler(J)
        assert norms.lognorm(J, 1) <= 1e-12
    X, Y = rng.uniform(0, 3, (400, 5)), rng.uniform(0, 3, (400, 5))
    assert estimates.oslip_quotients(T, X, Y, 1).max() <= 1e-12
    assert estimates.oslip_quotients(T, X, Y, 2).max() > 0


def test_ctm_mass_balance_and_invariant_box():
    T = _merge_diverge()
    rho = np.array([0.5, 2.0, 2.5, 0.1, 0.4])
    lam = T.params["arrivals"]
    S = np.minimum(T.params["capacity"], T.params["congestion_speed"] * (3.0 - rho))
    D = np.minimum(T.params["free_speed"] * rho, T.params["capacity"])
    exit_flow = (1 - T.params["routing"].sum(axis=1)) * D
    entering = np.minimum(lam, T.params["arrival_priority"] * S)
    assert T(rho).sum() == pytest.approx(entering.sum() - exit_flow.sum())
    _, X = systems.simulate(T, [2.9, 2.9, 2.9, 0.0, 0.0], 20.0, num=41, rtol=1e-7)
    assert X.min() >= -1e-8 and X.max() <= 3.0 + 1e-8


def test_ctm_bad_input():
    R = np.zeros((2, 2))
    R[0, 1] = 1.0
    with pytest.raises(ValueError, match="routing rows"):
        traffic.ctm_traffic(2 * R, [1, 0], 1, 2)
    with pytest.raises(ValueError, match="capacity must have strictly positive"):
        traffic.ctm_traffic(R, [1, 0], [1, 0], 2)
    with pytest.raises(ValueError, match="give both priority"):
        traffic.ctm_traffic(R, [1, 0], 1, 2, priority=R)
    with pytest.raises(ValueError, match="zero where routing is zero"):
        traffic.ctm_traffic(R, [1, 0], 1, 2, priority=R.T, arrival_priority=[1, 0])
    with pytest.raises(ValueError, match="sum to at most 1"):
        traffic.ctm_traffic(R, [1, 0], 1, 2, priority=R, arrival_priority=[1, 0.5])
