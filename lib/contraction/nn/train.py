"""One training loop for Chapters 4-7: tensors or a DataLoader, on any device.

:func:`fit` trains any ``torch.nn.Module`` and returns its per-epoch history;
:func:`evaluate` scores it. Both take the data either as a pair ``(x, y)`` of tensors
(seeded mini-batches, drawn on the CPU so a seed gives the same batches on every device)
or as any iterable of ``(x, y)`` batches, such as a ``torch.utils.data.DataLoader``.

Options a reader meets in the book: a ``regularizer(model)`` added to the loss
(Lipschitz penalties, Section 4.3), ``after_step(model)`` (projections), an optional
learning-rate ``scheduler``, gradient clipping ``clip_grad`` (largest gradient norm),
automatic mixed precision ``amp=True`` (CUDA only; ignored elsewhere) and a
``tqdm.auto`` progress bar. A loss that becomes nan or inf stops training with
:class:`TrainingDiverged`; it is never averaged into the history.

On a CPU with one thread (:func:`contraction.runtime.single_thread`) the same seed gives
the same history; across machines trained numbers differ slightly (the book's tests
allow for that).
"""

from __future__ import annotations

import contextlib
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import runtime
from .._checks import as_positive_int, as_positive_scalar

__all__ = ["TrainingDiverged", "batches", "fit", "evaluate", "OPTIMIZERS"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class TrainingDiverged(RuntimeError):
    """The training loss became nan or inf; ``epoch`` and ``batch`` say where (from
    0)."""

    def __init__(self, epoch: int, batch: int, value: float):
        super().__init__(
            f"training diverged: loss is {value} at epoch {epoch}, batch {batch}; "
            "lower lr, clip gradients or strengthen the regularizer"
        )
        self.epoch, self.batch, self.value = epoch, batch, value


def batches(x, y, batch_size: int, shuffle: bool = False, seed: int = 0):
    """Yield ``(x[i], y[i])`` mini-batches; a seeded permutation when ``shuffle``.

    The last batch may be smaller. The permutation is drawn on the CPU and moved to
    ``x``'s device, so the same seed gives the same batches on every device.
    """
    batch_size = as_positive_int(batch_size, "batch_size")
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("x and y must be torch tensors")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"x and y must hold the same non-zero number of rows, got {len(x)} and "
            f"{len(y)}"
        )
    if shuffle:
        order = torch.randperm(
            len(x), generator=torch.Generator().manual_seed(int(seed))
        )
        order = order.to(x.device)
    else:
        order = torch.arange(len(x), device=x.device)
    for start in range(0, len(x), batch_size):
        index = order[start : start + batch_size]
        yield x[index], y[index]


class _Data:
    """Tensors ``(x, y)`` batched by :func:`batches`, or an iterable of batches as it
    is."""

    def __init__(self, data, name, batch_size=None):
        self.loader = None
        if isinstance(data, (tuple, list)):
            if len(data) != 2:
                raise TypeError(
                    f"{name} must be a pair (x, y) of tensors or a DataLoader"
                )
            x, y = (
                torch.as_tensor(p) if isinstance(p, np.ndarray) else p for p in data
            )
            if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
                raise TypeError(f"{name} must hold torch tensors (or NumPy arrays)")
            if len(x) == 0 or len(x) != len(y):
                raise ValueError(
                    f"{name}: x and y must have the same non-zero length, got {len(x)} "
                    f"and {len(y)}"
                )
            self.x, self.y = x, y
            self.batch_size = (
                None
                if batch_size is None
                else as_positive_int(batch_size, "batch_size")
            )
        elif hasattr(data, "__iter__") and not isinstance(data, torch.Tensor):
            self.loader = data
        else:
            raise TypeError(
                f"{name} must be a pair (x, y) of tensors or an iterable of batches (a "
                f"DataLoader), got {type(data).__name__}"
            )

    def to(self, device):
        if self.loader is None:
            self.x, self.y = self.x.to(device), self.y.to(device)
        return self

    def __call__(self, device, shuffle=False, seed=0, batch_size=1024):
        if self.loader is None:
            yield from batches(
                self.x, self.y, self.batch_size or batch_size, shuffle, seed
            )
            return
        for xb, yb in self.loader:
            yield xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)


