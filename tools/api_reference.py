"""Sphinx extension: the API reference, one page per public module of `contraction`.

The pages are generated from the installed package at the start of every build, so they
follow the library as modules are added, moved or removed; nobody keeps a list of
modules by hand. A module is public when no part of its dotted name starts with an
underscore. Each page (``book/api/generated/<module>.md``, ignored by git) holds the
module's docstring and the documentation of the objects the module defines and of its
public constants, from their docstrings (autodoc, with napoleon reading the NumPy-style
sections); a name a module re-exports from another public module gets a short entry that
links to its home page, so that both ``contraction.quantize.soft_kmeans`` and the
defining module's name are link targets. ``_toc.yml`` takes the pages in with a glob.

A module that fails to import stops the build with its error. A docstring that does not
parse, or that links to a name that does not exist, is a warning, so an error in ``make
book`` (``-W -n``).

Chapter text links to the reference with the Python roles of Sphinx, e.g. in a
notebook's markdown cell ``{py:func}`contraction.norms.lognorm``` (or
``{py:func}`~contraction.norms.lognorm``` to show only ``lognorm()``),
``{py:mod}`contraction.norms``` or ``{py:class}`...```.

Loaded from ``_config.yml`` (``sphinx: local_extensions``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import traceback
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.pycode import ModuleAnalyzer

PACKAGE = "contraction"
OUT = Path("book") / "api" / "generated"


def public_modules(package: str = PACKAGE) -> list[str]:
    """Every public module and subpackage of ``package``, imported (an import error
    propagates)."""
    root = importlib.import_module(package)
    names = [package]

    def fail(name):
        raise ImportError(f"cannot import {name}")

    for info in pkgutil.walk_packages(
        root.__path__, prefix=f"{package}.", onerror=fail
    ):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    for name in names:
        importlib.import_module(name)
    return sorted(names)


def _home(obj) -> str | None:
    return (
        getattr(obj, "__module__", None)
        if (inspect.isclass(obj) or callable(obj))
        else None
    )


def members(module, public: set[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(names to document on this page, [(name, home module)] of names documented
    elsewhere)."""
    name = module.__name__
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and not inspect.ismodule(obj)
            and _home(obj) == name
        ]
    # Public constants (CHECKSUMS, SETTINGS, ...) are part of the module's interface
    # too.
    names = list(names) + [
        n
        for n, obj in vars(module).items()
        if n.isupper()
        and not n.startswith("_")
        and n not in names
        and _home(obj) is None
    ]
    here, elsewhere = [], []
    for n in names:
        obj = getattr(module, n)
        if inspect.ismodule(obj):
            continue
        home = _home(obj)
        if home and home != name and home in public:
            elsewhere.append((n, home))
        else:
            here.append(n)
    return here, elsewhere


def page(name: str, public: set[str]) -> str:
    module = importlib.import_module(name)
    here, elsewhere = members(module, public)
    lines = [f"# {name}", "", "```{eval-rst}", f".. automodule:: {name}"]
    # autodoc documents a module's variables only when they have a doc comment: name
    # them one by one instead, without their (possibly long) values.
    data = [n for n in here if _home(getattr(module, n)) is None]
    code = [n for n in here if n not in data]
    if code:
        lines += [
            f"   :members: {', '.join(code)}",
            "   :undoc-members:",
            "   :member-order: bysource",
        ]
    documented = {
        attr for (_, attr) in ModuleAnalyzer.for_module(name).find_attr_docs()
    }
    for n in data:
        if n in documented:  # a "#:" comment or a docstring after it
            lines += ["", f".. autodata:: {name}.{n}", "   :no-value:"]
            continue
        value = getattr(module, n)
        lines += ["", f".. py:data:: {n}", f"   :module: {name}"]
        if len(repr(value)) <= 60:
            lines += [f"   :value: {value!r}"]
        lines += ["", f"   A constant of type ``{type(value).__name__}``."]
    for (
        n,
        home,
    ) in elsewhere:  # a target for the name here, pointing to its documentation
        obj = getattr(module, n)
        kind = (
            "class" if inspect.isclass(obj) else "function" if callable(obj) else "data"
        )
        lines += [
            "",
            f".. py:{kind}:: {n}",
            f"   :module: {name}",
            "   :no-contents-entry:",
            "",
            f"   Re-exported here from :py:mod:`{home}`: see :py:obj:`{home}.{n}`.",
        ]
    lines += ["```", ""]
    subs = sorted(m for m in public if m.rpartition(".")[0] == name)
    if subs:
        lines += ["Modules of this package:", ""]
        lines += [f"- {{py:mod}}`{m}`" for m in subs] + [""]
    return "\n".join(lines)


def _summary(module) -> str:
    """The first sentence of a module's docstring, for the list of modules."""
    doc = inspect.getdoc(module) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    first = re.sub(r":(\w+(?::\w+)?):`", r"{\1}`", first)  # reST roles in MyST syntax
    return first.split(". ")[0].rstrip(".") + "." if first else "(no docstring)"


def generate(app, config) -> None:
    out = Path(app.srcdir) / OUT
    try:
        modules = public_modules()
        pages = {f"{name}.md": page(name, set(modules)) for name in modules}
        summary = {name: _summary(importlib.import_module(name)) for name in modules}
    except (
        Exception
    ) as exc:  # an import error in the library: stop the build and say where
        raise ExtensionError(
            "API reference: the package does not import:\n"
            + "".join(traceback.format_exception(exc))
        ) from exc
    out.mkdir(parents=True, exist_ok=True)
    for stale in {p.name for p in out.glob("*.md")} - set(pages) - {"modules.inc"}:
        (out / stale).unlink()  # a module that moved or went away
    # The list of modules on book/api/index.md, which includes this file.
    pages["modules.inc"] = (
        "\n".join(f"- {{py:mod}}`{name}`: {summary[name]}" for name in modules) + "\n"
    )
    for filename, text in pages.items():
        path = out / filename
        if (
            not path.exists() or path.read_text() != text
        ):  # unchanged pages stay unchanged
            path.write_text(text)


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.napoleon")
    app.connect("config-inited", generate, priority=800)  # before the toc is read (900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
