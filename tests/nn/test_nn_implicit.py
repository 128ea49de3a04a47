"""The fixed-point layer: implicit, JFB and unrolled gradients, any module, no silent
errors."""

import pytest
import torch
from torch import nn

from contraction.nn.implicit import FixedPointLayer, SolveRecord, fixed_point
from contraction.nn.solvers import NotConverged, SolverConfig

DOUBLE = torch.float64
TIGHT = SolverConfig(tol=1e-12, max_iter=3000)


def problem(seed=0, rows=4, n=6):
    gen = torch.Generator().manual_seed(seed)
    A = 0.8 * torch.randn(n, n, generator=gen, dtype=DOUBLE) / n**0.5
    b = torch.randn(rows, n, generator=gen, dtype=DOUBLE)
    return A.requires_grad_(True), b.requires_grad_(True)


def G(z, b, A):
    return torch.tanh(z @ A.T + b)


def loss(mode, A, b, config=TIGHT):
    z0 = torch.zeros_like(b)
    return fixed_point(G, z0, b, A, backward=mode, config=config).square().sum()


def test_implicit_gradient_equals_unrolled_autograd():
    A, b = problem()
    implicit = torch.autograd.grad(loss("implicit", A, b), (A, b))
    unrolled = torch.autograd.grad(
        loss("unrolled", A, b, SolverConfig(method="picard", tol=1e-12, max_iter=3000)),
        (A, b),
    )
    for g_i, g_u in zip(implicit, unrolled):
        torch.testing.assert_close(g_i, g_u, rtol=1e-8, atol=1e-10)


def test_implicit_gradient_passes_gradcheck_against_finite_differences():
    A, b = problem(rows=2, n=4)
    assert torch.autograd.gradcheck(
        lambda b, A: fixed_point(G, torch.zeros_like(b), b, A, config=TIGHT), (b, A)
    )


def test_jfb_is_the_first_neumann_term():
    A, b = problem()
    record = SolveRecord()
    z = fixed_point(
        G, torch.zeros_like(b), b, A, backward="jfb", config=TIGHT, record=record
    )
    (g_b,) = torch.autograd.grad(z.sum(), b)
    s = z.detach() @ A.detach().T + b.detach()
    torch.testing.assert_close(g_b, 1 - torch.tanh(s) ** 2)  # dG/db^T v with v = 1
    assert record.backward is None and record.forward.converged


def test_second_order_gradients_are_refused():
    A, b = problem()
    z = fixed_point(G, torch.zeros_like(b), b, A, config=TIGHT)
    with pytest.raises(RuntimeError, match="second-order"):
        torch.autograd.grad(z.sum(), b, create_graph=True)


def test_a_convolutional_block_as_the_fixed_point_map():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, z, x):
            return torch.tanh(0.2 * self.conv(z) + x)

    torch.manual_seed(0)
    layer = FixedPointLayer(Block().double(), config=TIGHT)
    x = torch.randn(3, 2, 5, 5, dtype=DOUBLE, requires_grad=True)
    z = layer(x, torch.zeros_like(x))
    z.square().sum().backward()
    assert layer.last_solve.forward.converged and layer.last_solve.backward.converged
    grad_w = layer.f.conv.weight.grad.clone()
    layer.f.conv.weight.grad = None
    unrolled = FixedPointLayer(
        layer.f,
        backward="unrolled",
        config=SolverConfig(method="picard", tol=1e-12, max_iter=3000),
    )
    unrolled(x, torch.zeros_like(x)).square().sum().backward()
    torch.testing.assert_close(grad_w, layer.f.conv.weight.grad, rtol=1e-7, atol=1e-10)


def test_non_convergence_is_loud_forward_and_backward():
    A, b = problem()
    with torch.no_grad():
        A.mul_(20)
    with pytest.raises(NotConverged, match="fixed point did not converge"):
        loss("implicit", A, b, SolverConfig(method="picard", max_iter=20))
    record = SolveRecord()
    z = fixed_point(
        G,
        torch.zeros_like(b),
        b,
        A,
        record=record,
        config=SolverConfig(method="picard", max_iter=20, strict=False),
    )
    assert not record.forward.converged and torch.isfinite(z).all()


def test_bad_arguments():
    A, b = problem()
    with pytest.raises(ValueError, match="backward"):
        fixed_point(G, torch.zeros_like(b), b, A, backward="adjoint")
    with pytest.raises(TypeError, match="config"):
        fixed_point(G, torch.zeros_like(b), b, A, config={"tol": 1e-6})
    with pytest.raises(TypeError, match=r"tensors\[1\]"):
        fixed_point(G, torch.zeros_like(b), b, 3.0)
    with pytest.raises(ValueError, match="anderson"):
        fixed_point(G, torch.zeros_like(b), b, A, backward="unrolled")
    with pytest.raises(TypeError, match="f must be"):
        FixedPointLayer(lambda z, x: z)


def test_a_solver_that_returns_its_start_gives_an_independent_output():
    # a warm start that is already the fixed point: the solver hands z0 back, and the
    # caller then overwrites its buffer in place (as a quantized layer does)
    A, b = problem()
    z_star = fixed_point(G, torch.zeros_like(b), b, A, config=TIGHT).detach()
    buffer = z_star.clone()
    z = fixed_point(
        G, buffer, b, A, forward_solver=lambda z0: (z0, SolveRecord().forward)
    )
    buffer.zero_()
    assert torch.equal(z.detach(), z_star)
    z.square().sum().backward()
    assert A.grad is not None and torch.isfinite(A.grad).all()
