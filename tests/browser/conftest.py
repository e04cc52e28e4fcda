"""Browser fixtures: Debian's Chromium (never a downloaded one) driven by Playwright's sync API
against pytest-django's live server.

Without /usr/bin/chromium the browser tests skip on a developer machine and fail under CI=true,
so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import in_ci

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000  # per action or expectation; a whole test stays well under 30 s


def chromium_missing_reason() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install chromium); browsers are never downloaded"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A fresh Chromium page; closed (and the browser with it) before the database is flushed.

    Request it after the fixtures that write to the database: while Playwright's event loop
    lives in this thread Django refuses ORM calls made from it (SynchronousOnlyOperation).
    """
    reason = chromium_missing_reason()
    if reason:
        if in_ci():
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()
