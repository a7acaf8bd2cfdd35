"""Browser tests: Playwright driving Debian's Chromium against a real server (`serve.py`).

They run once, on the embedded backend (SQLite); `tests/conftest.py` deselects the scale-out variant of
every test marked `browser`. Without /usr/bin/chromium they skip locally and fail in CI (`CI` set);
`.ci/run` and `make test` install it when they can. Screenshots go to test-output/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_PASSWORD
from tests.live import ROOT, LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-output"
LIVE_INPUT = "#message-input:not([disabled])"  # the chat takes input: joined, and allowed to write
NEUTRAL_PATH = "/static/favicon.svg"  # quick exit's "neutral site" in tests: served locally, no network


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does this)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium_path):
    """One Chromium for the browser tests, stopped when they are done: Playwright's driver keeps the last test's
    frames (and with them its app) for as long as it runs, and the tests after the browser tests need neither."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_env() -> dict:
    """More environment for the browser tests' server; a module overrides it (two-factor sign-in, say)."""
    return {}


@pytest.fixture
def live(app, schema, redis_prefix, tmp_path, live_env):
    """One real server on the test database, with quick exit pointed at a local page."""
    assert schema.name == "embedded", "browser tests run on the embedded backend only"
    server = LiveServer(
        schema.database_url,
        schema.redis_url,
        redis_prefix,
        tmp_path / "server.log",
        extra_env={"QUICK_EXIT_URL": NEUTRAL_PATH, **live_env},
    )
    yield server
    server.stop()


@pytest.fixture
def new_page(browser, live):
    """`new_page(width=1280, height=800)`: a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(width: int = 1280, height: int = 800, locale: str = "en-GB"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, base_url=live.url)
        context.set_default_timeout(8000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def enter_meeting(page, meeting_id: int) -> None:
    """Go to the meeting page; skip the safety check if it comes (in any language); wait until the chat takes input."""
    page.goto(f"/meetings/{meeting_id}")
    page.locator(f"{LIVE_INPUT}, #safety-check").first.wait_for(timeout=10000)
    skip = page.locator("button[name=action][value=skip]")
    if skip.count():
        skip.click()
    page.locator(LIVE_INPUT).wait_for(timeout=10000)
