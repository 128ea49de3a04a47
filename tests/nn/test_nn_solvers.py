"""Fixed-point solvers on (batch, *state) tensors: convergence per problem, failures
reported."""

import math

import pytest
import torch

from contraction.nn import solvers

DOUBLE = torch.float64


def contraction_map(shape, factor=0.8, seed=0):
    """G(z) = factor * tanh(z @ M) + b per problem: a contraction of the whole state."""
    gen = torch.Generator().manual_seed(seed)
    n = shape[-1]
    M = torch.randn(n, n, generator=gen, dtype=DOUBLE)
    M = factor * M / torch.linalg.matrix_norm(M, ord=2)
    b = torch.randn(*shape, generator=gen, dtype=DOUBLE)
    return lambda z: torch.tanh(z @ M) + b


@pytest.mark.parametrize("method", solvers.METHODS)
@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 5), (2, 3, 2, 5)])
def test_every_method_solves_states_of_any_shape(method, shape):
    G = contraction_map(shape)
    z, info = solvers.solve(
        G,
        torch.zeros(shape, dtype=DOUBLE),
        method=method,
        alpha=0.9,
        tol=1e-10,
        max_iter=2000,
    )
    assert info.converged and info.reason == "" and z.shape == shape
    assert float((G(z) - z).abs().max()) <= 1e-10
    assert info.residuals.shape == (shape[0],) and float(info.residuals.max()) <= 1e-10


def test_anderson_takes_at_most_half_the_iterations_on_a_coupled_state():
    gen = torch.Generator().manual_seed(1)
    Q, _ = torch.linalg.qr(torch.randn(8, 8, generator=gen, dtype=DOUBLE))
    # symmetric with eigenvalues up to 0.95 in modulus: Picard needs hundreds of steps
    M = Q @ torch.diag(torch.linspace(-0.95, 0.95, 8, dtype=DOUBLE)) @ Q.T
    b = torch.randn(4, 6, 8, generator=gen, dtype=DOUBLE)

    def G(z):  # couples the six rows of each problem through their mean
        return z @ M + 0.5 * (z.mean(1, keepdim=True) - z) @ M + b

    z0 = torch.zeros(4, 6, 8, dtype=DOUBLE)
    _, picard = solvers.solve(G, z0, method="picard", tol=1e-8, max_iter=5000)
    _, anderson = solvers.solve(G, z0, method="anderson", tol=1e-8, max_iter=5000)
    assert anderson.iterations <= 0.5 * picard.iterations


def test_iteration_count_is_exact_whatever_check_every():
    G = contraction_map((3, 5))
    z0 = torch.zeros(3, 5, dtype=DOUBLE)
    counts = {
        k: solvers.solve(G, z0, method="averaged", alpha=0.7, tol=1e-9, check_every=k)[
            1
        ].iterations
        for k in (1, 4, 7)
    }
    assert len(set(counts.values())) == 1


def test_problems_converge_on_their_own():
    scale = torch.tensor([0.1, 0.9], dtype=DOUBLE)[:, None]
    z, info = solvers.solve(
        lambda z: scale * z + 1.0,
        torch.zeros(2, 3, dtype=DOUBLE),
        method="picard",
        tol=1e-9,
        max_iter=500,
    )
    torch.testing.assert_close(z, (1 / (1 - scale)).expand(2, 3), rtol=0, atol=1e-7)
    assert info.converged


