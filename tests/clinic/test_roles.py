"""Staff roles (clinic/roles.py) as each kind of staff meets them in admin: which pages open,
what the admin index lists, and that support staff never see a person's care."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.roles import CLINICIAN, CONTENT_EDITOR, SUPPORT
from reminders.models import Checkin, CheckinStep, SendingWindow
from tests.clinic.helpers import staff_client, staff_user
from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, text_signed
from triage.models import AnswerWord, ContentMessage, ContentVersion, Keyword, Message, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

NUMBER = "+15551230042"

CONTENT = [
    "triage_contentmessage",
    "triage_answerword",
    "triage_keyword",
    "triage_rule",
    "triage_contentversion",
    "reminders_checkinstep",
    "reminders_sendingwindow",
]
CARE = ["triage_person", "triage_conversation", "triage_message", "reminders_checkin"]
ALERTS = "clinic_alert"

# Which changelists each role opens (every other one answers 403).
OPENS = {
    CONTENT_EDITOR: set(CONTENT),
    CLINICIAN: {*CARE, ALERTS},
    SUPPORT: {"triage_person", "reminders_checkin"},  # check-ins: to cancel them, no answers
}


@pytest.fixture
def person() -> Person:
    """A routine outcome; its first check-in sent and answered "worse, 7"."""
    webhook = Client()
    for body in ROUTINE_EN:
        text_signed(webhook, NUMBER, body, token=FAKE_AUTH_TOKEN)
    person = Person.objects.get(address=NUMBER)
    Checkin.objects.filter(pk=person.checkins.earliest("due_at").pk).update(
        status="sent",
        sent_at=timezone.now(),
        pain_score=7,
        trend="worse",
        replied_at=timezone.now(),
    )
    return person


def one_of_each(person: Person) -> dict[str, Any]:
    """A primary key for the change page of every model in the table."""
    return {
        "triage_contentmessage": ContentMessage.objects.first().pk,
        "triage_answerword": AnswerWord.objects.first().pk,
        "triage_keyword": Keyword.objects.first().pk,
        "triage_rule": "S05",
        "triage_contentversion": ContentVersion.objects.first().pk,
        "reminders_checkinstep": CheckinStep.objects.first().pk,
        "reminders_sendingwindow": SendingWindow.objects.first().pk,
        "triage_person": person.pk,
        "triage_conversation": person.conversations.get().pk,
        "triage_message": person.messages.first().pk,
        "reminders_checkin": person.checkins.first().pk,
    }


@pytest.mark.parametrize("group", [CONTENT_EDITOR, CLINICIAN, SUPPORT])
def test_it_opens_only_the_pages_of_each_role(person: Person, group: str) -> None:
    client = staff_client(group)
    pks = one_of_each(person)

    lists = {
        name: client.get(reverse(f"admin:{name}_changelist")).status_code
        for name in [*CONTENT, *CARE, ALERTS]
    }
    pages = {
        name: client.get(reverse(f"admin:{name}_change", args=[pk])).status_code
        for name, pk in pks.items()
    }

    assert {name for name, status in lists.items() if status == 200} == OPENS[group]
    assert {status for name, status in lists.items() if name not in OPENS[group]} == {403}
    assert {name for name, status in pages.items() if status == 200} == OPENS[group] - {ALERTS}
    assert {status for name, status in pages.items() if name not in OPENS[group]} == {403}


@pytest.mark.parametrize("group", [CONTENT_EDITOR, CLINICIAN, SUPPORT])
def test_it_lists_on_the_admin_index_only_what_a_role_opens(group: str) -> None:
    client = staff_client(group)

    index = client.get(reverse("admin:index")).content.decode()

    for name in [*CONTENT, *CARE, ALERTS]:
        listed = f'href="{reverse(f"admin:{name}_changelist")}"' in index
        assert listed == (name in OPENS[group]), name


def test_it_lets_clinicians_read_but_never_change_content() -> None:
    client = staff_client(CLINICIAN)
    message = ContentMessage.objects.get(key="sys.welcome", language="en")
    url = reverse("admin:triage_contentmessage_change", args=[message.pk])

    response = client.post(url, {"key": "sys.welcome", "language": "en", "text": "Changed"})

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.text != "Changed"


def test_it_shows_support_a_persons_subscription_but_no_transcript_outcome_or_answers(
    person: Person,
) -> None:
    client = staff_client(SUPPORT)
    person.opted_out_at = timezone.now()
    person.save()
    bodies = list(Message.objects.filter(person=person).values_list("body", flat=True))

    html = client.get(reverse("admin:triage_person_change", args=[person.pk])).content.decode()
    checkins = client.get(reverse("admin:reminders_checkin_changelist")).content.decode()
    checkin = client.get(
        reverse("admin:reminders_checkin_change", args=[person.checkins.earliest("due_at").pk])
    ).content.decode()

    assert "Opted out" in html and "Sent" in html and "Pending" in html
    for page in (html, checkins, checkin):
        for body in bodies:
            if len(body) > 12:  # short replies ("no", "none") occur in any page
                assert body.replace("'", "&#x27;") not in page
        assert "Routine" not in page and "R01" not in page
        assert "worse" not in page and "Pain" not in page
    # The plan step's key names the tier. (Checkin.__str__, the check-in pages' title, still
    # carries it: left to a model change.)
    assert "checkin.routine" not in html
    assert 'name="timezone"' not in html  # support may not change a person


def test_it_shows_clinicians_the_answers_support_does_not_see(person: Person) -> None:
    client = staff_client(CLINICIAN)

    html = client.get(reverse("admin:triage_person_change", args=[person.pk])).content.decode()
    checkins = client.get(reverse("admin:reminders_checkin_changelist")).content.decode()

    for page in (html, checkins):
        assert "worse" in page and "Routine" in page
    assert "R01" in html and ROUTINE_EN[0] in html
    assert 'name="timezone"' in html


@pytest.mark.parametrize(
    "permission, holders",
    [
        ("clinic.view_alert", {CLINICIAN}),
        ("clinic.change_alert", {CLINICIAN}),
        ("clinic.view_dashboard", {CLINICIAN}),
        ("clinic.use_simulator", {CLINICIAN, CONTENT_EDITOR}),
        ("triage.export_conversation", {CLINICIAN}),
        ("triage.resend_message", {CLINICIAN}),
        ("triage.opt_out_person", {CLINICIAN, SUPPORT}),
        ("triage.erase_person", {SUPPORT}),
        ("reminders.change_checkin", {CLINICIAN, SUPPORT}),
        ("triage.change_contentmessage", {CONTENT_EDITOR}),
        ("triage.delete_rule", set()),  # a rule's condition is code
    ],
)
def test_it_grants_each_permission_to_the_right_roles(permission: str, holders: set[str]) -> None:
    users = {group: staff_user(group) for group in (CONTENT_EDITOR, CLINICIAN, SUPPORT)}
    granted = {group for group, user in users.items() if user.has_perm(permission)}
    assert granted == holders
