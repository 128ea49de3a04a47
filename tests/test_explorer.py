import numpy as np
import pytest

from contraction import systems
from contraction.book import explorer


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
        assert explorer.example("gradient flow", k).rate == pytest.approx(
            min(0.1 + k, 1.0)
        )
    assert explorer.example("firing rate", 1.0).rate == 0.0
    assert explorer.example("linear", 1.5).rate is None
    assert explorer.example("firing rate", 1.2).rate is None
    assert explorer.example("Van der Pol", 0.0).rate == 0.0
    assert explorer.example("Van der Pol", 0.5).rate is None


def test_certificate_labels():
    assert (
        explorer.certificate_label(explorer.example("linear", 0.5))
        == "certified rate c = 0.50"
    )
    assert "weakly" in explorer.certificate_label(explorer.example("Van der Pol", 0.0))
    assert (
        explorer.certificate_label(explorer.example("Van der Pol", 1.0))
        == "no contraction certificate"
    )
    with pytest.raises(TypeError, match="ex"):
        explorer.certificate_label("linear")


def test_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        explorer.example("pendulum", 1.0)
    with pytest.raises(ValueError, match="k"):
        explorer.example("linear", -0.1)
    with pytest.raises(TypeError, match="k"):
        explorer.example("linear", "1")
