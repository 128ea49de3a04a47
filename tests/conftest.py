"""Fixtures shared by the library tests."""

import pytest

from contraction import data


@pytest.fixture
def mnist_unreachable(monkeypatch):
    """``data.mnist`` fails as it does offline with an empty cache."""

    def no_network(*args, **kwargs):
        raise RuntimeError("train-images-idx3-ubyte.gz is not in the cache /nowhere")

    monkeypatch.setattr(data, "mnist", no_network)
