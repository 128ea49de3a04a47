"""Product quantization arithmetic, quantization-aware layers and cost meters (Chapter
5)."""

import copy
import math
import warnings

import pytest
import torch
from torch import nn

from contraction import quantize as Q


def test_subvectors_round_trip_and_refuse_a_d_that_does_not_divide():
    w = torch.arange(24.0).reshape(2, 3, 4)
    W = Q.to_subvectors(w, 2)
    assert W.shape == (12, 2) and W[1].tolist() == [2.0, 3.0]  # consecutive entries
    assert torch.equal(Q.from_subvectors(W, w.shape), w)
    with pytest.raises(ValueError, match="d must divide"):
        Q.to_subvectors(w, 5)
    with pytest.raises(ValueError, match="shape"):
        Q.from_subvectors(W, (5, 5))


def test_bits_per_weight_and_compression():
    assert (
        Q.bits_per_weight(8, 1) == 3 and Q.bits_per_weight(2, 2) == 0.5
    )  # Table 2.4's note
    assert Q.bits_per_weight(16, 4) == 1
    # n = 1000, k = 8, d = 1: 32000 bits against 3000 index bits + 8 codewords of 32
    # bits
    assert Q.compression_ratio(1000, 8, 1) == pytest.approx(32000 / (3000 + 256))
    assert Q.compression_ratio(1000, 8, 1, codebook=False) == pytest.approx(32 / 3)
    # both sides of the bound: below float_bits / bits_per_weight, and reaching it as n
    # grows
    ratios = [Q.compression_ratio(n, 4, 2) for n in (100, 10_000, 1_000_000)]
    bound = 32 / Q.bits_per_weight(4, 2)
    assert all(r < bound for r in ratios) and bound - ratios[-1] < 1e-3 * bound
    assert all(a < b for a, b in zip(ratios, ratios[1:]))
    for bad in (dict(n=10, k=0, d=1), dict(n=10, k=2, d=3), dict(n=0, k=2, d=1)):
        with pytest.raises(ValueError):
            Q.compression_ratio(**bad)


