"""Prepare the Colab path for `make test-notebooks`: the library installed the way Colab
installs it.

Colab has no checkout: each notebook's setup cell runs ``%pip install "contraction @
git+{repository}.git"`` (``repository`` set to URL in the cell) and the notebook imports
what that installed. This script reproduces that
offline:

1. a snapshot of the working tree (tracked files and untracked ones git does not ignore,
   less the chapter notebooks) is committed to a throw-away git repository, standing in
   for the repository at ``URL``;
2. a virtual environment ENV/venv gets the pinned stack (``constraints.txt``), standing
   in for Colab's preinstalled packages, plus pytest and nbval; it is kept between runs
   and rebuilt when ``constraints.txt`` or ``pyproject.toml`` changes;
3. every distinct ``%pip install`` line of the notebooks' setup cells is run, as
   written, with ``git+URL`` replaced by ``git+file://`` of the snapshot (after removing
   the installed ``contraction``, so the line itself installs it);
4. the installed package is checked: it is imported from the environment, not from the
   checkout, and every data file of ``lib/contraction`` (the recorded full runs in
   ``results/``, their checkpoints) is in it;
5. the notebooks are copied into ENV/book, away from the checkout, for strict nbval to
   execute with the environment's Python (the Makefile runs it there).

Usage: python tools/colab_env.py ENV NOTEBOOK [NOTEBOOK ...]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebooks import repository_url  # noqa: E402  (the one place that names the URL)

TEST_PACKAGES = ["pytest", "nbval", "ipykernel", "nbclient", "nbformat"]


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, **kwargs
    )
    if result.returncode != 0:
        raise SystemExit(
            f"failed: {shlex.join(map(str, cmd))}\n{result.stdout}\n{result.stderr}"
        )
    return result


def setup_cell(nb: dict) -> str:
    first = nb["cells"][0] if nb.get("cells") else None
    if (
        not first
        or first["cell_type"] != "code"
        or "google.colab" not in "".join(first["source"])
    ):
        raise ValueError(
            "the first cell is not the Colab setup cell (make notebooks writes it)"
        )
    return "".join(first["source"])


def pip_lines(source: str) -> list[str]:
    """The ``%pip install`` lines of a setup cell, stripped of indentation, with
    ``{name}`` expanded from the cell's own string assignments (``name = "..."``), as
    IPython expands variables in a magic line before running it."""
    names = dict(re.findall(r"^\s*(\w+) = \"([^\"]*)\"\s*$", source, re.M))
    lines = [
        line.strip() for line in source.splitlines() if line.strip().startswith("%pip ")
    ]
    if not lines:
        raise ValueError("the setup cell has no %pip install line")

    def expand(match):
        if match.group(1) not in names:
            raise ValueError(f"the setup cell does not define {match.group(1)}")
        return names[match.group(1)]

    return [re.sub(r"\{(\w+)\}", expand, line) for line in lines]


def local_command(line: str, url: str, local_url: str, python: Path) -> list[str]:
    """``%pip install ...git+URL...`` as the argv that runs it in ``python``'s
    environment, offline.

    ``%pip`` in IPython is ``python -m pip`` of the kernel's interpreter.
    """
    remote = re.compile(rf"git\+{re.escape(url)}(\.git)?(?=[@\"'\s]|$)")
    if not remote.search(line):
        raise ValueError(
            f"the setup cell does not install from repository.url ({url}): {line}"
        )
    args = shlex.split(remote.sub(lambda m: f"git+{local_url}", line))
    if args[:2] != ["%pip", "install"]:
        raise ValueError(f"not a %pip install line: {line}")
    return [str(python), "-m", "pip", *args[1:]]


def working_tree_files() -> list[Path]:
    out = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
    )
    # The notebooks (17 MB of outputs) play no part in installing the package.
    files = {
        Path(p) for p in out.stdout.split("\0") if p and not p.startswith("chapters/")
    }
    return sorted(p for p in files if (ROOT / p).is_file())


def snapshot(dest: Path) -> str:
    """Commit the working tree to a new git repository at ``dest``; return its file://
    URL."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for rel in working_tree_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    git = [
        "git",
        "-c",
        "user.name=snapshot",
        "-c",
        "user.email=snapshot@localhost",
        "-c",
        "commit.gpgsign=false",
    ]
    run([*git, "init", "-q", "-b", "main"], cwd=dest)
    run([*git, "add", "-A"], cwd=dest)
    run([*git, "commit", "-q", "-m", "working tree snapshot"], cwd=dest)
    # file://localhost/...: pip refuses git+file:/// (no host) as a requirement URL
    return f"file://localhost{dest.resolve().as_posix()}"


