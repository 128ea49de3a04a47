"""Checkpoints that are verified before they are loaded: sha256 first, then weights
only.

:func:`save_checkpoint` writes a model's ``state_dict`` (tensors only) and returns the
file's sha256; :func:`load_checkpoint` refuses a file whose sha256 differs from the one
recorded (a truncated download, a stale file) and loads it with ``torch.load(...,
weights_only=True)``, which unpickles tensors and plain containers only, never arbitrary
objects. Small checkpoints of full runs ship with the package next to their
``results/NAME.json``. Chapter 4, *Robust training*.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

__all__ = ["sha256_file", "save_checkpoint", "load_checkpoint"]

MAX_BYTES = 5 * 2**20  # checkpoints that ship with the package stay small


def sha256_file(path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(model, path, max_bytes: int = MAX_BYTES) -> str:
    """Write ``model.state_dict()`` (or a state dict) to ``path``; return its sha256.

    Raises ``ValueError`` when the file would exceed ``max_bytes`` (keep shipped files
    small).
    """
    state = model.state_dict() if isinstance(model, torch.nn.Module) else model
    if not isinstance(state, dict) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise TypeError(
            "model must be a torch.nn.Module or a dict of tensors (a state dict)"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    torch.save({k: v.detach().cpu() for k, v in state.items()}, partial)
    size = partial.stat().st_size
    if size > max_bytes:
        partial.unlink()
        raise ValueError(
            f"checkpoint would be {size} bytes, more than max_bytes={max_bytes}"
        )
    os.replace(partial, path)
    return sha256_file(path)


def load_checkpoint(path, sha256: str, model=None, map_location="cpu"):
    """Load the state dict at ``path`` after checking its ``sha256``; into ``model`` if
    given.

    Returns the model (with the weights loaded) or the state dict.
    """
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise ValueError(
            "sha256 must be the 64-character hex digest recorded with the file"
        )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise ValueError(
            f"checkpoint {path} has sha256 {actual}, expected {sha256}: refusing "
            "to load it (re-run the experiment or fetch the file again)"
        )
    state = torch.load(path, map_location=map_location, weights_only=True)
    if model is None:
        return state
    model.load_state_dict(state)
    return model
