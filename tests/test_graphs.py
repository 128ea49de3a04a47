import numpy as np
import pytest

from contraction import graphs


def test_laplacian_properties():
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.1, 2.0, (6, 6))
    # a weighted ring, with self-loops that the Laplacian must ignore
    A = graphs.ring_graph(6) * (weights + weights.T) + np.diag(rng.uniform(0, 1, 6))
    L = graphs.laplacian(A)
    np.testing.assert_allclose(L @ np.ones(6), 0, atol=1e-12)
    np.testing.assert_allclose(L, L.T)
    assert np.linalg.eigvalsh(L)[0] > -1e-12
    np.testing.assert_allclose(L, graphs.laplacian(A - np.diag(np.diag(A))))
    D = rng.uniform(0, 1, (4, 4))
    L_dir = graphs.laplacian(D, directed=True)
    np.testing.assert_allclose(L_dir.sum(axis=1), 0, atol=1e-12)


def test_algebraic_connectivity_closed_forms():
    for n in (3, 5, 8):
        assert graphs.algebraic_connectivity(graphs.path_graph(n)) == pytest.approx(
            2 * (1 - np.cos(np.pi / n))
        )
        assert graphs.algebraic_connectivity(graphs.ring_graph(n)) == pytest.approx(
            2 * (1 - np.cos(2 * np.pi / n))
        )
        assert graphs.algebraic_connectivity(graphs.complete_graph(n)) == pytest.approx(
            n
        )
    two_parts = np.zeros((4, 4))
    two_parts[:2, :2] = two_parts[2:, 2:] = 1.0
    assert abs(graphs.algebraic_connectivity(two_parts)) < 1e-12


def test_graph_input_validation():
    with pytest.raises(ValueError, match="adjacency"):
        graphs.laplacian([[0, -1], [-1, 0]])
    with pytest.raises(ValueError, match="symmetric"):
        graphs.laplacian([[0, 1], [0, 0]])
    with pytest.raises(ValueError, match="adjacency"):
        graphs.laplacian(np.ones((2, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        graphs.algebraic_connectivity([[0.0]])
    with pytest.raises(ValueError, match="n"):
        graphs.ring_graph(2)
    with pytest.raises(TypeError, match="n"):
        graphs.path_graph(2.5)
