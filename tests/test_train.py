import json
import warnings

import numpy as np
import pytest
import torch

from contraction import __version__, train


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
    settings = {"epochs": 5, "lr": 0.1, "batch_size": 16, "seed": seed, "progress": False,
                "device": "cpu", **options}
    return model, train.fit(model, blobs(), **settings)


def test_fit_improves_accuracy_and_is_deterministic():
    torch.manual_seed(0)
    untrained = train.evaluate(torch.nn.Linear(2, 3), blobs(seed=1))
    model, history = trained(eval_data=blobs(seed=1))
    assert len(history["loss"]) == 5 and history["epochs"] == 5 and history["device"] == "cpu"
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

    model, history = trained(regularizer=lambda m: 0.01 * m.weight.square().sum(),
                             after_step=clamp, optimizer="sgd")
    assert len(calls) == 5 * 8  # 120 points in batches of 16
    assert all(r > 0 for r in history["regularizer"])
    assert model.weight.abs().max() <= 0.5


def test_divergence_is_reported_not_returned():
    with pytest.raises(train.TrainingDiverged, match="epoch 0, batch 0"):
        trained(loss_fn=lambda output, y: output.sum() * float("nan"))


def test_fit_progress_bar_runs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. tqdm misuse or a tensor-to-float warning
        trained(epochs=2, progress=True)


@pytest.mark.parametrize("bad,error,match", [
    ({"epochs": 0}, ValueError, "epochs"), ({"lr": -1.0}, ValueError, "lr"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
    ({"regularizer": 3}, TypeError, "regularizer")])
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
    scores = train.evaluate(model, (x.numpy(), np.zeros((10, 1), np.float32)),
                            loss_fn=torch.nn.functional.mse_loss)
    assert scores["accuracy"] is None and scores["loss"] > 0 and model.training


# ----------------------------------------------------------------------------- results files

def test_record_and_load_round_trip(tmp_path):
    metrics = {"accuracy": np.float32(0.5), "curve": torch.tensor([1.0, 2.0]), "n": np.int64(3)}
    path = train.record_results("demo_run", metrics, {"lr": 0.1, "sizes": (1, 2)}, 1.23456,
                                "toy data", "fast", results_dir=tmp_path)
    assert path == tmp_path / "demo_run.json"
    record = train.load_results("demo_run", results_dir=tmp_path)
    assert record == json.loads(path.read_text())
    assert record["metrics"] == {"accuracy": 0.5, "curve": [1.0, 2.0], "n": 3}
    assert record["config"]["sizes"] == [1, 2] and record["wall_time_s"] == 1.235
    assert record["library_version"] == __version__ and record["mode"] == "fast"
    assert record["data_used"] == "toy data" and record["date_utc"].endswith("+00:00")
    commit = record["git_commit"]
    assert record["device"] and (commit is None or len(commit) == 40)
    assert not list(tmp_path.glob("*.part"))


def test_load_results_reads_package_data(tmp_path, monkeypatch):
    assert train.load_results("no_such_experiment_xyz") is None
    train.record_results("packaged", {"a": 1}, {}, 0.0, "toy", "full",
                         results_dir=tmp_path / "results")
    monkeypatch.setattr(train.resources, "files", lambda package: tmp_path)
    assert train.load_results("packaged")["metrics"] == {"a": 1}


def test_record_results_validates(tmp_path):
    def record(**changes):
        arguments = {"name": "x", "metrics": {}, "config": {}, "wall_time": 1.0,
                     "data_used": "toy", "mode": "fast", "results_dir": tmp_path, **changes}
        return train.record_results(**arguments)

    with pytest.raises(ValueError, match=r"metrics\['loss'\]\[1\] is nan"):
        record(metrics={"loss": [1.0, float("nan")]})
    for bad_name in ("../evil", "", "a b", None):
        with pytest.raises(ValueError, match="name"):
            record(name=bad_name)
    with pytest.raises(ValueError, match="mode"):
        record(mode="turbo")
    with pytest.raises(ValueError, match="data_used"):
        record(data_used="")
    with pytest.raises(TypeError, match="JSON"):
        record(config={"model": torch.nn.Linear(1, 1)})
    with pytest.raises(ValueError, match="name"):
        train.load_results("../x")
    assert not list(tmp_path.iterdir())
