import json

import pytest
import torch

from contraction import data, experiments, hopfield, vision
from contraction.experiments import vit
from contraction.nn import results

TINY = {
    "data": "digits",
    "split_seed": 0,
    "n_train": 120,
    "n_test": 40,
    "patch": 2,
    "digits_patch": 2,
    "dim": 8,
    "mlp_dim": 16,
    "depth": 1,
    "heads": [2],
    "pool": "cls",
    "epochs": 2,
    "batch_size": 32,
    "lr": 3e-3,
    "schedule": "cosine",
    "seeds": [0, 1],
}


@pytest.fixture
def tiny_settings(monkeypatch):
    monkeypatch.setitem(vit.SETTINGS, "fast", dict(TINY))
    monkeypatch.setitem(
        vit.SETTINGS,
        "full",
        {**TINY, "data": "mnist", "patch": 4, "schedule": "constant"},
    )
    return TINY


def test_registered_and_recorded(tmp_path, tiny_settings):
    assert experiments.EXPERIMENTS["khopfield_vit"] is vit.khopfield_vit
    path = experiments.run("khopfield_vit", "fast", results_dir=tmp_path)
    record = json.loads(path.read_text())
    assert record["mode"] == "fast" and record["data_used"].startswith("digits")
    metrics = record["metrics"]
    assert metrics["tokens"] == 16 and metrics["patch_used"] == 2
    runs = metrics["runs"]
    assert [r["attention"] for r in runs] == ["multihead", "khopfield"] * 2
    for r in runs:
        assert 0 <= r["accuracy"] <= 1 and len(r["test_accuracy"]) == 2
        assert r["test_accuracy"][-1] == pytest.approx(r["accuracy"])
    mha, khop = metrics["summary"]
    assert mha["n_seeds"] == khop["n_seeds"] == 2
    assert khop["attention_parameters"] < mha["attention_parameters"]
    assert record["config"] == vit.record_config("fast")
    assert results.check_config(record, vit.record_config("fast"))
    assert not results.check_config(record, vit.record_config("full"))


def test_full_mode_falls_back_to_digits_and_says_so(tiny_settings, mnist_unreachable):
    artifacts = {}
    outcome = vit.khopfield_vit("full", artifacts=artifacts)
    assert "fallback: MNIST could not be loaded" in outcome["data_used"]
    assert outcome["metrics"]["patch_used"] == 2  # 16 tokens on the 8x8 digits
    assert len(artifacts["models"]) == 4
    assert outcome["config"]["patch"] == 4 and outcome["config"]["dim"] == 8


def test_the_dissertation_setting_in_full_mode():
    full = vit.SETTINGS["full"]
    assert (full["patch"], full["dim"], full["mlp_dim"], full["depth"]) == (
        4,
        128,
        512,
        2,
    )
    assert full["lr"] == 1e-3 and len(full["seeds"]) >= 3 and full["data"] == "mnist"
    assert len(vit.SETTINGS["fast"]["seeds"]) >= 3
    assert vit.notebook_settings("full") == vit.SETTINGS["fast"]
    with pytest.raises(ValueError, match="mode"):
        vit.notebook_settings("turbo")


def test_same_seed_same_numbers():
    digits = data.digits(seed=0).subset(100, 30, seed=0)
    settings = {**TINY, "epochs": 1}
    first = vit.train_one("khopfield", digits, settings, 2, seed=3)[1]
    second = vit.train_one("khopfield", digits, settings, 2, seed=3)[1]
    assert first == second


def test_attention_parameter_counts():
    dim, heads = 32, 4
    mha = vision.make_attention("multihead", dim, heads)
    khop = vision.make_attention("khopfield", dim, heads)
    assert vision.count_parameters(mha) == 4 * dim * dim + 4 * dim
    hd = dim // heads
    assert vision.count_parameters(khop) == 3 * dim * hd + heads * hd * dim + dim
    assert isinstance(khop, hopfield.KHopfieldAttention)
    model = vision.ViT((1, 8, 8), 2, 10, dim, 2, heads, 64, attention="khopfield")
    assert vision.attention_parameters(model) == 2 * vision.count_parameters(khop)
    other = vision.ViT((1, 8, 8), 2, 10, dim, 2, heads, 64, attention="multihead")
    rest = vision.count_parameters(model) - vision.attention_parameters(model)
    assert rest == vision.count_parameters(other) - vision.attention_parameters(other)


