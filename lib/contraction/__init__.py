"""Support library for the book *Contraction Theory and Neural Networks*.

Modules (one idea each):

* :mod:`contraction.runtime` -- device choice, full/fast mode, seeding.
* :mod:`contraction.norms` -- vector norms, induced norms and log norms (matrix measures).
* :mod:`contraction.fixedpoint` -- Picard, averaged and Anderson iterations; forward-step bounds.
* :mod:`contraction.systems` -- example vector fields, simulation, measured contraction rates.
* :mod:`contraction.slopes` -- the corner argument for slope-restricted activations.
* :mod:`contraction.robustness` -- sensitivity of fixed points to inputs and model errors.
* :mod:`contraction.lyapunov` -- weighted Euclidean norms from Lyapunov equations.
* :mod:`contraction.stepsize` -- measured and exact step factors of forward Euler.
* :mod:`contraction.explorer` -- the planar systems of the vector-field explorer.
* :mod:`contraction.balls` -- unit balls and their images (pictures of induced norms).
* :mod:`contraction.stepsize_inf` -- exact l-infinity step factors of averaged iterations.
* :mod:`contraction.networks` -- gain matrices of interconnections (Chapter 3), re-exporting
  :mod:`contraction.network_models` (weakly contracting example networks) and
  :mod:`contraction.seminorms` (seminorm log norms, consensus, Kuramoto).
* :mod:`contraction.rnn` -- recurrent network models and their tight contraction conditions.

Modules that need torch are imported on demand, to keep ``import contraction`` fast:
:mod:`contraction.data`, :mod:`contraction.train`, :mod:`contraction.experiments`,
:mod:`contraction.fixedpoint_torch` (batched torch solves, implicit differentiation),
:mod:`contraction.implicit` (implicit networks, attacks) and :mod:`contraction.monotone`
(monotone operator equilibrium networks).
* :mod:`contraction.plot`, :mod:`contraction.widgets` -- figures and live widgets with a static
  fallback.
* :mod:`contraction.exercises` -- self-checks for the coding exercises.
"""

__version__ = "0.1.0"

from . import (  # noqa: E402,F401
    balls,
    explorer,
    fixedpoint,
    lyapunov,
    network_models,
    networks,
    norms,
    rnn,
    robustness,
    runtime,
    seminorms,
    slopes,
    stepsize,
    stepsize_inf,
    systems,
)

__all__ = ["balls", "explorer", "fixedpoint", "lyapunov", "network_models", "networks", "norms",
           "rnn", "robustness", "runtime", "seminorms", "slopes", "stepsize", "stepsize_inf", "systems",
           "__version__"]
