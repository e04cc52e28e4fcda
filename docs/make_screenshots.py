"""Screenshots of the staff pages for the docs, from a throwaway database with demo data.

    .venv/bin/python docs/make_screenshots.py

Creates a SQLite database in a temporary directory, migrates it, seeds a superuser and a few
people texting the service (a routine strain, a "see a GP soon", an urgent fever, two
emergencies, a Spanish speaker, a text not understood), sends the check-ins that are due,
edits a message text (for its history page), then serves the site from a thread and saves PNGs
of the admin pages and the simulator with Debian's Chromium into docs/screenshots/.

Nothing leaves the machine: SMS go to the in-memory backend, e-mail to the console, Celery
tasks run inline. A page that does not load (e.g. not built yet) is reported and skipped; the
exit status is 1 when any page failed.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
USERNAME, PASSWORD = "admin", "screenshots-only-pw"
VIEWPORT = {"width": 1280, "height": 860}
MAX_HEIGHT = 2000  # long lists are cut here: the top of a page is what the docs show

# Fictional numbers: 555-01xx in North America, Ofcom's drama range 07700 900xxx in the UK.
ROUTINE_NY = "+12025550101"
SOON_CHICAGO = "+13125550102"
URGENT_LA = "+13105550103"
EMERGENCY_NY = "+12125550104"
EMERGENCY_UK = "+447700900105"
SPANISH_MIAMI = "+13055550106"
UNCLEAR_NY = "+12125550107"

SPANISH = ["me duele la espalda alta", "no", "no", "nada", "2 mejor", "3 dias, dormi mal, 25"]
UNCLEAR = ["my upper back hurts", "the blue one", "maybe tuesday"]


def environment(db_dir: Path) -> None:
    """Settings for a private, offline run (read by backpain_service/settings.py at import)."""
    for name in list(os.environ):
        if name.startswith(("TWILIO_", "ALERT_", "EMAIL_")) or name in ("REDIS_URL", "CI"):
            del os.environ[name]
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "backpain_service.settings",
            "DATABASE_URL": f"sqlite:///{db_dir / 'screenshots.sqlite3'}",
            "SECRET_KEY": "screenshots-only-insecure-key",
            "DEBUG": "false",
            "SMS_BACKEND": "locmem",
            "CHECKIN_MAX_PER_SECOND": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Served over plain http on 127.0.0.1: no redirect to https, cookies sent over http.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
        }
    )


def text(address: str, body: str) -> list[str]:
    from triage.services import conversation_handle_inbound

    return conversation_handle_inbound(
        sid="SM" + uuid.uuid4().hex, address=address, body=body
    ).replies


def seed(now: dt.datetime) -> dict[str, int]:
    """Demo data; returns the ids the page list needs."""
    import time_machine
    from django.contrib.auth import get_user_model

    from reminders.dispatch import dispatch_due
    from reminders.models import SendingWindow
    from tests.scripts import ROUTINE_EN, SOON_7_WEEKS_EN, URGENT_FEVER_EN
    from triage.models import ContentMessage, Person

    user = get_user_model().objects.create_superuser(USERNAME, "admin@example.org", PASSWORD)
    people = [
        (ROUTINE_NY, ROUTINE_EN, dt.timedelta(days=16)),
        (SOON_CHICAGO, SOON_7_WEEKS_EN, dt.timedelta(days=12)),
        (URGENT_LA, URGENT_FEVER_EN, dt.timedelta(days=9)),
        (EMERGENCY_NY, ["my legs r numb and tingly since this morning"], dt.timedelta(days=3)),
        (EMERGENCY_UK, ["i cant feel my legs and my upper back is agony"], dt.timedelta(days=1)),
        (SPANISH_MIAMI, SPANISH, dt.timedelta(hours=5)),
        (UNCLEAR_NY, UNCLEAR, dt.timedelta(minutes=40)),
    ]
    for address, texts, ago in people:
        with time_machine.travel(now - ago, tick=True):
            for body in texts:
                text(address, body)

    # Check-ins due by now go out (any hour: the demo has no quiet hours), and two get answers.
    window = SendingWindow.current()
    window.start, window.end = dt.time(0, 0), dt.time(23, 59)
    window.save()
    print(f"check-ins: {dispatch_due(now=now).line()}")
    text(ROUTINE_NY, "2 better")
    text(ROUTINE_NY, "no")
    text(URGENT_LA, "yes")

    # A content edit by the superuser, for the history page.
    message = ContentMessage.objects.get(key="outcome.routine", language="en")
    original = message.text
    for body, reason in (
        (original.replace("Keep moving", "Keep gently moving"), "Softer wording, trial"),
        (original, "Back to the reviewed wording"),
    ):
        message.text = body
        message._history_user = user  # simple-history: who made the change, and why
        message._change_reason = reason
        message.save()

    try:  # another feature's: the saved conversations' last run, for their list
        from clinic.testcases import testcases_run

        testcases_run()
    except Exception as exc:  # noqa: BLE001 - the screenshots go on without it
        print(f"note: saved test conversations not run ({exc.__class__.__name__}: {exc})")

    return {
        "person": Person.objects.get(address=ROUTINE_NY).pk,
        "message": message.pk,
    }


def page_urls(ids: dict[str, int]) -> list[tuple[str, Callable[[], str]]]:
    from django.urls import reverse

    return [
        ("admin-index", lambda: reverse("admin:index")),
        ("person", lambda: reverse("admin:triage_person_change", args=[ids["person"]])),
        ("message-texts", lambda: reverse("admin:triage_contentmessage_changelist")),
        (
            "content-history",
            lambda: reverse("admin:triage_contentmessage_history", args=[ids["message"]]),
        ),
        ("alerts", lambda: reverse("admin:clinic_alert_changelist")),
        ("dashboard", lambda: "/admin/dashboard/"),
        ("saved-conversations", lambda: reverse("admin:clinic_savedconversation_changelist")),
    ]


def serve():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server


def save(page, name: str) -> None:
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True, clip=clip)


def shoot(base: str, pages: list[tuple[str, str | Exception]]) -> list[str]:
    """Log in, save each page and the simulator mid-conversation; return what failed."""
    from playwright.sync_api import sync_playwright

    from tests.browser import chromium
    from tests.scripts import ROUTINE_EN

    failed: list[str] = []
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(15_000)
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_load_state()

        for name, url in pages:
            if isinstance(url, Exception):
                failed.append(f"{name}: no URL ({url.__class__.__name__}: {url})")
                continue
            response = page.goto(base + url)
            status = response.status if response else 0
            if status != 200:
                failed.append(f"{name}: {url} answered {status}")
                (OUT / f"{name}.png").unlink(missing_ok=True)  # no stale picture in the docs
                continue
            save(page, name)
            print(f"saved {name}.png ({url})")

        try:
            response = page.goto(f"{base}/simulator/")
            if not response or response.status != 200:
                raise RuntimeError(f"/simulator/ answered {response.status if response else 0}")
            for body in ROUTINE_EN[:4]:
                sent = page.locator(".sim-in").count()
                page.fill("#sim-text", body)
                page.press("#sim-text", "Enter")
                page.locator(".sim-in").nth(sent).wait_for()
            save(page, "simulator")
            print("saved simulator.png (/simulator/)")
        except Exception as exc:  # noqa: BLE001 - reported with the others
            failed.append(f"simulator: {exc}")
        browser.close()
    return failed


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.browser import chromium

    reason = chromium.missing_reason()
    if reason:
        print(reason)
        return 2
    with tempfile.TemporaryDirectory(prefix="backcheck-screenshots-") as tmp:
        environment(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        from backpain_service import celery_app

        celery_app.conf.update(task_always_eager=True, task_eager_propagates=False)
        call_command("migrate", verbosity=0)
        ids = seed(timezone.now())
        pages: list[tuple[str, str | Exception]] = []
        for name, url in page_urls(ids):
            try:
                pages.append((name, url()))
            except Exception as exc:  # noqa: BLE001 - e.g. an admin not registered yet
                pages.append((name, exc))

        server = serve()
        try:
            failed = shoot(f"http://127.0.0.1:{server.port}", pages)
        finally:
            server.terminate()
            server.join(timeout=10)

    for line in failed:
        print(f"FAILED {line}")
    print(f"{len(pages) + 1 - len(failed)} screenshots in {OUT.relative_to(ROOT)}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
