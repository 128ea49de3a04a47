"""Tests of the Table 4.1 experiment (contraction.experiments.lasa_table)."""

import json
import math

import numpy as np
import pytest
import torch

from contraction import experiments
from contraction.experiments import lasa_table as L
from contraction.nn import results
from contraction.trajectories import LASA_2D, LASA_4D, LASA_8D

TINY = {
    "rows": [
        ["LASA-2D", "lasa", [{"shapes": ["Angle"]}, {"shapes": ["CShape"]}]],
        ["Pendulum-4D", "pendulum", [{"links": 2}]],
    ],
    "loaders": {
        "lasa": {"demos": 2, "subsample": 80},
        "pendulum": {"trajectories": 2, "samples": 20, "t_end": 5.0},
        "rosenbrock": {"trajectories": 2, "samples": 20, "t_end": 3.0},
    },
    "models": list(L.MODELS),
    "epochs": 1,
    "lr": 3e-3,
    "batch_size": 100,
    "seeds": [0, 1],
}


def test_tiny_run_is_recorded_with_a_valid_table(tmp_path, monkeypatch):
    monkeypatch.setitem(L.SETTINGS, "fast", TINY)
    assert experiments.EXPERIMENTS["lasa_table"] is L.lasa_table
    record = json.loads(
        experiments.run("lasa_table", "fast", results_dir=tmp_path).read_text()
    )
    metrics = record["metrics"]
    assert metrics["rows"] == ["LASA-2D", "Pendulum-4D"]
    assert metrics["models"] == list(L.MODELS)
    for row in metrics["rows"]:
        assert metrics["paper"][row] == L.PAPER[row]
        for model in L.MODELS:
            cell = metrics["table"][row][model]
            assert len(cell["per_seed"]) == 2 and len(cell["per_data_set"]) == 2
            if None in cell["per_seed"]:  # a diverged rollout: no number, by design
                assert cell["mean"] is None
                continue
            assert cell["mean"] == pytest.approx(np.mean(cell["per_seed"]))
            assert cell["std"] == pytest.approx(np.std(cell["per_seed"], ddof=1))
            assert all(0 <= v < 50 for v in cell["per_seed"])
    assert len(metrics["table"]["LASA-2D"]["ELCD"]["per_data_set"][0]) == 2
    assert set(metrics["train_seconds"]) == set(L.MODELS)
    assert record["config"] == L.record_config("fast")
    assert results.check_config(record, L.record_config("fast"))
    assert not results.check_config(record, L.record_config("full"))
    assert "Angle" in record["data_used"] and len(record["data_checksum"]) == 64


def test_full_mode_covers_table_4_1_with_three_seeds():
    config = L.record_config("full")
    rows = {name: sets for name, _, sets in config["rows"]}
    assert list(rows) == list(L.PAPER)
    assert len(config["seeds"]) >= 3 and config["epochs"] == 100
    assert config["lr"] == 1e-3 and config["batch_size"] == 100
    assert [s["shapes"] for s in rows["LASA-2D"]] == [[n] for n in LASA_2D]
    assert [tuple(s["shapes"]) for s in rows["LASA-4D"]] == list(LASA_4D)
    assert [tuple(s["shapes"]) for s in rows["LASA-8D"]] == list(LASA_8D)
    data = L.load_row("pendulum", rows["Pendulum-16D"][0], config["loaders"])
    assert data.dim == 16 and len(data.positions) == 6


def test_a_diverging_rollout_scores_none():
    data = L.load_row("lasa", {"shapes": ["Angle"]}, {"lasa": {"subsample": 80}})

    class Exploding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rate = torch.nn.Parameter(torch.tensor(1e4))

        def forward(self, x):
            return self.rate * x * x

    scores = L.score(Exploding(), data)
    assert scores == [None] * len(data.positions)
    good = L.score(L.build("ELCD", data), data)
    assert all(math.isfinite(v) for v in good)


def test_bad_names_are_rejected():
    with pytest.raises(ValueError, match="model"):
        L.build("MLP", L.load_row("lasa", {"shapes": "Angle"}, {"lasa": {}}))
    with pytest.raises(ValueError, match="loader"):
        L.load_row("mnist", {}, {})
    with pytest.raises(ValueError, match="row"):
        L.time_cell("ELCD", "LASA-3D", "fast")
    with pytest.raises(ValueError, match="mode"):
        L.record_config("medium")


def test_every_full_row_loads_with_finite_moderate_data():
    config = L.record_config("full")
    for row, loader, sets in config["rows"]:
        if loader == "lasa":
            continue  # bundled recordings, tested in test_trajectories
        data = L.load_row(loader, sets[0], config["loaders"])
        raw = np.concatenate(data.positions) * data.std + data.mean
        assert np.isfinite(raw).all() and np.abs(raw).max() < 100, row


def test_the_two_halves_cover_the_full_table_once_and_merge_in_order():
    rows = [row for row, _, _ in L.SETTINGS["full"]["rows"]]
    halves = [L.PARTS[name] for name in ("lasa_table_1", "lasa_table_2")]
    assert sorted(halves[0] + halves[1]) == sorted(rows)
    assert not set(halves[0]) & set(halves[1])
    for name in L.PARTS:
        config = L.record_config("full", name)
        assert [r[0] for r in config["rows"]] == [r for r in rows if r in L.PARTS[name]]
        assert config["part"] == name and config["epochs"] == 100
        assert experiments.EXPERIMENTS[name] is getattr(L, name)
    fake = [
        {"metrics": {"table": {row: {"mean": i} for row in half}}}
        for i, half in enumerate(halves)
    ]
    table, order = L.merge(fake[::-1])
    assert order == rows and table["LASA-4D"]["mean"] == 1
    with pytest.raises(ValueError, match="part"):
        L.record_config("full", "lasa_table_3")
