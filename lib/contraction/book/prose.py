"""Numbers in the prose: the one ``glue`` every notebook uses (appendix "How this book
is built").

A notebook computes a number and glues it; the text shows it with
``{glue:text}`name:.2f```, so prose and code cannot drift apart. This is myst-nb's glue
protocol (the value's display data under the ``application/papermill.record/`` prefix,
named in the output's ``scrapbook`` metadata), written here so that a notebook needs
only IPython: in Colab, where myst-nb is not installed, the cell still runs and stores
the same output. NumPy 2 writes a scalar as ``np.float64(0.5)``, which the book build
cannot format, so :func:`glue` stores plain Python numbers, and it rounds floats to ten
significant digits: the prose shows a few, and the last bits of a float64 result differ
between CPUs (the order of a sum in BLAS), which strict nbval would otherwise report.
"""

from __future__ import annotations

import numpy as np

__all__ = ["glue", "GLUE_PREFIX", "SIGNIFICANT_DIGITS"]

GLUE_PREFIX = "application/papermill.record/"  # myst-nb's prefix: stored, not shown
SIGNIFICANT_DIGITS = 10


def _plain(value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    elif hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a 0-d tensor
        value = value.item()
    if isinstance(value, float):
        value = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return value


def glue(name: str, value, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`` in the prose, numbers as plain
    Python.

    NumPy and 0-d torch scalars become ``int``/``float``, floats keep
    :data:`SIGNIFICANT_DIGITS` significant digits; anything else (a string, a figure)
    passes through. Nothing is shown unless ``display=True``.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as show

    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    bundle, metadata = format_display_data(_plain(value))
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    show(
        {prefix + key: data for key, data in bundle.items()},
        raw=True,
        metadata=metadata,
    )
