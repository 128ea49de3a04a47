"""Tables for the notebooks: HTML in the book, aligned text in a terminal, no pandas
needed.

``table(rows, columns=..., floatfmt=...)`` replaces hand-formatted ``print`` tables. The
object it returns has an ``_repr_html_`` (what Jupyter and the built book show) and a
``__repr__`` with aligned columns (what a terminal, the PDF fallback and the notebook
tests compare).
"""

from __future__ import annotations

import html
import numbers

__all__ = ["Table", "table"]


def _format(value, fmt: str) -> str:
    """One cell: floats with ``fmt``, everything else with ``str`` (None is an empty
    cell)."""
    if value is None:
        return ""
    if isinstance(value, numbers.Real) and not isinstance(
        value, (bool, numbers.Integral)
    ):
        return format(float(value), fmt)
    return str(value)


def _is_sequence(value) -> bool:
    """True for lists, tuples, arrays and other iterables of cells, False for one
    cell."""
    return hasattr(value, "__iter__") and not isinstance(value, (str, bytes))


class Table:
    """A formatted table; build it with :func:`table`."""

    def __init__(
        self, header: list[str], cells: list[list[str]], title: str | None = None
    ):
        self.header, self.cells, self.title = header, cells, title

    def __repr__(self) -> str:
        widths = [
            max(len(c) for c in column) for column in zip(self.header, *self.cells)
        ]
        lines = [self.title] if self.title else []
        lines.append(
            "  ".join(h.rjust(w) for h, w in zip(self.header, widths)).rstrip()
        )
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip()
            for row in self.cells
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def row(cells, tag):
            return (
                "<tr>"
                + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells)
                + "</tr>"
            )

        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        body = "".join(row(r, "td") for r in self.cells)
        return (
            f'<table class="contraction-table">{caption}<thead>{row(self.header, "th")}'
            f"</thead><tbody>{body}</tbody></table>"
        )


def table(rows, columns=None, floatfmt=".4g", title=None) -> Table:
    """A table of ``rows`` (sequences of equal length) under the headers ``columns``.

    Parameters
    ----------
    rows : iterable of sequences, or dict
        One sequence of cells per row: numbers, strings, or None for an empty cell. A
        dict maps each row's label (its first cell) to the rest of the row (a sequence,
        or one value), so that ``table({"W1": (0.9, 1.2)}, ["layer", "Lip", "osLip"])``
        has the row ``W1 0.9 1.2`` and ``table({1: 0.5}, ["p", "gap"])`` the row ``1
        0.5``.
    columns : sequence of str, optional
        The headers (default: the column numbers).
    floatfmt : str or sequence of str
        Format spec for floating-point cells (``".3f"``, ``".2e"``, ...), one for all
        columns or one per column. Integers, booleans and strings print as they are.
    title : str, optional
        A caption above the table.
    """
    if isinstance(rows, dict):
        rows = [
            [label, *rest] if _is_sequence(rest) else [label, rest]
            for label, rest in rows.items()
        ]
    rows = [list(r) for r in rows]
    if not rows:
        raise ValueError("rows must contain at least one row")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("rows must all have the same length")
    header = [str(c) for c in (range(width) if columns is None else columns)]
    if len(header) != width:
        raise ValueError(
            f"columns must have {width} names (one per cell of a row), got "
            f"{len(header)}"
        )
    fmts = [floatfmt] * width if isinstance(floatfmt, str) else list(floatfmt)
    if len(fmts) != width:
        raise ValueError(
            f"floatfmt must be one format or {width} of them, got {len(fmts)}"
        )
    cells = [[_format(v, f) for v, f in zip(r, fmts)] for r in rows]
    return Table(header, cells, title)
