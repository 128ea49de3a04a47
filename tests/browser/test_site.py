"""The built site in a real browser: math rendered, animations stepping, nothing broken.

Run by `make test-browser` after `make book` and `make student`; see conftest.py for the
set-up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW_MATH = re.compile(r"\\\(|\\\[|\$\$|(?<![\w\\])\$[^\s$][^$\n]{0,200}?\$")

WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!document.querySelector('.math')) { done('no math'); return; }
const started = Date.now();
(function wait() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done('ok')).catch(e => done('error: ' + e));
  } else if (Date.now() - started > 30000) { done('MathJax did not start'); }
  else { setTimeout(wait, 100); }
})();
"""

# Visible prose only: code, outputs of code, signatures and typeset math may contain
# dollar signs.
PROSE_TEXT = """
const body = document.querySelector('main') || document.body;
const copy = body.cloneNode(true);
// .sig: the signatures of the API reference, whose default values are code too
copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, '
                      + '.cell_output, textarea, .MathJax, .sig')
    .forEach(e => e.remove());
return copy.textContent;
"""

STEP_ANIMATIONS = """
const results = [];
for (const anim of document.querySelectorAll('div.animation')) {
  const img = anim.querySelector('img');
  const slider = anim.querySelector('input[type=range]');
  if (!img || !slider) { results.push('incomplete'); continue; }
  const before = img.src;
  slider.value = slider.max;
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  slider.dispatchEvent(new Event('change', {bubbles: true}));
  results.push(img.src !== before ? 'steps' : 'static');
}
return results;
"""

FAILED_RESOURCES = """
return performance.getEntriesByType('resource')
  .filter(e => e.responseStatus !== undefined && e.responseStatus >= 400)
  .map(e => e.name + ' ' + e.responseStatus);
"""


def expected_animations(page: str) -> int:
    """Outputs of the source notebook that carry both a live widget and a static
    fallback."""
    source = ROOT / Path(page).with_suffix(".ipynb")
    if not source.exists():
        return 0
    count = 0
    for cell in json.loads(source.read_text())["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if (
                "application/vnd.jupyter.widget-view+json" in data
                and "text/html" in data
            ):
                count += 1
    return count


def open_page(browser, url):
    browser.get_log("browser")  # drop messages of the previous page
    browser.get(url)
    return browser.execute_async_script(WAIT_FOR_MATHJAX)


def test_page(browser, site, screenshots, page):
    site_dir, base = site
    status = open_page(browser, f"{base}/{page}")
    assert status in ("ok", "no math"), f"{page}: MathJax {status}"

    if status == "ok":
        assert (
            browser.execute_script(
                "return document.querySelectorAll('mjx-container').length"
            )
            > 0
        )
    leftovers = RAW_MATH.findall(browser.execute_script(PROSE_TEXT))
    assert not leftovers, f"{page}: raw TeX left in the prose: {leftovers[:5]}"

    steps = browser.execute_script(STEP_ANIMATIONS)
    assert len(steps) == expected_animations(page), f"{page}: animations found {steps}"
    assert all(s == "steps" for s in steps), (
        f"{page}: an animation does not step: {steps}"
    )

    errors = [
        e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
    ]
    assert not errors, f"{page}: console errors: {errors[:5]}"
    failed = browser.execute_script(FAILED_RESOURCES)
    assert not failed, f"{page}: failed loads: {failed[:5]}"

    name = page.replace("/", "__").removesuffix(".html")
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(screenshots / f"{name}.png"))
    if steps:
        browser.execute_script(
            "document.querySelector('div.animation').scrollIntoView()"
        )
        browser.save_screenshot(str(screenshots / f"{name}--animation.png"))


SOLUTIONS = """
return [...document.querySelectorAll('.solution')]
  .map(e => e.textContent.replace(/\\s+/g, ' ').trim());
"""


