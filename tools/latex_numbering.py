"""Sphinx extension: number the PDF's chapters as the site does.

On the site only the part of ``_toc.yml`` marked ``numbered: true`` is numbered
(Chapters 1-N); the front matter (introduction, how to use, notation, status) and the
back matter (teaching, appendix, bibliography, API reference) are not. Sphinx's LaTeX
builder numbers every top-level document as a chapter, which made Chapter 1 the PDF's
Chapter 8. This extension marks the assembled LaTeX document: chapter numbers off at the
start, on (counting from 1) at the first document of the first numbered part, and off
again after the last numbered part.

``tests/pdf`` checks the result in the built PDF. Loaded from ``_config.yml``.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes

FRONT = r"\edef\booksecnumdepth{\the\value{secnumdepth}}\setcounter{secnumdepth}{-1}"
MAIN = r"\setcounter{secnumdepth}{\booksecnumdepth}\setcounter{chapter}{0}"
BACK = r"\setcounter{secnumdepth}{-1}"


def numbered_range(site_map) -> tuple[str | None, str | None]:
    """(first document of the first numbered part, first document after the last
    one)."""
    parts = site_map[site_map.root.docname].subtrees
    first = after = None
    seen_numbered = False
    for part in parts:
        docs = [item for item in part.items if isinstance(item, str)]
        if part.numbered:
            seen_numbered = True
            if first is None and docs:
                first = docs[0]
            after = None
        elif seen_numbered and after is None and docs:
            after = docs[0]
    return first, after


def _raw(tex: str) -> nodes.raw:
    return nodes.raw("", tex + "\n", format="latex")


def mark(app, doctree, docname) -> None:
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    site_map = getattr(app.config, "external_site_map", None)
    if site_map is None:
        return
    first, after = numbered_range(site_map)
    if first is None:
        return
    doctree.insert(0, _raw(FRONT))
    for node in list(doctree.findall(addnodes.start_of_file)):
        if node["docname"] in (first, after):
            node.parent.insert(
                node.parent.index(node),
                _raw(MAIN if node["docname"] == first else BACK),
            )


def setup(app):
    app.connect("doctree-resolved", mark)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
