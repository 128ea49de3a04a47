r"""A catalogue of planar vector fields with *certified* Euclidean contraction rates.

Section 1.2 of the book ("One-sided Lipschitz maps and infinitesimal contraction") has a
widget that shows the phase portrait of a planar system next to the distance between two
of its trajectories, drawn against the bound :math:`e^{-ct}\|x(0) - y(0)\|_2`. This
module supplies the systems, each with one parameter ``k >= 0``, and for each the rate
``c`` that a short proof guarantees, :math:`\operatorname{osLip}_2(F) \le -c`:

* ``"firing rate"``: :math:`\dot x = -x + \tanh(k W_0 x)` with :math:`\|W_0\|_2 = 1`;
  :math:`\mu_2(-I + D W) \le -1 + \|W\|_2` for every diagonal :math:`D` with entries in
  :math:`[0, 1]`, so :math:`c = 1 - k`.
* ``"linear"``: :math:`\dot x = A x` with :math:`A = \begin{bmatrix}-1 & 2k\\ 0 &
  -1\end{bmatrix}`; :math:`c = -\mu_2(A) = 1 - k`, although :math:`A` is Hurwitz for
  every ``k``.
* ``"gradient flow"``: :math:`\dot x = -\nabla V(x)` with :math:`V(x) = \tfrac12 x^\top
  Q x + b^\top x + \sum_i \log\cosh x_i`; the Hessian is at least :math:`Q`, so :math:`c
  = \lambda_{\min}(Q)` with :math:`Q = R\,\mathrm{diag}(0.1 + k, 1)R^\top`.
* ``"Van der Pol"``: :math:`\mu = k`; a limit cycle for ``k > 0`` (no certificate can
  hold); for ``k = 0`` a rotation, whose Jacobian is skew, so :math:`c = 0` (weakly
  contracting).

A certificate is returned only when it is a proof; sampled Jacobians never produce one.
The exact maximum over the box of slopes, for maps whose Jacobian is ``base + diag(d) @
gain``, lives in :mod:`contraction.slopes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import norms, rnn, systems
from .._checks import as_positive_scalar
from .._records import Record

__all__ = ["SYSTEMS", "Example", "example", "certificate_label"]

SYSTEMS = ("firing rate", "linear", "gradient flow", "Van der Pol")
ZERO_TOL = 1e-12  # a computed rate this close to 0 is an exact 0 lost in round-off

_W0 = np.array(
    [[0.6, 0.8], [0.8, -0.6]]
)  # symmetric, eigenvalues +1 and -1, so ||W0||_2 = 1
_ROT = np.array(
    [[np.cos(np.pi / 6), -np.sin(np.pi / 6)], [np.sin(np.pi / 6), np.cos(np.pi / 6)]]
)


@dataclass(frozen=True)
class Example(Record):
    """One entry of the catalogue.

    Attributes
    ----------
    field : systems.VectorField
        The planar vector field.
    rate : float or None
        A certified ``c >= 0`` with ``osLip_2(field) <= -c``, or None when no
        certificate holds.
    reason : str
        The formula that certifies ``rate`` (or why there is none).
    box : float
        Half-width of the square ``[-box, box]^2`` to plot.
    starts : numpy.ndarray, shape (m, 2)
        Initial conditions of the trajectories drawn on the phase portrait.
    pair : numpy.ndarray, shape (2, 2)
        Two initial conditions whose distance is tracked.
    """

    field: systems.VectorField
    rate: float | None
    reason: str
    box: float
    starts: np.ndarray
    pair: np.ndarray


def _rate_or_none(c: float) -> float | None:
    """Round an exact zero lost in round-off to 0; a negative rate is no certificate."""
    if abs(c) <= ZERO_TOL:
        return 0.0
    return float(c) if c > 0 else None


def example(name: str, k: float) -> Example:
    """The system ``name`` (one of :data:`SYSTEMS`) at parameter ``k >= 0``, with its
    certificate.

    See the module docstring for the systems and the proofs behind each certified rate.
    """
    if name not in SYSTEMS:
        raise ValueError(f"name must be one of {SYSTEMS}, got {name!r}")
    k = as_positive_scalar(k, "k", allow_zero=True)
    corners = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    if name == "firing rate":
        W = k * _W0
        field = rnn.firing_rate(W)
        rate = _rate_or_none(1.0 - norms.induced_norm(W, 2))
        return Example(
            field,
            rate,
            "c = 1 - ||W||_2",
            2.0,
            1.6 * corners,
            np.array([[-0.2, 1.5], [0.5, -1.5]]),
        )
    if name == "linear":
        A = np.array([[-1.0, 2.0 * k], [0.0, -1.0]])
        field = systems.linear(A)
        rate = _rate_or_none(-norms.lognorm(A, 2))
        return Example(
            field,
            rate,
            "c = -mu_2(A)",
            2.0,
            1.6 * corners,
            np.array([[-1.0, 1.5], [1.0, -1.0]]),
        )
    if name == "gradient flow":
        Q = _ROT @ np.diag([0.1 + k, 1.0]) @ _ROT.T
        field = systems.gradient_flow((Q + Q.T) / 2, np.array([0.5, -0.5]))
        rate = _rate_or_none(float(np.linalg.eigvalsh(Q)[0]))
        return Example(
            field,
            rate,
            "c = lambda_min(Q)",
            3.0,
            2.6 * corners,
            np.array([[-2.5, 1.0], [2.5, 2.0]]),
        )
    field = systems.van_der_pol(k)
    rate = 0.0 if k == 0 else None
    reason = "c = 0: skew Jacobian" if k == 0 else "limit cycle: no norm works"
    return Example(
        field,
        rate,
        reason,
        4.0,
        np.array([[0.1, 0.1], [3.0, 0.0], [-2.0, 3.5]]),
        np.array([[1.0, 0.0], [-1.5, 0.5]]),
    )


def certificate_label(ex: Example) -> str:
    """A short title for a plot: the certified rate, a weak contraction, or no
    certificate."""
    if not isinstance(ex, Example):
        raise TypeError(f"ex must be an Example, got {type(ex).__name__}")
    if ex.rate is None:
        return "no contraction certificate"
    if ex.rate == 0:
        return "weakly contracting: c = 0"
    return f"certified rate c = {ex.rate:.2f}"
