"""Self-checks for the coding exercises of Chapter 6 (Hopfield memory), loaded on first
use.

:func:`contraction.book.exercises.check` imports this module when a name starting with
``ch6.`` is asked for. Reference solutions stay here, out of the reader's way.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import hebbian, hopfield
from .exercises import register


# --- Section 6.1: classical Hopfield networks
def _local_field_cases(seed=61):
    rng = np.random.default_rng(seed)
    cases = []
    for p, n in ((1, 4), (3, 10), (5, 40), (12, 30)):
        cases.append((rng.choice([-1.0, 1.0], (p, n)), rng.choice([-1.0, 1.0], n)))
    return cases


register(
    "ch6.local_fields",
    lambda patterns, s: hebbian.hebbian_weights(patterns) @ s,
    _local_field_cases(),
    "W s = patterns.T @ (patterns @ s) / N minus the diagonal part, which is P / N "
    "times s (every diagonal entry of patterns.T @ patterns / N equals P / N).",
)


# --- Section 6.2: modern Hopfield networks
def _mchn_reference(memories, x, beta):
    x = torch.as_tensor(x, dtype=torch.float64)
    return hopfield.mchn_update(
        torch.as_tensor(memories, dtype=torch.float64), x, beta
    ).numpy()


def _mchn_cases(seed=62):
    rng = np.random.default_rng(seed)
    cases = [
        (np.eye(3), np.array([1.0, 0.2, 0.0]), 1.0),
        (rng.normal(size=(5, 4)), rng.normal(size=4), 0.5),
        (rng.normal(size=(8, 6)) * 10, rng.normal(size=6) * 10, 4.0),
    ]  # needs a stable softmax
    return cases


register(
    "ch6.mchn_update",
    _mchn_reference,
    _mchn_cases(),
    "scores = beta * memories @ x; subtract their maximum before exp (large scores "
    "overflow); normalise to weights p that sum to 1 and return memories.T @ p.",
)


# --- Section 6.3: sum-softmax and the k-Hopfield layer
def _ssm_reference(x, k):
    return hopfield.ssm(torch.as_tensor(x, dtype=torch.float64), k).numpy()


def _ssm_cases(seed=63):
    rng = np.random.default_rng(seed)
    return [
        (np.array([0.0, 0.0, 0.0, 0.0]), 2),
        (np.array([3.0, -1.0, 0.5]), 1),
        (rng.normal(size=7), 3),
        (rng.normal(size=12) * 5, 4),
        (rng.normal(size=20) * 30, 6),
    ]


register(
    "ch6.ssm",
    _ssm_reference,
    _ssm_cases(),
    "the answer is sigmoid(x + nu) with the scalar nu chosen so that the entries sum "
    "to k; the sum is increasing in nu, so bisection between min(-x) - 40 and max(-x) "
    "+ 40 (or scipy.optimize.brentq) finds nu. Solve to about 1e-12.",
    rtol=1e-6,
    atol=1e-8,
)


# --- Section 6.4: k-Hopfield attention in a vision transformer
def _patches_reference(image, patch):
    from .. import vision

    image = torch.as_tensor(image, dtype=torch.float64)
    embed = vision.PatchEmbedding(tuple(image.shape), patch, 1)
    return embed.patches(image[None])[0].numpy()


def _patches_cases(seed=64):
    rng = np.random.default_rng(seed)
    return [
        (np.arange(16.0).reshape(1, 4, 4), 2),
        (rng.normal(size=(1, 8, 8)), 2),
        (rng.normal(size=(1, 8, 8)), 4),
        (rng.normal(size=(3, 6, 4)), 2),
        (rng.normal(size=(2, 4, 4)), 1),
    ]


register(
    "ch6.patches",
    _patches_reference,
    _patches_cases(),
    "reshape (C, H, W) to (C, H/p, p, W/p, p), move the two patch-grid axes to the "
    "front (row of patches, then column), then flatten each patch as (C, p, p) in that "
    "order.",
)
