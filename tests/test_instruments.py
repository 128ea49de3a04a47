import numpy as np
import pytest
import torch

from contraction import norms
from contraction.book import instruments


def _mlp(rng, sizes):
    weights = [rng.normal(size=(sizes[k + 1], sizes[k])) for k in range(len(sizes) - 1)]
    biases = [rng.normal(size=sizes[k + 1]) for k in range(len(sizes) - 1)]
    return weights, biases


def _forward(weights, biases, u):
    h = u
    for W, b in zip(weights[:-1], biases[:-1]):
        h = np.maximum(W @ h + b, 0.0)
    return weights[-1] @ h + biases[-1]


@pytest.mark.parametrize("sizes", [(3, 4, 2), (3, 8, 6, 2), (2, 5, 5, 5, 1)])
def test_feedforward_fixed_point_is_the_forward_pass(sizes):
    rng = np.random.default_rng(0)
    weights, biases = _mlp(rng, sizes)
    inn = instruments.feedforward_to_implicit(weights, biases)
    depth = len(sizes) - 2
    A = inn["A"]
    assert np.allclose(np.triu(A), 0.0)  # strictly lower triangular
    assert not np.linalg.matrix_power(A, depth).any()  # nilpotent of index <= depth
    for u in rng.normal(size=(5, sizes[0])):
        x = np.zeros(A.shape[0])
        for _ in range(depth):  # Picard ends in `depth` steps
            x = np.maximum(A @ x + inn["B"] @ u + inn["b"], 0.0)
        assert np.allclose(
            x, np.maximum(A @ x + inn["B"] @ u + inn["b"], 0.0), atol=1e-12
        )
        assert np.allclose(
            inn["C"] @ x + inn["c"], _forward(weights, biases, u), atol=1e-12
        )
    assert inn["blocks"] == list(sizes[1:-1])


def test_feedforward_bad_input():
    rng = np.random.default_rng(1)
    weights, biases = _mlp(rng, (3, 4, 2))
    with pytest.raises(ValueError, match="weights"):
        instruments.feedforward_to_implicit(weights[:1], biases[:1])
    with pytest.raises(ValueError, match="biases"):
        instruments.feedforward_to_implicit(weights, biases[:1])
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        instruments.feedforward_to_implicit([weights[0], np.ones((2, 5))], biases)
    with pytest.raises(ValueError, match=r"biases\[0\]"):
        instruments.feedforward_to_implicit(weights, [np.ones(3), biases[1]])
    with pytest.raises(ValueError, match="non-finite"):
        instruments.feedforward_to_implicit([weights[0] * np.nan, weights[1]], biases)


def test_error_ratios_of_a_linear_contraction_equal_its_factor():
    q = 0.7
    x_star = np.array([[1.0, -2.0], [0.5, 0.0]])
    ratios = instruments.linf_error_ratios(
        lambda x: x_star + q * (x - x_star), np.zeros((2, 2)), x_star, max_steps=500
    )
    assert 0 < ratios.size < 500 and np.allclose(ratios, q)


def test_error_ratios_with_torch_and_a_banach_map():
    torch.manual_seed(0)
    A = torch.tensor([[-1.0, 0.3], [0.2, -0.5]])
    b = torch.randn(4, 2)
    alpha = 1.0 / (1.0 + 1.0)  # 1 / (1 - min a_ii)
    factor = 1 - alpha * (1 - max(norms.lognorm(A.numpy(), np.inf), 0.0))

    def step(x):
        return (1 - alpha) * x + alpha * torch.relu(x @ A.T + b)

    x = torch.zeros(4, 2)
    for _ in range(200):
        x = step(x)
    ratios = instruments.linf_error_ratios(step, 5 * torch.randn(4, 2), x, floor=1e-8)
    assert ratios.size > 0 and ratios.max() <= factor + 1e-9


def test_error_ratios_bad_input():
    with pytest.raises(TypeError, match="step"):
        instruments.linf_error_ratios(3, np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="x_star"):
        instruments.linf_error_ratios(lambda x: x, np.zeros((1, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="floor"):
        instruments.linf_error_ratios(
            lambda x: x, np.zeros((1, 2)), np.ones((1, 2)), floor=0
        )
    with pytest.raises(ValueError, match="non-finite"):
        instruments.linf_error_ratios(
            lambda x: x * np.inf, np.ones((1, 2)), np.zeros((1, 2))
        )


def test_saved_tensor_bytes_grows_with_unrolled_depth():
    W = torch.randn(5, 5, dtype=torch.float64, requires_grad=True)

    def unrolled(k):
        x = torch.ones(3, 5, dtype=torch.float64)
        for _ in range(k):
            x = torch.relu(x @ W.T)
        return x.sum()

    sizes = [
        instruments.saved_tensor_bytes(lambda k=k: unrolled(k))[1]
        for k in (1, 2, 5, 10)
    ]
    per_layer = sizes[1] - sizes[0]  # layer 1 keeps less: its input needs no grad
    assert sizes[0] > 0 and per_layer > 0
    assert sizes[3] - sizes[2] == 5 * per_layer  # memory grows linearly with the depth
    assert instruments.saved_tensor_bytes(lambda: unrolled(3))[0].requires_grad
    with torch.no_grad():
        assert instruments.saved_tensor_bytes(lambda: unrolled(4))[1] == 0
    with pytest.raises(TypeError, match="fn"):
        instruments.saved_tensor_bytes(5)
