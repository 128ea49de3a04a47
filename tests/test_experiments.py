import json
import subprocess
import sys

import numpy as np
import pytest

from contraction import data, experiments
from contraction.experiments.__main__ import main


@pytest.fixture
def small_digits(monkeypatch):
    """A learnable stand-in for the digits, so these tests do not depend on
    scikit-learn."""
    rng = np.random.default_rng(2)
    labels = np.arange(200) % 10
    pixels = np.clip(
        rng.integers(0, 17, (10, 64))[labels] + rng.integers(-1, 2, (200, 64)), 0, 16
    )
    monkeypatch.setattr(data, "_digits_arrays", lambda: (pixels.astype(float), labels))


def test_cli_lists_experiments():
    done = subprocess.run(
        [sys.executable, "-m", "contraction.experiments", "--list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "smoke" in done.stdout and "Logistic regression" in done.stdout


def test_cli_runs_smoke_and_records(tmp_path, small_digits, capsys):
    assert main(["smoke", "--mode", "fast", "--results-dir", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    record = json.loads((tmp_path / "smoke.json").read_text())
    assert record["mode"] == "fast" and record["config"]["epochs"] == 5
    assert record["metrics"]["mean_test_accuracy"] > 0.8
    assert record["data_used"].startswith("digits") and record["wall_time_s"] > 0


def test_cli_default_mode_follows_environment(tmp_path, small_digits, monkeypatch):
    monkeypatch.setenv("CONTRACTION_MODE", "fast")
    main(["smoke", "--results-dir", str(tmp_path)])
    assert json.loads((tmp_path / "smoke.json").read_text())["mode"] == "fast"


def test_cli_rejects_bad_usage(capsys):
    for argv in ([], ["no_such_experiment"], ["smoke", "--mode", "turbo"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "unknown experiment" in capsys.readouterr().err


def test_register_and_run(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "EXPERIMENTS", {})
    experiments.register("fine")(
        lambda mode: {"metrics": {"m": mode}, "data_used": "none"}
    )
    path = experiments.run("fine", "full", results_dir=tmp_path)
    assert json.loads(path.read_text())["metrics"] == {"m": "full"}
    with pytest.raises(ValueError, match="already registered"):
        experiments.register("fine")(lambda mode: {})
    with pytest.raises(ValueError, match="name"):
        experiments.register("bad name")
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.run("missing", "fast")
    with pytest.raises(ValueError, match="mode"):
        experiments.run("fine", "turbo")


@pytest.mark.parametrize(
    "outcome,match",
    [
        ({"data_used": "x"}, "metrics"),
        ({"metrics": {}}, "data_used"),
        ({"metrics": {}, "data_used": "x", "extra": 1}, "extra"),
    ],
)
def test_run_checks_what_an_experiment_returns(tmp_path, monkeypatch, outcome, match):
    monkeypatch.setitem(experiments.EXPERIMENTS, "broken", lambda mode: outcome)
    with pytest.raises((TypeError, ValueError), match=match):
        experiments.run("broken", "fast", results_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_seed_statistics_and_mode_check():
    from contraction.experiments import check_mode, seed_mean, seed_std

    assert seed_mean([1.0, 2.0, 3.0]) == 2.0 and seed_std([1.0, 2.0, 3.0]) == 1.0
    assert seed_mean([[1.0, 0.0], [3.0, 2.0]]) == [2.0, 1.0]
    assert seed_std([[1.0, 0.0], [3.0, 2.0]]) == [2**0.5, 2**0.5]
    assert seed_std([1.0]) is None and seed_mean([1.0, None]) is None
    assert check_mode({"fast": {}}, "fast") == "fast"
    with pytest.raises(ValueError, match="mode"):
        check_mode({"fast": {}}, "turbo")
