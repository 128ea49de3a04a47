"""Certificates count the solver's error; attacks accept inputs of any shape."""

import pytest
import torch

from contraction.nn import robustness


def test_certified_accuracy_counts_margins_and_logit_error():
    logits = torch.tensor([[3.0, 0.0], [1.0, 0.5], [0.0, 2.0]])
    y = torch.tensor([0, 0, 0])
    # margins 3 and 0.5 on the correct points; the third is wrong
    assert robustness.certified_accuracy(
        logits, y, 1.0, [0.0, 0.2, 1.0]
    ) == pytest.approx([2 / 3, 2 / 3, 1 / 3])
    assert robustness.certified_accuracy(
        logits, y, 1.0, [0.0], logit_error=0.3
    ) == pytest.approx([1 / 3])
    per_point = torch.tensor([0.0, 0.3, 0.0])
    assert robustness.certified_accuracy(
        logits, y, 1.0, [1.4, 1.6], per_point
    ) == pytest.approx([1 / 3, 0.0])


def test_certified_accuracy_needs_the_factor_two():
    # f(u) = W u with rows (1, 1) and (-1, -1): L = 2 in l_inf, and the corner
    # u - eps (1, 1) moves logit 0 down by L eps and logit 1 up by L eps
    W = torch.tensor([[1.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
    u = torch.tensor([[0.3, 0.2]], dtype=torch.float64)
    lipschitz, margin = 2.0, float((W @ u[0])[0] - (W @ u[0])[1])  # margin 2
    y = torch.tensor([0])
    for factor, certified in ((0.9, True), (1.1, False), (1.9, False)):
        eps = factor * margin / (2 * lipschitz)  # margin = 2 L eps / factor
        got = robustness.certified_accuracy(u @ W.T, y, lipschitz, [eps])[0]
        assert got == (1.0 if certified else 0.0)
        worst = u - eps * torch.ones(2, dtype=torch.float64)
        assert (worst @ W.T).argmax(1).item() == (0 if certified else 1)


def test_certified_accuracy_is_a_lower_bound_on_attacks():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    x, y = torch.rand(64, 2, 2), torch.randint(0, 3, (64,))
    lipschitz = float(model[1].weight.detach().abs().sum(1).max())
    with torch.no_grad():
        y = model(x).argmax(1)  # all clean points correct
    for eps in (0.01, 0.05, 0.2):
        attacked = robustness.pgd(model, x, y, eps, steps=20, clamp=None)
        robust = float((model(attacked).argmax(1) == y).float().mean())
        certified = robustness.certified_accuracy(
            model(x).detach(), y, lipschitz, [eps]
        )[0]
        assert certified <= robust


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lipschitz": -1.0}, "lipschitz"),
        ({"eps": []}, "eps"),
        ({"eps": [-0.1]}, "eps"),
        ({"logit_error": float("nan")}, "logit_error"),
        ({"logit_error": torch.ones(5)}, "logit_error"),
    ],
)
def test_certified_accuracy_rejects_bad_input(kwargs, match):
    arguments = {
        "logits": torch.zeros(3, 2),
        "y": torch.zeros(3, dtype=torch.long),
        "lipschitz": 1.0,
        "eps": [0.1],
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        robustness.certified_accuracy(**arguments)


def test_penalty_needs_a_model_bound():
    with pytest.raises(TypeError, match="lipschitz_bound"):
        robustness.lipschitz_penalty(torch.nn.Linear(2, 2))
