import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from contraction import norms
from contraction.book import balls  # noqa: E402

P_VALUES = (1, 2, np.inf)
R = np.array([[1.0, 0.6], [0.0, 0.8]])
WEIGHTS = [(p, w) for p in P_VALUES for w in (None, np.array([1.0, 2.5]))] + [(2, R)]


@pytest.mark.parametrize("p, weight", WEIGHTS)
def test_unit_circle_points_have_norm_one_and_close(p, weight):
    pts = balls.unit_circle(p, weight, num=201)
    assert pts.shape[1] == 2 and pts.shape[0] >= 200
    np.testing.assert_allclose(
        [norms.vector_norm(x, p, weight) for x in pts], 1.0, atol=1e-12
    )
    np.testing.assert_allclose(pts[0], pts[-1], atol=1e-12)
    # counterclockwise: positive signed area (shoelace formula)
    area = 0.5 * np.sum(pts[:-1, 0] * pts[1:, 1] - pts[1:, 0] * pts[:-1, 1])
    assert area > 0


@pytest.mark.parametrize("p", (1, np.inf))
def test_polygon_corners_are_included(p):
    eta = np.array([2.0, 0.5])
    pts = balls.unit_circle(p, eta, num=41)
    for v in balls.ball_vertices(2, p, eta):
        assert np.min(np.linalg.norm(pts - v, axis=1)) < 1e-12


@pytest.mark.parametrize("p, weight", WEIGHTS)
def test_max_stretch_on_circle_approaches_induced_norm(p, weight):
    A = np.array([[1.0, -2.0], [0.5, 0.3]])
    brute = balls.max_stretch(A, balls.unit_circle(p, weight, 4001), p, weight)
    exact = norms.induced_norm(A, p, weight)
    assert brute <= exact * (1 + 1e-12)
    assert brute == pytest.approx(exact, rel=1e-5)


@pytest.mark.parametrize("p", (1, np.inf))
def test_vertices_give_the_induced_norm_exactly(p):
    rng = np.random.default_rng(0)
    for n in (1, 3, 5):
        A, eta = rng.normal(size=(n, n)), rng.uniform(0.3, 3, n)
        V = balls.ball_vertices(n, p, eta)
        assert V.shape == ((2 * n if p == 1 else 2**n), n)
        assert balls.max_stretch(A, V, p, eta) == pytest.approx(
            norms.induced_norm(A, p, eta)
        )


@given(arrays(float, (3, 3), elements=st.floats(-5, 5, allow_nan=False)))
@settings(max_examples=40, deadline=None)
def test_max_stretch_never_exceeds_induced_norm(A):
    for p in P_VALUES:
        X = balls.sphere_samples(3, 50, p, rng=np.random.default_rng(1))
        assert (
            balls.max_stretch(A, X, p) <= norms.induced_norm(A, p) * (1 + 1e-9) + 1e-12
        )


def test_sphere_samples_have_norm_one():
    X = balls.sphere_samples(4, 100, np.inf, np.array([1.0, 2.0, 3.0, 0.5]))
    np.testing.assert_allclose(np.abs(X * [1.0, 2.0, 3.0, 0.5]).max(axis=1), 1.0)


def test_plot_ball_draws_image():
    fig, ax = plt.subplots()
    line = balls.plot_ball(ax, np.inf, A=np.array([[2.0, 0.0], [0.0, 1.0]]), scale=0.5)
    xy = line.get_xydata()
    assert np.abs(xy[:, 0]).max() == pytest.approx(1.0)
    assert np.abs(xy[:, 1]).max() == pytest.approx(0.5)
    patch = balls.plot_ball(ax, 1, fill=True)
    assert patch.get_alpha() == pytest.approx(0.25)
    plt.close(fig)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="p"):
        balls.unit_circle(3)
    with pytest.raises(ValueError, match="num"):
        balls.unit_circle(2, num=3)
    with pytest.raises(ValueError, match="weight"):
        balls.unit_circle(1, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="weight"):
        balls.unit_circle(np.inf, R)
    with pytest.raises(ValueError, match="p"):
        balls.ball_vertices(3, 2)
    with pytest.raises(ValueError, match="n"):
        balls.ball_vertices(20, np.inf)
    with pytest.raises(ValueError, match="points"):
        balls.max_stretch(np.eye(2), np.ones((4, 3)))
    with pytest.raises(ValueError, match="points"):
        balls.max_stretch(np.eye(2), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="A"):
        balls.max_stretch(np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(TypeError, match="rng"):
        balls.sphere_samples(2, 5, rng=3)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="A"):
        balls.plot_ball(ax, 2, A=np.eye(3))
    with pytest.raises(ValueError, match="scale"):
        balls.plot_ball(ax, 2, scale=-1.0)
    plt.close(fig)


def test_orientation_kept_for_reflecting_weight():
    pts = balls.unit_circle(2, np.array([[0.0, 1.0], [1.0, 0.0]]), num=101)
    area = 0.5 * np.sum(pts[:-1, 0] * pts[1:, 1] - pts[1:, 0] * pts[:-1, 1])
    assert area > 0


def test_plot_stretch_returns_induced_norm():
    fig, ax = plt.subplots()
    A = np.array([[1.0, 2.0], [-0.5, 0.3]])
    for p in P_VALUES:
        assert balls.plot_stretch(ax, A, p) == pytest.approx(norms.induced_norm(A, p))
    assert len(ax.lines) == 6 and len(ax.patches) == 3
    with pytest.raises(ValueError, match="A"):
        balls.plot_stretch(ax, np.eye(3), 2)
    plt.close(fig)