def runtime_requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]


def environment(env_dir: Path) -> Path:
    """The virtual environment with the pinned stack; rebuilt when the pins change."""
    venv = env_dir / "venv"
    python = venv / "bin" / "python"
    key = hashlib.sha256(
        b"".join((ROOT / f).read_bytes() for f in ("constraints.txt", "pyproject.toml"))
    ).hexdigest()
    stamp = venv / ".pins"
    if python.exists() and stamp.exists() and stamp.read_text() == key:
        return python
    print(
        f"creating {venv} (the pinned stack standing in for Colab's packages)",
        flush=True,
    )
    if venv.exists():
        shutil.rmtree(venv)
    run([sys.executable, "-m", "venv", venv])
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            ROOT / "constraints.txt",
            *runtime_requirements(),
            *TEST_PACKAGES,
        ]
    )
    stamp.write_text(key)
    return python


def clean_env() -> dict:
    """The environment for commands in the venv: nothing that points back at the
    checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "PIP_REQUIRE"))
    }
    return env


def check_installed(python: Path, source: Path) -> str:
    """The installed package is not the checkout and has every data file of the
    source."""
    probe = (
        "import contraction, json, pathlib; p = "
        "pathlib.Path(contraction.__file__).parent; print(json.dumps([str(p), "
        "sorted(str(f.relative_to(p)) for f in p.rglob('*') if f.is_file())]))"
    )
    where, files = json.loads(
        run([python, "-c", probe], env=clean_env(), cwd=python.parent)
        .stdout.strip()
        .splitlines()[-1]
    )
    if Path(where).resolve().is_relative_to(ROOT / "lib"):
        raise SystemExit(
            f"contraction was imported from the checkout ({where}), not installed"
        )
    installed = set(files)
    expected = {
        str(f.relative_to(source))
        for f in source.rglob("*")
        if f.is_file()
        and "__pycache__" not in f.parts
        and f.suffix != ".pyc"
        and not f.name.startswith(".")
    }
    missing = sorted(expected - installed)
    if missing:
        raise SystemExit(
            "the installed package lacks files of lib/contraction (add them to "
            "[tool.setuptools.package-data] in pyproject.toml): " + ", ".join(missing)
        )
    data = sorted(f for f in expected if not f.endswith(".py"))
    return (
        f"{where} ({len(expected)} files, data files: {', '.join(data) or 'none yet'})"
    )


def copy_notebooks(notebooks: list[Path], book: Path) -> None:
    if book.exists():
        shutil.rmtree(book)
    for nb in notebooks:
        rel = nb.resolve().relative_to(ROOT)
        (book / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, book / rel)
    # Stops pytest's search for a configuration file here, away from the checkout's
    # pyproject.toml.
    (book / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    env_dir = Path(argv[0]).resolve()
    notebooks = [Path(p) for p in argv[1:]]
    url = repository_url()
    lines: dict[str, list[str]] = {}
    for nb in notebooks:
        for line in pip_lines(setup_cell(json.loads(nb.read_text()))):
            lines.setdefault(line, []).append(nb.name)

    python = environment(env_dir)
    local_url = snapshot(env_dir / "repository")
    for line, users in lines.items():
        run(
            [python, "-m", "pip", "uninstall", "--quiet", "-y", "contraction"],
            env=clean_env(),
        )
        cmd = local_command(line, url, local_url, python)
        print(
            f"setup cell of {len(users)} notebook(s): {line}\n  run as: "
            f"{shlex.join(cmd)}",
            flush=True,
        )
        run(cmd, env=clean_env(), cwd=env_dir)
        print(
            "  installed "
            + check_installed(python, env_dir / "repository" / "lib" / "contraction"),
            flush=True,
        )
    copy_notebooks(notebooks, env_dir / "book")
    print(f"copied {len(notebooks)} notebooks to {env_dir / 'book'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
