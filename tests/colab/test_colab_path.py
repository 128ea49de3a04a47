"""The Colab path's static checks (`make test-colab`); the run itself is `make
test-notebooks`.

`make test-notebooks` installs the library with each setup cell's own `%pip install`
line (pointed at a local git snapshot of this tree) into a virtual environment without
the checkout and runs strict nbval on copies of every notebook there
(tools/colab_env.py). These tests check the pieces that run relies on: the setup cells,
the URL rewriting, the package data and the pins.
"""

from __future__ import annotations

import json
import re
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import colab_env  # noqa: E402
from notebooks import repository_url, setup_cell_source  # noqa: E402

NOTEBOOKS = sorted(ROOT.glob("chapters/*/*.ipynb"))


def test_pyproject_pins_nothing_colab_preinstalls():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    for dep in deps:
        name = re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower()
        if name in {"torch", "numpy", "matplotlib", "scipy", "ipywidgets", "tqdm"}:
            assert "==" not in dep and "<" not in dep, (
                f"{dep} would fight Colab's own {name}"
            )


def test_package_data_ships_every_data_file():
    """pyproject's package-data globs cover each non-Python file of lib/contraction."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]["package-data"]["contraction"]
    assert "results/*.json" in patterns, "recorded full runs (results/*.json) must ship"
    source = ROOT / "lib" / "contraction"
    data = [
        f.relative_to(source).as_posix()
        for f in source.rglob("*")
        if f.is_file()
        and f.suffix not in {".py", ".pyc"}
        and "__pycache__" not in f.parts
        and not f.name.startswith(".")
    ]
    unshipped = [f for f in data if not any(fnmatch(f, p) for p in patterns)]
    assert not unshipped, f"not in [tool.setuptools.package-data]: {unshipped}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_installs_from_the_configured_repository(notebook):
    source = colab_env.setup_cell(json.loads(notebook.read_text()))
    assert source == setup_cell_source(), (
        f"{notebook.name}: run `make notebooks` to sync it"
    )
    for line in colab_env.pip_lines(source):
        cmd = colab_env.local_command(
            line,
            repository_url(),
            "file://localhost/tmp/repo",
            Path("/venv/bin/python"),
        )
        assert cmd[:4] == ["/venv/bin/python", "-m", "pip", "install"]
        assert any(
            a.startswith("contraction @ git+file://localhost/tmp/repo") for a in cmd
        ), cmd


def test_pip_lines_expand_the_cells_variables_like_ipython():
    source = (
        'if x:\n    repo = "https://h/o/b"\n    %pip install "c @ git+{repo}.git"\n'
    )
    assert colab_env.pip_lines(source) == ['%pip install "c @ git+https://h/o/b.git"']
    with pytest.raises(ValueError, match="does not define other"):
        colab_env.pip_lines('%pip install "c @ git+{other}.git"')


def test_local_command_rewrites_only_the_repository_url():
    url = "https://example.invalid/org/book"
    line = '%pip install -q "contraction @ git+https://example.invalid/org/book.git"'
    cmd = colab_env.local_command(line, url, "file://localhost/snap", Path("py"))
    assert cmd == [
        "py",
        "-m",
        "pip",
        "install",
        "-q",
        "contraction @ git+file://localhost/snap",
    ]
    with pytest.raises(ValueError, match="repository.url"):
        colab_env.local_command(
            '%pip install -q "contraction @ git+https://elsewhere/x.git"',
            url,
            "file://localhost/snap",
            Path("py"),
        )
