"""Content history in admin: every edit of a text, rule or check-in step is recorded with who,
when and what changed; staff who may edit revert to an earlier version, and people get it at
once; each outcome records the content version it was given under."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from clinic.roles import CLINICIAN, CONTENT_EDITOR
from reminders.models import CheckinStep
from tests.clinic.helpers import logged_in, staff_client, staff_user
from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, text_signed
from triage.models import ContentMessage, ContentVersion, Conversation, Rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

_numbers = itertools.count(200)
NEW_WELCOME = "BackCheck: 5 quick questions about your upper back. Emergency: call 911. STOP ends."


def form_data(client: Client, url: str, **changes: Any) -> dict[str, Any]:
    """What the admin form at `url` would post as it stands, with `changes` typed in."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = changes.get(name, form[name].value())
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else value
    return data


def save(client: Client, url: str, **changes: Any) -> None:
    response = client.post(url, form_data(client, url, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors


def first_reply(body: str = "my upper back hurts after lifting a box") -> str:
    return text_signed(Client(), f"+1555123{next(_numbers):04d}", body, token=FAKE_AUTH_TOKEN)[0]


@pytest.fixture
def welcome() -> ContentMessage:
    return ContentMessage.objects.get(key="sys.welcome", language="en")


def test_it_records_who_changed_a_text_and_shows_old_and_new(welcome: ContentMessage) -> None:
    user = staff_user(CONTENT_EDITOR)
    editor = logged_in(user)
    old = welcome.text
    change_url = reverse("admin:triage_contentmessage_change", args=[welcome.pk])

    save(editor, change_url, text=NEW_WELCOME)
    history = editor.get(reverse("admin:triage_contentmessage_history", args=[welcome.pk]))

    html = history.content.decode()
    assert history.status_code == 200
    assert user.username in html
    assert escape(old) in html and escape(NEW_WELCOME) in html
    assert "Updated at" not in html  # a save's timestamp is not a change worth listing
    record = welcome.history.latest()
    assert (record.history_user, record.text) == (user, NEW_WELCOME)
    version = ContentVersion.objects.latest("id")
    assert version.changed_by == user and "sys.welcome" in version.summary


def test_it_reverts_a_text_and_the_next_person_gets_it(welcome: ContentMessage) -> None:
    user = staff_user(CONTENT_EDITOR)
    editor = logged_in(user)
    original = welcome.text
    before = welcome.history.latest()
    save(editor, reverse("admin:triage_contentmessage_change", args=[welcome.pk]), text=NEW_WELCOME)
    assert first_reply() == NEW_WELCOME

    revert_url = reverse(
        "admin:triage_contentmessage_simple_history", args=[welcome.pk, before.history_id]
    )
    revert_form = editor.get(revert_url).content.decode()
    save(editor, revert_url)

    assert "Revert" in revert_form
    welcome.refresh_from_db()
    assert welcome.text == original
    assert first_reply() == original
    reverted = welcome.history.latest()
    assert reverted.history_user == user
    assert reverted.history_change_reason.startswith("Reverted to the version of ")
    history = editor.get(reverse("admin:triage_contentmessage_history", args=[welcome.pk]))
    assert "Reverted to the version of" in history.content.decode()


def test_it_refuses_a_revert_to_staff_who_may_only_read_the_content(
    welcome: ContentMessage,
) -> None:
    reader = staff_client(perms=("view_contentmessage",))
    record = welcome.history.earliest()
    url = reverse("admin:triage_contentmessage_simple_history", args=[welcome.pk, record.pk])

    page = reader.get(url)
    attempt = reader.post(url, {"key": "sys.welcome", "language": "en", "text": "Hijacked"})

    assert page.status_code == 200 and 'value="Revert"' not in page.content.decode()
    assert attempt.status_code == 403
    welcome.refresh_from_db()
    assert welcome.text != "Hijacked"


def test_it_refuses_content_history_to_clinicians(welcome: ContentMessage) -> None:
    clinician = staff_client(CLINICIAN)
    record = welcome.history.earliest()
    history = reverse("admin:triage_contentmessage_history", args=[welcome.pk])
    revert = reverse("admin:triage_contentmessage_simple_history", args=[welcome.pk, record.pk])

    assert clinician.get(history).status_code == 403
    assert clinician.post(revert, {"text": "x"}).status_code == 403


def test_it_records_edits_of_a_rule_and_a_checkin_step() -> None:
    user = staff_user(CONTENT_EDITOR)
    editor = logged_in(user)
    step = CheckinStep.objects.filter(active=True).first()
    rule_url = reverse("admin:triage_rule_change", args=["S05"])
    step_url = reverse("admin:reminders_checkinstep_change", args=[step.pk])

    save(editor, rule_url, extra_phrases="hurts between my shoulder blades")
    save(editor, step_url, offset_days=step.offset_days + 1)

    rule_history = editor.get(reverse("admin:triage_rule_history", args=["S05"]))
    step_history = editor.get(reverse("admin:reminders_checkinstep_history", args=[step.pk]))
    assert "hurts between my shoulder blades" in rule_history.content.decode()
    assert user.username in rule_history.content.decode()
    step_html = " ".join(step_history.content.decode().split())
    assert user.username in step_html
    old, new = step.offset_days, step.offset_days + 1
    assert f"Offset days:</strong> {old} &nbsp;&rarr;&nbsp;&nbsp;{new}" in step_html
    assert Rule.history.latest().history_user == user
    assert CheckinStep.history.latest().history_user == user
    summaries = list(
        ContentVersion.objects.filter(changed_by=user).values_list("summary", flat=True)
    )
    assert len(summaries) == 2 and any("S05" in s for s in summaries)


def test_it_keeps_the_safety_floor_when_reverting_an_emergency_rule() -> None:
    editor = staff_client(CONTENT_EDITOR)
    record = Rule.history.filter(rule_id="E02").earliest()
    url = reverse("admin:triage_rule_simple_history", args=["E02", record.history_id])

    response = editor.post(url, form_data(editor, url, enabled=False, tier=0))

    assert response.status_code == 200  # the form is shown again with the error
    rule = Rule.objects.get(rule_id="E02")
    assert rule.enabled and rule.tier == 3


def test_it_stores_the_content_version_and_rule_ids_with_each_outcome(
    welcome: ContentMessage,
) -> None:
    user = staff_user(CONTENT_EDITOR)
    editor = logged_in(user)
    save(editor, reverse("admin:triage_contentmessage_change", args=[welcome.pk]), text=NEW_WELCOME)
    current = ContentVersion.objects.latest("id")
    number = "+15551239876"

    for body in ROUTINE_EN:
        text_signed(Client(), number, body, token=FAKE_AUTH_TOKEN)
    save(editor, reverse("admin:triage_contentmessage_change", args=[welcome.pk]), text="Later")

    conv = Conversation.objects.get(person__address=number)
    assert (conv.content_version, conv.reasons) == (current.pk, ["R01"])
    clinician = staff_client(CLINICIAN)
    page = clinician.get(reverse("admin:triage_conversation_change", args=[conv.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<div class="readonly">{current.pk}</div>' in html and "R01" in html
    versions = editor.get(reverse("admin:triage_contentversion_changelist")).content.decode()
    assert escape(current.summary) in versions and user.username in versions
