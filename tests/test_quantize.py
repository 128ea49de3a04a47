"""Soft k-means and its three gradients (contraction.quantize, Chapter 5; jaffe2024 Ch.
2)."""

import math
import warnings

import pytest
import torch

from contraction import quantize as Q
from contraction.nn.solvers import NotConverged


def clusters(centers=(-2.0, 0.0, 2.0), per=10, spread=0.3, d=1, seed=0):
    """Rows drawn around well-separated centers (float64)."""
    g = torch.Generator().manual_seed(seed)
    parts = [
        c + spread * torch.randn(per, d, generator=g, dtype=torch.float64)
        for c in centers
    ]
    return torch.cat(parts)


def uniform(m=60, seed=0):
    """Rows spread evenly, with no clusters: soft k-means converges slowly (rho ~
    0.6)."""
    return torch.rand(
        m, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def start(W, k, seed=0):
    return Q.init_codebook(
        W, k, "kmeans++", generator=torch.Generator().manual_seed(seed)
    )


def grad_of(W, C, u):
    (g,) = torch.autograd.grad((C * u).sum(), W)
    return g


# --- the fixed point
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("distance", Q.DISTANCES)
def test_centers_are_a_fixed_point_of_the_em_map(distance):
    W = clusters(d=2)
    record = Q.KMeansRecord()
    C = Q.soft_kmeans(
        W, start(W, 3), 0.3, distance, "idkm", iters=500, tol=1e-13, record=record
    )
    assert record.forward.converged and record.forward.iterations < 500
    assert torch.allclose(Q.em_update(C, W, 0.3, distance), C, rtol=0, atol=1e-12)
    # the M-step (2.9) by hand: attention-weighted means
    A = Q.attention(W, C, 0.3, distance)
    assert torch.allclose(A.sum(1), torch.ones(len(W), dtype=W.dtype))
    assert torch.allclose((A.T @ W) / A.sum(0)[:, None], C, atol=1e-11)


def test_euclidean_distance_is_the_norm_not_its_square():
    W = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    C = torch.tensor([[0.0, 0.0]])
    assert Q.distances(W, C).flatten().tolist() == [pytest.approx(0.0, abs=1e-14), 5.0]
    assert Q.distances(W, C, "sqeuclidean").flatten().tolist() == [0.0, 25.0]


def test_small_tau_approaches_hard_kmeans_from_both_sides():
    W = clusters(spread=0.4)
    C0 = start(W, 3, seed=1)
    hard = Q.lloyd(W, C0)
    errors = [
        float(
            (Q.soft_kmeans(W, C0, tau, method="jfb", iters=300, tol=1e-14) - hard)
            .abs()
            .max()
        )
        for tau in (1.0, 0.3, 0.1, 0.01)
    ]
    assert all(b < a for a, b in zip(errors, errors[1:]))  # shrinks as tau decreases
    assert (
        errors[0] > 1e-3 and errors[-1] < 1e-10
    )  # far at tau = 1, equal at tau = 0.01
    assert torch.equal(Q.hard_quantize(W, hard), hard[Q.hard_assign(W, hard)])
    soft_q = Q.soft_quantize(W, hard, 1e-3)
    assert torch.allclose(soft_q, Q.hard_quantize(W, hard), atol=1e-10)


def test_layers_in_a_batch_are_solved_independently():
    W = torch.stack([clusters(seed=0), clusters(centers=(-1.0, 1.0, 3.0), seed=1)])
    C0 = torch.stack([start(W[0], 3), start(W[1], 3)])
    both = Q.soft_kmeans(W, C0, 0.2, iters=300, tol=1e-12)
    for i in range(2):
        alone = Q.soft_kmeans(W[i], C0[i], 0.2, iters=300, tol=1e-12)
        assert torch.allclose(both[i], alone, atol=1e-10)


def test_exactly_t_iterations_when_tol_is_none():
    W = clusters()
    record = Q.KMeansRecord()
    C = Q.soft_kmeans(
        W, start(W, 3), 0.5, method="dkm", iters=7, tol=None, record=record
    )
    by_hand = start(W, 3)
    for _ in range(7):
        by_hand = Q.em_update(by_hand, W, 0.5)
    assert record.forward.iterations == 7 and not record.forward.converged
    torch.testing.assert_close(C.detach(), by_hand, rtol=0, atol=1e-14)


# --- gradients
# ----------------------------------------------------------------------------------


def test_implicit_gradient_equals_unrolled_to_convergence():
    W = clusters(spread=0.5).requires_grad_(True)
    C0, u = start(W.detach(), 3), torch.randn(3, 1, dtype=torch.float64)
    record = Q.KMeansRecord()
    implicit = grad_of(
        W,
        Q.soft_kmeans(
            W,
            C0,
            0.4,
            method="idkm",
            iters=2000,
            tol=1e-15,
            backward_tol=1e-13,
            record=record,
        ),
        u,
    )
    unrolled = grad_of(
        W, Q.soft_kmeans(W, C0, 0.4, method="dkm", iters=2000, tol=1e-15), u
    )
    assert record.backward.converged and record.fallback == ""
    torch.testing.assert_close(implicit, unrolled, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    "method,distance",
    [("idkm", "euclidean"), ("idkm", "sqeuclidean"), ("dkm", "euclidean")],
)
def test_gradient_matches_finite_differences(method, distance):
    W = torch.tensor(
        [[-1.0, 0.2], [-0.8, 0.1], [-1.2, -0.1], [0.9, 0.3], [1.1, -0.2], [1.3, 0.0]],
        dtype=torch.float64,
        requires_grad=True,
    )
    C0 = torch.tensor([[-0.5, 0.0], [0.5, 0.0]], dtype=torch.float64)

    def centers(w):
        return Q.soft_kmeans(
            w, C0, 0.3, distance, method, iters=1000, tol=1e-15, backward_tol=1e-13
        )

    assert torch.autograd.gradcheck(centers, (W,), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_jfb_differs_from_the_true_gradient_but_points_uphill():
    W = clusters(spread=0.6).requires_grad_(True)
    C0 = start(W.detach(), 3)
    g = torch.Generator().manual_seed(3)
    for _ in range(2):
        u = torch.randn(3, 1, generator=g, dtype=torch.float64)
        true = grad_of(
            W,
            Q.soft_kmeans(
                W, C0, 0.6, method="idkm", iters=1000, tol=1e-14, backward_tol=1e-12
            ),
            u,
        )
        jfb = grad_of(
            W, Q.soft_kmeans(W, C0, 0.6, method="jfb", iters=1000, tol=1e-14), u
        )
        cosine = float(true.flatten() @ jfb.flatten() / (true.norm() * jfb.norm()))
        assert 0 < cosine < 1 - 1e-4
        assert float((true - jfb).norm() / true.norm()) > 1e-3


def test_dkm_memory_grows_with_t_and_idkm_memory_is_flat():
    W = uniform().requires_grad_(True)  # slow to converge: no early exact fixed point
    C0 = Q.init_codebook(W.detach(), 4, "quantile")
    u = torch.randn(4, 1, dtype=torch.float64)

    def peak(method, t):
        def step():
            C = Q.soft_kmeans(
                W, C0, 0.02, method=method, iters=t, tol=None, backward_max_iter=8
            )
            (C * u).sum().backward()

        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", RuntimeWarning
            )  # t = 5 is not converged: no matter
            return Q.backward_memory(step).saved_peak

    dkm = [peak("dkm", t) for t in (5, 10, 20)]
    idkm = [peak("idkm", t) for t in (5, 20)]
    jfb = [peak("jfb", t) for t in (5, 20)]
    per_iteration = (dkm[2] - dkm[1]) / 10
    assert per_iteration > 0 and dkm[1] - dkm[0] == pytest.approx(
        5 * per_iteration, rel=0.01
    )
    assert idkm[0] == idkm[1] and jfb[0] == jfb[1]
    assert (
        idkm[0] < 2 * per_iteration + W.numel() * 8 + 1024
    )  # one evaluation of F, plus W
    assert dkm[2] > 8 * idkm[0]


def test_strict_backward_raises_and_lax_backward_falls_back_to_jfb():
    W = clusters(spread=0.6).requires_grad_(True)
    C0, u = start(W.detach(), 3), torch.ones(3, 1, dtype=torch.float64)
    options = dict(iters=500, tol=1e-13, backward_max_iter=1, backward_tol=1e-12)
    with pytest.raises(NotConverged, match="adjoint"):
        grad_of(W, Q.soft_kmeans(W, C0, 0.6, strict=True, **options), u)
    record = Q.KMeansRecord()
    with pytest.warns(RuntimeWarning, match="did not converge"):
        lax = grad_of(W, Q.soft_kmeans(W, C0, 0.6, record=record, **options), u)
    assert record.fallback == "jfb" and not record.backward.converged
    jfb = grad_of(W, Q.soft_kmeans(W, C0, 0.6, method="jfb", iters=500, tol=1e-13), u)
    torch.testing.assert_close(lax, jfb)


def test_anderson_adjoint_gives_the_same_gradient_in_fewer_steps():
    W = uniform().requires_grad_(True)
    C0, u = (
        Q.init_codebook(W.detach(), 4, "quantile"),
        torch.randn(4, 1, dtype=torch.float64),
    )
    records = {b: Q.KMeansRecord() for b in ("averaged", "anderson")}
    grads = {
        b: grad_of(
            W,
            Q.soft_kmeans(
                W,
                C0,
                0.02,
                iters=1000,
                tol=1e-14,
                backward=b,
                backward_tol=1e-11,
                record=r,
            ),
            u,
        )
        for b, r in records.items()
    }
    torch.testing.assert_close(
        grads["averaged"], grads["anderson"], rtol=1e-7, atol=1e-12
    )
    assert (
        records["anderson"].backward.iterations
        < records["averaged"].backward.iterations
    )


# --- the convergence condition
# ------------------------------------------------------------------


def exact_radius(W, C, tau):
    J = torch.autograd.functional.jacobian(lambda c: Q.em_update(c, W, tau), C)
    n = C.numel()
    return float(torch.linalg.eigvals(J.reshape(n, n)).abs().max())


def test_spectral_radius_estimate_matches_eigenvalues_at_a_solution():
    W = uniform()
    C = Q.soft_kmeans(W, Q.init_codebook(W, 4, "quantile"), 0.02, iters=1000, tol=1e-14)
    check = Q.check_contraction(W, C, 0.02, iters=100)
    exact = exact_radius(W, C, 0.02)
    assert check.spectral_radius == pytest.approx(exact, rel=1e-6)
    assert (
        0.5 < check.spectral_radius < 1 and check.contracting
    )  # slow, but contracting


def test_spectral_radius_above_one_at_an_unstable_fixed_point():
    # two symmetric clusters and both centers at their mean: a fixed point, but a saddle
    W = torch.tensor([[-1.0], [-0.9], [0.9], [1.0]], dtype=torch.float64)
    C = torch.zeros(2, 1, dtype=torch.float64)
    assert torch.allclose(Q.em_update(C, W, 0.2), C)
    check = Q.check_contraction(W, C, 0.2, iters=100)
    assert check.spectral_radius == pytest.approx(exact_radius(W, C, 0.2), rel=1e-6)
    assert check.spectral_radius > 1 and not check.contracting


# --- initial codebooks
# --------------------------------------------------------------------------


def test_initial_codebooks():
    W = clusters(spread=0.1)
    q = Q.init_codebook(W, 3, "quantile")
    assert q.shape == (3, 1) and torch.all(q[1:] > q[:-1])  # one per cluster, in order
    assert torch.equal(q, Q.init_codebook(W, 3, "quantile"))
    pp = start(W, 3, seed=5)
    assert sorted(round(float(c)) for c in pp) == [
        -2,
        0,
        2,
    ]  # D^2 sampling spreads them
    W2 = clusters(d=2)
    assert Q.init_codebook(W2, 5, "quantile").shape == (5, 2)
    same = torch.ones(4, 1)
    assert Q.init_codebook(same, 2).shape == (
        2,
        1,
    )  # fewer distinct rows than k: no error


# --- bad input
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(tau=0.0), ValueError, "tau"),
        (dict(tau=-1.0), ValueError, "tau"),
        (dict(tau=math.nan), ValueError, "tau"),
        (dict(tau="1"), TypeError, "tau"),
        (dict(method="kmeans"), ValueError, "method"),
        (dict(distance="cosine"), ValueError, "distance"),
        (dict(iters=0), ValueError, "iters"),
        (dict(tol=-1.0), ValueError, "tol"),
        (dict(alpha=1.5), ValueError, "alpha"),
        (dict(backward="newton"), ValueError, "backward"),
        (dict(record=object()), TypeError, "record"),
    ],
)
def test_bad_options_are_refused_by_name(kwargs, error, match):
    W, C0 = torch.randn(10, 1), torch.randn(3, 1)
    options = dict(tau=0.1)
    options.update(kwargs)
    with pytest.raises(error, match=match):
        Q.soft_kmeans(W, C0, **options)


