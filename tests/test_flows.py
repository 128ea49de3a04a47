"""Tests of contraction.flows: fixed-step Runge-Kutta integration."""

import pytest
import torch

from contraction import flows

F64 = torch.float64


def test_rk4_is_fourth_order_on_a_linear_system():
    a = torch.tensor([[-1.0, 4.0], [0.0, -1.0]], dtype=F64)
    x0 = torch.tensor([[0.0, 2.0]], dtype=F64)
    exact = torch.linalg.matrix_exp(a) @ x0[0]
    errors = [
        (flows.rk4(lambda x: x @ a.T, x0, 1.0 / n, n)[-1, 0] - exact).norm()
        for n in (10, 20)
    ]
    assert 14 < errors[0] / errors[1] < 18  # 2^4 = 16


def test_rk4_returns_every_step_and_rejects_bad_steps():
    path = flows.rk4(lambda x: -x, torch.ones(3, 2, dtype=F64), 0.1, 5, substeps=2)
    assert path.shape == (6, 3, 2)
    assert torch.allclose(path[-1], torch.exp(torch.tensor(-0.5, dtype=F64)), atol=1e-7)
    with pytest.raises(ValueError, match="dt"):
        flows.rk4(lambda x: x, torch.zeros(1, 2), 0.0, 3)
    with pytest.raises(ValueError, match="steps"):
        flows.rk4(lambda x: x, torch.zeros(1, 2), 0.1, 0)
