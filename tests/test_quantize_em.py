"""The soft k-means step and its Jacobian (contraction.quantize_em, Chapter 5)."""

import pytest
import torch

from contraction import quantize as Q
from contraction import quantize_kmeans

DOUBLE = torch.float64


def autograd_jacobian(C, W, tau, distance):
    n = C.numel()
    J = torch.autograd.functional.jacobian(
        lambda c: Q.em_update(c, W, tau, distance), C
    )
    return J.reshape(n, n)


@pytest.mark.parametrize("distance", Q.DISTANCES)
@pytest.mark.parametrize("m, k, d", [(40, 4, 1), (30, 3, 2), (25, 5, 3)])
def test_closed_form_jacobian_equals_autograd(distance, m, k, d):
    g = torch.Generator().manual_seed(m + k + d)
    W = torch.randn(2, m, d, generator=g, dtype=DOUBLE)
    C = torch.randn(2, k, d, generator=g, dtype=DOUBLE)
    J = Q.em_jacobian(C, W, 0.3, distance)
    assert J.shape == (2, k * d, k * d)
    for layer in range(2):
        expected = autograd_jacobian(C[layer], W[layer], 0.3, distance)
        torch.testing.assert_close(J[layer], expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(Q.em_jacobian(C[0], W[0], 0.3, distance), J[0])


def test_a_dead_center_stays_put_to_first_order():
    W = torch.tensor([[-1.0], [-0.9], [0.9], [1.0]], dtype=DOUBLE)
    C = torch.tensor([[-1.0], [1.0], [60.0]], dtype=DOUBLE)  # nobody attends to 60
    J = Q.em_jacobian(C, W, 0.1)
    torch.testing.assert_close(J, autograd_jacobian(C, W, 0.1, "euclidean"))
    assert float(J[2, 2]) == pytest.approx(1.0) and float(J[2, :2].abs().max()) < 1e-200


def test_explicit_and_product_adjoints_give_the_same_gradient(monkeypatch):
    W = torch.rand(60, 1, generator=torch.Generator().manual_seed(0), dtype=DOUBLE)
    W.requires_grad_(True)
    C0 = Q.init_codebook(W.detach(), 4, "quantile")
    u = torch.randn(4, 1, generator=torch.Generator().manual_seed(1), dtype=DOUBLE)

    def gradient():
        record = Q.KMeansRecord()
        C = Q.soft_kmeans(
            W, C0, 0.02, iters=1000, tol=1e-14, backward_tol=1e-11, record=record
        )
        (grad,) = torch.autograd.grad((C * u).sum(), W)
        assert record.backward.converged and record.fallback == ""
        return grad, record.backward.iterations

    explicit, its_explicit = gradient()
    monkeypatch.setattr(quantize_kmeans, "_EXPLICIT_MAX", 0)  # one VJP per step
    products, its_products = gradient()
    torch.testing.assert_close(explicit, products, rtol=1e-8, atol=1e-13)
    # the same iteration, read every 16 steps instead of every 4
    assert its_products <= its_explicit < its_products + 16


def test_jacobian_rejects_bad_input():
    W, C = torch.randn(10, 1, dtype=DOUBLE), torch.randn(3, 1, dtype=DOUBLE)
    with pytest.raises(ValueError, match="tau"):
        Q.em_jacobian(C, W, 0.0)
    with pytest.raises(ValueError, match="distance"):
        Q.em_jacobian(C, W, 0.1, "manhattan")
    with pytest.raises(ValueError, match="C0 must have shape"):
        Q.em_jacobian(torch.randn(3, 2, dtype=DOUBLE), W, 0.1)
