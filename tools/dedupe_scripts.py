"""Sphinx extension: drop repeated <script> entries from each page.

jupyter-book 1.0.4 with sphinx-thebe 0.3 emits the inline `const THEBE_JS_URL = ...`
script twice, and the second copy is a JavaScript SyntaxError on every page (the browser
test in tests/browser sees it). Removing exact duplicates fixes that without changing
anything else. Loaded from _config.yml (`sphinx: local_extensions`).
"""


def _key(script):
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(
        script, "filename", script
    )  # Sphinx 7: _JavaScript(filename, ...)
    return str(filename or ""), tuple(
        sorted((k, str(v)) for k, v in attributes.items())
    )


def _dedupe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: the template and other handlers share this list


def setup(app):
    app.connect("html-page-context", _dedupe, priority=10000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
