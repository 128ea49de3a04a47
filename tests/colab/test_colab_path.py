"""The Colab path: no checkout, just `pip install` of the library and a notebook on its own.

Builds a wheel of `contraction`, installs it into a fresh virtual environment (the stack pinned by
constraints.txt stands in for Colab's preinstalled packages), copies the first notebook of each
chapter into an empty directory and executes it there. A notebook that reads a file from the
repository instead of from the installed package fails here. Run by `make test-colab`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_NOTEBOOKS = [sorted(d.glob("*.ipynb"))[0] for d in sorted(ROOT.glob("chapters/*/"))
                   if any(d.glob("*.ipynb"))]
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3").execute(cwd=sys.argv[2])
print("executed", sys.argv[1])
"""


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_pyproject_pins_nothing_colab_preinstalls():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        name = re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower()
        if name in {"torch", "numpy", "matplotlib", "scipy", "ipywidgets", "tqdm"}:
            assert "==" not in dep and "<" not in dep, f"{dep} would fight Colab's own {name}"


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    work = tmp_path_factory.mktemp("colab")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", ROOT])
    wheel = next((work / "dist").glob("contraction-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "contraction/__init__.py" in names and not any(n.startswith("tests/") for n in names)
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-c", ROOT / "constraints.txt", wheel, "nbclient", "nbformat", "ipykernel"])
    _run([python, "-m", "ipykernel", "install", "--prefix", venv, "--name", "python3"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV"))}
    env.update(JUPYTER_PATH=str(venv / "share" / "jupyter"),
               CONTRACTION_MODE="fast", PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    return python, env, work


@pytest.mark.parametrize("notebook", FIRST_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_notebook_runs_from_an_empty_directory(fresh_env, notebook, tmp_path):
    python, env, work = fresh_env
    alone = tmp_path / "alone"
    alone.mkdir()
    copy = alone / notebook.name
    shutil.copy(notebook, copy)
    result = _run([python, "-c", RUNNER, copy, alone], env=env, cwd=alone)
    assert "executed" in result.stdout
