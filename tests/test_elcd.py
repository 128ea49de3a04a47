"""Tests of contraction.elcd: the ELCD guarantee, the latent model, rollouts and the
distance."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import root

from contraction import elcd, flows
from contraction.trajectories import lasa

F64 = torch.float64


def random_elcd(dim, alpha=0.2, seed=0, scale=1.0):
    """An untrained ELCD in float64 with a random equilibrium; ``scale`` enlarges P_s
    and P_a."""
    torch.manual_seed(seed)
    model = elcd.ELCD(dim, hidden=16, alpha=alpha, x_star=torch.randn(dim)).double()
    with torch.no_grad():
        for net in (model.symmetric_factor, model.skew_factor):
            net[-1].weight.mul_(scale)
            net[-1].bias.mul_(scale)
    return model


@pytest.mark.parametrize("dim", [2, 4, 8])
def test_theorem_bound_holds_and_its_slack_is_the_rayleigh_integral(dim):
    """||x(t) - x*|| <= exp(-alpha t) ||x(0) - x*|| (eq. 4.12) on an untrained model,
    and the measured log-ratio equals -alpha t - int ||P_s e||^2/||e||^2: the bound is
    loose by exactly that integral (to the trapezoid rule's 1e-3), and by nothing
    else."""
    model = random_elcd(dim, seed=dim)
    x0 = model.x_star + 3.0 * torch.randn(16, dim, dtype=F64)
    dt, steps = 0.01, 200
    path = flows.rk4(model, x0, dt, steps)
    errors = path - model.x_star
    measured = torch.log(errors.norm(dim=-1) / errors[0].norm(dim=-1))
    times = dt * torch.arange(steps + 1, dtype=F64)[:, None]
    assert torch.all(measured <= -model.alpha * times + 1e-9)
    with torch.no_grad():
        sym, _ = model.factors(path.reshape(-1, dim))
        e = errors.reshape(-1, dim)
        quotient = (torch.einsum("bij,bj->bi", sym, e) ** 2).sum(-1) / (e * e).sum(-1)
    quotient = quotient.reshape(steps + 1, -1)
    slack = torch.cumulative_trapezoid(quotient, dx=dt, dim=0)
    predicted = -model.alpha * times[1:] - slack
    assert torch.allclose(
        measured[1:], predicted, atol=1e-3
    )  # trapezoid error, O(dt^2)


@pytest.mark.parametrize("dim", [2, 4, 8])
def test_theorem_bound_is_attained_when_the_symmetric_factor_vanishes(dim):
    """With P_s = 0 the field is a rotation plus -alpha e: the bound holds with
    equality."""
    model = random_elcd(dim, alpha=0.3, seed=10 + dim)
    with torch.no_grad():
        model.symmetric_factor[-1].weight.zero_()
        model.symmetric_factor[-1].bias.zero_()
    x0 = model.x_star + torch.randn(8, dim, dtype=F64)
    path = flows.rk4(model, x0, 0.02, 100)
    ratio = (path[-1] - model.x_star).norm(dim=-1) / (x0 - model.x_star).norm(dim=-1)
    assert torch.allclose(
        ratio, torch.full_like(ratio, math.exp(-0.3 * 2.0)), rtol=1e-7
    )


@pytest.mark.parametrize("dim", [2, 4, 8])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_symmetric_part_of_A_is_at_most_minus_alpha(dim, scale):
    model = random_elcd(dim, alpha=0.05, seed=dim, scale=scale)
    x = 5.0 * torch.randn(256, dim, dtype=F64)
    with torch.no_grad():
        a = model.matrix(x)
        top = torch.linalg.eigvalsh((a + a.transpose(-1, -2)) / 2).max()
        assert top <= -0.05 + 1e-9
        # and A really is the factor of f
        e = x - model.x_star
        assert torch.allclose(torch.einsum("bij,bj->bi", a, e), model(x), atol=1e-9)


@pytest.mark.parametrize("dim", [2, 4, 8])
def test_exactly_one_equilibrium_at_x_star(dim):
    """f(x*) = 0 exactly; <x - x*, f(x)> <= -alpha ||x - x*||^2 rules out any other
    zero, and a root finder started anywhere finds only x*."""
    model = random_elcd(dim, seed=3 * dim, scale=3.0)
    with torch.no_grad():
        assert torch.equal(model(model.x_star[None]), torch.zeros(1, dim, dtype=F64))
        x = 4.0 * torch.randn(512, dim, dtype=F64)
        e = x - model.x_star
        assert torch.all(
            (e * model(x)).sum(-1) <= -model.alpha * (e * e).sum(-1) + 1e-12
        )

    def field(point):
        with torch.no_grad():
            return model(torch.as_tensor(point)[None])[0].numpy()

    rng = np.random.default_rng(dim)
    for start in rng.normal(scale=3.0, size=(5, dim)):
        found = root(field, start, tol=1e-12)
        if found.success:
            assert np.allclose(found.x, model.x_star.numpy(), atol=1e-6)


def test_latent_velocity_is_the_inverse_jacobian_times_the_latent_field():
    torch.manual_seed(0)
    model = elcd.latent_elcd(3, x_star=[0.5, -0.2, 0.1]).double()
    x = torch.randn(4, 3, dtype=F64)
    velocity = model(x)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(model.transform, x[i])
        latent = model.field(model.encode(x[i : i + 1]), model.latent_star())[0]
        assert torch.allclose(velocity[i], torch.linalg.solve(jac, latent), atol=1e-8)


def test_latent_model_contracts_to_its_equilibrium_in_latent_coordinates():
    torch.manual_seed(1)
    model = elcd.latent_elcd(2, alpha=0.5, x_star=[1.0, -1.0])
    with torch.no_grad():
        assert model(model.x_star[None]).abs().max() < 1e-5
        path = elcd.rollout(model, torch.randn(6, 2) * 2, dt=0.05, steps=40)
        gap = (model.encode(path) - model.latent_star()).norm(dim=-1)
    bound = gap[0] * torch.exp(-0.5 * 0.05 * torch.arange(41.0))[:, None]
    assert torch.all(gap <= bound * (1 + 1e-4) + 1e-5)
    assert torch.allclose(path[0], model.decode(model.encode(path[0])), atol=1e-5)


def test_contraction_metric_solves_the_lyapunov_pde_in_2d():
    """M from eq. (4.15) with C = I satisfies M Df + Df^T M + dM/dt = -I (eq. 4.14)."""
    model = random_elcd(2, alpha=1.0, seed=5).float()
    x = torch.tensor([0.7, -0.4]) + model.x_star
    h = 1e-2
    with torch.no_grad():
        v = model(x[None])[0]
    # M at x and a step ahead and behind along the flow, for dM/dt by central
    # differences
    points = torch.stack([x, x + h * v, x - h * v])
    metric, tail = flows.contraction_metric(model, points, horizon=10.0, steps=300)
    assert tail < 1e-3
    jac = torch.autograd.functional.jacobian(lambda p: model(p[None])[0], x)
    lhs = metric[0] @ jac + jac.T @ metric[0] + (metric[1] - metric[2]) / (2 * h)
    assert torch.allclose(lhs, -torch.eye(2), atol=2e-2)
    assert torch.linalg.eigvalsh(metric[0]).min() > 0


def test_short_training_on_a_lasa_shape_reduces_the_loss():
    data = lasa("Angle", subsample=40)
    torch.manual_seed(0)
    model = elcd.latent_elcd(2, x_star=data.x_star)
    history = elcd.train(model, data, epochs=5, lr=5e-3, batch_size=25, device="cpu")
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    scores = elcd.demonstration_distances(model, data.positions, data.dt)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_dtwd_properties_and_a_known_value():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(17, 3))
    assert elcd.dtwd(a, a) == 0.0
    assert elcd.dtwd(a, b) == pytest.approx(elcd.dtwd(b, a), abs=1e-15)
    # x -> ref: distances 1 and sqrt 2, mean (1 + sqrt 2)/2; ref -> x: 1
    assert elcd.dtwd([[0, 0], [1, 0]], [[0, 1]]) == pytest.approx(
        1 + (1 + math.sqrt(2)) / 2
    )
    # not dynamic time warping: the order of the points does not matter
    assert elcd.dtwd(a[::-1], b) == pytest.approx(elcd.dtwd(a, b))
    assert elcd.dtwd(torch.as_tensor(a), b) == pytest.approx(elcd.dtwd(a, b))


@pytest.mark.parametrize(
    "bad, error",
    [
        ([[0.0, 1.0]], ValueError),
        ([[np.nan, 0, 0]], ValueError),
        (np.zeros((0, 3)), ValueError),
        ("ab", TypeError),
    ],
)
def test_dtwd_rejects_bad_input(bad, error):
    with pytest.raises(error):
        elcd.dtwd(bad, np.zeros((4, 3)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha"):
        elcd.ELCD(2, alpha=0.0)
    with pytest.raises(ValueError, match="alpha"):
        elcd.ELCD(2, alpha=-1.0)
    with pytest.raises(ValueError, match="dim"):
        elcd.ELCD(0)
    with pytest.raises(ValueError, match="x_star"):
        elcd.ELCD(3, x_star=[0.0, 1.0])
    with pytest.raises(ValueError, match="x must be"):
        elcd.ELCD(3)(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="latent_dim"):
        elcd.LatentDynamics(elcd.ELCD(3), elcd.CouplingFlow(2), latent_dim=3)


def test_frozen_field_and_forward_agree_with_the_matrix_form():
    """The stacked fast paths compute A(x, x*)(x - x*), also for another x* and 3-D
    input."""
    model = random_elcd(3, alpha=0.1, seed=3, scale=5.0)
    x = torch.randn(2, 5, 3, dtype=F64)
    z_star = torch.randn(3, dtype=F64)
    with torch.no_grad():
        for star in (model.x_star, z_star):
            a = model.matrix(x, star)
            expected = torch.einsum("...ij,...j->...i", a, x - star)
            assert torch.allclose(model(x, star), expected, atol=1e-12)
            frozen = model.frozen(star)(x.reshape(-1, 3))
            assert torch.allclose(frozen, expected.reshape(-1, 3), atol=1e-12)


def test_float64_models_roll_out_in_float64():
    x0 = np.array([[1.0, 2.0], [-0.5, 0.25]], dtype=np.float32)
    model = random_elcd(2)
    path = elcd.rollout(model, x0, 0.05, 10)
    assert path.dtype == F64 and path.shape == (11, 2, 2)
    with torch.no_grad():
        step = flows.rk4(model, torch.as_tensor(x0, dtype=F64), 0.05, 1)[1]
    assert torch.allclose(path[1], step, atol=1e-14)
    torch.manual_seed(0)
    latent = elcd.latent_elcd(2, x_star=[0.3, -0.1]).double()
    path = elcd.rollout(latent, x0, 0.05, 10)
    assert path.dtype == F64
    # encode then decode is exact to float64 rounding, far below float32's 1e-7
    assert torch.allclose(path[0], torch.as_tensor(x0, dtype=F64), atol=1e-12)
    # a float32 model keeps float32, even from float64 initial states
    assert elcd.rollout(elcd.ELCD(2), np.ones((1, 2)), 0.1, 2).dtype == torch.float32
    # a plain function keeps the floating dtype of its input
    assert elcd.rollout(lambda x: -x, np.ones((1, 2)), 0.1, 2).dtype == F64


def test_contraction_metric_in_float64_agrees_with_float32():
    model = random_elcd(2, alpha=1.0, seed=5)
    points = model.x_star + torch.tensor([[0.7, -0.4], [-1.0, 0.3]], dtype=F64)
    m64, tail64 = flows.contraction_metric(model, points, horizon=10.0, steps=300)
    m32, tail32 = flows.contraction_metric(
        model.float(), points.float(), horizon=10.0, steps=300
    )
    assert m64.dtype == F64 and m32.dtype == torch.float32
    gap = (m64 - m32.double()).abs().max() / m64.abs().max()
    assert gap < 1e-5  # float32 precision
    assert gap > 0  # the two really ran in different precisions
    assert tail64 == pytest.approx(tail32, rel=1e-4)
