"""Tests of contraction.hopfield: modern Hopfield networks, the k-Hopfield layer and
attention."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from contraction import hopfield as H

FAST = settings(max_examples=25, deadline=None)
F64 = torch.float64


def separated_memories(N=10, n=64, seed=0):
    """N random unit-norm memories in R^n (nearly orthogonal when n >> N)."""
    g = torch.Generator().manual_seed(seed)
    xi = torch.randn(N, n, generator=g, dtype=F64)
    return xi / xi.norm(dim=-1, keepdim=True), g


def test_one_step_retrieval_of_separated_memories_within_the_softmax_bound():
    """|x+ - xi_i| <= 2 M (N - 1) exp(-beta gap), gap = score of xi_i minus the best
    other score: the measured error is below the bound, and the bound is small, so the
    check has teeth."""
    xi, g = separated_memories()
    x = xi + 0.05 * torch.randn(
        xi.shape, generator=g, dtype=F64
    )  # one noisy query per memory
    beta = 40.0
    out = H.mchn_update(xi, x, beta)
    scores = x @ xi.T
    own = torch.diagonal(scores)
    other = (scores - torch.diag_embed(torch.full_like(own, math.inf))).amax(-1)
    M, N = float(xi.norm(dim=-1).max()), xi.shape[0]
    bound = 2 * M * (N - 1) * torch.exp(-beta * (own - other))
    error = (out - xi).norm(dim=-1)
    assert bool((error <= bound).all()) and float(bound.max()) < 1e-4
    # at a small beta the same queries land on an average of memories (metastable), not
    # on one
    assert float((H.mchn_update(xi, x, 0.5) - xi).norm(dim=-1).min()) > 0.5


@FAST
@given(st.integers(0, 10**6), st.floats(0.1, 20.0))
def test_modern_energy_never_increases_along_updates(seed, beta):
    xi, g = separated_memories(N=6, n=8, seed=seed)
    x = torch.randn(4, 8, generator=g, dtype=F64)
    energies = []
    for _ in range(6):
        energies.append(H.mchn_energy(xi, x, beta))
        x = H.mchn_update(xi, x, beta)
    E = torch.stack(energies)
    assert bool((E[1:] <= E[:-1] + 1e-10).all()) and float(E.min()) >= -1e-10


@pytest.mark.parametrize("kind", H.SIMILARITIES)
def test_khopfield_retrieves_the_k_nearest_memories_in_order(kind):
    xi, g = separated_memories(N=12, n=16, seed=1)
    x = torch.randn(3, 16, generator=g, dtype=F64)
    scores = H.similarity(xi, x, kind)
    top = torch.sort(scores, dim=-1, descending=True)
    order = top.indices[..., :4]
    cold = 40.0 / float(
        (top.values[..., :4] - top.values[..., 1:5]).min()
    )  # beyond the gaps
    assert torch.equal(H.khopfield_indices(xi, x, cold, 4, kind), order)
    X = H.khopfield(xi, x, cold, 4, kind)  # cold: each column close to one memory
    assert X.shape == (3, 16, 4)
    assert torch.allclose(X, xi[order].transpose(-1, -2), atol=1e-3)
    # a following modern Hopfield step snaps warmer columns (blends) onto the memories
    target = xi[order].transpose(-1, -2)
    warm = H.khopfield(xi, x, cold / 16, 4, kind)
    snapped = H.khopfield(xi, x, cold / 16, 4, kind, beta2=cold)
    assert float((warm - target).abs().max()) > 0.05
    assert float((snapped - target).abs().max()) < 1e-6


def test_similarities_are_what_they_say():
    xi, g = separated_memories(N=5, n=4, seed=2)
    x = torch.randn(2, 3, 4, generator=g, dtype=F64)
    diff = x.unsqueeze(-2) - xi
    assert torch.allclose(H.similarity(xi, x, "dot"), x @ xi.T)
    assert torch.allclose(H.similarity(xi, x, "sqeuclidean"), -(diff**2).sum(-1))
    assert torch.allclose(H.similarity(xi, x, "manhattan"), -diff.abs().sum(-1))


@pytest.mark.parametrize("i", [1, 2, 3])
def test_column_update_is_a_unit_gradient_step_on_its_energy(i):
    xi, g = separated_memories(N=8, n=6, seed=3)
    x = torch.randn(5, 6, generator=g, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(H.khopfield_energy(xi, x, 2.0, i).sum(), x)
    update = H.khopfield_column_update(xi, x.detach(), 2.0, i)
    assert torch.allclose(x.detach() - grad, update, atol=1e-9)
    ks = H.ksoftmax(2.0 * x.detach() @ xi.T, i)[..., i - 1]
    assert torch.allclose(update, ks @ xi, atol=1e-12)


@FAST
@given(st.integers(0, 10**6), st.floats(0.2, 10.0))
def test_first_column_energy_never_increases(seed, beta):
    """i = 1: a convex quadratic minus a convex potential, so the step is
    concave-convex."""
    xi, g = separated_memories(N=7, n=5, seed=seed)
    x = 2 * torch.randn(4, 5, generator=g, dtype=F64)
    energies = []
    for _ in range(6):
        energies.append(H.khopfield_energy(xi, x, beta, 1))
        x = H.khopfield_column_update(xi, x, beta, 1)
    E = torch.stack(energies)
    assert bool((E[1:] <= E[:-1] + 1e-9).all())


def test_later_column_energies_may_increase():
    """For i >= 2 the energy is a difference of convex potentials: a unit step can climb
    it (the dissertation leaves convergence of these updates open). A seeded float64
    example."""
    xi = torch.randn(20, 16, dtype=F64, generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 16, dtype=F64, generator=torch.Generator().manual_seed(1))
    rises = []
    for _ in range(5):
        new = H.khopfield_column_update(xi, x, 1.0, 2)
        rises.append(
            H.khopfield_energy(xi, new, 1.0, 2) - H.khopfield_energy(xi, x, 1.0, 2)
        )
        x = new
    assert float(torch.stack(rises).max()) > 1e-3


def test_attention_shapes_gradients_and_parameter_count():
    torch.manual_seed(0)
    dim, heads, tokens = 32, 4, 10
    att = H.KHopfieldAttention(dim, heads)
    x = torch.randn(2, tokens, dim)
    y = att(x)
    assert y.shape == x.shape
    y.square().sum().backward()
    assert all(
        p.grad is not None and bool(torch.isfinite(p.grad).all())
        for p in att.parameters()
    )
    w = att.attention(x).detach()
    assert w.shape == (2, tokens, tokens, heads)
    assert float(w.min()) >= -1e-6 and torch.allclose(
        w.sum(2), torch.ones(2, tokens, heads), atol=1e-4
    )
    ours = sum(p.numel() for p in att.parameters())
    mha = sum(p.numel() for p in torch.nn.MultiheadAttention(dim, heads).parameters())
    assert (
        ours == 3 * dim * (dim // heads) + dim * dim + dim
        and ours < mha == 4 * dim**2 + 4 * dim
    )


def test_attention_is_permutation_equivariant_over_tokens():
    torch.manual_seed(1)
    att = H.KHopfieldAttention(18, 3).double()
    x = torch.randn(1, 7, 18, dtype=F64)
    perm = torch.randperm(7)
    assert torch.allclose(att(x)[:, perm], att(x[:, perm]), atol=1e-10)


def test_attention_bad_input():
    with pytest.raises(ValueError, match="divisible by heads"):
        H.KHopfieldAttention(10, 3)
    att = H.KHopfieldAttention(8, 4)
    with pytest.raises(ValueError, match="less than the number of tokens"):
        att(torch.randn(1, 4, 8))
    with pytest.raises(ValueError, match="x must have shape"):
        att(torch.randn(4, 8))
    with pytest.raises(ValueError, match="beta must be positive"):
        H.KHopfieldAttention(8, 4, beta=0.0)


def test_batched_queries_match_one_by_one():
    xi, g = separated_memories(N=6, n=5, seed=4)
    x = torch.randn(2, 3, 5, generator=g, dtype=F64)
    X = H.khopfield(xi, x, 3.0, 2, "manhattan", beta2=2.0)
    rows = torch.stack(
        [H.khopfield(xi, q, 3.0, 2, "manhattan", beta2=2.0) for q in x.reshape(-1, 5)]
    )
    assert torch.allclose(X.reshape(-1, 5, 2), rows, atol=1e-12)
    assert H.mchn_update(xi, x, 1.0).shape == x.shape


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda xi, x: H.mchn_update(xi, x, 0.0), ValueError, "beta must be positive"),
        (lambda xi, x: H.mchn_update(xi, x, -1.0), ValueError, "beta must be positive"),
        (
            lambda xi, x: H.mchn_update(xi, x, "1"),
            TypeError,
            "beta must be a real number",
        ),
        (
            lambda xi, x: H.mchn_update(xi, x, math.inf),
            ValueError,
            "beta must be finite",
        ),
        (
            lambda xi, x: H.mchn_update(xi[0], x, 1.0),
            ValueError,
            "memories must have shape",
        ),
        (
            lambda xi, x: H.mchn_update(xi, x[..., :3], 1.0),
            ValueError,
            "x has last dimension 3",
        ),
        (
            lambda xi, x: H.mchn_update(xi, x.long(), 1.0),
            TypeError,
            "x must have a floating",
        ),
        (
            lambda xi, x: H.mchn_update(xi * math.nan, x, 1.0),
            ValueError,
            "memories has non-finite",
        ),
        (lambda xi, x: H.khopfield(xi, x, 1.0, 6), ValueError, "k must be in 1..5"),
        (lambda xi, x: H.khopfield(xi, x, 1.0, 0), ValueError, "k must be in 1..5"),
        (lambda xi, x: H.khopfield(xi, x, 1.0, 2.5), TypeError, "k must be an integer"),
        (
            lambda xi, x: H.khopfield(xi, x, 1.0, 2, "cosine"),
            ValueError,
            "similarity must be",
        ),
        (
            lambda xi, x: H.khopfield(xi, x, 1.0, 2, beta2=0.0),
            ValueError,
            "beta must be positive",
        ),
        (
            lambda xi, x: H.khopfield_energy(xi, x, 1.0, 6),
            ValueError,
            "i must be in 1..5",
        ),
        (lambda xi, x: H.similarity(xi, x, "l3"), ValueError, "similarity must be"),
    ],
)
def test_bad_input(call, error, match):
    xi, g = separated_memories(N=6, n=5, seed=5)
    x = torch.randn(2, 5, generator=g, dtype=F64)
    with pytest.raises(error, match=match):
        call(xi, x)


def test_mixed_dtypes_are_promoted():
    xi, _ = separated_memories(N=4, n=3)
    out = H.mchn_update(xi, torch.zeros(3, dtype=torch.float32), 1.0)
    assert out.dtype == F64
