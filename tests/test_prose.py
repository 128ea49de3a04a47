"""Glued numbers reach the prose as plain Python numbers (the build formats their text)."""

import numpy as np
import pytest
import torch

from contraction.book import prose


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.float64(0.25), 0.25),
        (np.int64(3), 3),
        (np.array(1.5), 1.5),
        (torch.tensor(2.0), 2.0),
        ("text", "text"),
        (0.5, 0.5),
    ],
)
def test_numbers_become_plain(value, expected, monkeypatch):
    seen = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, v, display: seen.update({name: v}))
    prose.glue("x", value)
    assert seen["x"] == expected and type(seen["x"]) is type(expected)


def test_name_is_checked():
    with pytest.raises(ValueError, match="name"):
        prose.glue("", 1.0)
