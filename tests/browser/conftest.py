"""Fixtures for the real-browser test of the built site (`make test-browser`).

The site is served from 127.0.0.1 by a thread of this process; headless Chromium is
started with every other host unresolvable, so a page that still needs a CDN fails the
test.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
    # the network is otherwise unreachable: only the local server resolves
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def pytest_addoption(parser):
    parser.addoption(
        "--site", default=str(ROOT / "_build" / "html"), help="built HTML site"
    )
    parser.addoption(
        "--student-site",
        default=str(ROOT / "_build" / "student" / "html"),
        help="built student edition",
    )
    parser.addoption("--screenshots", default=str(ROOT / "_build" / "screenshots"))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _served(request, option: str, make_target: str):
    path = Path(request.config.getoption(option))
    if not (path / "index.html").exists():
        pytest.fail(f"no built site at {path}: run `make {make_target}` first")
    server = _serve(path)
    return path, f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture(scope="session")
def site(request):
    path, url, server = _served(request, "--site", "book")
    yield path, url
    server.shutdown()


@pytest.fixture(scope="session")
def student_site(request):
    path, url, server = _served(request, "--student-site", "student")
    yield path, url
    server.shutdown()


@pytest.fixture(scope="session")
def screenshots(request):
    path = Path(request.config.getoption("--screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = next(
        filter(
            None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])
        ),
        None,
    )
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail(
            "chromium and chromedriver are needed: `tools/system_deps.sh browser` says "
            "how"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _pages(site_dir: Path) -> list[str]:
    pages = sorted(
        p.relative_to(site_dir).as_posix() for p in site_dir.glob("chapters/*/*.html")
    )
    pages += sorted(
        p.relative_to(site_dir).as_posix() for p in site_dir.glob("book/**/*.html")
    )
    return pages


def pytest_generate_tests(metafunc):
    if "page" in metafunc.fixturenames:
        site_dir = Path(metafunc.config.getoption("--site"))
        metafunc.parametrize("page", _pages(site_dir) or ["<no pages built>"])
