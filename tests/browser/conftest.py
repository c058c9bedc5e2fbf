"""Fixtures for tests in a real browser: Debian's Chromium (``/usr/bin/chromium``, which
``.ci/run`` installs; never a ``playwright install`` download) driven by Playwright, against a
real ``voxregen serve`` with a data folder of its own.

- ``browser``: Chromium, headless, once per session. Without ``/usr/bin/chromium`` every test
  here fails, saying so: a browser test never skips silently.
- ``served_app``: ``voxregen serve`` on a free loopback port, in the development mode it takes
  there (``X-User-Id`` is trusted), once per module; ``served_app_with_keys`` the same with
  ``VOXREGEN_AUTH_MODE=api_keys``, and ``ServedApp.api_key(user_id)`` makes a key for it with
  ``voxregen keys create``.
- ``page`` (1280x800) and ``phone_page`` (360x740, a touch screen): each a page in a browser
  context of its own that takes downloads, watched by ``page_watch``
  (:class:`~tests.browser.page_watch.PageWatch`): after the test, any console error, uncaught
  exception, failed request or HTTP status of 400 or more that the test did not declare with
  ``page_watch.expect_status(…)`` fails it, each listed.
- ``screenshot(page, name)``: writes ``<name>-<width>.png`` (the viewport's width in CSS pixels)
  into the test's tmp folder, so ``make test`` leaves the checkout as it was; with
  ``VOXREGEN_SCREENSHOTS=docs`` into ``docs/screenshots/``, the committed set, which this one
  command refreshes::

      VOXREGEN_SCREENSHOTS=docs .venv/bin/python -m pytest tests/browser
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.page_watch import PageWatch
from tests.browser.served_app import ServedApp, serving_app

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: as root (CI, containers) Chromium refuses to start with it. The rest keep it off
# a GPU the machine may not have, off the network (component updates, background requests)
# and out of first-run set-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def served_app(tmp_path_factory) -> Iterator[ServedApp]:
    with serving_app(tmp_path_factory.mktemp("served-app")) as app:
        yield app


@pytest.fixture(scope="module")
def served_app_with_keys(tmp_path_factory) -> Iterator[ServedApp]:
    with serving_app(
        tmp_path_factory.mktemp("served-app-with-keys"), {"VOXREGEN_AUTH_MODE": "api_keys"}
    ) as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium "
            "(apt-get install chromium; .ci/run does)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page_watch() -> Iterator[PageWatch]:
    """The watch of this test's pages; it fails the test after their contexts have closed."""
    watch = PageWatch()
    yield watch
    watch.check()


@contextlib.contextmanager
def _watched_page(browser: Browser, watch: PageWatch, **context_options) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, **context_options)
    watch.watch(context)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser, page_watch) -> Iterator[Page]:
    with _watched_page(browser, page_watch, viewport={"width": 1280, "height": 800}) as opened:
        yield opened


@pytest.fixture
def phone_page(browser, page_watch) -> Iterator[Page]:
    with _watched_page(
        browser,
        page_watch,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    ) as opened:
        yield opened


@pytest.fixture
def screenshot(tmp_path) -> Callable[..., Path]:
    """``screenshot(page, name, **options)``: the page as ``<name>-<width>.png`` (``options``
    go to ``Page.screenshot``, ``full_page=True`` say); see the module docstring for where."""
    where = os.environ.get("VOXREGEN_SCREENSHOTS")
    if where not in (None, "docs"):
        pytest.fail(
            f"VOXREGEN_SCREENSHOTS={where!r}: only 'docs' (or unset) means anything", pytrace=False
        )
    folder = SCREENSHOTS if where == "docs" else tmp_path

    def take(page: Page, name: str, **options) -> Path:
        path = folder / f"{name}-{page.viewport_size['width']}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, **options)
        return path

    return take
