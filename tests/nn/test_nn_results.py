import json

import numpy as np
import pytest
import torch

from contraction import __version__
from contraction.nn import checkpoints, results


def test_record_and_load_round_trip(tmp_path):
    metrics = {
        "accuracy": np.float32(0.5),
        "curve": torch.tensor([1.0, 2.0]),
        "n": np.int64(3),
    }
    path = results.record_results(
        "demo_run",
        metrics,
        {"lr": 0.1, "sizes": (1, 2)},
        1.23456,
        "toy data",
        "fast",
        results_dir=tmp_path,
    )
    assert path == tmp_path / "demo_run.json"
    record = results.load_results("demo_run", results_dir=tmp_path)
    assert record == json.loads(path.read_text())
    assert record["metrics"] == {"accuracy": 0.5, "curve": [1.0, 2.0], "n": 3}
    assert record["config"]["sizes"] == [1, 2] and record["wall_time_s"] == 1.235
    assert record["library_version"] == __version__ and record["mode"] == "fast"
    assert record["data_used"] == "toy data" and record["date_utc"].endswith("+00:00")
    commit = record["git_commit"]
    assert record["device"] and (commit is None or len(commit) == 40)
    assert not list(tmp_path.glob("*.part"))


def test_load_results_reads_package_data(tmp_path, monkeypatch):
    assert results.load_results("no_such_experiment_xyz") is None
    results.record_results(
        "packaged", {"a": 1}, {}, 0.0, "toy", "full", results_dir=tmp_path / "results"
    )
    monkeypatch.setattr(results.resources, "files", lambda package: tmp_path)
    assert results.load_results("packaged")["metrics"] == {"a": 1}


def test_load_checked_prints_provenance_and_checks_every_config(tmp_path, capsys):
    for name, lr in [("half_1", 0.1), ("half_2", 0.2)]:
        results.record_results(
            name, {"a": 1}, {"lr": lr}, 60.0, "toy", "full", results_dir=tmp_path
        )
    expected = {"half_1": {"lr": 0.1}, "half_2": {"lr": 0.2}}
    records, same = results.load_checked(expected, results_dir=tmp_path)
    out = capsys.readouterr().out.splitlines()
    assert same and [r["config"]["lr"] for r in records] == [0.1, 0.2]
    assert out[0].startswith("half_1: full run on") and "data: toy" in out[1]
    assert out[2] == "configs match this code: True"
    _, same = results.load_checked({"half_2": {"lr": 0.3}}, results_dir=tmp_path)
    out = capsys.readouterr().out.splitlines()
    assert not same and out == [out[0], "config matches this code: False"]
    assert out[0].startswith("full run on")  # one record: no name in front
    with pytest.raises(FileNotFoundError, match="no recorded run 'half_3'"):
        results.load_checked({"half_3": {}}, results_dir=tmp_path)
    with pytest.raises(ValueError, match="non-empty dict"):
        results.load_checked({})


def test_record_results_validates(tmp_path):
    def record(**changes):
        arguments = {
            "name": "x",
            "metrics": {},
            "config": {},
            "wall_time": 1.0,
            "data_used": "toy",
            "mode": "fast",
            "results_dir": tmp_path,
            **changes,
        }
        return results.record_results(**arguments)

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
        results.load_results("../x")
    assert not list(tmp_path.iterdir())


def test_config_hash_is_canonical_and_checked(tmp_path):
    a = results.config_hash({"lr": 0.1, "sizes": (1, 2)})
    assert a == results.config_hash({"sizes": [1, 2], "lr": 0.1})
    assert a != results.config_hash({"lr": 0.2, "sizes": (1, 2)})
    path = results.record_results(
        "hashed",
        {"a": 1},
        {"lr": 0.1},
        1.0,
        "toy",
        "fast",
        data_checksum=results.tensor_checksum(torch.ones(3)),
        results_dir=tmp_path,
    )
    record = json.loads(path.read_text())
    assert results.check_config(record, {"lr": 0.1})
    assert not results.check_config(record, {"lr": 0.3})
    assert len(record["data_checksum"]) == 64 and "cuda_version" in record
    assert "toy" in results.provenance(record)
    with pytest.raises(ValueError, match="config_sha256"):
        results.check_config({}, {})


def test_tensor_checksum_sees_values_shapes_and_dtypes():
    x = torch.arange(6.0)
    assert results.tensor_checksum(x) == results.tensor_checksum(x.clone())
    assert results.tensor_checksum(x) != results.tensor_checksum(x.reshape(2, 3))
    assert results.tensor_checksum(x) != results.tensor_checksum(x.double())
    with pytest.raises(TypeError, match="tensors"):
        results.tensor_checksum([1.0])


def test_untracked_files_make_a_run_dirty(monkeypatch):
    outputs = {
        ("rev-parse", "HEAD"): "a" * 40,
        ("status", "--porcelain", "--untracked-files=all"): "?? lib/new_experiment.py",
    }
    monkeypatch.setattr(results, "_git", lambda *args: outputs[args])
    assert results._git_state() == ("a" * 40, True)
    outputs[("status", "--porcelain", "--untracked-files=all")] = (
        "?? lib/contraction/results/run.json"
    )
    assert results._git_state() == ("a" * 40, False)


def test_checkpoints_are_verified_before_loading(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = tmp_path / "model.pt"
    digest = checkpoints.save_checkpoint(model, path)
    twin = checkpoints.load_checkpoint(path, digest, torch.nn.Linear(3, 2))
    torch.testing.assert_close(twin.weight, model.weight, rtol=0, atol=0)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="refusing"):
        checkpoints.load_checkpoint(path, digest)
    with pytest.raises(ValueError, match="max_bytes"):
        checkpoints.save_checkpoint(
            torch.nn.Linear(100, 100), tmp_path / "big.pt", max_bytes=1000
        )
    with pytest.raises(ValueError, match="sha256"):
        checkpoints.load_checkpoint(path, "abc")
    with pytest.raises(FileNotFoundError):
        checkpoints.load_checkpoint(tmp_path / "none.pt", digest)
