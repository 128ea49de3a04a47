"""The data tools of tools/ (run by hand, not by the book): their conversions."""

import io

import numpy as np
import pytest
from PIL import Image

from contraction import formats


@pytest.fixture
def cifar_tool(load_script):
    return load_script("tools/cifar10_from_npm.py")


def png_of(pixels):
    stream = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(stream, format="PNG")
    stream.seek(0)
    return stream


def test_a_png_batch_becomes_the_releases_records(cifar_tool):
    """Row i of the PNG is image i, pixel j of the row its j-th pixel (row-major); each
    record is the label, then the red, green and blue planes."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(cifar_tool.BATCH, 1024, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=cifar_tool.BATCH)
    raw = cifar_tool.batch_records(png_of(pixels), labels.tolist())
    images, parsed = formats.parse_cifar_records(raw, "converted")
    assert np.array_equal(parsed, labels)
    # image 5, green channel, row 2, column 7 is pixel 2 * 32 + 7 of PNG row 5
    assert images[5, 1, 2, 7] == pixels[5, 2 * 32 + 7, 1]
    assert np.array_equal(images.transpose(0, 2, 3, 1).reshape(-1, 1024, 3), pixels)


def test_a_wrong_png_or_label_list_is_refused(cifar_tool):
    small = np.zeros((10, 1024, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="unexpected PNG"):
        cifar_tool.batch_records(png_of(small), [0] * 10)
    full = np.zeros((cifar_tool.BATCH, 1024, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="10,000 labels in 0..9"):
        cifar_tool.batch_records(png_of(full), [10] * cifar_tool.BATCH)
