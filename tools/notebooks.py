"""Execute the chapter notebooks in place (fast mode) and store their outputs: `make
notebooks`.

Before executing, each notebook's first cell is rewritten to the canonical Colab setup
cell, whose install URL comes from `repository.url` in `_config.yml` (the one place that
names it). Widget state is stored so the saved notebooks show their widgets. Each run is
recorded in the notebook's metadata (`contraction`: date, seconds, mode) and the status
page `book/status.md` is rewritten from the metadata of all notebooks. Prints each
notebook's wall time.

Usage: python tools/notebooks.py [--sync-only] NOTEBOOK [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 600


def repository_url() -> str:
    match = re.search(
        r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M
    )
    if not match:
        raise SystemExit("_config.yml has no repository.url")
    return match.group(1)


def setup_cell_source() -> str:
    url = repository_url()
    return (
        "# Colab only: install the support library `contraction` (no-op "
        "elsewhere).\nimport sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    repository = "{url}"\n'
        '    %pip install -q "contraction @ git+{repository}.git"\n'
        "    from google.colab import output\n\n    "
        "output.enable_custom_widget_manager()"
    )


def sync_setup_cell(nb) -> None:
    """Make the first cell the canonical setup cell, tagged remove-cell (hidden in the
    book)."""
    source = setup_cell_source()
    first = nb.cells[0] if nb.cells else None
    placeholder = first is not None and first.source.strip() in ("", "import sys")
    if (
        first is None
        or first.cell_type != "code"
        or not ("google.colab" in first.source or placeholder)
    ):
        first = nbformat.v4.new_code_cell(source)
        nb.cells.insert(0, first)
    first.source = source
    tags = first.metadata.setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    sync_setup_cell(nb)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    elapsed = time.perf_counter() - start
    nb.metadata["contraction"] = {
        "executed": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "seconds": round(elapsed, 1),
        "mode": os.environ.get("CONTRACTION_MODE", "fast"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
    }
    nbformat.write(nb, path)
    return elapsed


def write_status_page() -> Path:
    """Rewrite book/status.md from the run records of every chapter notebook."""
    rows = []
    for path in sorted(ROOT.glob("chapters/*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = next(
            (
                line[2:].strip()
                for c in nb.cells
                if c.cell_type == "markdown"
                for line in c.source.splitlines()
                if line.startswith("# ")
            ),
            path.stem,
        )
        run = nb.metadata.get("contraction", {})
        rel = path.relative_to(ROOT).as_posix()
        rows.append(
            f"| {path.parent.name} | [{title}](../{rel}) | {run.get('seconds', 'n/a')} "
            "| "
            f"{run.get('mode', 'n/a')} | {run.get('executed', 'never')} | "
            f"{run.get('machine', 'n/a')} |"
        )
    page = ROOT / "book" / "status.md"
    page.write_text(
        "# Notebook status\n\nEvery notebook of the book, with the last run that "
        "produced the outputs you see online.\nThis page is written by `make "
        "notebooks` (tools/notebooks.py); each notebook must run in\nat most 90 "
        "seconds on two CPU cores in fast mode.\n\n| chapter | notebook | seconds | "
        "mode | executed | machine |\n"
        "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--sync-only", action="store_true", help="only rewrite the setup cells"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("CONTRACTION_MODE", "fast")
    for path in args.notebooks:
        if args.sync_only:
            nb = nbformat.read(path, as_version=4)
            sync_setup_cell(nb)
            nbformat.write(nb, path)
            continue
        print(f"{path}: {execute(path):6.1f} s", flush=True)
    if not args.sync_only:
        print(f"wrote {write_status_page().relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
