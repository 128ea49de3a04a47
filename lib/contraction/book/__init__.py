"""What only the book's notebooks need, kept out of the theory modules.

* :mod:`contraction.book.plot` -- one figure style, stream plots,
  bound-against-measurement plots;
* :mod:`contraction.book.tables` -- tables that display as HTML in the book and as text
  elsewhere;
* :mod:`contraction.book.widgets` -- live widgets with a static fallback for the online
  book;
* :mod:`contraction.book.explorer` -- the planar systems of the vector-field explorer
  (Section 1.2);
* :mod:`contraction.book.balls` -- pictures of unit balls and induced norms (Section
  2.1);
* :mod:`contraction.book.instruments` -- measurements of implicit networks (Section
  4.2);
* :mod:`contraction.book.exercises` -- self-checks for the coding exercises.

Import the submodules you need (``from contraction.book import plot, widgets``); this
package imports none of them, so that ``import contraction`` stays free of matplotlib
and ipywidgets.
"""

__all__ = ["balls", "exercises", "explorer", "instruments", "plot", "tables", "widgets"]
