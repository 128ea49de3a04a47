import warnings

import numpy as np
import pytest
import torch

from contraction.nn import train


def blobs(n_per_class=40, seed=0):
    """Three well-separated Gaussian clusters in the plane."""
    generator = torch.Generator().manual_seed(seed)
    centers = torch.tensor([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    y = torch.arange(3).repeat_interleave(n_per_class)
    x = centers[y] + torch.randn(len(y), 2, generator=generator)
    return x, y


def trained(seed=0, **options):
    torch.manual_seed(seed)
    model = torch.nn.Linear(2, 3)
    settings = {
        "epochs": 5,
        "lr": 0.1,
        "batch_size": 16,
        "seed": seed,
        "progress": False,
        "device": "cpu",
        **options,
    }
    return model, train.fit(model, blobs(), **settings)


def test_fit_improves_accuracy_and_is_deterministic():
    torch.manual_seed(0)
    untrained = train.evaluate(torch.nn.Linear(2, 3), blobs(seed=1))
    model, history = trained(eval_data=blobs(seed=1))
    assert (
        len(history["loss"]) == 5
        and history["epochs"] == 5
        and history["device"] == "cpu"
    )
    assert history["loss"][-1] < history["loss"][0]
    assert history["eval_accuracy"][-1] > max(0.9, untrained["accuracy"])
    assert all(t > 0 for t in history["time"])
    twin, again = trained()
    assert again["loss"] == history["loss"] and again["accuracy"] == history["accuracy"]
    torch.testing.assert_close(twin.weight, model.weight, rtol=0, atol=0)


def test_regularizer_and_after_step():
    calls = []

    def clamp(model):
        calls.append(1)
        model.weight.clamp_(-0.5, 0.5)

    model, history = trained(
        regularizer=lambda m: 0.01 * m.weight.square().sum(),
        after_step=clamp,
        optimizer="sgd",
    )
    assert len(calls) == 5 * 8  # 120 points in batches of 16
    assert all(r > 0 for r in history["regularizer"])
    assert model.weight.abs().max() <= 0.5


def test_divergence_is_reported_not_returned():
    with pytest.raises(train.TrainingDiverged, match="epoch 0, batch 0"):
        trained(loss_fn=lambda output, y: output.sum() * float("nan"))
    calls = []

    def late_nan(output, y):  # finite for the first three batches, then nan
        calls.append(1)
        scale = float("nan") if len(calls) > 3 else 1.0
        return torch.nn.functional.cross_entropy(output, y) * scale

    with pytest.raises(train.TrainingDiverged, match="epoch 0, batch 3"):
        trained(loss_fn=late_nan)


def test_dataloader_scheduler_and_clipping():
    x, y = blobs()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=16,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 3)
    history = train.fit(
        model,
        loader,
        epochs=4,
        lr=0.1,
        progress=False,
        device="cpu",
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1, 0.5),
        clip_grad=1.0,
        eval_data=loader,
    )
    assert history["lr"] == [0.1, 0.05, 0.025, 0.0125]
    assert history["eval_accuracy"][-1] > 0.9
    assert train.evaluate(model, loader)["accuracy"] == history["eval_accuracy"][-1]
    with pytest.raises(ValueError, match="batch_size"):
        train.fit(model, (x, y), epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="clip_grad"):
        train.fit(model, loader, epochs=1, lr=0.1, clip_grad=0.0)


def test_amp_is_ignored_on_the_cpu():
    _, plain = trained()
    _, mixed = trained(amp=True)
    assert plain["loss"] == mixed["loss"]


def test_batches_are_seeded_and_complete():
    x, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    sizes = [len(yb) for _, yb in train.batches(x, y, 4, shuffle=True, seed=5)]
    assert sizes == [4, 4, 2]
    seen = torch.cat([yb for _, yb in train.batches(x, y, 4, shuffle=True, seed=5)])
    assert sorted(seen.tolist()) == list(range(10))
    again = torch.cat([yb for _, yb in train.batches(x, y, 4, shuffle=True, seed=5)])
    assert torch.equal(seen, again)
    with pytest.raises(ValueError, match="batch_size"):
        next(train.batches(x, y, 0))
    with pytest.raises(ValueError, match="same"):
        next(train.batches(x, y[:3], 2))


def test_fit_progress_bar_runs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. tqdm misuse or a tensor-to-float warning
        trained(epochs=2, progress=True)


@pytest.mark.parametrize(
    "bad,error,match",
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
        ({"regularizer": 3}, TypeError, "regularizer"),
    ],
)
def test_fit_validates_arguments(bad, error, match):
    with pytest.raises(error, match=match):
        trained(**bad)


def test_fit_validates_model_and_data():
    with pytest.raises(TypeError, match="model"):
        train.fit(lambda x: x, blobs(), epochs=1, lr=0.1, batch_size=4)
    with pytest.raises(TypeError, match="train_data"):
        train.fit(torch.nn.Linear(2, 3), blobs()[0], epochs=1, lr=0.1, batch_size=4)
    with pytest.raises(ValueError, match="same non-zero length"):
        x, y = blobs()
        train.fit(torch.nn.Linear(2, 3), (x, y[:5]), epochs=1, lr=0.1, batch_size=4)


def test_evaluate_regression_and_mode():
    model = torch.nn.Linear(2, 1)
    model.train()
    x = torch.randn(10, 2)
    scores = train.evaluate(
        model,
        (x.numpy(), np.zeros((10, 1), np.float32)),
        loss_fn=torch.nn.functional.mse_loss,
    )
    assert scores["accuracy"] is None and scores["loss"] > 0 and model.training