def test_failures_are_reported_never_nan():
    z0 = torch.ones(2, 3, dtype=DOUBLE)
    _, info = solvers.solve(
        lambda z: 3 * z + 1, z0, method="picard", max_iter=200, strict=False
    )
    assert not info.converged and "diverged" in info.reason
    z, info = solvers.solve(lambda z: z * math.nan, z0, strict=False)
    assert (
        not info.converged and "non-finite" in info.reason and torch.isfinite(z).all()
    )
    _, info = solvers.solve(
        lambda z: 0.99 * z + 1, z0, method="picard", max_iter=4, strict=False
    )
    assert not info.converged and "max_iter=4" in info.reason and info.iterations == 4
    z, _ = solvers.solve(
        lambda z: 0.5 * z,
        z0,
        method="picard",
        max_iter=3,
        tol=1e-12,
        check_every=2,
        strict=False,
    )
    torch.testing.assert_close(
        z, z0 / 8
    )  # the latest iterate, not the last checked one
    with pytest.raises(
        solvers.NotConverged, match="did not converge: max_iter"
    ) as caught:
        solvers.solve(lambda z: 0.99 * z + 1, z0, method="picard", max_iter=4)
    assert caught.value.info.iterations == 4


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("tol", 0.0, ValueError),
        ("tol", -1e-6, ValueError),
        ("max_iter", 0, ValueError),
        ("memory", 0, ValueError),
        ("alpha", 1.5, ValueError),
        ("alpha", 0.0, ValueError),
        ("check_every", 0, ValueError),
        ("strict", "yes", TypeError),
        ("method", 3, TypeError),
    ],
)
def test_bad_config(field, value, error):
    with pytest.raises(error, match=field):
        solvers.SolverConfig(**{field: value})


def test_bad_states_and_maps():
    G = lambda z: 0.5 * z  # noqa: E731
    with pytest.raises(ValueError, match="z0 must have shape"):
        solvers.solve(G, torch.zeros(3))
    with pytest.raises(ValueError, match="non-finite"):
        solvers.solve(G, torch.full((2, 2), math.inf))
    with pytest.raises(TypeError, match="floating-point"):
        solvers.solve(G, torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="z0 must be a torch tensor"):
        solvers.solve(G, [[0.0]])
    with pytest.raises(TypeError, match="G must be callable"):
        solvers.solve(3, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="shape"):
        solvers.solve(lambda z: torch.cat([z, z], 1), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="method must be one of"):
        solvers.solve(G, torch.zeros(2, 2), method="newton")


# --- the affine solver (explicit matrices)
# ------------------------------------------------------------


def affine_problem(batch=3, n=6, radius=0.9, seed=0):
    """A (batch, n, n) of spectral radius ``radius`` per problem (not symmetric), b."""
    gen = torch.Generator().manual_seed(seed)
    A = torch.randn(batch, n, n, generator=gen, dtype=DOUBLE)
    A = radius * A / torch.linalg.eigvals(A).abs().amax(-1)[:, None, None]
    return A, torch.randn(batch, n, generator=gen, dtype=DOUBLE)


def test_affine_solver_takes_the_averaged_iterates_to_the_solution():
    A, b = affine_problem()
    z, info = solvers.solve_affine(A, b, alpha=0.5, tol=1e-12, max_iter=2000)
    exact = torch.linalg.solve(torch.eye(6, dtype=DOUBLE) - A, b)
    assert info.converged and info.iterations % 16 == 0
    torch.testing.assert_close(z, exact, rtol=0, atol=1e-10)
    # the same iterates as the generic averaged solver, to rounding
    steps = 48
    ours, _ = solvers.solve_affine(A, b, alpha=0.5, max_iter=steps, strict=False)
    generic, _ = solvers.solve(
        lambda z: (A @ z.unsqueeze(-1)).squeeze(-1) + b,
        b,
        method="averaged",
        alpha=0.5,
        tol=1e-300,
        max_iter=steps,
        strict=False,
    )
    torch.testing.assert_close(ours, generic, rtol=1e-12, atol=1e-12)


def test_affine_solver_reports_failures():
    A, b = affine_problem(radius=0.999)
    _, info = solvers.solve_affine(A, b, alpha=0.25, max_iter=40, strict=False)
    assert not info.converged and "max_iter=40" in info.reason and info.iterations == 40
    with pytest.raises(solvers.NotConverged, match="adjoint"):
        solvers.solve_affine(A, b, max_iter=40, what="adjoint")
    # an eigenvalue 3 > 1: the residual blows up, reported, the last finite iterate kept
    z, info = solvers.solve_affine(3 * A / 0.999, b, alpha=1.0, strict=False)
    assert not info.converged and "diverged" in info.reason
    assert torch.isfinite(z).all()
    with pytest.raises(ValueError, match="A must have shape"):
        solvers.solve_affine(A[:, :2], b)
    with pytest.raises(ValueError, match="alpha"):
        solvers.solve_affine(A, b, alpha=0.0)
