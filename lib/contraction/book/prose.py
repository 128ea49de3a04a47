"""Numbers in the prose: one ``glue`` that every notebook uses (appendix "How this book is built").

myst-nb's ``{glue:text}`name:.2f``` formats the *text* representation of a glued value. NumPy 2
writes a scalar as ``np.float64(0.5)``, which the book build cannot format (a warning, hence an
error under ``-W``), so :func:`glue` hands myst-nb plain Python numbers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["glue"]


def _plain(value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (np.generic, bool)):
        return value.item() if isinstance(value, np.generic) else value
    if (
        hasattr(value, "item") and getattr(value, "ndim", None) == 0
    ):  # a 0-d torch tensor
        return value.item()
    return value


def glue(name: str, value, display: bool = False):
    """Glue ``value`` under ``name`` for ``{glue:text}`` in the prose, numbers as plain Python.

    NumPy and 0-d torch scalars become ``int``/``float``; anything else (a string, a figure)
    passes through. Nothing is displayed unless ``display=True``.
    """
    from myst_nb import glue as _glue

    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    return _glue(name, _plain(value), display=display)
