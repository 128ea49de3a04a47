"""Glued numbers reach the prose as plain Python numbers, in myst-nb's format, without
myst-nb."""

import numpy as np
import pytest
import torch

from contraction.book import prose


def glued(value, monkeypatch, **options):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    prose.glue("x", value, **options)
    (bundle,), options = shown[0]
    return bundle, options


@pytest.mark.parametrize(
    "value, text",
    [
        (np.float64(0.25), "0.25"),
        (np.int64(3), "3"),
        (np.array(1.5), "1.5"),
        (torch.tensor(2.0), "2.0"),
        ("text", "'text'"),
        (0.5, "0.5"),
    ],
)
def test_numbers_become_plain(value, text, monkeypatch):
    bundle, options = glued(value, monkeypatch)
    assert bundle == {prose.GLUE_PREFIX + "text/plain": text}
    assert options["raw"] and options["metadata"]["scrapbook"] == {
        "name": "x",
        "mime_prefix": prose.GLUE_PREFIX,
    }


def test_same_output_as_myst_nb(monkeypatch):
    from myst_nb import glue as myst_glue

    ours, _ = glued(0.125, monkeypatch)
    shown = []
    monkeypatch.setattr(
        "myst_nb.ext.glue.ipy_display", lambda *a, **k: shown.append((a, k))
    )
    myst_glue("x", 0.125, display=False)
    assert shown[0][0][0] == ours


def test_floats_keep_ten_significant_digits(monkeypatch):
    bundle, _ = glued(0.1 + 0.2, monkeypatch)  # 0.30000000000000004
    assert bundle[prose.GLUE_PREFIX + "text/plain"] == "0.3"
    bundle, _ = glued(1 / 3 * 1e-5, monkeypatch)
    assert bundle[prose.GLUE_PREFIX + "text/plain"] == "3.333333333e-06"


def test_name_is_checked():
    with pytest.raises(ValueError, match="name"):
        prose.glue("", 1.0)
