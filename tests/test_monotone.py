import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import implicit as im
from contraction import monotone as mo

DOUBLE = torch.float64


def tiny_mon(seed=0, **kwargs):
    torch.manual_seed(seed)
    kwargs.setdefault("tol", 1e-12)
    kwargs.setdefault("max_iter", 5000)
    return mo.MonotoneNetwork(4, 6, 3, **kwargs).to(DOUBLE)


def batch(seed=1, rows=5):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(rows, 4, generator=gen, dtype=DOUBLE), torch.randint(
        0, 3, (rows,), generator=gen
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 2.0))
def test_parametrisation_is_strongly_monotone(seed, m):
    model = tiny_mon(seed, m=m)
    M = (torch.eye(6, dtype=DOUBLE) - model.W()).detach().numpy()
    assert np.linalg.eigvalsh((M + M.T) / 2).min() >= m - 1e-9


@pytest.mark.parametrize("method", mo.MON_METHODS)
def test_both_splittings_solve_the_equation(method):
    model = tiny_mon(method=method)
    x, _ = batch()
    z = model.equilibrium(x).detach()
    assert model.last_solve.converged and model.last_solve.method == method
    W, drive = model.W().detach(), model.input(x).detach()
    torch.testing.assert_close(z, torch.relu(z @ W.T + drive), atol=1e-10, rtol=0)


def test_peaceman_rachford_needs_fewer_iterations():
    model = tiny_mon(method="forward-backward")
    x, _ = batch()
    model(x)
    forward_backward = model.last_solve.iterations
    model.solver = dataclasses.replace(model.solver, method="peaceman-rachford")
    model(x)
    assert model.last_solve.iterations < forward_backward


@pytest.mark.parametrize("method", mo.MON_METHODS)
def test_implicit_gradients_match_unrolled_autograd(method):
    model = tiny_mon(method=method, m=1.0)
    x, y = batch()
    x.requires_grad_(True)
    inputs = [x] + list(model.parameters())
    implicit = torch.autograd.grad(F.cross_entropy(model(x), y), inputs)
    assert model.last_backward_solve.converged
    W, drive = model.W(), model.input(x)
    alpha = model.step_size() if method == "forward-backward" else 0.2
    z = torch.zeros(5, 6, dtype=DOUBLE)
    for _ in range(600):
        z = torch.relu((1 - alpha) * z + alpha * (z @ W.T + drive))
    unrolled = torch.autograd.grad(F.cross_entropy(model.output(z), y), inputs)
    for g_imp, g_unr in zip(implicit, unrolled):
        assert float((g_imp - g_unr).norm()) <= 1e-5 * float(g_unr.norm()) + 1e-12


def test_lu_factors_are_cached_until_the_weights_change():
    model = tiny_mon()
    x, y = batch()
    model(x)
    first = model._lu_cache[1]
    model(x)
    assert model._lu_cache[1] is first
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    model(x)
    assert model._lu_cache[1] is not first


def test_l2_lipschitz_bound_exceeds_measured_ratios():
    model = tiny_mon()
    x1, _ = batch(1, rows=32)
    x2, _ = batch(2, rows=32)
    with torch.no_grad():
        ratio = (model(x1) - model(x2)).norm(dim=1) / (x1 - x2).norm(dim=1)
    assert float(ratio.max()) <= model.lipschitz_bound_l2()


@pytest.mark.parametrize("m", [0.1, 0.5, 1.0])
def test_l2_lipschitz_bound_is_attained_when_u_and_c_align(m):
    # P = S = 0 gives W = (1 - m) I and, with every neuron active, z = (Uu + b)/m;
    # U = s e_1 v^T and C = e_1 e_1^T give y_1 = s v^T u / m: slope s/m = |U| |C| / m
    model = tiny_mon(m=m)
    v = torch.tensor([1.0, -2.0, 2.0, 0.0], dtype=DOUBLE) / 3
    with torch.no_grad():
        model.P.zero_()
        model.S.zero_()
        model.input.weight.zero_()
        model.input.weight[0] = 0.7 * v
        model.input.bias.fill_(5.0)
        model.output.weight.zero_()
        model.output.weight[0, 0] = 1.0
    bound = model.lipschitz_bound_l2()
    assert bound == pytest.approx(0.7 / m, rel=1e-12)
    x, _ = batch(1, rows=4)
    with torch.no_grad():
        ratio = (model(x + 0.1 * v) - model(x)).norm(dim=1) / 0.1
    assert ratio.numpy() == pytest.approx(np.full(4, bound), rel=1e-8)


def test_non_convergence_is_reported_and_strict_raises():
    model = tiny_mon(method="forward-backward", max_iter=3, strict=False)
    x, _ = batch()
    model(x)
    assert not model.last_solve.converged and "max_iter=3" in model.last_solve.reason
    with pytest.raises(RuntimeError, match="did not converge"):
        tiny_mon(method="forward-backward", max_iter=3)(x)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"m": 0.0}, "m must"),
        ({"method": "douglas"}, "method"),
        ({"alpha": 0.0}, "alpha"),
        ({"n_hidden": 0}, "n_hidden"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"n_in": 4, "n_hidden": 6, "n_out": 3} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        mo.MonotoneNetwork(**args)


def test_bad_inputs_and_weights():
    model = tiny_mon()
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.zeros(2, 3, dtype=DOUBLE))
    with torch.no_grad():
        model.P[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        model(torch.zeros(2, 4, dtype=DOUBLE))
    with pytest.raises(TypeError, match="model"):
        im.mu_inf(model)


def test_penalty_is_the_differentiable_l2_bound():
    model = tiny_mon()
    penalty = model.lipschitz_penalty_l2()
    assert penalty.requires_grad
    assert float(penalty.detach()) == pytest.approx(
        model.lipschitz_bound_l2(), rel=1e-12
    )
    penalty.backward()
    assert model.input.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("m", [0.1, 1.0])
def test_logit_error_bound_holds_and_is_not_loose(m):
    model = tiny_mon(3, m=m, method="forward-backward")
    x, _ = batch(4, rows=20)
    with torch.no_grad():
        exact = model(x)
        model.solver = dataclasses.replace(model.solver, tol=1e-2, strict=False)
        z = model.equilibrium(x)
        error = (model.output(z) - exact).abs().amax(1)
    bound = model.logit_error_bound(x, z)
    assert torch.all(error <= bound)
    # loose by a factor 6-9 on these rows: within 20 on the closest one
    assert float((bound / error).min()) < 20
    with pytest.raises(ValueError, match="z must"):
        model.logit_error_bound(x, z[:, :3])
