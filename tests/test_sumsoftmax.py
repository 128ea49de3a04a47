"""Tests of contraction.sumsoftmax: ssm, ksoftmax, the solver, the implicit backward,
the potential."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contraction import sumsoftmax as S
from contraction.hopfield import (
    ksoftmax,
    ssm,
)  # the stable public names (book/building.md)

FAST = settings(max_examples=40, deadline=None)


def vectors(max_n=12, scale=10.0):
    """Float64 vectors of length 2..max_n with entries in [-scale, scale]."""
    return st.integers(2, max_n).flatmap(
        lambda n: arrays(
            np.float64, n, elements=st.floats(-scale, scale, allow_nan=False)
        )
    )


def logit(p):
    return math.log(p / (1.0 - p))


@FAST
@given(vectors(), st.data())
def test_ssm_sums_to_k_with_entries_in_the_open_unit_interval(x, data):
    k = data.draw(st.integers(1, len(x) - 1))
    y = ssm(torch.tensor(x), k)
    assert abs(float(y.sum()) - k) <= 1e-9
    assert float(y.min()) > 0.0 and float(y.max()) < 1.0


@FAST
@given(vectors(), st.data())
def test_ssm_is_monotone_in_k_so_ksoftmax_columns_are_nonnegative(x, data):
    n = len(x)
    k = data.draw(st.integers(1, n - 1))
    t = torch.tensor(x)
    ys = torch.stack([ssm(t, j) for j in range(1, n)])
    assert bool((ys[1:] >= ys[:-1] - 1e-12).all())  # Proposition 3.5.2
    cols = ksoftmax(t, k)
    assert cols.shape == (n, k)
    assert float(cols.min()) >= -1e-12
    # each column sums to 1 and the columns add up to ssm(x; k)
    assert torch.allclose(cols.sum(0), torch.ones(k, dtype=t.dtype), atol=1e-9)
    assert torch.allclose(cols.sum(1), ys[k - 1], atol=1e-9)


@FAST
@given(vectors(), st.data())
def test_ssm_is_shift_invariant_and_permutation_equivariant(x, data):
    k = data.draw(st.integers(1, len(x) - 1))
    t = torch.tensor(x)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssm(t + 3.7, k), ssm(t, k), atol=1e-9)
    assert torch.allclose(ssm(t[perm], k), ssm(t, k)[perm], atol=1e-9)


def test_ssm_of_a_constant_vector_is_uniform():
    y = ssm(torch.zeros(4, 6, dtype=torch.float64), 2)
    assert torch.allclose(y, torch.full_like(y, 2 / 6))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ssm_tends_to_top_k_with_the_beta_of_proposition_3_5_1(seed):
    """At beta_eps of the proposition the top k entries are >= 1 - eps and the rest <=
    eps (the bound holds), and at beta_eps / 3 they are not (the bound is not loose by
    more than 3x)."""
    x = torch.randn(
        8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )
    n, k, eps = 8, 3, 1e-3
    srt = torch.sort(x, descending=True).values
    gap = float(srt[k - 1] - srt[k])
    M, m = logit(1 - eps), logit(eps)
    beta_eps = max(M - m, M - logit(eps / (n - k)), logit(1 - eps / k) - m) / gap
    top = torch.zeros(n, dtype=torch.bool)
    top[torch.topk(x, k).indices] = True

    def near_top_k(beta):
        y = ssm(beta * x, k)
        return bool((y[top] >= 1 - eps).all() and (y[~top] <= eps).all())

    assert near_top_k(beta_eps) and near_top_k(2 * beta_eps)
    assert not near_top_k(beta_eps / 3)
    errors = [
        float((ssm(b * x, k) - top.double()).abs().max()) for b in (1, 10, 100, 1000)
    ]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-12


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0, 1e3])
def test_large_and_small_inputs_converge_for_both_methods(dtype, scale):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 200, generator=g, dtype=torch.float64).to(dtype) * scale
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    ys = [ssm(x, 10, method=method) for method in S.METHODS]
    for y in ys:
        assert bool(torch.isfinite(y).all())
        assert float((y.double().sum(-1) - 10).abs().max()) <= tol
    assert float((ys[0] - ys[1]).abs().max()) <= 20 * tol  # the two solvers agree


def test_huge_inputs_give_the_top_k_indicator():
    x = torch.tensor([[1e3, -2e3, 5e2, 0.0, -1e3]], dtype=torch.float32)
    assert torch.equal(ssm(x, 2), torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0]]))
    x.requires_grad_(True)
    ssm(x, 2)[0, 0].backward()
    assert bool(torch.isfinite(x.grad).all())  # saturated: a zero gradient, not NaN


def test_newton_needs_few_iterations_where_bisection_needs_many():
    x = torch.randn(
        64, 1000, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
    )
    for scale in (1.0, 1e3):
        z = S._shifted(x * scale)
        kt = torch.full((64,), 10.0, dtype=torch.float64)
        newton = S.solve_dual(z, kt, "newton")[2]
        bisection = S.solve_dual(z, kt, "bisection")[2]
        assert newton <= 8 and bisection >= 4 * newton


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_benchmarks_multisection_baseline_solves_the_same_problem(
    scale, load_script
):
    bench = load_script("benchmarks/sum_softmax.py")
    x = torch.randn(
        8, 300, dtype=torch.float64, generator=torch.Generator().manual_seed(5)
    )
    x = (x * scale).requires_grad_(True)
    y, iterations = bench.multisection(x.detach(), 7)
    assert float((y - ssm(x.detach(), 7)).abs().max()) < 1e-10 and iterations >= 2
    upstream = torch.randn_like(y)
    grads = []
    for solver in bench.SOLVERS:  # one implicit backward shared by every solver
        x.grad = None
        bench.run(x, 7, solver).backward(upstream)
        grads.append(x.grad.clone())
    assert all(torch.allclose(g, grads[0], atol=1e-9) for g in grads)


def test_non_convergence_is_reported_not_returned_as_nan():
    z = torch.randn(
        4, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    kt = torch.full((4,), 5.0, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="did not converge"):
        S.solve_dual(z, kt, "bisection", tol=1e-300, max_iter=4)
    with pytest.raises(ValueError, match="x spans more than the largest float"):
        ssm(torch.tensor([3e38, -3e38, 1.0, 2.0]), 2)


def test_batched_leading_dimensions_match_row_by_row():
    x = torch.randn(
        2, 3, 4, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    y = ssm(x, 3)
    rows = torch.stack([ssm(r, 3) for r in x.reshape(-1, 7)]).reshape(x.shape)
    assert torch.allclose(y, rows, atol=1e-12)
    assert ksoftmax(x, 4).shape == (2, 3, 4, 7, 4)
    assert ssm(torch.zeros(0, 5), 2).shape == (0, 5)


def test_jacobian_is_the_symmetric_laplacian_of_proposition_3_6_1():
    x = (
        torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        * 2
    )
    J = torch.autograd.functional.jacobian(lambda t: ssm(t, 2), x)
    y = ssm(x, 2)
    h = y * (1 - y)
    assert torch.allclose(J, torch.diag(h) - torch.outer(h, h) / h.sum(), atol=1e-12)
    assert torch.allclose(J, J.T, atol=1e-14)
    assert float(J.sum(1).abs().max()) < 1e-12  # rows sum to zero
    off = J - torch.diag(torch.diagonal(J))
    assert float(off.max()) <= 0.0 and float(torch.diagonal(J).min()) > 0.0
    assert float(torch.linalg.eigvalsh(J).min()) >= -1e-12  # positive semidefinite


def test_gradcheck_float64():
    x = torch.randn(
        2,
        3,
        5,
        dtype=torch.float64,
        requires_grad=True,
        generator=torch.Generator().manual_seed(4),
    )
    assert torch.autograd.gradcheck(lambda t: ssm(t, 2), (x,))
    assert torch.autograd.gradcheck(lambda t: ksoftmax(t, 3), (x,))
    assert torch.autograd.gradcheck(lambda t: S.ssm_potential(t, 2), (x,))


def test_second_order_gradients_are_refused_loudly():
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(ssm(x, 2)[0], x, create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_solved_in_float32(dtype):
    y = ssm(torch.randn(3, 20).to(dtype), 4)
    assert y.dtype == dtype and float((y.float().sum(-1) - 4).abs().max()) < 0.1


def test_potential_gradient_closed_form_and_integral():
    x = torch.randn(
        7,
        dtype=torch.float64,
        requires_grad=True,
        generator=torch.Generator().manual_seed(5),
    )
    V = S.ssm_potential(x, 3)
    (grad,) = torch.autograd.grad(V, x)
    assert torch.allclose(grad, ssm(x.detach(), 3), atol=1e-10)
    # the dissertation's V_k(x) = int_0^1 x . ssm(t x; k) dt, by 40-point Gauss-Legendre
    nodes, weights = np.polynomial.legendre.leggauss(40)
    ts = torch.tensor((nodes + 1) / 2)
    integral = sum(
        w / 2 * float(x.detach() @ ssm(t * x.detach(), 3)) for t, w in zip(ts, weights)
    )
    assert abs(float(V.detach()) - integral) < 1e-9
    assert abs(float(S.ssm_potential(torch.zeros(7, dtype=torch.float64), 3))) < 1e-12


@FAST
@given(vectors(max_n=9), st.data())
def test_potential_lies_between_the_top_k_sum_and_that_minus_the_entropy(x, data):
    n = len(x)
    k = data.draw(st.integers(1, n - 1))
    t = torch.tensor(x)
    top_sum = float(torch.topk(t, k).values.sum())
    slack = -n * (k / n * math.log(k / n) + (1 - k / n) * math.log1p(-k / n))
    V = float(S.ssm_potential(t, k))
    assert top_sum - slack - 1e-9 <= V <= top_sum + 1e-9
    # V(beta x) / beta -> the top-k sum as beta grows (a smooth k-max sum)
    assert abs(float(S.ssm_potential(100 * t, k)) / 100 - top_sum) <= slack / 100 + 1e-9


def test_potential_edge_values_of_k():
    x = torch.randn(5, dtype=torch.float64)
    assert float(S.ssm_potential(x, 0)) == 0.0
    assert math.isclose(float(S.ssm_potential(x, 5)), float(x.sum()))


@pytest.mark.parametrize("k", [0, 5, 6, -1])
def test_k_out_of_range(k):
    with pytest.raises(ValueError, match="k must be in 1..4"):
        ssm(torch.zeros(5), k)
    with pytest.raises(ValueError, match="k must be in 1..4"):
        ksoftmax(torch.zeros(5), k)


@pytest.mark.parametrize("k", [1.5, 2.0, True, "2", None])
def test_k_of_wrong_type(k):
    with pytest.raises(TypeError, match="k must be an integer"):
        ssm(torch.zeros(5), k)


@pytest.mark.parametrize(
    "x, error, match",
    [
        (torch.tensor([1.0, float("nan"), 0.0]), ValueError, "x has non-finite"),
        (torch.tensor([1.0, float("inf"), 0.0]), ValueError, "x has non-finite"),
        (torch.tensor([1, 2, 3]), TypeError, "x must have a floating dtype"),
        (torch.tensor([1.0]), ValueError, "x must have a last dimension"),
        (torch.tensor(1.0), ValueError, "x must have a last dimension"),
        ("abc", TypeError, "x must be a tensor"),
        (3.0, TypeError, "x must be a tensor"),
        ([[1.0, 2.0], [3.0]], TypeError, "x must be a tensor"),
    ],
)
def test_bad_x(x, error, match):
    with pytest.raises(error, match=match):
        ssm(x, 1)


def test_arrays_are_accepted_and_method_is_checked():
    y = ssm(np.array([0.0, 1.0, 2.0]), 1)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64
    with pytest.raises(ValueError, match="method must be one of"):
        ssm(torch.zeros(3), 1, method="secant")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    x = torch.randn(32, 100, dtype=torch.float64) * 50
    y = ssm(x.cuda(), 7).cpu()
    assert torch.allclose(y, ssm(x, 7), atol=1e-9)
    xc = x.float().cuda().requires_grad_(True)
    ksoftmax(xc, 3)[..., 1].sum().backward()
    assert xc.grad.device.type == "cuda" and bool(torch.isfinite(xc.grad).all())
