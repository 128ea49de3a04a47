import numpy as np
import pytest

from contraction import runtime


def test_mode_override(monkeypatch):
    monkeypatch.setenv("CONTRACTION_MODE", "full")
    assert runtime.mode() == "full"
    monkeypatch.setenv("CONTRACTION_MODE", "FAST")
    assert runtime.mode() == "fast"
    monkeypatch.setenv("CONTRACTION_MODE", "turbo")
    with pytest.raises(ValueError, match="CONTRACTION_MODE"):
        runtime.mode()


def test_default_mode_follows_cuda(monkeypatch):
    import torch

    monkeypatch.delenv("CONTRACTION_MODE", raising=False)
    expected = "full" if torch.cuda.is_available() else "fast"
    assert runtime.mode() == expected


def test_device_is_a_torch_device():
    import torch

    assert isinstance(runtime.device(), torch.device)


def test_seed_everything_is_reproducible():
    import torch

    a = (
        runtime.seed_everything(3).normal(size=3),
        np.random.rand(),
        torch.rand(1).item(),
    )
    b = (
        runtime.seed_everything(3).normal(size=3),
        np.random.rand(),
        torch.rand(1).item(),
    )
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:] == b[1:]
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(-1)
    assert runtime.in_colab() is False


def test_single_thread_restores_the_setting():
    import torch

    before = torch.get_num_threads()
    with runtime.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
