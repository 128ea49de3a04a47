r"""Reconstructing occluded images with k-Hopfield layers.

Section 6.3 of the book; Figure 3.2 of ``jaffe2024``. Store ``N`` images as memories,
hide the top rows of some of them and feed those to the layer. A reconstruction
*succeeds* if some column of the output (the ``k`` nearest memories,
:func:`~contraction.hopfield.khopfield`) is within a sum-of-squares distance
:math:`50\,n/784` of the full image of ``n`` pixels (the dissertation's threshold 50 on
784 MNIST pixels, scaled to the same mean squared error per pixel: our choice); the
modern Hopfield network, with one output, succeeds if its output is. As in the
dissertation: :math:`\beta = 3`, the negative Manhattan similarity for both, 10 trials
of random memories.

Fast mode: the 8x8 digits (1,797 images), up to 1,000 memories. Full mode: MNIST
(70,000 images, bottom half shown), up to 3,000 memories; where MNIST cannot be loaded
it runs on the digits and ``data_used`` says so. The experiment
``hopfield_occlusion_cifar10`` (full mode only) repeats the full setting on CIFAR-10's
60,000 colour images with the top 10 of their 32 rows hidden, as in the dissertation;
it has no offline stand-in and fails, saying why, where CIFAR-10 cannot be loaded.
"""

from __future__ import annotations

from . import check_mode, register

__all__ = [
    "SETTINGS",
    "hide_rows",
    "reconstruct",
    "success_rates",
    "load_images",
    "layout",
    "record_config",
    "hopfield_occlusion",
    "hopfield_occlusion_cifar10",
]

SETTINGS = {
    "fast": {
        "data": "digits",
        "counts": [10, 30, 100, 300, 1000],
        "trials": 10,
        "queries": 50,
        "beta": 3.0,
        "k": 5,
        "seed": 1,
    },
    "full": {
        "data": "mnist",
        "counts": [10, 30, 100, 300, 1000, 3000],
        "trials": 10,
        "queries": 50,
        "beta": 3.0,
        "k": 5,
        "seed": 1,
    },
}
# CIFAR-10: full mode only, the full setting on colour images
CIFAR10_SETTINGS = {"full": {**SETTINGS["full"], "data": "cifar10"}}
CIFAR10_HIDDEN_ROWS = 10  # of 32, as in the dissertation
COLUMNS = ("modern Hopfield", "k = 1", "k = 2", "k = 3", "k = 4", "k = 5")


def hide_rows(images, shape, rows):
    """Flattened images ``(N, C*H*W)`` with the top ``rows`` of every channel zeroed."""
    hidden = images.clone().reshape(-1, *shape)
    hidden[:, :, :rows] = 0.0
    return hidden.reshape(len(images), -1)


def reconstruct(memories, n_queries, shape, rows, threshold, beta=3.0, k=5):
    """Success rates ``(k + 1,)`` over the first ``n_queries`` memories, occluded: of
    the modern network, then of the k-Hopfield layer with 1..k columns."""
    import torch

    from .. import hopfield

    full = memories[:n_queries]
    query = hide_rows(full, shape, rows)
    one = hopfield.mchn_update(memories, query, beta, similarity="manhattan")
    X = hopfield.khopfield(memories, query, beta, k, similarity="manhattan")
    best = (X - full[:, :, None]).pow(2).sum(1).cummin(dim=1).values
    hits = [(one - full).pow(2).sum(1) < threshold] + list(best.T < threshold)
    return torch.stack(hits).double().mean(1).numpy()


def success_rates(images, shape, rows, settings, progress=False):
    """Success rates ``(counts, trials, k + 1)``: trial ``t`` at each count stores that
    many images drawn at random (one generator seeded ``settings["seed"]``)."""
    import numpy as np
    from tqdm.auto import tqdm

    counts = settings["counts"]
    rates = np.zeros((len(counts), settings["trials"], settings["k"] + 1))
    rng = np.random.default_rng(settings["seed"])
    threshold = 50 * images.shape[1] / 784
    for a, count in enumerate(
        tqdm(counts, desc="stored memories", disable=not progress)
    ):
        for t in range(settings["trials"]):
            chosen = rng.choice(len(images), count, replace=False)
            rates[a, t] = reconstruct(
                images[chosen],
                min(count, settings["queries"]),
                shape,
                rows,
                threshold,
                settings["beta"],
                settings["k"],
            )
    return rates


def load_images(source):
    """``(images, data_used)``: every image of ``source`` (``"digits"``, ``"mnist"`` or
    ``"cifar10"``, train and test) as float64 values in [0, 1], shape ``(N, n)``; the
    digits where MNIST cannot be loaded (:func:`.inn.load_data`).
    CIFAR-10 has no stand-in: where it cannot be loaded, the RuntimeError of
    :func:`contraction.data.cifar10` says why."""
    import torch

    from .inn import load_data

    dataset, data_used = load_data(
        source, normalize=False, fallback=source != "cifar10"
    )
    images = torch.cat([dataset.train[0], dataset.test[0]])
    return images.reshape(len(images), -1).double(), data_used


def layout(images, colour: bool):
    """``(shape, hidden rows)`` of flattened ``images``: (3, 32, 32) with the top
    :data:`CIFAR10_HIDDEN_ROWS` rows hidden when ``colour``, else square grey images
    with the top half hidden."""
    if colour:
        return (3, 32, 32), CIFAR10_HIDDEN_ROWS
    side = round(images.shape[1] ** 0.5)
    return (1, side, side), side // 2


def _settings(mode, colour):
    table = CIFAR10_SETTINGS if colour else SETTINGS
    return table[check_mode(table, mode)]


def record_config(mode, colour: bool = False):
    """The ``config`` that :func:`hopfield_occlusion` (or, ``colour``,
    :func:`hopfield_occlusion_cifar10`) records for ``mode``, without running."""
    hidden = "top half of the rows"
    if colour:
        hidden = f"top {CIFAR10_HIDDEN_ROWS} of 32 rows"
    return {
        **_settings(mode, colour),
        "mode": mode,
        "similarity": "manhattan",
        "hidden": hidden,
        "threshold": "50 n / 784 (sum of squares)",
    }


def _experiment(mode, colour):
    from ..nn.results import tensor_checksum

    settings = _settings(mode, colour)
    images, data_used = load_images(settings["data"])
    shape, rows = layout(images, colour)
    # the digits fallback has fewer images than full mode's largest count
    counts = [c for c in settings["counts"] if c <= len(images)]
    settings = {**settings, "counts": counts}
    rates = success_rates(images, shape, rows, settings, progress=True)
    metrics = {
        "columns": list(COLUMNS),
        "counts": counts,
        "mean": rates.mean(1).tolist(),
        "std": rates.std(1).tolist(),
        "image_pixels": images.shape[1],
    }
    return {
        "metrics": metrics,
        "config": record_config(mode, colour),
        "data_used": data_used,
        "data_checksum": tensor_checksum(images),
    }


@register("hopfield_occlusion")
def hopfield_occlusion(mode):
    """The experiment: success rates over ``SETTINGS[mode]``, mean and std over
    trials."""
    return _experiment(mode, colour=False)


@register("hopfield_occlusion_cifar10")
def hopfield_occlusion_cifar10(mode):
    """The same on CIFAR-10 (``mode`` "full" only), the top 10 of 32 rows hidden."""
    return _experiment(mode, colour=True)
