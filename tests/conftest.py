"""Fixtures shared by the library tests."""

import importlib.util
import sys
from pathlib import Path

import pytest

from contraction import data


@pytest.fixture
def mnist_unreachable(monkeypatch):
    """``data.mnist`` fails as it does offline with an empty cache."""

    def no_network(*args, **kwargs):
        raise RuntimeError("train-images-idx3-ubyte.gz is not in the cache /nowhere")

    monkeypatch.setattr(data, "mnist", no_network)


@pytest.fixture
def load_script(monkeypatch):
    """``load_script("tools/x.py")``: a script of the repository (tools, benchmarks) as
    a module; its folder is on ``sys.path`` meanwhile, for the siblings it imports."""
    root = Path(__file__).parents[1]
    folders = (str(root / "tools"), str(root / "benchmarks"))

    def load(relative):
        path = root / relative
        monkeypatch.syspath_prepend(str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    for name, module in list(sys.modules.items()):  # siblings the scripts imported
        if (getattr(module, "__file__", None) or "").startswith(folders):
            del sys.modules[name]