def _check_callable(value, name: str):
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")


def _make_optimizer(optimizer, parameters, lr: float):
    if callable(optimizer):
        return optimizer(parameters, lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {sorted(OPTIMIZERS)} or a callable (params, lr) "
            f"-> torch.optim.Optimizer, got {optimizer!r}"
        )
    return OPTIMIZERS[optimizer](parameters, lr=lr)


def _correct(output, y):
    """Correct predictions as a device tensor, or None when outputs are not class
    scores."""
    if (
        output.ndim != 2
        or output.shape[1] < 2
        or y.dtype not in (torch.int64, torch.int32)
    ):
        return None
    return (output.argmax(dim=1) == y).sum()


class _Totals:
    """Running sums kept on the device: one host read per epoch, not one per batch."""

    def __init__(self):
        self.sums, self.count, self.has_accuracy = {}, 0, True

    def add(self, n, correct=None, **values):
        self.count += n
        for key, value in values.items():
            value = (
                value.detach().float() * n
                if isinstance(value, torch.Tensor)
                else value * n
            )
            self.sums[key] = self.sums.get(key, 0.0) + value
        if correct is None:
            self.has_accuracy = False
        else:
            self.sums["correct"] = self.sums.get("correct", 0) + correct

    def means(self):
        out = {k: float(v) / self.count for k, v in self.sums.items() if k != "correct"}
        out["accuracy"] = (
            float(self.sums["correct"]) / self.count
            if self.has_accuracy and "correct" in self.sums
            else None
        )
        return out


def _train_epoch(model, optimizer, data, epoch, settings):
    totals, scaler = _Totals(), settings["scaler"]
    first_bad = None
    device = settings["device"]
    autocast = (
        torch.autocast("cuda", dtype=torch.float16)
        if settings["amp"]
        else contextlib.nullcontext()
    )
    for index, (xb, yb) in enumerate(
        data(device, shuffle=True, seed=settings["seed"] * 100_003 + epoch)
    ):
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            output = model(xb)
            loss = settings["loss_fn"](output, yb)
        objective, penalty = loss, 0.0
        if settings["regularizer"] is not None:
            penalty = settings["regularizer"](model)
            objective = loss + penalty
        bad = ~torch.isfinite(objective.detach())
        # a device-side flag: the host reads it once per epoch, not once per batch
        first_bad = (
            torch.where(bad, index, -1)
            if first_bad is None
            else torch.where((first_bad < 0) & bad, index, first_bad)
        )
        scaler.scale(objective).backward()
        if settings["clip_grad"] is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings["clip_grad"])
        scaler.step(optimizer)
        scaler.update()
        if settings["after_step"] is not None:
            with torch.no_grad():
                settings["after_step"](model)
        totals.add(
            len(yb), _correct(output.detach(), yb), loss=loss, regularizer=penalty
        )
    if first_bad is not None and int(first_bad) >= 0:
        raise TrainingDiverged(epoch, int(first_bad), math.nan)
    return totals.means()


