import numpy as np
import pytest

from contraction import norms, rnn, slopes, systems


def test_corner_max_bounds_every_slope_in_the_box():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3):
        base, gain = rng.normal(size=(n, n)), rng.normal(size=(n, n))
        for fn in (norms.lognorm, norms.induced_norm):
            top = slopes.corner_max(fn, base, gain, 0.2, 1.5)
            samples = [
                fn(base + np.diag(d) @ gain)
                for d in rng.uniform(0.2, 1.5, size=(200, n))
            ]
            assert max(samples) <= top + 1e-12
            assert top == pytest.approx(
                max(
                    fn(base + np.diag(d) @ gain)
                    for d in np.array(np.meshgrid(*[[0.2, 1.5]] * n)).reshape(n, -1).T
                )
            )


def test_corner_max_firing_rate_certificate():
    W = np.array([[0.2, -0.6], [0.5, 0.3]])
    exact = slopes.corner_max(norms.lognorm, -np.eye(2), W)
    assert exact <= -1 + norms.induced_norm(W) + 1e-12  # corners beat the norm bound
    field = rnn.firing_rate(W)
    assert systems.max_lognorm_on_grid(field, [-3, -3], [3, 3], num=21) <= exact + 1e-12


def test_rectangular_gain_and_bad_arguments():
    U = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 1.0]])
    top = slopes.corner_max(lambda J: np.linalg.norm(J, 2), np.zeros_like(U), U)
    assert top == pytest.approx(np.linalg.norm(U, 2))
    with pytest.raises(TypeError, match="fn"):
        slopes.corner_max(3, np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="gain"):
        slopes.corner_max(norms.lognorm, np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="d_min"):
        slopes.corner_max(norms.lognorm, np.eye(2), np.eye(2), 1.0, 0.0)
    with pytest.raises(ValueError, match="base"):
        slopes.corner_max(norms.lognorm, np.eye(15), np.eye(15))


@pytest.mark.parametrize("measure", ("lognorm", "norm"))
@pytest.mark.parametrize("p", (1, 2, np.inf))
@pytest.mark.parametrize("side", ("left", "right"))
def test_box_max_equals_the_corner_search(measure, p, side):
    """The vertex shortcuts of box_max agree with visiting all 2^n corners."""
    rng = np.random.default_rng(11)
    fn = {"lognorm": norms.lognorm, "norm": norms.induced_norm}[measure]
    for n in (1, 3, 5):
        K, B = rng.normal(size=(n, n)), rng.normal(size=(n, n))
        eta = rng.uniform(0.3, 3.0, n)
        for lo, hi in ((0.0, 1.0), (0.2, 1.5)):
            for base, weight in (
                (B, None),
                (-np.ones(n), eta),
                (np.diag(rng.normal(size=n)), None),
            ):
                Bm = base if np.ndim(base) == 2 else np.diag(base)
                gain, f = (
                    (K, lambda J: fn(J, p, weight))
                    if side == "left"
                    else (K.T, lambda J: fn(J.T, p, weight))
                )
                exact = slopes.corner_max(
                    f, Bm if side == "left" else Bm.T, gain, lo, hi
                )
                got = slopes.box_max(
                    K, lo, hi, base=base, measure=measure, p=p, side=side, weight=weight
                )
                assert got == pytest.approx(exact, rel=1e-10, abs=1e-12)


def test_box_max_matrix_weight_and_bad_arguments():
    rng = np.random.default_rng(12)
    K = rng.normal(size=(3, 3))
    R = np.linalg.cholesky(np.array([[2.0, 0.5, 0], [0.5, 1.0, 0.2], [0, 0.2, 1.5]])).T
    exact = slopes.corner_max(lambda J: norms.lognorm(J, 2, R), -np.eye(3), K)
    assert slopes.box_max(K, base=-1.0, weight=R) == pytest.approx(exact)
    with pytest.raises(ValueError, match="measure"):
        slopes.box_max(K, measure="trace")
    with pytest.raises(ValueError, match="side"):
        slopes.box_max(K, side="up")
    with pytest.raises(ValueError, match="gain must be square"):
        slopes.box_max(np.ones((2, 3)))
    with pytest.raises(ValueError, match="base"):
        slopes.box_max(K, base=np.ones(2))
    with pytest.raises(ValueError, match="d_min"):
        slopes.box_max(K, 1.0, 0.0)
    with pytest.raises(ValueError, match="gain"):
        slopes.box_max(np.eye(15), p=2)
