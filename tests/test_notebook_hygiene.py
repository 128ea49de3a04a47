"""Rules every chapter notebook follows (book/building.md), checked without running
it."""

import configparser
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402  (tools/notebooks.py)

NOTEBOOKS = sorted(ROOT.glob("chapters/*/*.ipynb"))
ALLOWED_TAGS = {
    "remove-cell",
    "remove-input",
    "remove-output",
    "hide-input",
    "hide-output",
    "nbval-ignore-output",
    "raises-exception",
}


def _load(path):
    return json.loads(path.read_text())


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_is_the_canonical_colab_setup(path):
    first = _load(path)["cells"][0]
    assert first["cell_type"] == "code"
    assert "".join(first["source"]) == notebooks.setup_cell_source(), (
        "run `make notebooks` to refresh the setup cell from _config.yml"
    )
    assert "remove-cell" in first["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_without_error(path):
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
            continue
        assert cell["execution_count"] is not None, f"cell {i} has no stored execution"
        assert all(o["output_type"] != "error" for o in cell["outputs"]), (
            f"cell {i} errored"
        )
        tags = set(cell["metadata"].get("tags", []))
        assert "nbval-skip" not in tags, f"cell {i} is skipped by nbval"
        assert tags <= ALLOWED_TAGS, f"cell {i} has unknown tags {tags - ALLOWED_TAGS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_title_and_a_takeaways_box(path):
    cells = _load(path)["cells"]
    markdown = "\n".join(
        "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
    )
    titles, in_fence = [], False
    for line in markdown.splitlines():
        in_fence ^= line.lstrip().startswith("```")
        if not in_fence and line.startswith("# "):
            titles.append(line)
    assert len(titles) == 1, f"expected one H1 title, found {titles}"
    assert "Key takeaways" in markdown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_huge_text_output(path):
    """A giant text repr (an echoed MIME bundle or array) bloats the page and breaks the
    PDF."""
    for i, cell in enumerate(_load(path)["cells"]):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(
                out.get("data", {}).get("text/plain", "")
            )
            assert len(text) < 20_000, f"cell {i} prints {len(text)} characters of text"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_nbval_comments(path):
    """nbval also obeys comments such as ``# NBVAL_IGNORE_OUTPUT`` or ``# NBVAL_SKIP``;
    the book marks cells with tags only, so that the allowed-tags check above sees every
    exception."""
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] == "code":
            assert "NBVAL_" not in "".join(cell["source"]).upper(), (
                f"cell {i} has an NBVAL_ comment; use a cell tag (nbval-ignore-output) "
                "instead"
            )


def test_sanitize_patterns_never_cross_a_line_break():
    """A pattern that spans lines could hide a number of a strictly compared output."""
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    assert config.sections()
    for section in config.sections():
        pattern = re.compile(config[section]["regex"])
        for text in ("16.5\n  s=1.0", "1.0\n\ns", "[00:01<\n]", "12\tms\n", "3\n ms"):
            for match in pattern.finditer(text):
                assert "\n" not in match.group(), (section, text, match.group())
        assert pattern.pattern.count("\\s") == 0, f"{section}: \\s matches a line break"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_import_that_colab_lacks(path):
    """Colab has IPython but not myst-nb: notebooks glue through
    contraction.book.prose."""
    for i, cell in enumerate(_load(path)["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            assert "myst_nb" not in source, f"cell {i} imports myst_nb (Colab lacks it)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_display_math_stands_on_its_own(path):
    """A `$$` block glued to the paragraph above is left as raw TeX by MyST."""
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        lines, inside = "".join(cell["source"]).split("\n"), False
        for k, line in enumerate(lines):
            if line.strip() != "$$":
                continue
            if not inside and k > 0:
                assert not lines[k - 1].strip(), f"cell {i}: no blank line before $$"
            inside = not inside
