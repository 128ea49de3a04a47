"""The PDF numbers its chapters as the site does (`make test-pdf`, after `make pdf`).

On the site only the part of _toc.yml marked `numbered: true` is numbered: Chapter 1 is
the first chapter of that part, and the front and back matter carry no number. The test
reads the PDF's outline (its bookmarks) and the text of each chapter's first page.
Skipped where TeX is absent.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PDF_DIR = ROOT / "_build" / "latex"

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdflatex") and shutil.which("latexmk")),
    reason="TeX is absent: `tools/system_deps.sh tex` says how to get it",
)


def _title(doc: str) -> str:
    path = next(p for p in (ROOT / f"{doc}.md", ROOT / f"{doc}.ipynb") if p.exists())
    text = path.read_text()
    return re.search(r"^# (.+)$", text, re.M)[1].strip()


def _parts():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [
        (part.get("numbered", False), [c["file"] for c in part["chapters"]])
        for part in toc["parts"]
    ]


@pytest.fixture(scope="module")
def pdf():
    pypdf = pytest.importorskip("pypdf")
    pdfs = sorted(PDF_DIR.glob("*.pdf"))
    if not pdfs:
        pytest.fail(f"no PDF in {PDF_DIR}: run `make pdf` first")
    return pypdf.PdfReader(pdfs[0])


def _outline(reader):
    """Top-level bookmarks as (title, first page index)."""
    return [
        (item.title.strip(), reader.get_destination_page_number(item))
        for item in reader.outline
        if not isinstance(item, list)
    ]


WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
# The chapter heading style (fncychap) writes "Chapter Eight"; other styles write
# "Chapter 8".
CHAPTER_N = r"\bchapter (\d+|" + "|".join(WORDS) + r")\b"


def _chapter_number(text: str) -> int | None:
    m = re.search(CHAPTER_N, text)
    return None if m is None else int(m[1]) if m[1].isdigit() else WORDS.index(m[1])


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def test_chapters_numbered_from_one_as_on_the_site(pdf):
    outline = _outline(pdf)
    numbered = [doc for flag, docs in _parts() if flag for doc in docs]
    assert numbered, "_toc.yml has no numbered part"
    for number, doc in enumerate(numbered, start=1):
        title = _norm(_title(doc))
        hits = [(t, page) for t, page in outline if title in _norm(t)]
        assert hits, (
            f"chapter {title!r} is not in the PDF outline: {[t for t, _ in outline]}"
        )
        text = _norm(pdf.pages[hits[0][1]].extract_text())
        assert _chapter_number(text) == number, (
            f"{title!r} should be Chapter {number} as on the site; its first page "
            "reads: "
            f"{text[:200]!r}"
        )


def test_front_and_back_matter_unnumbered(pdf):
    outline = _outline(pdf)
    unnumbered = [doc for flag, docs in _parts() if not flag for doc in docs]
    checked = 0
    for doc in unnumbered:
        title = _norm(_title(doc))
        for t, page in outline:
            if title in _norm(t):
                text = _norm(pdf.pages[page].extract_text())
                head = text.split(title)[0] if title in text else text[:80]
                assert _chapter_number(head) is None, (
                    f"{title!r} carries a chapter number: {head!r}"
                )
                assert not re.match(r"\d+(\.\d+)*\s", t), f"bookmark {t!r} is numbered"
                checked += 1
                break
    assert checked >= 2, "front and back matter not found in the PDF outline"