@pytest.mark.parametrize(
    "W,C0,error,match",
    [
        (torch.randn(4, 1), torch.randn(5, 1), ValueError, "k .* must not exceed m"),
        (torch.randn(10), torch.randn(3, 1), ValueError, "W must have shape"),
        (torch.randn(10, 2), torch.randn(3, 1), ValueError, "C0 must have shape"),
        (torch.randn(2, 10, 1), torch.randn(3, 1), ValueError, "C0 must have shape"),
        (
            torch.tensor([[1.0], [math.inf], [0.0]]),
            torch.zeros(2, 1),
            ValueError,
            "W has non-finite",
        ),
        (
            torch.randn(10, 1),
            torch.tensor([[math.nan]]),
            ValueError,
            "C0 has non-finite",
        ),
        (
            torch.arange(10).reshape(10, 1),
            torch.zeros(2, 1),
            TypeError,
            "W must be a floating",
        ),
        ([[1.0], [2.0]], torch.zeros(1, 1), TypeError, "W must be a torch tensor"),
    ],
)
def test_bad_shapes_and_values_are_refused_by_name(W, C0, error, match):
    with pytest.raises(error, match=match):
        Q.soft_kmeans(W, C0, 0.1)


def test_bad_initialisation_and_check_arguments():
    W = torch.randn(10, 1)
    for k in (0, 11, 2.5, True):
        with pytest.raises(ValueError, match="k must"):
            Q.init_codebook(W, k)
    with pytest.raises(ValueError, match="method"):
        Q.init_codebook(W, 2, "random")
    with pytest.raises(ValueError, match="tau"):
        Q.check_contraction(W, W[:2], 0.0)
    with pytest.raises(ValueError, match="max_iter"):
        Q.lloyd(W, W[:2], max_iter=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # valid input: no warning either
        Q.soft_kmeans(W, W[:2], 0.5, iters=5)
