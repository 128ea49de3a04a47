"""The student edition: the book's sources with every exercise solution removed.

``make student`` calls ``python tools/student_edition.py OUT``, which writes into OUT a
copy of the book's sources (``_toc.yml``, ``book/``, ``chapters/``) in which every
sphinx-exercise ``solution`` directive is gone from notebooks and pages, and a
``_config.yml`` for that copy (title marked as the student edition, solutions hidden as
a second guard, Colab links to the branch :data:`BRANCH`, no repository button).
jupyter-book then builds OUT, so every way a student can get a notebook from the student
site (the page, the ``.ipynb`` download, the Colab link) gives a solution-free notebook.

``python tools/student_edition.py --branch OUT`` commits the notebooks of OUT to the
local branch :data:`BRANCH` (its own history; the checkout, its index and HEAD are not
touched). An instructor publishes it with ``git push origin student``; the student
site's Colab links open notebooks from it.

A solution is a directive ``{solution}`` in a colon or backtick fence (``::::{solution}
label`` up to the closing fence of the same length), or the cells from
``{solution-start}`` to ``{solution-end}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "student"
SOURCES = ["_toc.yml", "book", "chapters"]
SKIP = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "generated")

OPEN = re.compile(
    r"^\s*(?P<fence>:{3,}|`{3,})\{(?P<name>solution(?:-start|-end)?)\}.*$"
)
ANY_SOLUTION = re.compile(r"\{solution(?:-start|-end)?\}")


def has_solution(text: str) -> bool:
    """Whether ``text`` (a page or a notebook's JSON) contains a solution directive."""
    return bool(ANY_SOLUTION.search(text))


def strip_text(text: str) -> tuple[str, int, str | None]:
    """Remove the solution directives of one page or markdown cell.

    Returns the text, the number of solutions removed, and ``"start"`` if a
    ``{solution-start}`` opened and was not closed in this text (the cells after it are
    part of the solution), ``"end"`` if the text holds a ``{solution-end}`` without its
    start, else None.
    """
    lines = text.splitlines(keepends=True)
    out, removed, i, state = [], 0, 0, None
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        fence, name = m["fence"], m["name"]
        if name == "solution":
            i += _block_end(lines, i, fence)
            removed += 1
        elif (
            name == "solution-end"
        ):  # closes a start in an earlier cell: drop what came before
            out, state = [], "end"
            i += _block_end(lines, i, fence)
        else:  # solution-start: everything up to its solution-end goes
            removed += 1
            end = next(
                (
                    k
                    for k in range(i + 1, len(lines))
                    if OPEN.match(lines[k])
                    and OPEN.match(lines[k])["name"] == "solution-end"
                ),
                None,
            )
            if end is None:
                return "".join(out), removed, "start"
            i = end + _block_end(lines, end, OPEN.match(lines[end])["fence"])
    return "".join(out), removed, state


def _block_end(lines: list[str], start: int, fence: str) -> int:
    """Number of lines from ``start`` (an opening fence) to its closing fence,
    inclusive."""
    close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for j in range(start + 1, len(lines)):
        if close.match(lines[j]):
            return j - start + 1
    return len(lines) - start  # unclosed: the directive runs to the end of the text


def strip_notebook(nb: dict) -> int:
    """Remove every solution from a notebook (in place); return how many were
    removed."""
    kept, removed, inside = [], 0, False
    for cell in nb["cells"]:
        source = (
            "".join(cell["source"])
            if isinstance(cell["source"], list)
            else cell["source"]
        )
        if inside:
            if cell["cell_type"] == "markdown" and re.search(
                r"\{solution-end\}", source
            ):
                text, n, state = strip_text(source)
                inside = False
                if text.strip():
                    cell["source"] = text
                    kept.append(cell)
            continue
        if cell["cell_type"] != "markdown" or not has_solution(source):
            kept.append(cell)
            continue
        text, n, state = strip_text(source)
        removed += n
        inside = state == "start"
        if text.strip():
            cell["source"] = text
            kept.append(cell)
    nb["cells"] = kept
    return removed


def student_config(out: Path) -> dict:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] = f"{config['title']} (student edition)"
    # Colab opens the notebooks from the branch that `make student-branch` writes.
    config.setdefault("repository", {})["branch"] = BRANCH
    config.setdefault("html", {})["use_repository_button"] = False
    sphinx = config.setdefault("sphinx", {})
    sphinx["local_extensions"] = {
        name: str((ROOT / path).resolve())
        for name, path in sphinx.get("local_extensions", {}).items()
    }
    settings = sphinx.setdefault("config", {})
    settings["hide_solutions"] = (
        True  # a second guard: the sources have no solutions anyway
    )
    settings["html_extra_path"] = [
        str((ROOT / p).resolve()) for p in settings.get("html_extra_path", [])
    ]
    return config


def write_sources(out: Path) -> int:
    """Write the solution-free sources and config into ``out``; return the solutions
    removed."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, out / name, ignore=SKIP)
        else:
            shutil.copy2(src, out / name)
    removed = 0
    for path in sorted(out.rglob("*")):
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text())
            n = strip_notebook(nb)
            if n:
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        elif path.suffix == ".md":
            text, n, _ = strip_text(path.read_text())
            if n:
                path.write_text(text)
        else:
            continue
        if has_solution(path.read_text()):
            raise SystemExit(f"{path}: a solution is left after stripping")
        removed += n
    config = student_config(out)
    (out / "_config.yml").write_text(
        "# Generated by tools/student_edition.py from _config.yml: do not edit.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    )
    return removed


README = """# Student notebooks of *Contraction Theory and Neural Networks*

The chapter notebooks without the exercise solutions, for the student edition of the
book: its Colab links open the notebooks on this branch. Written by
`make student-branch`; do not edit by hand.
"""


def commit_branch(src: Path) -> str:
    """Commit the notebooks of ``src`` to the local branch BRANCH; return the commit id.

    Uses a temporary index, so the checkout's own index, work tree and HEAD are
    untouched.
    """
    notebooks = sorted(p for p in (src / "chapters").rglob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks in {src}: run `make student` first")

    def git(*args, **kwargs):
        return subprocess.run(
            ["git", *args],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            **kwargs,
        ).stdout.strip()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        readme = Path(tmp) / "README.md"
        readme.write_text(README)
        for path, rel in [(readme, "README.md")] + [
            (p, p.relative_to(src).as_posix()) for p in notebooks
        ]:
            blob = git("hash-object", "-w", str(path))
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}", env=env)
        tree = git("write-tree", env=env)
    parent = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if parent and git("rev-parse", f"{parent}^{{tree}}") == tree:
        print(f"branch {BRANCH} is up to date ({parent[:12]})")
        return parent
    source = git("rev-parse", "--short", "HEAD")
    commit = git(
        "commit-tree",
        tree,
        *(["-p", parent] if parent else []),
        "-m",
        f"Student notebooks from {source}",
    )
    git("update-ref", f"refs/heads/{BRANCH}", commit)
    print(
        f"branch {BRANCH} -> {commit[:12]}: {len(notebooks)} notebooks without "
        "solutions; "
        f"publish with: git push origin {BRANCH}"
    )
    return commit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the student sources")
    parser.add_argument(
        "--branch",
        action="store_true",
        help=f"commit the notebooks of OUT to the local branch {BRANCH!r}",
    )
    args = parser.parse_args(argv)
    if args.branch:
        commit_branch(args.out)
        return 0
    removed = write_sources(args.out)
    if removed == 0:
        raise SystemExit(
            "no solution was found to remove: has the solution syntax changed?"
        )
    print(f"wrote the student sources to {args.out}: {removed} solutions removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
