"""The simulator in a real browser: a clinician logs in through the admin, types a conversation
into /simulator/ and reads what the person would get - the bubbles, each reply's segment count,
the outcome - then resets and types an emergency.

Expected texts come from the content the service sends (the defaults the migrations load),
with the service name filled in as settings say.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from clinic.roles import CLINICIAN
from tests.scripts import ROUTINE_EN
from triage.conversation import Content
from triage.segments import segment_info

pytestmark = [
    # The live server's thread needs committed rows; the roles and content come back after the
    # flush for the tests that follow.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "browser-test-pw-12345"


def text(key: str) -> str:
    return Content(service=settings.SERVICE_NAME, contact=settings.SUPPORT_CONTACT).text(key, "en")


@pytest.fixture
def clinician(django_user_model: Any) -> str:
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("clin", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=CLINICIAN))
    return user.username


def send(page: Any, body: str) -> None:
    """Type a text and press Enter, as staff do; wait for the page to show it back."""
    from playwright.sync_api import expect

    sent = page.locator(".sim-in").count()
    page.fill("#sim-text", body)
    page.press("#sim-text", "Enter")
    expect(page.locator(".sim-in")).to_have_count(sent + 1)


def bubbles(page: Any) -> list[tuple[str, str]]:
    return [
        (bubble.get_attribute("data-from"), bubble.locator(".sim-body").inner_text())
        for bubble in page.locator(".sim-bubble").all()
    ]


def test_it_chats_through_a_routine_check_and_then_an_emergency(
    live_server: Any, clinician: str, browser_page: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/simulator/")
    page.fill("#id_username", clinician)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("h1")).to_have_text("Simulator")

    for body in ROUTINE_EN:
        send(page, body)

    shown = bubbles(page)
    assert [body for who, body in shown if who == "person"] == ROUTINE_EN
    service = [body for who, body in shown if who == "service"]
    assert service[:2] == [text("sys.welcome"), text("q.emergency_screen")]
    assert service[-2:] == [text("outcome.routine"), text("outcome.routine_watch")]
    assert shown[-3:] == [
        ("person", "none"),
        ("service", text("outcome.routine")),
        ("service", text("outcome.routine_watch")),
    ]
    notes = page.locator(".sim-out .sim-meta").all_inner_texts()
    assert len(notes) == len(service)
    assert notes == [f"1 segment · GSM-7 · {segment_info(body).length} chars" for body in service]
    expect(page.locator(".sim-tier")).to_have_text("Routine (self-care)")
    expect(page.locator(".sim-rules")).to_have_text("R01")

    page.click("text=Fire next check-in")
    expect(page.locator(".sim-checkin .sim-body")).to_have_text(text("checkin.routine_2w"))

    page.click("button.sim-reset")
    expect(page.locator(".sim-bubble")).to_have_count(0)
    send(page, "i cant feel my legs")

    assert bubbles(page) == [
        ("person", "i cant feel my legs"),
        ("service", text("outcome.emergency")),
    ]
    assert "Call 911" in text("outcome.emergency")
    expect(page.locator(".sim-tier")).to_have_text("Emergency (911 now)")