def test_student_edition_has_no_solutions(browser, site, student_site):
    site_dir, base = site
    student_dir, student_base = student_site
    checked = 0
    for page in sorted(
        p.relative_to(site_dir).as_posix() for p in site_dir.glob("chapters/*/*.html")
    ):
        open_page(browser, f"{base}/{page}")
        # A distinctive piece of each solution: its text without the shared title words.
        snippets = [s[-80:] for s in browser.execute_script(SOLUTIONS) if len(s) > 40]
        open_page(browser, f"{student_base}/{page}")
        assert (
            browser.execute_script(
                "return document.querySelectorAll('.solution').length"
            )
            == 0
        )
        text = re.sub(
            r"\s+", " ", browser.execute_script("return document.body.textContent")
        )
        assert not [s for s in snippets if s in text], (
            f"{page}: solution text in student edition"
        )
        checked += len(snippets)
    assert checked > 0, "the full edition has no solutions to compare against"


# The student edition's notebooks: every button of a student page that yields a
# notebook.
NOTEBOOK_LINKS = """
return [...document.querySelectorAll('a[href]')].map(a => a.href)
  .filter(h => h.endsWith('.ipynb'));
"""


def _student_tools():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import student_edition

    return student_edition


def test_student_notebooks_have_no_solutions(browser, site, student_site):
    """Download button and Colab link of each student page: notebooks without
    solutions."""
    import urllib.request

    student_edition = _student_tools()
    site_dir, base = site
    student_dir, student_base = student_site
    pages = sorted(
        p.relative_to(site_dir).as_posix()
        for p in site_dir.glob("chapters/*/*.html")
        if (ROOT / Path(p.relative_to(site_dir)).with_suffix(".ipynb")).exists()
    )
    assert pages, "no notebook pages in the built site"
    full_solutions = 0
    for page in pages:
        source = Path(page).with_suffix(".ipynb").as_posix()
        full_solutions += student_edition.has_solution((ROOT / source).read_text())
        open_page(browser, f"{student_base}/{page}")
        links = browser.execute_script(NOTEBOOK_LINKS)
        downloads = [h for h in links if h.startswith(student_base)]
        colab = [h for h in links if "colab.research.google.com" in h]
        assert downloads and colab, (
            f"{page}: no download or Colab link for the notebook: {links}"
        )
        for url in downloads:
            with urllib.request.urlopen(url) as response:
                text = response.read().decode()
            assert json.loads(text)["cells"], f"{url}: not a notebook"
            assert not student_edition.has_solution(text), (
                f"{url}: the download has a solution"
            )
        for url in colab:
            # .../github/ORG/REPO/blob/BRANCH/PATH: the branch `make student-branch`
            # writes from _build/student-src, which holds the same solution-free
            # notebooks.
            branch, path = url.split("/blob/", 1)[1].split("/", 1)
            assert branch == student_edition.BRANCH, (
                f"{page}: Colab opens branch {branch}"
            )
            assert path == source, f"{page}: Colab opens {path}"
            text = (ROOT / "_build" / "student-src" / path).read_text()
            assert not student_edition.has_solution(text), (
                f"{path}: solution on the student branch"
            )
    assert full_solutions > 0, (
        "the full edition's notebooks have no solutions to remove"
    )


def test_student_site_files_have_no_solutions(student_site):
    """No file the student site serves (pages, sources, downloads) holds a solution
    directive."""
    student_dir, _ = student_site
    leaks = [
        p.relative_to(student_dir).as_posix()
        for p in student_dir.rglob("*")
        if p.is_file()
        and p.suffix in {".html", ".ipynb", ".md", ".txt", ".js", ".json"}
        and "{solution" in p.read_text(errors="replace")
    ]
    assert not leaks, f"solution directives served by the student site: {leaks[:10]}"
    main_links = [
        p.relative_to(student_dir).as_posix()
        for p in student_dir.rglob("*.html")
        if "/blob/main/" in p.read_text()
    ]
    assert not main_links, (
        f"student pages linking notebooks with solutions: {main_links[:5]}"
    )
