"""Results files that say where a number came from: ``results/NAME.json`` with
provenance.

:func:`record_results` writes a run's metrics and config together with what is needed to
trust them: the device (and CUDA/cuDNN versions), library, torch and Python versions,
the git commit and whether the checkout was *dirty* (a modified **or untracked** file
counts, so a run of an uncommitted experiment is never called clean), the UTC date, the
mode, which data was used with its checksum, and a hash of the config.
:func:`load_results` reads a record back (JSON only: nothing is unpickled), and
:func:`check_config` tells a notebook whether a record was produced by the config that
the code in front of the reader would use. The files are package data, so an install
without a checkout (Colab) has the recorded full runs too. Appendix "How this book is
built" (book/building.md), full and fast runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import platform
import re
import subprocess
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .. import __version__, runtime
from .._checks import as_positive_scalar

__all__ = [
    "record_results",
    "load_results",
    "results_directory",
    "config_hash",
    "check_config",
    "tensor_checksum",
    "provenance",
    "load_checked",
]

_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def results_directory() -> Path:
    """Where :func:`record_results` writes by default: the package's ``results``
    folder."""
    return Path(__file__).resolve().parents[1] / "results"


def _check_name(name) -> str:
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"name must be letters, digits, '_' or '-' (a file name), got {name!r}"
        )
    return name


def _jsonable(value, where: str):
    """``value`` with NumPy/torch scalars and arrays turned into JSON types; rejects
    nan/inf."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"{where} is {value}; record None (and say why) instead of nan/inf"
        )
    if value is None or isinstance(value, (str, bool, numbers.Integral, float)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{where} has type {type(value).__name__}, which JSON cannot hold")


def config_hash(config: dict) -> str:
    """sha256 of the config's canonical JSON (sorted keys): equal configs, equal
    hashes."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    text = json.dumps(
        _jsonable(config, "config"), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def tensor_checksum(*tensors) -> str:
    """sha256 over the bytes, shapes and dtypes of ``tensors`` (the data a run used)."""
    digest = hashlib.sha256()
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(
                f"tensors[{i}] must be a torch tensor, got {type(t).__name__}"
            )
        t = t.detach().cpu().contiguous()
        digest.update(f"{tuple(t.shape)}{t.dtype};".encode())
        digest.update(
            t.numpy().tobytes()
            if t.dtype != torch.bfloat16
            else t.float().numpy().tobytes()
        )
    return digest.hexdigest()


def _device() -> dict:
    if torch.cuda.is_available():
        cudnn = (
            torch.backends.cudnn.version()
            if torch.backends.cudnn.is_available()
            else None
        )
        return {
            "device": torch.cuda.get_device_name(0),
            "cuda_version": torch.version.cuda,
            "cudnn_version": cudnn,
        }
    processor = platform.processor() or platform.machine() or "unknown processor"
    return {
        "device": f"CPU ({processor}, {os.cpu_count()} logical cores)",
        "cuda_version": None,
        "cudnn_version": None,
    }


def _git(*args):
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_state():
    """``(commit, dirty)``; an untracked file counts as dirty. ``(None, None)`` outside
    git."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    # the results folder itself is where this run writes; its own files do not make it
    # dirty
    status = _git("status", "--porcelain", "--untracked-files=all")
    if status is None:
        return commit, None
    # the results folder is where this run writes: its own records do not make the run
    # dirty
    changed = [
        line
        for line in status.splitlines()
        if not line[3:].startswith("lib/contraction/results/")
    ]
    return commit, bool(changed)


def record_results(
    name: str,
    metrics: dict,
    config: dict,
    wall_time: float,
    data_used,
    mode: str,
    *,
    data_checksum=None,
    results_dir=None,
) -> Path:
    """Write ``NAME.json`` with the run's numbers and provenance; return its path.

    Keys: ``name``, ``mode``, ``metrics``, ``config``, ``config_sha256``, ``data_used``,
    ``data_checksum``, ``wall_time_s``, ``device``, ``cuda_version``, ``cudnn_version``,
    ``library_version``, ``torch_version``, ``python_version``, ``git_commit``,
    ``git_dirty`` (None outside a git checkout) and ``date_utc``. ``results_dir``
    defaults to :func:`results_directory`; tests pass a temporary directory.
    """
    _check_name(name)
    if mode not in runtime.MODES:
        raise ValueError(f"mode must be one of {runtime.MODES}, got {mode!r}")
    for value, label in ((metrics, "metrics"), (config, "config")):
        if not isinstance(value, dict):
            raise TypeError(f"{label} must be a dict, got {type(value).__name__}")
    if not isinstance(data_used, str) or not data_used.strip():
        raise ValueError(
            "data_used must be a non-empty string saying which data the run used"
        )
    if data_checksum is not None and not isinstance(data_checksum, str):
        raise TypeError("data_checksum must be a string (see tensor_checksum) or None")
    wall_time = as_positive_scalar(wall_time, "wall_time", allow_zero=True)
    commit, dirty = _git_state()
    record = {
        "name": name,
        "mode": mode,
        "metrics": _jsonable(metrics, "metrics"),
        "config": _jsonable(config, "config"),
        "config_sha256": config_hash(config),
        "data_used": data_used,
        "data_checksum": data_checksum,
        "wall_time_s": round(wall_time, 3),
        **_device(),
        "library_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    directory = Path(results_dir) if results_dir is not None else results_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    partial = path.with_name(path.name + ".part")
    partial.write_text(
        json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n"
    )
    os.replace(partial, path)
    return path


def load_results(name: str, results_dir=None):
    """The dict recorded by :func:`record_results` under ``name``, or None if there is
    none.

    Without ``results_dir`` it reads the package data (``importlib.resources``), which
    works in a checkout and in an installed wheel alike.
    """
    _check_name(name)
    if results_dir is not None:
        path = Path(results_dir) / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None
    resource = resources.files("contraction") / "results" / f"{name}.json"
    return json.loads(resource.read_text()) if resource.is_file() else None


def check_config(record: dict, config: dict) -> bool:
    """True when ``record`` was produced with ``config`` (their hashes agree).

    A notebook calls this before showing a recorded full run next to the code that would
    produce it, and says so plainly when the code has moved on since the run.
    """
    if not isinstance(record, dict) or "config_sha256" not in record:
        raise ValueError(
            "record must be a dict from load_results with a 'config_sha256'"
        )
    return record["config_sha256"] == config_hash(config)


def provenance(record: dict) -> str:
    """One line for a notebook: device, date, commit (and whether dirty), wall time,
    data."""
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict, got {type(record).__name__}")
    commit = record.get("git_commit")
    dirty = " (with uncommitted changes)" if record.get("git_dirty") else ""
    state = "no git checkout" if commit is None else f"commit {commit[:8]}{dirty}"

    minutes = record.get("wall_time_s", 0.0) / 60
    return (
        f"{record.get('mode', '?')} run on {record.get('device', '?')}, "
        f"{record.get('date_utc', '?')[:10]}, {state}, {minutes:.1f} min, torch "
        f"{record.get('torch_version', '?')}; data: {record.get('data_used', '?')}"
    )


def load_checked(expected: dict, results_dir=None) -> tuple:
    """Load recorded runs for a notebook: ``expected`` maps each record's name to the
    config this code would record for it (an experiment's ``record_config``).

    Prints each record's :func:`provenance` (after its name when there are several) and
    whether every config matches this code (:func:`check_config`); returns ``(records,
    same)``, the records in the order of ``expected``. A record that was never made is a
    FileNotFoundError naming it.
    """
    if not isinstance(expected, dict) or not expected:
        raise ValueError("expected must be a non-empty dict of name -> config")
    records = []
    for name, config in expected.items():
        record = load_results(name, results_dir)
        if record is None:
            raise FileNotFoundError(
                f"no recorded run {name!r}: make it with python -m "
                f"contraction.experiments {name} --mode full"
            )
        records.append(record)
        prefix = f"{name}: " if len(expected) > 1 else ""
        print(prefix + provenance(record))
    same = all(
        check_config(record, config)
        for record, config in zip(records, expected.values())
    )
    verb = "configs match" if len(records) > 1 else "config matches"
    print(f"{verb} this code: {same}")
    return records, same
