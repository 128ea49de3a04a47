"""Support library for the book *Contraction Theory and Neural Networks*.

Modules are named after the ideas of the book (one idea each). The theory, NumPy/SciPy:

* :mod:`contraction.norms` -- vector norms, induced norms, log norms and their weights.
* :mod:`contraction.slopes` -- the maximum over the box of slopes (worst Jacobians of
  networks).
* :mod:`contraction.fixedpoint` -- Picard, averaged and Anderson iterations.
* :mod:`contraction.steps` -- every step-size bound: forward, averaged and implicit
  steps.
* :mod:`contraction.estimates` -- sampled (lower) estimates of the constants theory
  bounds.
* :mod:`contraction.robustness` -- sensitivity of fixed points to inputs and model
  errors.
* :mod:`contraction.systems` -- vector fields, simulation, measured contraction rates.
* :mod:`contraction.lyapunov` -- weighted Euclidean norms from Lyapunov equations.
* :mod:`contraction.networks` -- gain matrices and composite norms of interconnections.
* :mod:`contraction.weak_networks` -- weakly contracting network models (Section 3.2).
* :mod:`contraction.conservation` -- conservation laws and the norms they certify.
* :mod:`contraction.graphs` -- adjacency matrices, Laplacians, algebraic connectivity.
* :mod:`contraction.seminorms` -- seminorms and matrix semi-measures.
* :mod:`contraction.synchronization` -- consensus and Kuramoto oscillators.
* :mod:`contraction.rnn` -- recurrent network models (the firing-rate network among
  them) and their tight contraction conditions.

What only notebooks need (figure style and tables, widgets, explorers, unit balls,
exercise self-checks) is in the subpackage :mod:`contraction.book`.

Modules that need torch are imported on demand, to keep ``import contraction`` fast:

* :mod:`contraction.nn` -- the torch core shared by Chapters 4-7: solvers on states of
  any shape, the fixed-point layer, the training loop, results with provenance,
  checkpoints, attacks and certificates;
* the chapter models built on it: :mod:`contraction.implicit` (implicit networks) and
  :mod:`contraction.monotone` (monotone operator networks) of Chapter 4;
  :mod:`contraction.quantize` (soft k-means and its three gradients; with
  :mod:`~contraction.quantize_em`, :mod:`~contraction.quantize_kmeans`,
  :mod:`~contraction.quantize_layers`, :mod:`~contraction.quantize_costs`) of Chapter 5;
  :mod:`contraction.sumsoftmax`,
  :mod:`contraction.hopfield` (modern and k-Hopfield memory and attention) and
  :mod:`contraction.hebbian` (the classical Hopfield network) and
  :mod:`contraction.vision` (a small vision transformer with either attention) of
  Chapter 6; :mod:`contraction.elcd` (extended linearized contracting dynamics),
  :mod:`contraction.diffeomorphisms` (spline coupling flows) and
  :mod:`contraction.baselines` (SDD, Euclideanizing flows, NCDS) of Chapter 7;
* data: :mod:`contraction.data` (digits, MNIST, CIFAR-10; file formats in
  :mod:`contraction.formats`) and :mod:`contraction.trajectories` (LASA, pendulum,
  Rosenbrock demonstrations); :mod:`contraction.experiments` (full-scale runs).
"""

__version__ = "0.1.0"

from . import (  # noqa: E402,F401
    conservation,
    estimates,
    fixedpoint,
    graphs,
    lyapunov,
    networks,
    norms,
    rnn,
    robustness,
    runtime,
    seminorms,
    slopes,
    steps,
    synchronization,
    systems,
    weak_networks,
)

__all__ = [
    "conservation",
    "estimates",
    "fixedpoint",
    "graphs",
    "lyapunov",
    "networks",
    "norms",
    "rnn",
    "robustness",
    "runtime",
    "seminorms",
    "slopes",
    "steps",
    "synchronization",
    "systems",
    "weak_networks",
    "__version__",
]
