"""The figure helpers of contraction.book.plot draw what their docstrings promise."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from contraction import fixedpoint  # noqa: E402
from contraction.book import plot  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_residual_curves_one_log_curve_per_run(ax):
    G = lambda x: 0.5 * x + 1.0
    runs = {"a": fixedpoint.solve(G, [0.0]), "b": fixedpoint.solve(G, [4.0])}
    plot.residual_curves(ax, runs, "o-", title="demo")
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert np.allclose(ax.lines[1].get_ydata(), runs["b"].residuals)
    assert ax.get_yscale() == "log" and ax.get_title() == "demo"


def test_distance_ratios_normalises_and_draws_the_bound(ax):
    t = np.linspace(0, 1, 5)
    d = 3.0 * np.exp(-2 * t)
    plot.distance_ratios(ax, t, {"pair": d}, rate=1.0, bound_label="bound")
    curve, bound = ax.lines
    assert curve.get_label() == "pair" and np.allclose(curve.get_ydata(), d / 3)
    assert bound.get_label() == "bound" and np.allclose(bound.get_ydata(), np.exp(-t))
    plot.distance_ratios(ax, t, [d, d], label="first only")
    assert [line.get_label() for line in ax.lines[2:]][0] == "first only"
    assert ax.lines[3].get_label().startswith("_")  # unlabelled
    with pytest.raises(ValueError):
        plot.distance_ratios(ax, t, [np.ones((2, 2))])


def test_step_window_shades_the_certified_steps(ax):
    plot.step_window(ax, {"alpha_max": 0.4, "alpha_opt": 0.2}, ylim=(0, 2))
    assert ax.get_ylim() == (0, 2) and ax.get_xlabel() == r"step size $\alpha$"
    assert len(ax.patches) == 1 and len(ax.lines) == 2
