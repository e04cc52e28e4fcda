"""Debian's Chromium as the browser tests and docs/make_screenshots.py launch it: never a
browser Playwright downloads, headless, with nothing running in the background."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM_PATH = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_reason() -> str | None:
    """Why Chromium cannot be launched here, or None when it can."""
    if not os.access(CHROMIUM_PATH, os.X_OK):
        return (
            f"{CHROMIUM_PATH} not found (apt-get install chromium); browsers are never downloaded"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def launch(playwright: Playwright) -> Browser:
    """A headless Chromium from a started `sync_playwright()`; the caller closes it."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, headless=True, args=LAUNCH_ARGS
    )
