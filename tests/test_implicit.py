import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contraction import implicit as im
from contraction import norms
from contraction.nn import robustness
from contraction.nn.implicit import fixed_point
from contraction.nn.solvers import SolveInfo

DOUBLE = torch.float64


def tiny_model(seed=0, **kwargs):
    torch.manual_seed(seed)
    kwargs.setdefault("tol", 1e-12)
    return im.ImplicitNetwork(4, 6, 3, **kwargs).to(DOUBLE)


def batch(seed=1, rows=5, n_in=4):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, n_in, generator=gen, dtype=DOUBLE)
    y = torch.randint(0, 3, (rows,), generator=gen)
    return x, y


def spread_weights(model, seed=2, scale=0.6):
    """Off-diagonal rows of size ~scale*n, so that alpha < 1 and the averaged step
    matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.T.copy_(
            scale * (2 * torch.rand(model.T.shape, generator=gen, dtype=DOUBLE) - 1)
        )
    return model


# --- parametrisation
# ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (5, 5), elements=st.floats(-10, 10)), st.floats(-3, 0.99))
def test_parametrisation_bounds_mu_inf(T, gamma):
    A = im.constrained_matrix(torch.from_numpy(T), gamma).numpy()
    assert norms.lognorm(A, np.inf) <= gamma + 1e-9
    off = np.abs(A).sum(1) - np.abs(np.diag(A))
    t_diag = (np.diag(A) - gamma + off) / 2  # the preimage of the docstring's converse
    T_back = A - np.diag(np.diag(A)) + np.diag(t_diag)
    np.testing.assert_allclose(
        im.constrained_matrix(torch.from_numpy(T_back), gamma).numpy(), A, atol=1e-9
    )


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(-1, 0.9))
def test_weighted_model_contracts_in_its_norm(seed, gamma):
    model = spread_weights(tiny_model(seed, gamma=gamma, weighted=True), seed)
    with torch.no_grad():
        model.log_eta.copy_(torch.linspace(-1, 1, 6, dtype=DOUBLE))
    A = model.A().detach().numpy()
    eta = model.eta().detach().numpy()
    assert norms.lognorm(A, np.inf, weight=eta) <= gamma + 1e-9
    assert im.mu_inf(model) == pytest.approx(norms.lognorm(A, np.inf, weight=eta))


# --- forward solve
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["averaged", "anderson"])
@pytest.mark.parametrize("weighted", [False, True])
def test_forward_solves_the_fixed_point_equation(method, weighted):
    model = spread_weights(tiny_model(weighted=weighted, method=method))
    x, _ = batch()
    z = model.equilibrium(x).detach()
    A, drive = model.A().detach(), model.input(x).detach()
    assert model.last_solve.converged and model.last_solve.reason == ""
    torch.testing.assert_close(z, torch.relu(z @ A.T + drive), atol=1e-10, rtol=0)
    bounds = model.step_bounds()
    assert bounds["alpha"] < 1 and bounds["factor"] < 1


def test_anderson_needs_fewer_iterations():
    model = spread_weights(tiny_model(), scale=0.8)
    x, _ = batch(rows=8)
    model.equilibrium(x)
    averaged = model.last_solve.iterations
    model.solver = dataclasses.replace(model.solver, method="anderson")
    model.equilibrium(x)
    assert model.last_solve.converged and model.last_solve.iterations < averaged


# --- implicit differentiation
# ------------------------------------------------------------------


def unrolled_loss(model, x, y, steps=400):
    A, drive = model.A(), model.input(x)
    alpha = model.step_bounds()["alpha"]
    z = torch.zeros(x.shape[0], model.n_hidden, dtype=DOUBLE)
    for _ in range(steps):
        z = (1 - alpha) * z + alpha * torch.relu(z @ A.T + drive)
    return F.cross_entropy(model.output(z), y)


def gradients(model, loss, x):
    inputs = [x] + list(model.parameters())
    return torch.autograd.grad(loss, inputs)


@pytest.mark.parametrize("weighted", [False, True])
def test_implicit_gradients_match_unrolled_autograd(weighted):
    model = spread_weights(tiny_model(weighted=weighted))
    if weighted:
        with torch.no_grad():
            model.log_eta.copy_(torch.linspace(-0.5, 0.5, 6, dtype=DOUBLE))
    x, y = batch()
    x.requires_grad_(True)
    implicit = gradients(model, F.cross_entropy(model(x), y), x)
    assert model.last_backward_solve.converged
    unrolled = gradients(model, unrolled_loss(model, x, y), x)
    for g_imp, g_unr in zip(implicit, unrolled):
        assert float((g_imp - g_unr).norm()) <= 1e-5 * float(g_unr.norm()) + 1e-12


def test_gradcheck_with_respect_to_inputs():
    model = spread_weights(tiny_model())
    x, _ = batch(rows=3)
    assert torch.autograd.gradcheck(
        model, (x.requires_grad_(True),), eps=1e-6, atol=1e-6
    )


def test_strict_backward_raises_when_adjoint_fails():
    def give_up(vjp, v):
        return v, SolveInfo(3, 1.0, False, "averaged", 1.0, reason="max_iter=3 reached")

    def strict_give_up(vjp, v):
        g, info = give_up(vjp, v)
        raise RuntimeError(
            f"backward (adjoint) fixed point did not converge: {info.reason}"
        )

    w = torch.full((2,), 0.5, dtype=DOUBLE, requires_grad=True)
    out = fixed_point(
        lambda s, w: s * w,
        torch.ones(2, 2, dtype=DOUBLE),
        w,
        adjoint_solver=strict_give_up,
    )
    with pytest.raises(RuntimeError, match="adjoint"):
        out.sum().backward()


def test_jfb_and_unrolled_backward_options():
    x, y = batch()
    x.requires_grad_(True)
    grads = {}
    for mode in ("implicit", "jfb", "unrolled"):
        model = spread_weights(tiny_model(backward=mode, tol=1e-10, max_iter=2000))
        grads[mode] = gradients(model, F.cross_entropy(model(x), y), x)
    for g_imp, g_unr in zip(grads["implicit"], grads["unrolled"]):
        torch.testing.assert_close(g_imp, g_unr, rtol=1e-6, atol=1e-9)
    assert any(
        float((a - b).norm()) > 1e-6 for a, b in zip(grads["implicit"], grads["jfb"])
    )


# --- robustness
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["plain", "weighted", "feedforward"])
def test_lipschitz_bound_exceeds_empirical_estimate(kind):
    torch.manual_seed(3)
    if kind == "feedforward":
        model = im.FeedForward(4, 6, 3).to(DOUBLE)
    else:
        model = spread_weights(tiny_model(weighted=kind == "weighted"))
    x, _ = batch(rows=16)
    gen = torch.Generator().manual_seed(0)
    estimate = robustness.empirical_lipschitz(
        model, x, eps=0.05, n_random=5, steps=5, generator=gen
    )
    bound = im.lipschitz_bound(model)
    assert 0 < estimate <= bound
    # one formula: the float bound is the differentiable penalty read as a number
    assert bound == pytest.approx(
        float(robustness.lipschitz_penalty(model).detach()), rel=1e-12
    )


def nonnegative_model(gamma=0.5, n_in=4, n=6, n_out=3):
    """A = (gamma/n) 11^T, B = 11^T/m, C = 11^T/n, every neuron active on [0, 1]^m.

    Then y(u + eps 1) - y(u) = eps/(1 - gamma) in every output: the bound is attained.
    """
    model = im.ImplicitNetwork(n_in, n, n_out, gamma=gamma, tol=1e-13).to(DOUBLE)
    with torch.no_grad():
        model.T.fill_(gamma / n)  # t_ii >= 0: A = T - diag(|T| 1) + gamma I = T
        model.input.weight.fill_(1.0 / n_in)
        model.input.bias.fill_(1.0)
        model.output.weight.fill_(1.0 / n)
        model.output.bias.zero_()
    return model


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9])
def test_lipschitz_bound_is_attained_by_a_nonnegative_network(gamma):
    # the other side of the bound: no smaller constant in ||B||, ||C||, mu_inf(A)
    model = nonnegative_model(gamma)
    A = model.A().detach().numpy()
    assert np.allclose(A, gamma / 6) and norms.lognorm(A, np.inf) == pytest.approx(
        gamma
    )
    u, _ = batch(rows=8)
    eps = 0.05
    with torch.no_grad():
        change = (model(u + eps) - model(u)).abs().amax(1) / eps
    bound = im.lipschitz_bound(model)
    assert bound == pytest.approx(1 / (1 - gamma), rel=1e-12)
    assert change.numpy() == pytest.approx(np.full(8, bound), rel=1e-8)
    # so an estimate is a lower bound close to the bound here
    gen = torch.Generator().manual_seed(0)
    estimate = robustness.empirical_lipschitz(
        model, u, eps=eps, n_random=3, steps=3, generator=gen
    )
    assert bound * (1 - 1e-8) <= estimate <= bound * (1 + 1e-8)


def test_feedforward_lipschitz_bound_is_attained_with_nonnegative_weights():
    model = im.FeedForward(4, 6, 3).to(DOUBLE)  # the case A = 0
    with torch.no_grad():
        model.hidden.weight.fill_(0.5)  # ||W_1||_inf = 2
        model.hidden.bias.fill_(1.0)
        model.output.weight.fill_(0.25)  # ||W_2||_inf = 1.5
    u, _ = batch(rows=4)
    with torch.no_grad():
        change = (model(u + 0.1) - model(u)).abs().amax(1) / 0.1
    assert im.lipschitz_bound(model) == pytest.approx(3.0, rel=1e-12)
    assert change.numpy() == pytest.approx(np.full(4, 3.0), rel=1e-10)


def test_attacks_stay_in_the_ball_and_raise_the_loss():
    model = spread_weights(tiny_model(tol=1e-8))
    x, y = batch(rows=8)
    clean = F.cross_entropy(model(x), y).detach()
    for x_adv in (
        robustness.fgsm(model, x, y, 0.1),
        robustness.pgd(model, x, y, 0.1, steps=5),
    ):
        assert float((x_adv - x).abs().max()) <= 0.1 + 1e-12
        assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
        assert float(F.cross_entropy(model(x_adv), y).detach()) >= float(clean)


# --- reporting failures and bad input
# ------------------------------------------------------


def expansive_model(**kwargs):
    model = tiny_model(unconstrained=True, max_iter=200, **kwargs)
    with torch.no_grad():
        model.T.copy_(2 * torch.eye(6, dtype=DOUBLE))
        model.input.bias.fill_(1.0)
    return model


def test_unconstrained_non_convergence_is_reported():
    model = expansive_model(strict=False)
    x, _ = batch()
    out = model(x)
    assert not model.last_solve.converged and model.last_solve.reason
    assert torch.isfinite(out).all()
    assert (
        model.step_bounds()["factor"] is None and im.lipschitz_bound(model) == math.inf
    )
    with pytest.raises(RuntimeError, match="did not converge"):
        expansive_model()(x)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"gamma": 1.0}, "gamma"),
        ({"gamma": float("nan")}, "gamma"),
        ({"n_hidden": 0}, "n_hidden"),
        ({"tol": -1.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"method": "newton"}, "method"),
        ({"alpha": -0.5}, "alpha"),
        ({"weighted": True, "unconstrained": True}, "weighted"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    args = {"n_in": 4, "n_hidden": 6, "n_out": 3} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        im.ImplicitNetwork(**args)


def test_bad_forward_inputs_and_weights():
    model = tiny_model()
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.zeros(2, 5, dtype=DOUBLE))
    assert model(torch.zeros(2, 2, 2, dtype=DOUBLE)).shape == (
        2,
        3,
    )  # (batch, *features)
    with pytest.raises(RuntimeError, match="non-finite"):
        model(torch.full((2, 4), math.nan, dtype=DOUBLE))
    with torch.no_grad():
        model.T[0, 0] = math.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        model(torch.zeros(2, 4, dtype=DOUBLE))


def test_logit_error_bound_covers_the_solver_error():
    model = spread_weights(tiny_model(weighted=True, tol=1e-2))
    with torch.no_grad():
        model.log_eta.copy_(torch.linspace(-0.5, 0.5, 6, dtype=DOUBLE))
    x, _ = batch(rows=8)
    rough = model(x).detach()
    bound = model.logit_error_bound()
    model.solver = dataclasses.replace(model.solver, tol=1e-13)
    exact = model(x).detach()
    error = (rough - exact).abs().amax(1)
    assert torch.all(error <= bound + 1e-12)
    assert float(bound.max()) <= 100 * max(float(error.max()), 1e-3)


def test_bad_attack_arguments():
    model = tiny_model()
    x, y = batch()
    with pytest.raises(ValueError, match="eps"):
        robustness.fgsm(model, x, y, -0.1)
    with pytest.raises(ValueError, match="clamp"):
        robustness.pgd(model, x, y, 0.1, clamp=(1, 0))
    with pytest.raises(ValueError, match="y must"):
        robustness.fgsm(model, x, y[:2], 0.1)
    with pytest.raises(TypeError, match="model"):
        im.lipschitz_bound("not a model")


def test_backward_tolerance_is_relative_to_the_gradient():
    torch.manual_seed(0)
    model = im.ImplicitNetwork(4, 6, 3, gamma=0.5, tol=1e-3).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    (
        1e-6 * model(x).sum()
    ).backward()  # a tiny loss: an absolute tol would stop at once
    assert model.last_backward_solve.converged
    assert model.last_backward_solve.iterations > 1


def test_anderson_training_step_does_not_crash_on_converged_rows():
    torch.manual_seed(0)
    model = im.ImplicitNetwork(4, 8, 3, gamma=0.5, method="anderson", tol=1e-5)
    x = torch.randn(16, 4)
    for _ in range(3):
        model.zero_grad()
        torch.nn.functional.cross_entropy(
            model(x), torch.zeros(16, dtype=torch.long)
        ).backward()
    assert model.last_solve.converged
