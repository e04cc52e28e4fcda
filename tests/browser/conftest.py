"""Browser fixtures: Debian's Chromium (never a downloaded one, see chromium.py) driven by
Playwright's sync API against pytest-django's live server.

Without /usr/bin/chromium the browser tests skip on a developer machine and fail under CI=true,
so CI can never pass by skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium
from tests.conftest import in_ci

TIMEOUT_MS = 10_000  # per action or expectation; a whole test stays well under 30 s


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A fresh Chromium page; closed (and the browser with it) before the database is flushed.

    Request it after the fixtures that write to the database: while Playwright's event loop
    lives in this thread Django refuses ORM calls made from it (SynchronousOnlyOperation).
    """
    reason = chromium.missing_reason()
    if reason:
        if in_ci():
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()
