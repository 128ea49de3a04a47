"""The torch machinery shared by Chapters 4-7 (the library's middle layer;
book/building.md).

* :mod:`contraction.nn.solvers` -- fixed-point solvers on tensors of shape ``(batch,
  *state)``.
* :mod:`contraction.nn.implicit` -- a fixed-point layer with implicit, JFB or unrolled
  backward.
* :mod:`contraction.nn.train` -- one training loop (tensors or a DataLoader) and
  evaluation.
* :mod:`contraction.nn.results` -- results files with provenance.
* :mod:`contraction.nn.checkpoints` -- sha256-verified, weights-only checkpoints.
* :mod:`contraction.nn.robustness` -- attacks, certified accuracy, Lipschitz penalties.

Chapter models (:mod:`contraction.implicit`, :mod:`contraction.monotone`, ...) build on
these; nothing here imports a chapter model.
"""

from . import checkpoints, implicit, results, robustness, solvers, train  # noqa: F401

__all__ = ["checkpoints", "implicit", "results", "robustness", "solvers", "train"]
