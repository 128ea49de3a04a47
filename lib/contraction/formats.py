"""The binary file formats of MNIST (IDX) and CIFAR-10, parsed and validated (Chapter 4
on).

:func:`read_idx` and :func:`read_cifar_binary` check headers and sizes instead of
trusting them, so a truncated or foreign file fails with a message naming it; nothing is
ever unpickled. :mod:`contraction.data` uses them to load the data sets. References:
LeCun et al., *The MNIST database* (IDX format); Krizhevsky, *Learning multiple layers
of features from tiny images* (2009, CIFAR-10 binary format).
"""

from __future__ import annotations

import gzip
import math

import numpy as np

__all__ = ["read_idx", "read_cifar_binary", "parse_cifar_records"]

_IDX_DTYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_CIFAR_SIDE, _CIFAR_CHANNELS = 32, 3
_CIFAR_RECORD = 1 + _CIFAR_CHANNELS * _CIFAR_SIDE * _CIFAR_SIDE


def _read_bytes(path) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def read_idx(path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or plain, into a NumPy array.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C
    int32, 0x0D float32, 0x0E float64), the number of dimensions, then each dimension as
    a big-endian uint32; the big-endian data follow. A wrong magic number, an unknown
    type code or a data length that does not match the dimensions raises a ValueError
    naming the file.
    """
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(
            f"{path}: IDX header with {ndim} dimensions is truncated or empty"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    payload = len(raw) - 4 - 4 * ndim
    if payload != expected:
        raise ValueError(
            f"{path}: IDX dimensions {shape} need {expected} data bytes, the file "
            f"holds {payload}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def parse_cifar_records(raw: bytes, source: str) -> tuple:
    """CIFAR-10 records held in memory (``source`` names them in errors); see below."""
    if len(raw) == 0 or len(raw) % _CIFAR_RECORD:
        raise ValueError(
            f"{source}: {len(raw)} bytes is not a whole number of {_CIFAR_RECORD}-byte "
            f"CIFAR-10 records"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{source}: label {labels.max()} outside 0..9")
    images = (
        records[:, 1:].reshape(-1, _CIFAR_CHANNELS, _CIFAR_SIDE, _CIFAR_SIDE).copy()
    )
    return images, labels


def read_cifar_binary(path) -> tuple:
    """Read one CIFAR-10 binary batch: ``(images uint8 (N, 3, 32, 32), labels int64
    (N,))``.

    Each record is one label byte (0-9) then 3,072 pixel bytes: the red, green and blue
    32x32 planes, row by row. A file that is not a whole number of records raises a
    ValueError.
    """
    with open(path, "rb") as handle:
        return parse_cifar_records(handle.read(), str(path))
