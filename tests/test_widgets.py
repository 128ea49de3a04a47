import ipywidgets as w
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from contraction.book import plot, widgets  # noqa: E402


def _draw(fig, a, kind):
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, a], label=kind)


def test_bundle_has_live_view_and_static_fallbacks():
    controls = {
        "a": w.FloatSlider(value=1.0, min=0.0, max=2.0),
        "kind": w.Dropdown(options=["x", "y"], value="x"),
    }
    bundle = widgets.explorable(
        _draw, controls, "a", values=[0.0, 1.0, 2.0], display_output=False
    )
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<script" in bundle["text/html"] and "Static view" in bundle["text/html"]
    assert bundle["image/png"]


def test_sweep_values():
    assert widgets.sweep_values(w.IntSlider(value=1, min=0, max=4), num=5) == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert widgets.sweep_values(w.Dropdown(options=[("one", 1), ("two", 2)])) == [1, 2]
    assert (
        len(widgets.sweep_values(w.FloatSlider(min=0, max=1), num=100))
        == widgets.MAX_FRAMES
    )


def test_bad_input():
    controls = {"a": w.FloatSlider(value=1.0, min=0.0, max=2.0)}
    with pytest.raises(ValueError, match="sweep must name one of"):
        widgets.explorable(_draw, controls, "b", display_output=False)
    with pytest.raises(TypeError, match="draw must be callable"):
        widgets.explorable(None, controls, "a", display_output=False)
    with pytest.raises(ValueError, match="values must hold"):
        widgets.explorable(_draw, controls, "a", values=[], display_output=False)


def test_plot_helpers():
    import matplotlib.pyplot as plt
    import numpy as np

    plot.use_book_style()
    fig, (ax1, ax2) = plt.subplots(1, 2)
    plot.stream_plot(ax1, lambda x: -x, num=10)
    plot.bound_vs_measured(ax2, np.arange(3.0), np.ones(3), 2 * np.ones(3))
    with pytest.raises(ValueError, match="field must map"):
        plot.stream_plot(ax1, lambda x: x[:1], num=5)
    plt.close(fig)


def test_fallback_needs_no_cdn():
    controls = {"a": w.FloatSlider(value=1.0, min=0.0, max=2.0)}
    html = widgets.explorable(
        lambda fig, a: fig.add_subplot().plot([0, a]),
        controls,
        "a",
        values=[0.0, 2.0],
        display_output=False,
    )["text/html"]
    assert "http://" not in html and "https://" not in html
    assert 'class="fa' not in html and "\u25b6" in html
