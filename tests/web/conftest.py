"""Fixtures of the browser tests: headless Chromium (skipped when there is none), a fresh app per test
served on a free port with a stand-in reader, people and a meter made through ``api.cli``."""
from __future__ import annotations

import pytest

from webtools import LiveServer, StandInReader, find_chromium, launch, make_world


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p, find_chromium())
        yield b
        b.close()


@pytest.fixture
def world(tmp_path):
    server = LiveServer(tmp_path / "var", reader=StandInReader()).start()
    try:
        yield make_world(server)
    finally:
        server.stop()


def _page(browser, request, **context_args):
    context = browser.new_context(**context_args)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors  # type: ignore[attr-defined]
    request.addfinalizer(context.close)
    return page


@pytest.fixture
def phone(browser, request):
    """A phone-sized page (390x844, touch)."""
    return _page(browser, request, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                 has_touch=True)


@pytest.fixture
def desk(browser, request):
    """A desktop-sized page."""
    return _page(browser, request, viewport={"width": 1366, "height": 900})
