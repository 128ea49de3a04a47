r"""What a training step costs: memory kept for the backward pass, and wall time
(Chapter 5).

The claim of IDKM (Section 2.3.3 of ``jaffe2024``) is about memory: backpropagating
through ``t`` soft k-means iterations keeps every iterate's distance and attention
matrices, :math:`O(t\,m\,k)`, while the implicit backward keeps only the solution,
:math:`O(m\,k)`. Two measurements:

* :class:`SavedTensorMeter` (any device): the bytes of the tensors autograd saves for
  the backward pass, through ``torch.autograd.graph.saved_tensors_hooks``. A storage
  saved twice (a weight used in every iteration) counts once, and a tensor counts only
  while some graph still holds it, so ``peak`` is the most memory the graphs held at
  once during the forward *and* backward passes. This is exact and repeatable on a CPU,
  where the allocator has no counter.
* :func:`backward_memory` adds, on CUDA, the allocator's peak above the starting point
  (``torch.cuda.max_memory_allocated``): everything, not only saved tensors.

:func:`time_step` is the median wall time of a training step (synchronising CUDA).

And what JFB saves has a price in direction: :func:`gradient_angle` measures, at a
model's current state, the angle between the loss gradients of its quantized weights
under two backward methods (IDKM's exact implicit gradient against JFB's zeroth Neumann
term), so it can be followed along training.

Introduced in the Chapter 5 section *The headline, measured*. Reference: S. Jaffe, PhD
thesis, UCSB 2024, Chapter 2, Table 2.2 (``jaffe2024``).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import time
import warnings

import torch
import torch.nn.functional as F

from ._checks import as_positive_int, check_callable
from .quantize_kmeans import METHODS
from .quantize_layers import QuantizedLayer

__all__ = [
    "SavedTensorMeter",
    "MemoryReport",
    "backward_memory",
    "time_step",
    "gradient_angle",
]


class _Saved:
    """A saved tensor with a receipt: when autograd frees it, the meter is told."""

    __slots__ = ("tensor", "meter", "key")

    def __init__(self, tensor, meter, key):
        self.tensor, self.meter, self.key = tensor, meter, key

    def __del__(self):
        self.meter._release(self.key)


class SavedTensorMeter:
    """Context manager counting the bytes autograd saves for backward while it is
    active.

    ``current`` (bytes held now), ``peak`` (most held at once), ``total`` (every save,
    duplicates included) and ``count`` (number of saves). Use it around forward *and*
    backward::

        with SavedTensorMeter() as meter:
            loss(model(x)).backward()
        meter.peak
    """

    def __init__(self):
        self.current = self.peak = self.total = self.count = 0
        self._live = {}
        self._hooks = None

    def _pack(self, tensor):
        storage = tensor.untyped_storage()
        key = (str(tensor.device), storage.data_ptr())
        nbytes = storage.nbytes()
        self.total, self.count = self.total + nbytes, self.count + 1
        if key in self._live:
            self._live[key][1] += 1
        else:
            self._live[key] = [nbytes, 1]
            self.current += nbytes
            self.peak = max(self.peak, self.current)
        return _Saved(tensor, self, key)

    @staticmethod
    def _unpack(saved):
        return saved.tensor

    def _release(self, key):
        entry = self._live.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            self.current -= entry[0]
            del self._live[key]

    def __enter__(self):
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)
        return False


@dataclasses.dataclass
class MemoryReport:
    """``saved_peak``/``saved_total``: bytes saved for backward
    (:class:`SavedTensorMeter`); ``cuda_peak``: the CUDA allocator's peak above the
    start, or None off CUDA."""

    saved_peak: int
    saved_total: int
    cuda_peak: int | None = None


def _sync(device):
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def backward_memory(step, device=None):
    """Run ``step()`` (a forward and backward pass) once and measure its memory.

    ``device``: where the step runs; on a CUDA device the allocator's peak is measured
    as well.
    """
    check_callable(step, "step")
    cuda = device is not None and torch.device(device).type == "cuda"
    if cuda:
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
    with SavedTensorMeter() as meter:
        step()
    peak = None
    if cuda:
        _sync(device)
        peak = torch.cuda.max_memory_allocated(device) - start
    return MemoryReport(meter.peak, meter.total, peak)


def time_step(step, repeats=5, warmup=1, device=None):
    """The median wall time in seconds of ``step()`` over ``repeats`` runs after
    ``warmup``."""
    check_callable(step, "step")
    repeats = as_positive_int(repeats, "repeats")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    times = []
    for i in range(warmup + repeats):
        _sync(device)
        start = time.perf_counter()
        step()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _weight_gradient(model, x, y, method, loss_fn):
    """The loss gradient of every quantized weight of a copy of ``model`` whose layers
    use ``method``; None if an implicit backward fell back to JFB."""
    twin = copy.deepcopy(model).train()
    layers = [m for m in twin.modules() if isinstance(m, QuantizedLayer)]
    if not layers:
        raise ValueError("model must contain at least one QuantizedLayer")
    for layer in layers:
        layer.options["method"] = method
    with torch.enable_grad():
        loss = loss_fn(twin(x), y)
        grads = torch.autograd.grad(loss, [layer.layer.weight for layer in layers])
    if method == "idkm" and not all(
        layer.record.backward is not None and layer.record.backward.converged
        for layer in layers
    ):
        return None
    return torch.cat([g.flatten() for g in grads])


def gradient_angle(model, x, y, methods=("idkm", "jfb"), loss_fn=None) -> float:
    r"""Angle in degrees between the gradients of the loss on ``(x, y)`` with respect to
    the quantized weights of ``model``, under the two backward ``methods``.

    Both gradients start from the model's current state (its weights and codebook warm
    starts, on copies, so ``model`` is not changed): the forward passes agree and only
    the backward differs. With IDKM as the reference, the angle of JFB is how far the
    zeroth Neumann term :math:`\partial F/\partial W` turns the implicit gradient
    :math:`(I - \partial F/\partial C)^{-1}\partial F/\partial W` (``jaffe2024``,
    Section 2.4; ``fung2022``). Returns nan when an IDKM adjoint solve did not converge
    (it then falls back to JFB, and the angle would read 0). ``loss_fn`` defaults to
    cross-entropy.
    """
    if len(methods) != 2 or any(m not in METHODS for m in methods):
        raise ValueError(f"methods must be two of {METHODS}, got {methods!r}")
    loss_fn = F.cross_entropy if loss_fn is None else check_callable(loss_fn, "loss_fn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a fallback is reported as nan
        a, b = (_weight_gradient(model, x, y, m, loss_fn) for m in methods)
    if a is None or b is None:
        return math.nan
    cosine = torch.dot(a, b) / (a.norm() * b.norm())
    return math.degrees(math.acos(float(cosine.clamp(-1.0, 1.0))))
