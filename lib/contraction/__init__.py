"""Support library for the book *Contraction Theory and Neural Networks*.

Modules (one idea each):

* :mod:`contraction.runtime` -- device choice, full/fast mode, seeding.
* :mod:`contraction.norms` -- vector norms, induced norms and log norms (matrix measures).
* :mod:`contraction.fixedpoint` -- Picard, averaged and Anderson iterations; forward-step bounds.
* :mod:`contraction.systems` -- example vector fields, simulation, measured contraction rates.
* :mod:`contraction.plot`, :mod:`contraction.widgets` -- figures and live widgets with a static
  fallback.
* :mod:`contraction.exercises` -- self-checks for the coding exercises.
"""

__version__ = "0.1.0"

from . import fixedpoint, norms, runtime, systems  # noqa: E402,F401

__all__ = ["fixedpoint", "norms", "runtime", "systems", "__version__"]
