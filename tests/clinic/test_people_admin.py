"""A person's page in admin: what clinicians and support staff see there, and the staff actions
(resend, cancel check-ins, opt out, erase) with their permissions, confirmation and audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic.roles import CLINICIAN, CONTENT_EDITOR, SUPPORT
from reminders.models import Checkin
from tests.clinic.helpers import staff_client
from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, text_signed
from triage.models import Conversation, Message, Person, Suppression
from triage.privacy import address_hash
from triage.sms import locmem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

NUMBER = "+15551230077"


@pytest.fixture
def person() -> Person:
    """A routine outcome through the webhook: a transcript and two pending check-ins."""
    webhook = Client()
    for body in ROUTINE_EN:
        text_signed(webhook, NUMBER, body, token=FAKE_AUTH_TOKEN)
    locmem.outbox.clear()  # the replies went in TwiML; only what staff send counts below
    return Person.objects.get(address=NUMBER)


def page(client: Client, person: Person) -> str:
    response = client.get(reverse("admin:triage_person_change", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post(client: Client, person: Person, action: str, data: dict | None = None):
    return client.post(reverse(f"admin:triage_person_{action}", args=[person.pk]), data or {})


def assert_in_order(html: str, texts: list[str]) -> None:
    position = 0
    for text in texts:
        found = html.find(escape(text), position)
        assert found >= 0, f"{text!r} missing or out of order"
        position = found + len(escape(text))


def logged(person: Person) -> list[str]:
    return [e.change_message for e in LogEntry.objects.filter(object_id=str(person.pk))]


# ---------------------------------------------------------------- what the page shows


def test_it_shows_a_clinician_outcomes_checkins_and_the_whole_transcript_in_order(
    person: Person,
) -> None:
    html = page(staff_client(CLINICIAN), person)
    conv = person.conversations.get()

    assert "Subscribed: receives texts and check-ins" in html
    assert "Routine (self-care)" in html and "R01" in html
    assert f">{conv.content_version}<" in html
    assert html.count("checkin.") >= 2  # the pending check-ins' plan steps
    transcript = html.split('id="person-transcript"')[1]
    rows = [
        (m.get_direction_display(), m.body, m.get_status_display())
        for m in person.messages.order_by("created_at", "id")
    ]
    assert len(rows) > len(ROUTINE_EN)
    assert_in_order(transcript, [cell for row in rows for cell in row])


def test_it_never_shows_the_full_number(person: Person) -> None:
    html = page(staff_client(CLINICIAN), person)
    assert "…0077" in html
    assert "5551230077" not in html


def test_it_masks_the_number_on_message_and_checkin_pages_too(person: Person) -> None:
    checkin = person.checkins.earliest("due_at")
    checkin.status, checkin.last_error = "failed", f"The 'To' number {NUMBER} is not valid"
    checkin.save()
    client = staff_client(CLINICIAN)
    urls = [
        reverse("admin:triage_message_change", args=[person.messages.first().pk]),
        reverse("admin:reminders_checkin_change", args=[checkin.pk]),
        reverse("admin:reminders_checkin_changelist"),
        reverse("admin:triage_conversation_change", args=[person.conversations.get().pk]),
    ]

    pages = [client.get(url).content.decode() for url in urls]

    for html in pages:
        assert "…0077" in html
        assert "5551230077" not in html
    assert "The &#x27;To&#x27; number …0077 is not valid" in pages[1]


def test_it_finds_a_person_by_their_full_number_and_lists_it_masked(person: Person) -> None:
    Person.objects.create(address="+15551239999", phone="+15551239999")
    response = staff_client(SUPPORT).get(reverse("admin:triage_person_changelist"), {"q": NUMBER})
    results = response.content.decode().split('id="result_list"')[1]

    assert "…0077" in results and "…9999" not in results
    assert NUMBER not in results


def test_it_shows_support_the_subscription_and_checkin_dates_but_no_care(person: Person) -> None:
    person.opted_out_at = timezone.now()
    person.save()

    html = page(staff_client(SUPPORT), person)

    assert "Opted out" in html
    assert "Pending check-ins" in html and "Pending" in html
    due = Checkin.objects.filter(person=person).earliest("due_at").due_at
    assert f"{due:%Y-%m-%d %H:%M}" in html
    assert "Routine" not in html and "R01" not in html and "checkin." not in html
    for text in (ROUTINE_EN[0], "BackCheck: a few quick questions", "Sounds like a strain"):
        assert text in "".join(person.messages.values_list("body", flat=True))
        assert text not in html
    assert 'id="person-transcript"' not in html and 'id="person-outcomes"' not in html


def test_it_shows_each_subscription_state(person: Person) -> None:
    now = timezone.now()
    person.number_invalid_at, person.simulated = now, True
    person.save()

    html = page(staff_client(SUPPORT), person)

    assert "Number cannot receive texts since" in html
    assert "Simulated" in html


def test_it_lists_the_persons_alerts_for_a_clinician_but_not_for_support() -> None:
    from clinic.models import Alert

    webhook = Client()
    body = "my upper back hurts and i cant feel my legs"
    text_signed(webhook, NUMBER, body, token=FAKE_AUTH_TOKEN)
    person = Person.objects.get(address=NUMBER)
    alert = Alert.objects.get(person=person)

    clinician = page(staff_client(CLINICIAN), person)
    section = clinician.lower().split("clinician alerts", 1)[1]
    assert reverse("admin:clinic_alert_change", args=[alert.pk]) in section
    assert alert.reasons and all(rule.lower() in section for rule in alert.reasons)
    assert "emergency" in section

    support = page(staff_client(SUPPORT), person)
    assert "clinician alerts" not in support.lower()
    assert reverse("admin:clinic_alert_change", args=[alert.pk]) not in support


def test_it_lets_a_clinician_set_the_time_zone(person: Person) -> None:
    url = reverse("admin:triage_person_change", args=[person.pk])

    # The page's form as a browser posts it: the alerts list's (empty) management form too.
    form = {"timezone": "America/Chicago", "alerts-TOTAL_FORMS": "0", "alerts-INITIAL_FORMS": "0"}
    response = staff_client(CLINICIAN).post(url, form)

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.timezone == "America/Chicago"


# ---------------------------------------------------------------- resend


def test_it_resends_the_last_text_and_records_it(person: Person) -> None:
    last = person.messages.filter(direction="out").latest("created_at", "id")

    response = post(staff_client(CLINICIAN), person, "resend")

    assert response.status_code == 302
    assert [(sms.to, sms.body) for sms in locmem.outbox] == [(NUMBER, last.body)]
    new = person.messages.latest("created_at", "id")
    assert (new.direction, new.body, new.status) == ("out", last.body, "queued")
    assert new.provider_sid == locmem.outbox[0].sid
    assert new.conversation_id == last.conversation_id
    assert logged(person) == [f"Resent the last text (message {new.pk})."]


@pytest.mark.parametrize(
    "state, reason",
    [
        ({"opted_out_at": timezone.now()}, "they opted out (STOP)"),
        ({"number_invalid_at": timezone.now()}, "their number cannot receive texts"),
        ({"simulated": True}, "they are a simulator session, never texted"),
        ({"erased_at": timezone.now()}, "their data was erased"),
    ],
)
def test_it_refuses_to_resend_to_someone_who_must_not_be_texted(
    person: Person, state: dict, reason: str
) -> None:
    Person.objects.filter(pk=person.pk).update(**state)
    before = Message.objects.count()
    client = staff_client(CLINICIAN)

    response = post(client, person, "resend")

    assert locmem.outbox == []
    assert Message.objects.count() == before
    followed = client.get(response["Location"]).content.decode()
    assert f"Not sent: {reason}." in followed
    assert logged(person) == []


def test_it_records_a_resend_twilio_refuses_and_opts_the_person_out(
    person: Person, fake_twilio: Any
) -> None:
    fake_twilio.fail_next(status=400, code=21610)

    post(staff_client(CLINICIAN), person, "resend")

    new = person.messages.latest("created_at", "id")
    assert (new.status, new.error_code, new.provider_sid) == ("failed", 21610, None)
    person.refresh_from_db()
    assert person.opted_out_at is not None
    assert not Checkin.objects.filter(person=person, status="pending").exists()


def test_it_takes_no_action_without_the_csrf_token(person: Person) -> None:
    client = staff_client(CLINICIAN, client=Client(enforce_csrf_checks=True))

    assert post(client, person, "resend").status_code == 403
    assert post(client, person, "opt_out").status_code == 403
    assert locmem.outbox == []
    person.refresh_from_db()
    assert person.opted_out_at is None


def test_it_does_not_act_on_a_get(person: Person) -> None:
    url = reverse("admin:triage_person_opt_out", args=[person.pk])
    assert staff_client(CLINICIAN).get(url).status_code == 405
    person.refresh_from_db()
    assert person.opted_out_at is None


# ---------------------------------------------------------------- check-ins, opt out


def test_it_cancels_pending_checkins_for_support(person: Person) -> None:
    assert Checkin.objects.filter(person=person, status="pending").count() == 2

    response = post(staff_client(SUPPORT), person, "cancel_checkins")

    assert response.status_code == 302
    statuses = set(Checkin.objects.filter(person=person).values_list("status", "cancelled_reason"))
    assert statuses == {("cancelled", "staff")}
    assert logged(person) == ["Cancelled 2 pending check-in(s)."]


def test_it_opts_a_person_out_and_never_texts_them_again(person: Person) -> None:
    client = staff_client(CLINICIAN)

    post(client, person, "opt_out")
    post(client, person, "resend")

    person.refresh_from_db()
    assert person.opted_out_at is not None
    assert not Checkin.objects.filter(person=person, status="pending").exists()
    assert locmem.outbox == []
    assert logged(person) == ["Opted out by staff: no more texts or check-ins."]
    assert "Opt out of all texts" not in page(client, person)


def test_it_opts_out_the_selected_people_from_the_list(person: Person) -> None:
    other = Person.objects.create(address="+15551230078", phone="+15551230078")

    staff_client(SUPPORT).post(
        reverse("admin:triage_person_changelist"),
        {"action": "opt_out_selected", "_selected_action": [person.pk, other.pk]},
    )

    assert Person.objects.filter(opted_out_at__isnull=False).count() == 2
    assert LogEntry.objects.count() == 2


# ---------------------------------------------------------------- erase


def test_it_asks_for_confirmation_before_erasing(person: Person) -> None:
    client = staff_client(SUPPORT)
    url = reverse("admin:triage_person_erase", args=[person.pk])

    confirm = client.get(url).content.decode()
    unconfirmed = client.post(url, {})

    assert "Erase the messages and answers of …0077?" in confirm and NUMBER not in confirm
    assert 'name="csrfmiddlewaretoken"' in confirm
    assert unconfirmed.status_code == 200
    person.refresh_from_db()
    assert person.erased_at is None and person.messages.exists()


def test_it_erases_a_person_once_confirmed(person: Person) -> None:
    client = staff_client(SUPPORT)

    response = post(client, person, "erase", {"confirm": "yes"})

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.erased_at is not None and person.opted_out_at is not None
    assert not Message.objects.filter(person=person).exists()
    assert Suppression.objects.filter(address_hash=address_hash(NUMBER)).exists()
    assert person.conversations.get().tier is not None  # the counts stay
    assert logged(person) == ["Erased messages and answers."]
    assert "Erased" in page(client, person)


# ---------------------------------------------------------------- who may do what


@pytest.mark.parametrize(
    "group, action, data",
    [
        (SUPPORT, "resend", {}),
        (CLINICIAN, "erase", {"confirm": "yes"}),
        (CONTENT_EDITOR, "opt_out", {}),
        (CONTENT_EDITOR, "cancel_checkins", {}),
    ],
)
def test_it_refuses_actions_a_role_may_not_take(
    person: Person, group: str, action: str, data: dict
) -> None:
    response = post(staff_client(group), person, action, data)

    assert response.status_code == 403
    person.refresh_from_db()
    assert (person.opted_out_at, person.erased_at) == (None, None)
    assert Checkin.objects.filter(person=person, status="pending").count() == 2
    assert locmem.outbox == [] and LogEntry.objects.count() == 0


def test_it_offers_each_role_only_its_own_buttons(person: Person) -> None:
    clinician, support = page(staff_client(CLINICIAN), person), page(staff_client(SUPPORT), person)

    assert "Resend last text" in clinician and "Resend last text" not in support
    assert "Erase messages and answers" in support and "Erase messages" not in clinician
    for html in (clinician, support):
        assert "Opt out of all texts" in html and "Cancel pending check-ins (2)" in html


def test_it_keeps_conversations_linked_to_their_person(person: Person) -> None:
    conv = Conversation.objects.get(person=person)
    html = page(staff_client(CLINICIAN), person)
    assert reverse("admin:triage_conversation_change", args=[conv.pk]) in html
