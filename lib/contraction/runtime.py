"""Where and how the book's experiments run: device, full/fast mode, seeding.

The book runs every experiment in one of two modes (book/building.md, "Full and fast
runs"):

* ``"full"``: the scale reported in the papers; chosen automatically when a CUDA GPU is
  present.
* ``"fast"``: smaller data and fewer epochs that still show the phenomenon; chosen on a
  CPU, and the mode of the committed notebook outputs and of CI.

The environment variable ``CONTRACTION_MODE=full|fast`` overrides the automatic choice.
"""

from __future__ import annotations

import os
import random
import sys
from contextlib import contextmanager

import numpy as np

MODES = ("full", "fast")


def _torch():
    # torch is imported lazily: the chapters on norms and fixed points never need it.
    import torch

    return torch


def device():
    """The best available torch device: CUDA, then Apple MPS, then the CPU."""
    torch = _torch()
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def mode() -> str:
    """The run mode, ``"full"`` or ``"fast"`` (see the module docstring)."""
    requested = os.environ.get("CONTRACTION_MODE", "").strip().lower()
    if requested:
        if requested not in MODES:
            raise ValueError(
                f"CONTRACTION_MODE must be 'full' or 'fast', got {requested!r}"
            )
        return requested
    return "full" if _torch().cuda.is_available() else "fast"


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) torch; return a fresh NumPy generator.

    The returned generator is what the book's cells use for their own randomness, so
    that a notebook gives the same numbers on every run.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed))
    try:
        _torch().manual_seed(int(seed))
    except ImportError:  # the library's numpy-only parts work without torch
        pass
    return np.random.default_rng(int(seed))


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


@contextmanager
def single_thread():
    """Run torch on one CPU thread inside the block (the previous setting is restored
    after).

    The book's models are tiny (100 x 100 matrices), so extra threads only add
    synchronisation: on a shared 2-core machine one thread was 5-20 times faster
    (Section 4.3), and it fixes the order of floating-point reductions, so numbers
    repeat exactly from run to run.
    """
    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
