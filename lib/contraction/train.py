"""One training loop for Chapters 4-7, and results files that say where a number came from.

* :func:`fit` trains any ``torch.nn.Module`` on ``(x, y)`` tensors with mini-batches: seeded
  through :func:`contraction.runtime.seed_everything`, on :func:`contraction.runtime.device` by
  default, with one ``tqdm.auto`` progress bar per call. An optional ``regularizer(model)`` is
  added to the loss (Lipschitz penalties, Section 4.3) and an optional ``after_step(model)`` runs
  after every optimiser step (projections onto a contraction constraint). A loss that becomes
  nan or inf stops training with :class:`TrainingDiverged` instead of returning NaN numbers.
* :func:`evaluate` gives the loss and accuracy of a model on ``(x, y)``.
* :func:`record_results` writes ``results/NAME.json`` (package data, so an install without a
  checkout has the recorded full runs too) with metrics, config, device, wall time, library and
  torch versions, git commit, UTC date, mode and the data used; :func:`load_results` reads it
  back. JSON only: nothing is ever unpickled.

Training on a CPU is deterministic: the same seed gives the same history.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import platform
import re
import subprocess
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import __version__, runtime
from ._checks import as_positive_int, as_positive_scalar
from .data import batches

__all__ = ["TrainingDiverged", "evaluate", "fit", "load_results", "record_results",
           "results_directory"]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class TrainingDiverged(RuntimeError):
    """The training loss became nan or inf; ``epoch`` and ``batch`` say where (from 0)."""

    def __init__(self, epoch: int, batch: int, value: float):
        super().__init__(f"training diverged: loss is {value} at epoch {epoch}, batch {batch}; "
                         "lower lr or strengthen the regularizer")
        self.epoch, self.batch, self.value = epoch, batch, value


# ----------------------------------------------------------------------------- checks

def _as_pair(data, name: str) -> tuple:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (x, y) of tensors, e.g. dataset.train")
    x, y = (torch.as_tensor(part) if isinstance(part, np.ndarray) else part for part in data)
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must hold torch tensors (or NumPy arrays)")
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"{name}: x and y must have the same non-zero length, "
                         f"got {len(x)} and {len(y)}")
    return x, y


def _check_callable(value, name: str):
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")


def _make_optimizer(optimizer, parameters, lr: float):
    if callable(optimizer):
        return optimizer(parameters, lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a callable "
                         f"(params, lr) -> torch.optim.Optimizer, got {optimizer!r}")
    return OPTIMIZERS[optimizer](parameters, lr=lr)


def _scalar(value) -> float:
    # a regularizer may return a plain number; tensors are detached before leaving the graph
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


def _correct(output: torch.Tensor, y: torch.Tensor):
    # Accuracy is defined for class scores (N, C) against integer labels; None otherwise.
    if output.ndim != 2 or output.shape[1] < 2 or y.dtype not in (torch.int64, torch.int32):
        return None
    return int((output.argmax(dim=1) == y).sum())


# ----------------------------------------------------------------------------- training

def _train_epoch(model, optimizer, x, y, epoch, settings) -> dict:
    total_loss = total_reg = 0.0
    correct = 0
    for index, (xb, yb) in enumerate(batches(x, y, settings["batch_size"], shuffle=True,
                                             seed=settings["seed"] * 100_003 + epoch)):
        optimizer.zero_grad(set_to_none=True)
        output = model(xb)
        loss = settings["loss_fn"](output, yb)
        objective = loss
        if settings["regularizer"] is not None:
            penalty = settings["regularizer"](model)
            objective = loss + penalty
            total_reg += _scalar(penalty) * len(yb)
        value = _scalar(objective)
        if not math.isfinite(value):
            raise TrainingDiverged(epoch, index, value)
        objective.backward()
        optimizer.step()
        if settings["after_step"] is not None:
            with torch.no_grad():
                settings["after_step"](model)
        total_loss += _scalar(loss) * len(yb)
        hits = _correct(output.detach(), yb)
        correct = None if hits is None or correct is None else correct + hits
    n = len(y)
    return {"loss": total_loss / n, "regularizer": total_reg / n,
            "accuracy": None if correct is None else correct / n}


def fit(model, train_data, *, epochs: int, lr: float, batch_size: int, loss_fn=None,
        regularizer=None, optimizer="adam", seed: int = 0, device=None, progress: bool = True,
        eval_data=None, after_step=None) -> dict:
    """Train ``model`` on ``train_data = (x, y)`` and return the per-epoch history.

    Minimises the mean of ``loss_fn(model(x_batch), y_batch)`` (default: cross-entropy) plus
    ``regularizer(model)`` when given, with ``optimizer`` (``"adam"``, ``"adamw"``, ``"sgd"``, or
    a callable ``(params, lr) -> Optimizer``) over shuffled mini-batches. ``after_step(model)``
    runs under ``no_grad`` after each step. The model and data move to ``device`` (default
    :func:`contraction.runtime.device`).

    Returns a dict of per-epoch lists: ``loss`` (data loss over the epoch's batches),
    ``regularizer``, ``accuracy`` (running training accuracy, None when outputs are not class
    scores), ``time`` (seconds), and ``eval_loss``/``eval_accuracy`` when ``eval_data`` is
    given; plus ``device`` and ``epochs``. Raises :class:`TrainingDiverged` on a nan/inf loss.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = as_positive_int(epochs, "epochs")
    lr = as_positive_scalar(lr, "lr")
    for value, name in ((loss_fn, "loss_fn"), (regularizer, "regularizer"),
                        (after_step, "after_step")):
        _check_callable(value, name)
    device = torch.device(device) if device is not None else runtime.device()
    x, y = (part.to(device) for part in _as_pair(train_data, "train_data"))
    settings = {"batch_size": as_positive_int(batch_size, "batch_size"), "seed": seed,
                "loss_fn": loss_fn or F.cross_entropy, "regularizer": regularizer,
                "after_step": after_step}
    runtime.seed_everything(seed)
    model.to(device)
    opt = _make_optimizer(optimizer, model.parameters(), lr)
    history = {"loss": [], "regularizer": [], "accuracy": [], "time": []}
    if eval_data is not None:
        eval_data = _as_pair(eval_data, "eval_data")
        history.update(eval_loss=[], eval_accuracy=[])
    with tqdm(total=epochs, disable=not progress, desc=type(model).__name__, unit="epoch") as bar:
        for epoch in range(epochs):
            start = time.perf_counter()
            model.train()
            stats = _train_epoch(model, opt, x, y, epoch, settings)
            stats["time"] = time.perf_counter() - start
            if eval_data is not None:
                scores = evaluate(model, eval_data, loss_fn=loss_fn, device=device)
                stats.update(eval_loss=scores["loss"], eval_accuracy=scores["accuracy"])
            for key in history:
                history[key].append(stats[key])
            bar.set_postfix({k: f"{v:.4g}" for k, v in stats.items()
                             if k in ("loss", "accuracy", "eval_accuracy") and v is not None})
            bar.update()
    return {**history, "device": str(device), "epochs": epochs}


def _model_device(model) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def evaluate(model, data, batch_size: int = 1024, *, loss_fn=None, device=None) -> dict:
    """``{"loss": mean loss, "accuracy": fraction correct or None}`` of ``model`` on ``(x, y)``.

    Runs in eval mode without gradients (the model's mode is restored afterwards), on ``device``
    or else the device of the model's parameters. ``loss_fn`` defaults to cross-entropy.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_callable(loss_fn, "loss_fn")
    x, y = _as_pair(data, "data")
    device = torch.device(device) if device is not None else _model_device(model)
    loss_fn = loss_fn or F.cross_entropy
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        with torch.no_grad():
            for xb, yb in batches(x, y, batch_size):
                xb, yb = xb.to(device), yb.to(device)
                output = model(xb)
                total_loss += float(loss_fn(output, yb)) * len(yb)
                hits = _correct(output, yb)
                correct = None if hits is None or correct is None else correct + hits
    finally:
        model.train(was_training)
    return {"loss": total_loss / len(y), "accuracy": None if correct is None else correct / len(y)}


# ----------------------------------------------------------------------------- results files

def results_directory() -> Path:
    """Where :func:`record_results` writes by default: the package's ``results`` folder."""
    return Path(__file__).resolve().parent / "results"


def _check_name(name) -> str:
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(f"name must be letters, digits, '_' or '-' (a file name), got {name!r}")
    return name


def _jsonable(value, where: str):
    """``value`` with NumPy/torch scalars and arrays turned into JSON types; rejects nan/inf."""
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
        raise ValueError(f"{where} is {value}; record None (and say why) instead of nan/inf")
    if value is None or isinstance(value, (str, bool, numbers.Integral, float)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{where} has type {type(value).__name__}, which JSON cannot hold")


def _device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    processor = platform.processor() or platform.machine() or "unknown processor"
    return f"CPU ({processor}, {os.cpu_count()} logical cores)"


def _git(*args):
    try:
        done = subprocess.run(["git", *args], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def record_results(name: str, metrics: dict, config: dict, wall_time: float, data_used,
                   mode: str, results_dir=None) -> Path:
    """Write ``NAME.json`` with the run's numbers and provenance; return its path.

    The file holds ``name``, ``mode``, ``metrics``, ``config``, ``data_used``, ``wall_time_s``,
    ``device``, ``library_version``, ``torch_version``, ``python_version``, ``git_commit`` and
    ``git_dirty`` (None outside a git checkout) and ``date_utc`` (ISO 8601). ``results_dir``
    defaults to :func:`results_directory`; tests pass a temporary directory.
    """
    _check_name(name)
    if mode not in runtime.MODES:
        raise ValueError(f"mode must be one of {runtime.MODES}, got {mode!r}")
    for value, label in ((metrics, "metrics"), (config, "config")):
        if not isinstance(value, dict):
            raise TypeError(f"{label} must be a dict, got {type(value).__name__}")
    if not isinstance(data_used, str) or not data_used.strip():
        raise ValueError("data_used must be a non-empty string saying which data the run used")
    wall_time = as_positive_scalar(wall_time, "wall_time", allow_zero=True)
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    record = {
        "name": name, "mode": mode, "metrics": _jsonable(metrics, "metrics"),
        "config": _jsonable(config, "config"), "data_used": data_used,
        "wall_time_s": round(wall_time, 3), "device": _device_name(),
        "library_version": __version__, "torch_version": torch.__version__,
        "python_version": platform.python_version(), "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    directory = Path(results_dir) if results_dir is not None else results_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n")
    os.replace(partial, path)
    return path


def load_results(name: str, results_dir=None):
    """The dict recorded by :func:`record_results` under ``name``, or None if there is none.

    Without ``results_dir`` it reads the package data (``importlib.resources``), which works in
    a checkout and in an installed wheel alike.
    """
    _check_name(name)
    if results_dir is not None:
        path = Path(results_dir) / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None
    resource = resources.files("contraction") / "results" / f"{name}.json"
    return json.loads(resource.read_text()) if resource.is_file() else None