def train(layer, x, target, steps, lr):
    """Plain SGD on the mean squared error; returns the losses."""
    opt = torch.optim.SGD(layer.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (layer(x) - target).square().mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def regression(n_in=8, n_out=4, n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g)
    return x, x @ torch.randn(n_in, n_out, generator=g)


@pytest.mark.parametrize("method", Q.METHODS)
def test_quantized_linear_trains_and_deploys_k_values(method):
    torch.manual_seed(0)
    x, y = regression()
    layer = Q.QuantizedLinear(
        nn.Linear(8, 4), k=4, tau=0.05, method=method, iters=10, backward_max_iter=50
    )
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # a lax adjoint may fall back early on
        losses = train(layer, x, y, 5, 0.05)
    assert losses[-1] < losses[0]
    assert layer.layer.weight.grad is not None and layer.record.forward is not None
    layer.eval()
    with torch.no_grad():
        assert layer.quantized_weight().unique().numel() <= 4
        assert layer.indices().max() < 4
        deployed = x @ layer.quantized_weight().T + layer.layer.bias
        torch.testing.assert_close(layer(x), deployed)


def test_quantized_conv2d_trains_with_two_dimensional_codewords():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    layer = Q.QuantizedConv2d(conv, k=4, d=2, tau=0.05, iters=100)
    assert "bits/weight=1" in repr(layer)
    x = torch.randn(4, 2, 6, 6)
    target = torch.randn(4, 3, 6, 6)
    losses = train(layer, x, target, 4, 0.1)  # converged clustering: no adjoint warning
    assert losses[-1] < losses[0]
    layer.eval()
    W = Q.to_subvectors(layer.quantized_weight(), 2)
    assert W.unique(dim=0).shape[0] <= 4
    assert "codebook" in layer.state_dict()


def test_quantize_model_replaces_every_linear_and_conv():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    Q.quantize_model(model, k=2, tau=0.1)
    kinds = [type(m) for m in model]
    assert kinds.count(Q.QuantizedLayer) == 2
    assert model(torch.randn(5, 1, 4, 4)).shape == (5, 3)


def test_layer_bad_input_is_refused_by_name():
    with pytest.raises(TypeError, match="layer"):
        Q.QuantizedLinear(nn.Conv2d(1, 1, 1), k=2)
    with pytest.raises(TypeError, match="layer"):
        Q.QuantizedConv2d(nn.Linear(2, 2), k=2)
    with pytest.raises(TypeError, match="layer"):
        Q.QuantizedLayer(nn.ReLU(), k=2)
    with pytest.raises(ValueError, match="k must not exceed"):
        Q.QuantizedLinear(nn.Linear(2, 2), k=5)
    with pytest.raises(ValueError, match="tau"):
        Q.QuantizedLinear(nn.Linear(4, 4), k=2, tau=0)
    with pytest.raises(ValueError, match="method"):
        Q.QuantizedLinear(nn.Linear(4, 4), k=2, method="ste")
    with pytest.raises(ValueError, match="d must divide"):
        Q.QuantizedLinear(nn.Linear(3, 1), k=2, d=2)


def test_saved_tensor_meter_counts_what_autograd_keeps():
    x = torch.randn(1000, requires_grad=True)
    with Q.SavedTensorMeter() as meter:
        y = x.exp()  # saves its output: 4000 bytes
        z = (y * y).sum()  # saves y twice: the same storage, counted once
        assert meter.current == 4000 and meter.count == 3 and meter.total == 12000
        z.backward()
    assert meter.peak == 4000 and meter.current == 0  # released by the backward pass
    report = Q.backward_memory(lambda: x.exp().sum().backward())
    assert report.saved_peak == 4000 and report.cuda_peak is None


def test_time_step_and_its_bad_input():
    calls = []
    seconds = Q.time_step(lambda: calls.append(1), repeats=3, warmup=2)
    assert seconds >= 0 and len(calls) == 5
    with pytest.raises(ValueError, match="repeats"):
        Q.time_step(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="step"):
        Q.backward_memory(None)
    assert math.isfinite(seconds)


def _tiny_quantized(seed=0, tau=0.05):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    Q.quantize_model(model, 4, 1, tau=tau, tol=1e-12, iters=200)
    x = torch.randn(16, 6, dtype=torch.float64)
    return model, x, torch.randint(0, 3, (16,))


def test_gradient_angle_of_jfb_against_idkm():
    model, x, y = _tiny_quantized()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert Q.gradient_angle(model, x, y, ("idkm", "idkm")) == pytest.approx(0, abs=1e-5)
    # IDKM is the exact gradient: DKM unrolled to convergence points the same way
    assert Q.gradient_angle(model, x, y, ("idkm", "dkm")) < 0.1
    angle = Q.gradient_angle(model, x, y)
    assert 0.5 < angle < 90  # JFB turns the gradient, but still descends
    # computed by hand from the two gradients
    grads = []
    for method in ("idkm", "jfb"):
        twin = copy.deepcopy(model)
        for layer in (twin[0], twin[2]):
            layer.options["method"] = method
        loss = nn.functional.cross_entropy(twin(x), y)
        weights = [twin[0].layer.weight, twin[2].layer.weight]
        grads.append(
            torch.cat([g.flatten() for g in torch.autograd.grad(loss, weights)])
        )
    cosine = grads[0] @ grads[1] / (grads[0].norm() * grads[1].norm())
    assert angle == pytest.approx(math.degrees(math.acos(cosine)), abs=1e-6)
    # the model itself is untouched (copies do the work)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k])
    with pytest.raises(ValueError, match="methods"):
        Q.gradient_angle(model, x, y, ("idkm", "newton"))
    with pytest.raises(ValueError, match="QuantizedLayer"):
        Q.gradient_angle(nn.Linear(6, 3).double(), x, y)