def test_patches_and_shapes():
    embed = vision.PatchEmbedding((1, 4, 4), 2, 3)
    x = torch.arange(16.0).reshape(1, 16)
    patches = embed.patches(x)
    assert patches.shape == (1, 4, 4)
    assert patches[0, 0].tolist() == [0.0, 1.0, 4.0, 5.0]  # top-left square
    assert patches[0, 1].tolist() == [2.0, 3.0, 6.0, 7.0]
    assert embed(x.reshape(1, 1, 4, 4)).shape == (1, 4, 3)
    for pool in ("cls", "mean"):
        model = vision.ViT((3, 8, 8), 4, 5, 8, 1, 2, 16, "khopfield", pool)
        assert model(torch.randn(6, 3, 8, 8)).shape == (6, 5)
    assert vit.image_shape(torch.zeros(2, 64)) == (1, 8, 8)
    assert vit.image_shape(torch.zeros(2, 3, 32, 32)) == (3, 32, 32)


def test_bad_inputs():
    with pytest.raises(ValueError, match="multiples"):
        vision.PatchEmbedding((1, 8, 8), 3, 4)
    with pytest.raises(ValueError, match="shape"):
        vision.PatchEmbedding((1, 8, 8), 2, 4)(torch.zeros(2, 63))
    with pytest.raises(ValueError, match="attention"):
        vision.make_attention("linear", 8, 2)
    with pytest.raises(ValueError, match="divisible"):
        vision.make_attention("multihead", 10, 4)
    with pytest.raises(ValueError, match="pool"):
        vision.ViT((1, 8, 8), 2, 10, 8, 1, 2, 16, pool="max")
    with pytest.raises(ValueError, match="tokens"):
        vision.ViT((1, 8, 8), 4, 10, 8, 1, 4, 16, attention="khopfield", pool="mean")
    with pytest.raises(ValueError, match="x must"):
        vit.image_shape(torch.zeros(2, 63))
    with pytest.raises(ValueError, match="schedule"):
        vit._scheduler({**TINY, "schedule": "step"})
    with pytest.raises(TypeError, match="artifacts"):
        vit.sweep(TINY, artifacts=[])


def test_patches_exercise():
    from contraction.book import exercises

    def right(image, p):
        c, h, w = image.shape
        grid = image.reshape(c, h // p, p, w // p, p).transpose(1, 3, 0, 2, 4)
        return grid.reshape(-1, c * p * p)

    assert exercises.check("ch6.patches", right, quiet=True)
    assert not exercises.check(
        "ch6.patches", lambda im, p: im.reshape(-1, im.shape[0] * p * p), quiet=True
    )


def test_the_mnist_and_cifar10_runs_in_two_halves(tiny_settings):
    halves = [vit.record_config("full", part) for part in vit.PARTS]
    assert [h["attentions"] for h in halves] == [["multihead"], ["khopfield"]] * 2
    assert all(h["data"] == "mnist" and h["epochs"] == 5 for h in halves[:2])
    for half in halves[2:]:
        assert half["data"] == "cifar10" and half["depth"] == 6
        assert half["heads"] == [4] and half["epochs"] == 5
    assert vit.record_config("fast", "khopfield_vit_cifar10_2")["data"] == "digits"
    in_runs = sorted(part for _, parts in vit.RUNS.values() for part in parts)
    assert in_runs == sorted(vit.PARTS)  # every part in exactly one run
    assert vit.record_config("fast", "khopfield_vit_mnist_1")["epochs"] == 2
    with pytest.raises(ValueError, match="part must be one of"):
        vit.record_config("full", "khopfield_vit_mnist_3")
    records = [
        {"metrics": vit.sweep({**TINY, "seeds": [0], "attentions": [a]})["metrics"]}
        for a in vit.ATTENTIONS
    ]
    merged = vit.merge(records)
    assert [row["attention"] for row in merged] == list(vit.ATTENTIONS)
