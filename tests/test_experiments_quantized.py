import json

import pytest

from contraction import data, experiments
from contraction.experiments import quantized_cnn as Q
from contraction.nn import results

TINY = {
    "data": "digits",
    "split_seed": 0,
    "n_train": 200,
    "n_test": 60,
    "pretrain_epochs": 2,
    "pretrain_lr": 3e-3,
    "quantizers": [[4, 1], [2, 2]],
    "epochs": 1,
    "optimizer": "sgd",
    "lr": 1e-4,
    "batch_size": 64,
    "tau": 5e-4,
    "iters": 30,
    "seeds": [0, 1],
}


@pytest.fixture
def tiny_settings(monkeypatch):
    monkeypatch.setitem(Q.SETTINGS, "fast", dict(TINY))
    monkeypatch.setitem(Q.SETTINGS, "full", {**TINY, "data": "mnist"})
    return TINY


def test_registered_and_recorded(tmp_path, tiny_settings):
    assert experiments.EXPERIMENTS["quantized_cnn"] is Q.quantized_cnn
    path = experiments.run("quantized_cnn", "fast", results_dir=tmp_path)
    record = json.loads(path.read_text())
    assert record["mode"] == "fast" and record["data_used"].startswith("digits")
    runs = record["metrics"]["runs"]
    assert [(r["seed"], r["k"], r["d"]) for r in runs] == [
        (0, 4, 1), (0, 2, 2), (1, 4, 1), (1, 2, 2),
    ]  # fmt: skip
    for r in runs:
        for key in ("full_precision", "kmeans", *Q.METHODS):
            assert 0 <= r[key] <= 1
        assert r["bits_per_weight"] == pytest.approx(
            {(4, 1): 2.0, (2, 2): 0.5}[r["k"], r["d"]]
        )
    first, second = record["metrics"]["summary"]
    assert (first["k"], first["d"], first["n_seeds"]) == (4, 1, 2)
    assert first["paper"] == dict(zip(Q.METHODS, Q.PAPER[4, 1]))
    assert first["kmeans_std"] is not None
    assert results.check_config(record, Q.record_config("fast"))
    assert not results.check_config(record, Q.record_config("full"))


def test_full_mode_falls_back_to_digits_and_says_so(
    tiny_settings, mnist_unreachable, monkeypatch
):
    monkeypatch.setitem(Q.SETTINGS, "full", {**TINY, "data": "mnist", "seeds": [0]})
    outcome = Q.quantized_cnn("full")
    assert "fallback: MNIST could not be loaded" in outcome["data_used"]


def test_the_dissertation_setting_in_full_mode():
    full = Q.SETTINGS["full"]
    assert (full["optimizer"], full["lr"], full["tau"], full["iters"]) == (
        "sgd", 1e-4, 5e-4, 30,
    )  # fmt: skip
    assert sorted(map(tuple, full["quantizers"])) == sorted(Q.PAPER)
    assert len(full["seeds"]) >= 3 and full["data"] == "mnist"


def test_kmeans_baseline_uses_at_most_k_values_per_layer():
    dataset = data.digits(seed=0).subset(100, 30, seed=0)
    model = Q.small_cnn(8, 10)
    accuracy = Q.kmeans_accuracy(model, 2, 1, dataset)
    assert 0 <= accuracy <= 1
    # the model itself is left as it was: the baseline quantizes a copy
    assert model[1].weight.unique().numel() > 2


def test_the_mnist_run_in_two_halves():
    halves = [Q.record_config("full", part) for part in Q.PARTS]
    assert sorted(map(tuple, sum((h["quantizers"] for h in halves), []))) == sorted(
        map(tuple, Q.SETTINGS["full"]["quantizers"])
    )
    assert all(h["epochs"] == Q.MNIST_RUN["epochs"] for h in halves)
    with pytest.raises(ValueError, match="part must be one of"):
        Q.record_config("full", "quantized_cnn_mnist_3")
    for part in Q.PARTS:  # registered, and listed with what they are part of
        assert "Table 2.1 on MNIST" in experiments.EXPERIMENTS[part].__doc__
    runs = [
        {"k": 8, "d": 1, "full_precision": 0.9, "kmeans": 0.8, "dkm": 0.85,
         "idkm": 0.86, "jfb": 0.84},
        {"k": 2, "d": 2, "full_precision": 0.9, "kmeans": 0.3, "dkm": 0.5,
         "idkm": 0.55, "jfb": 0.45},
    ]  # fmt: skip
    merged = Q.merge([{"metrics": {"runs": [r]}} for r in runs])
    assert [(row["k"], row["d"]) for row in merged] == [(8, 1), (2, 2)]
    assert merged[1]["paper"]["idkm"] == Q.PAPER[2, 2][1]
