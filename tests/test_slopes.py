import numpy as np
import pytest

from contraction import norms, slopes, systems


def test_corner_max_bounds_every_slope_in_the_box():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3):
        base, gain = rng.normal(size=(n, n)), rng.normal(size=(n, n))
        for fn in (norms.lognorm, norms.induced_norm):
            top = slopes.corner_max(fn, base, gain, 0.2, 1.5)
            samples = [fn(base + np.diag(d) @ gain) for d in rng.uniform(0.2, 1.5, size=(200, n))]
            assert max(samples) <= top + 1e-12
            assert top == pytest.approx(max(fn(base + np.diag(d) @ gain)
                                            for d in np.array(np.meshgrid(*[[0.2, 1.5]] * n))
                                            .reshape(n, -1).T))


def test_corner_max_firing_rate_certificate():
    W = np.array([[0.2, -0.6], [0.5, 0.3]])
    exact = slopes.corner_max(norms.lognorm, -np.eye(2), W)
    assert exact <= -1 + norms.induced_norm(W) + 1e-12  # corners beat the norm bound
    field = systems.firing_rate(W)
    assert systems.max_lognorm_on_grid(field, [-3, -3], [3, 3], num=21) <= exact + 1e-12


def test_rectangular_gain_and_bad_arguments():
    U = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 1.0]])
    top = slopes.corner_max(lambda J: np.linalg.norm(J, 2), np.zeros_like(U), U)
    assert top == pytest.approx(np.linalg.norm(U, 2))
    with pytest.raises(TypeError, match="fn"):
        slopes.corner_max(3, np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="gain"):
        slopes.corner_max(norms.lognorm, np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="d_min"):
        slopes.corner_max(norms.lognorm, np.eye(2), np.eye(2), 1.0, 0.0)
    with pytest.raises(ValueError, match="base"):
        slopes.corner_max(norms.lognorm, np.eye(15), np.eye(15))
