"""The occlusion experiment of Section 6.3 (experiments.hopfield_occlusion)."""

import json

import numpy as np
import pytest
import torch

from contraction import data, experiments
from contraction.experiments import hopfield_occlusion as occlusion
from contraction.nn import results


@pytest.fixture
def tiny_settings(monkeypatch):
    small = {**occlusion.SETTINGS["fast"], "counts": [10, 40], "trials": 2}
    monkeypatch.setitem(occlusion.SETTINGS, "fast", small)
    monkeypatch.setitem(
        occlusion.SETTINGS,
        "full",
        {**small, "data": "mnist", "counts": [10, 40, 5000]},
    )
    return small


def test_hide_rows_zeroes_the_top_rows_of_every_channel():
    images = torch.arange(2 * 2 * 3 * 3, dtype=torch.float64).reshape(2, -1) + 1
    hidden = occlusion.hide_rows(images, (2, 3, 3), 1).reshape(2, 2, 3, 3)
    assert hidden[:, :, 0].abs().max() == 0
    assert torch.equal(hidden[:, :, 1:], images.reshape(2, 2, 3, 3)[:, :, 1:])


def test_a_stored_image_far_from_the_others_is_reconstructed():
    memories = torch.eye(16, dtype=torch.float64).repeat(1, 4)  # 16 disjoint images
    rates = occlusion.reconstruct(memories, 16, (1, 8, 8), 4, threshold=0.5)
    assert rates.shape == (6,) and np.all(rates == 1.0)


def test_registered_recorded_and_checked(tmp_path, tiny_settings):
    assert experiments.EXPERIMENTS["hopfield_occlusion"] is occlusion.hopfield_occlusion
    path = experiments.run("hopfield_occlusion", "fast", results_dir=tmp_path)
    record = json.loads(path.read_text())
    metrics = record["metrics"]
    assert record["data_used"].startswith("digits") and metrics["counts"] == [10, 40]
    mean = np.array(metrics["mean"])
    assert mean.shape == (2, 6) and np.all((0 <= mean) & (mean <= 1))
    assert np.all(np.diff(mean[:, 1:], axis=1) >= 0)  # more columns never hurt
    assert results.check_config(record, occlusion.record_config("fast"))
    assert not results.check_config(record, occlusion.record_config("full"))


def test_full_mode_falls_back_to_digits_and_says_so(tiny_settings, mnist_unreachable):
    outcome = occlusion.hopfield_occlusion("full")
    assert "fallback: MNIST could not be loaded" in outcome["data_used"]
    assert outcome["metrics"]["counts"] == [10, 40]  # 5000 > the 1,797 digits
    assert outcome["config"]["counts"] == [10, 40, 5000]


def test_the_cifar10_variant_is_full_mode_colour_and_has_no_stand_in(tmp_path):
    variant = occlusion.hopfield_occlusion_cifar10
    assert experiments.EXPERIMENTS["hopfield_occlusion_cifar10"] is variant
    with pytest.raises(ValueError, match="mode must be one of \\['full'\\]"):
        variant("fast")
    config = occlusion.record_config("full", colour=True)
    assert config["data"] == "cifar10" and config["hidden"] == "top 10 of 32 rows"
    assert occlusion.record_config("full")["hidden"] == "top half of the rows"
    colour = torch.zeros(2, 3072, dtype=torch.float64)
    assert occlusion.layout(colour, colour=True) == ((3, 32, 32), 10)
    assert occlusion.layout(colour[:, :784], colour=False) == ((1, 28, 28), 14)
    with pytest.raises(ValueError, match="source must be"):
        occlusion.load_images("imagenet")


def test_the_cifar10_variant_says_why_when_cifar10_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRACTION_DATA", str(tmp_path))
    monkeypatch.setattr(data, "_open_url", _refuse)
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz is not in"):
        occlusion.hopfield_occlusion_cifar10("full")


def _refuse(url, timeout):
    raise OSError(f"no network for {url}")
