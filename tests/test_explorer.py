import numpy as np
import pytest

from contraction import explorer, norms, systems


@pytest.mark.parametrize("name", explorer.SYSTEMS)
@pytest.mark.parametrize("k", [0.0, 0.3, 0.9, 1.0, 1.7])
def test_certified_rate_is_a_true_bound(name, k):
    ex = explorer.example(name, k)
    assert ex.field.dim == 2 and ex.starts.shape[1] == 2 and ex.pair.shape == (2, 2)
    if ex.rate is None:
        return
    assert ex.rate >= 0
    box = np.full(2, ex.box)
    assert systems.max_lognorm_on_grid(ex.field, -box, box, num=15) <= -ex.rate + 1e-9
    t, X = systems.simulate(ex.field, ex.pair[0], 4.0)
    _, Y = systems.simulate(ex.field, ex.pair[1], 4.0)
    assert systems.measured_rate(t, systems.trajectory_distance(X, Y)) >= ex.rate - 1e-6


def test_rates_match_their_formulas():
    for k in (0.0, 0.25, 0.8):
        assert explorer.example("firing rate", k).rate == pytest.approx(1 - k)
        assert explorer.example("linear", k).rate == pytest.approx(1 - k)
    for k in (0.0, 0.5, 2.0):
        assert explorer.example("gradient flow", k).rate == pytest.approx(min(0.1 + k, 1.0))
    assert explorer.example("firing rate", 1.0).rate == 0.0
    assert explorer.example("linear", 1.5).rate is None
    assert explorer.example("firing rate", 1.2).rate is None
    assert explorer.example("Van der Pol", 0.0).rate == 0.0
    assert explorer.example("Van der Pol", 0.5).rate is None


def test_certificate_labels():
    assert explorer.certificate_label(explorer.example("linear", 0.5)) == "certified rate c = 0.50"
    assert "weakly" in explorer.certificate_label(explorer.example("Van der Pol", 0.0))
    assert explorer.certificate_label(explorer.example("Van der Pol", 1.0)) == \
        "no contraction certificate"
    with pytest.raises(TypeError, match="ex"):
        explorer.certificate_label("linear")


def test_jacobian_box_max_bounds_every_slope_in_the_box():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3):
        base, gain = rng.normal(size=(n, n)), rng.normal(size=(n, n))
        for fn in (norms.lognorm, norms.induced_norm):
            top = explorer.jacobian_box_max(fn, base, gain, 0.2, 1.5)
            samples = [fn(base + np.diag(d) @ gain) for d in rng.uniform(0.2, 1.5, size=(200, n))]
            assert max(samples) <= top + 1e-12
            assert top == pytest.approx(max(fn(base + np.diag(d) @ gain)
                                            for d in np.array(np.meshgrid(*[[0.2, 1.5]] * n))
                                            .reshape(n, -1).T))


def test_jacobian_box_max_firing_rate_certificate():
    W = np.array([[0.2, -0.6], [0.5, 0.3]])
    exact = explorer.jacobian_box_max(norms.lognorm, -np.eye(2), W)
    assert exact <= -1 + norms.induced_norm(W) + 1e-12  # corners beat the norm bound
    field = systems.firing_rate(W)
    assert systems.max_lognorm_on_grid(field, [-3, -3], [3, 3], num=21) <= exact + 1e-12


def test_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        explorer.example("pendulum", 1.0)
    with pytest.raises(ValueError, match="k"):
        explorer.example("linear", -0.1)
    with pytest.raises(TypeError, match="k"):
        explorer.example("linear", "1")
    with pytest.raises(TypeError, match="fn"):
        explorer.jacobian_box_max(3, np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="gain"):
        explorer.jacobian_box_max(norms.lognorm, np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="d_min"):
        explorer.jacobian_box_max(norms.lognorm, np.eye(2), np.eye(2), 1.0, 0.0)
    with pytest.raises(ValueError, match="base"):
        explorer.jacobian_box_max(norms.lognorm, np.eye(13), np.eye(13))
