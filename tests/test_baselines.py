"""Tests of contraction.baselines: SDD, Euclideanizing flows and NCDS (Chapter 7)."""

import pytest
import torch

from contraction import baselines as B

F64 = torch.float64


def builders(dim):
    x_star = torch.linspace(-0.5, 0.5, dim)
    return {
        "SDD": B.SDD(dim, x_star=x_star),
        "EFlow": B.eflow(dim, x_star=x_star),
        "NCDS": B.NCDS(dim, x_star=x_star),
        "latent NCDS": B.latent_ncds(dim, x_star=x_star),
    }


@pytest.mark.parametrize("dim", [2, 4])
def test_every_baseline_maps_states_to_velocities_of_the_same_shape(dim):
    torch.manual_seed(dim)
    x = torch.randn(7, dim)
    for name, model in builders(dim).items():
        velocity = model(x)
        assert velocity.shape == (7, dim), name
        assert torch.isfinite(velocity).all(), name


def test_sdd_decreases_its_lyapunov_function_at_rate_alpha():
    """dV/dt = grad V . f <= -alpha V at every point (the closed-form projection, eq.
    4.19)."""
    torch.manual_seed(0)
    model = B.SDD(3, alpha=0.5, x_star=[0.3, -0.2, 1.0]).double()
    x = (3.0 * torch.randn(400, 3, dtype=F64)).requires_grad_(True)
    value = model.lyapunov(x)
    grad = torch.autograd.grad(value.sum(), x)[0]
    decay = (grad * model(x)).sum(-1)
    assert torch.all(decay <= -0.5 * value + 1e-9)
    assert torch.all(value > 0)
    star = model.x_star[None]
    assert model.lyapunov(star).abs().max() == 0
    assert model(star).abs().max() == 0


def test_sdd_lyapunov_function_decreases_along_a_rollout():
    from contraction.elcd import rollout

    torch.manual_seed(1)
    model = B.SDD(2, alpha=0.3)
    path = rollout(model, torch.randn(5, 2) * 2, dt=0.1, steps=20)
    values = model.lyapunov(path.reshape(-1, 2)).reshape(21, 5).detach()
    assert torch.all(values[1:] <= values[:-1] + 1e-6)


def test_icnn_is_convex_along_random_chords():
    torch.manual_seed(2)
    g = B.ICNN(4, hidden=16, layers=3).double()
    a, b = torch.randn(200, 4, dtype=F64), torch.randn(200, 4, dtype=F64)
    for t in (0.25, 0.5, 0.75):
        assert torch.all(g(t * a + (1 - t) * b) <= t * g(a) + (1 - t) * g(b) + 1e-10)


def test_ncds_has_a_single_equilibrium_and_a_known_linear_case():
    """<e, f> <= -eps ||e||^2 (an average of -(J^T J + eps I)); constant J gives f
    exactly."""
    torch.manual_seed(3)
    model = B.NCDS(3, eps=0.1, x_star=[1.0, 0.0, -1.0]).double()
    x = 3 * torch.randn(300, 3, dtype=F64)
    e = x - model.x_star
    assert torch.all((e * model(x)).sum(-1) <= -0.1 * (e * e).sum(-1) + 1e-12)
    assert model(model.x_star[None]).abs().max() == 0
    with torch.no_grad():
        model.jacobian_factor[0].weight.zero_()  # J no longer depends on x
    jac = model.jacobian_factor(x[:1]).reshape(3, 3)
    expected = -(e @ (jac.T @ jac + 0.1 * torch.eye(3, dtype=F64)).T)
    assert torch.allclose(model(x), expected, atol=1e-12)


def test_ncds_quadrature_converges_with_the_number_of_nodes():
    torch.manual_seed(4)
    coarse, fine = B.NCDS(2, nodes=8).double(), B.NCDS(2, nodes=40).double()
    fine.jacobian_factor.load_state_dict(coarse.jacobian_factor.state_dict())
    x = 2 * torch.randn(50, 2, dtype=F64)
    assert torch.allclose(coarse(x), fine(x), atol=1e-4)


def test_eflow_latent_speed_is_bounded_and_vanishes_at_the_target():
    torch.manual_seed(5)
    model = B.eflow(2, x_star=[0.5, 0.5])
    z = model.encode(torch.randn(30, 2))
    speed = model.field(z, model.latent_star()).norm(dim=-1)
    assert torch.all(speed <= torch.exp(model.field.log_speed) + 1e-6)
    assert model(model.x_star[None]).abs().max() < 1e-5


def test_latent_ncds_uses_a_two_dimensional_latent_space():
    model = B.latent_ncds(6, latent_dim=2)
    assert model.encode(torch.randn(3, 6)).shape == (3, 2)
    assert model.decode(torch.randn(3, 2)).shape == (3, 6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha"):
        B.SDD(2, alpha=0)
    with pytest.raises(ValueError, match="eps"):
        B.NCDS(2, eps=-1.0)
    with pytest.raises(ValueError, match="nodes"):
        B.NCDS(2, nodes=0)
    with pytest.raises(ValueError, match="latent_dim"):
        B.latent_ncds(2, latent_dim=3)
    with pytest.raises(ValueError, match="x must be"):
        B.NCDS(3)(torch.zeros(4, 2))


def test_every_transform_knows_its_dimension():
    from contraction import diffeomorphisms as D

    mask = torch.tensor([True, False, True, False, False])
    for transform in (
        D.Permutation(5),
        D.LULinear(5),
        D.SplineCoupling(mask),
        D.CouplingFlow(5),
    ):
        assert transform.dim == 5
        x = torch.randn(3, 5)
        assert transform(x).shape == (3, 5)
        assert torch.allclose(transform.inverse(transform(x)), x, atol=1e-4)
