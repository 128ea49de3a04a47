"""Widgets that are live in Jupyter/Colab and stay explorable in the static online book.

:func:`explorable` displays one output whose MIME bundle holds both the live ipywidgets
view and a ``text/html`` fallback: a matplotlib animation (``to_jshtml``) that sweeps
the widget's main parameter, with a slider the reader can scrub. Jupyter and Colab
render the live widget; the book's HTML builder prefers ``text/html``
(``nb_mime_priority_overrides`` in ``_config.yml``); the PDF builder takes the
``image/png`` of the default view. Core ipywidgets only, no ipympl.
"""

from __future__ import annotations

import base64
import io
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

MAX_FRAMES = 30

# matplotlib's jshtml player links Font Awesome from a CDN for its button icons; the
# book must work offline, so the link is dropped and each icon becomes a plain Unicode
# symbol.
_CDN_STYLESHEET = re.compile(r'<link rel="stylesheet"\s*href="https?://[^"]*"\s*/?>')
_ICONS = {  # glyphs present in common fonts (no media-control block characters)
    "fa fa-fast-backward": "|\u25c0",
    "fa fa-step-backward": "\u25c2",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "||",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b8",
    "fa fa-fast-forward": "\u25b6|",
    "fa fa-minus": "\u2212",
    "fa fa-plus": "+",
}

__all__ = ["explorable", "sweep_values", "MAX_FRAMES"]


def sweep_values(control, num=20) -> list:
    """Frame values for the static fallback: the options of a dropdown, or ``num``
    points of a slider."""
    options = getattr(control, "options", None)
    if options:
        values = (
            [v for _, v in options] if isinstance(options[0], tuple) else list(options)
        )
        return values[:MAX_FRAMES]
    lo, hi = control.min, control.max
    values = np.linspace(lo, hi, min(num, MAX_FRAMES))
    return [type(control.value)(v) for v in values]


def _describe(params: dict, sweep: str) -> str:
    fixed = ", ".join(
        f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
        for k, v in params.items()
        if k != sweep
    )
    return (
        f"<p><em>Static view: drag the slider below to vary <code>{sweep}</code>"
        + (f" (other controls fixed at {fixed})" if fixed else "")
        + ". Run the notebook for the live widget.</em></p>"
    )


def _png(draw, params, figsize, dpi) -> str:
    fig = plt.figure(figsize=figsize, dpi=dpi)
    draw(fig, **params)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _jshtml(draw, params, sweep, values, figsize, dpi) -> str:
    fig = plt.figure(figsize=figsize, dpi=dpi)

    def frame(value):
        fig.clf()
        draw(fig, **{**params, sweep: value})

    anim = FuncAnimation(
        fig, frame, frames=values, init_func=lambda: None, repeat=False
    )
    html = anim.to_jshtml(fps=3, default_mode="once")
    plt.close(fig)
    return _offline_player(html)


def _offline_player(html: str) -> str:
    """The jshtml player without CDN resources: no stylesheet link, Unicode button
    labels."""
    html = _CDN_STYLESHEET.sub("", html)
    for css_class, symbol in _ICONS.items():
        html = html.replace(f'<i class="{css_class}"></i>', symbol)
    return html


def explorable(
    draw,
    controls: dict,
    sweep: str,
    values=None,
    figsize=(8, 3.4),
    dpi=72,
    display_output=True,
):
    """Show ``draw`` under live controls, with a scrubbable static fallback (Section
    1.2).

    Parameters
    ----------
    draw : callable
        ``draw(fig, **params)`` draws into the empty figure ``fig``.
    controls : dict
        Parameter name -> an ipywidgets value widget (slider, dropdown, ...).
    sweep : str
        The control that the static fallback animates.
    values : sequence, optional
        The fallback's frames (at most ``MAX_FRAMES``); by default from
        :func:`sweep_values`.

    Displays the bundle and returns None; with ``display_output=False`` it returns the
    bundle instead (for tests), so that a cell ending in this call never echoes the
    bundle's repr.
    """
    import ipywidgets as widgets
    from IPython.display import display

    if not callable(draw):
        raise TypeError("draw must be callable as draw(fig, **params)")
    if not controls or sweep not in controls:
        raise ValueError(
            f"sweep must name one of the controls {list(controls)}, got {sweep!r}"
        )
    values = list(sweep_values(controls[sweep]) if values is None else values)
    if not 1 <= len(values) <= MAX_FRAMES:
        raise ValueError(
            f"values must hold 1 to {MAX_FRAMES} frames, got {len(values)}"
        )
    params = {name: c.value for name, c in controls.items()}

    def live(**kwargs):
        fig = plt.figure(figsize=figsize, dpi=dpi)
        draw(fig, **kwargs)
        plt.show()

    output = widgets.interactive_output(live, controls)
    box = widgets.VBox(
        [
            widgets.HBox(
                list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")
            ),
            output,
        ]
    )
    bundle = box._repr_mimebundle_()
    bundle["text/html"] = _describe(params, sweep) + _jshtml(
        draw, params, sweep, values, figsize, dpi
    )
    bundle["image/png"] = _png(draw, params, figsize, dpi)
    if not display_output:
        return bundle
    display(bundle, raw=True)
    return None
