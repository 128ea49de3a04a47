"""The library runs unchanged on CUDA: a few training steps of every model (skipped
without)."""

import pytest
import torch

from contraction import implicit, monotone
from contraction.nn import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize(
    "make",
    [
        lambda: implicit.ImplicitNetwork(64, 32, 10, gamma=0.5, tol=1e-4),
        lambda: implicit.ImplicitNetwork(
            64, 32, 10, weighted=True, method="anderson", tol=1e-4
        ),
        lambda: implicit.FeedForward(64, 32, 10),
        lambda: monotone.MonotoneNetwork(64, 32, 10, tol=1e-4),
    ],
)
def test_models_train_on_cuda(make):
    torch.manual_seed(0)
    x, y = torch.rand(256, 64), torch.randint(0, 10, (256,))
    model = make()
    history = train.fit(
        model,
        (x, y),
        epochs=2,
        lr=1e-3,
        batch_size=64,
        device="cuda",
        amp=False,
        progress=False,
    )
    assert next(model.parameters()).is_cuda and history["device"].startswith("cuda")
    assert all(v == v for v in history["loss"])  # finite, not nan