def fit(
    model,
    train_data,
    *,
    epochs: int,
    lr: float,
    batch_size: int | None = None,
    loss_fn=None,
    regularizer=None,
    optimizer="adam",
    scheduler=None,
    clip_grad=None,
    amp=False,
    seed: int = 0,
    device=None,
    progress: bool = True,
    eval_data=None,
    after_step=None,
) -> dict:
    """Train ``model`` and return its per-epoch history.

    Minimises the mean of ``loss_fn(model(x), y)`` (default cross-entropy) plus
    ``regularizer(model)`` with ``optimizer`` (``"adam"``, ``"adamw"``, ``"sgd"`` or a
    callable ``(params, lr) -> Optimizer``). ``train_data`` is ``(x, y)`` (then
    ``batch_size`` is needed) or an iterable of batches. ``scheduler(optimizer)`` builds
    a learning-rate scheduler stepped once per epoch; ``clip_grad`` caps the gradient
    norm; ``amp`` uses float16 autocast on CUDA.

    Returns a dict of per-epoch lists ``loss``, ``regularizer``, ``accuracy`` (None when
    outputs are not class scores), ``lr``, ``time`` (seconds) and, with ``eval_data``,
    ``eval_loss`` and ``eval_accuracy``; plus ``device`` and ``epochs``. Raises
    :class:`TrainingDiverged` on a nan/inf loss.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs, lr = as_positive_int(epochs, "epochs"), as_positive_scalar(lr, "lr")
    for value, name in (
        (loss_fn, "loss_fn"),
        (regularizer, "regularizer"),
        (after_step, "after_step"),
        (scheduler, "scheduler"),
    ):
        _check_callable(value, name)
    data = _Data(train_data, "train_data", batch_size)
    if data.loader is None and batch_size is None:
        raise ValueError("batch_size is required when train_data is a pair of tensors")
    if clip_grad is not None:
        clip_grad = as_positive_scalar(clip_grad, "clip_grad")
    device = torch.device(device) if device is not None else runtime.device()
    amp = bool(amp) and device.type == "cuda"
    settings = {
        "seed": seed,
        "loss_fn": loss_fn or F.cross_entropy,
        "regularizer": regularizer,
        "after_step": after_step,
        "clip_grad": clip_grad,
        "amp": amp,
        "device": device,
        "scaler": torch.amp.GradScaler("cuda", enabled=amp),
    }
    runtime.seed_everything(seed)
    model.to(device)
    data.to(device)
    opt = _make_optimizer(optimizer, model.parameters(), lr)
    sched = scheduler(opt) if scheduler is not None else None
    history = {"loss": [], "regularizer": [], "accuracy": [], "lr": [], "time": []}
    if eval_data is not None:
        eval_data = _Data(eval_data, "eval_data").to(device)
        history.update(eval_loss=[], eval_accuracy=[])
    with tqdm(
        total=epochs, disable=not progress, desc=type(model).__name__, unit="epoch"
    ) as bar:
        for epoch in range(epochs):
            start = time.perf_counter()
            model.train()
            stats = _train_epoch(model, opt, data, epoch, settings)
            stats.update(lr=opt.param_groups[0]["lr"], time=time.perf_counter() - start)
            if sched is not None:
                sched.step()
            if eval_data is not None:
                scores = _evaluate(model, eval_data, settings["loss_fn"], device)
                stats.update(eval_loss=scores["loss"], eval_accuracy=scores["accuracy"])
            for key in history:
                history[key].append(stats[key])
            bar.set_postfix(
                {
                    k: f"{v:.4g}"
                    for k, v in stats.items()
                    if k in ("loss", "accuracy", "eval_accuracy") and v is not None
                }
            )
            bar.update()
    return {**history, "device": str(device), "epochs": epochs}


def _model_device(model) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def _evaluate(model, data, loss_fn, device, batch_size=1024):
    was_training = model.training
    model.eval()
    totals = _Totals()
    try:
        with torch.no_grad():
            for xb, yb in data(device, batch_size=batch_size):
                xb, yb = xb.to(device), yb.to(device)
                output = model(xb)
                totals.add(len(yb), _correct(output, yb), loss=loss_fn(output, yb))
    finally:
        model.train(was_training)
    means = totals.means()
    return {"loss": means["loss"], "accuracy": means["accuracy"]}


def evaluate(model, data, batch_size: int = 1024, *, loss_fn=None, device=None) -> dict:
    """``{"loss": mean loss, "accuracy": fraction correct or None}`` of ``model`` on
    ``data``.

    ``data`` is ``(x, y)`` or an iterable of batches. Runs in eval mode without
    gradients (the model's mode is restored), on ``device`` or else the device of the
    model's parameters.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_callable(loss_fn, "loss_fn")
    device = torch.device(device) if device is not None else _model_device(model)
    batch_size = as_positive_int(batch_size, "batch_size")
    return _evaluate(
        model, _Data(data, "data"), loss_fn or F.cross_entropy, device, batch_size
    )
