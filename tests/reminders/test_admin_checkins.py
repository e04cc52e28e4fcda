"""The check-in plan, sending window and check-ins as staff see and edit them in admin."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from reminders.models import Checkin, CheckinStep, SendingWindow
from tests.scripts import ROUTINE_EN as ROUTINE
from triage.models import Person
from triage.rules import Tier
from triage.services import conversation_handle_inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("clinic", "clinic@example.org", "pw-12345")
    client.force_login(user)
    return client


def triage_routine(address: str) -> Person:
    for body in ROUTINE:
        conversation_handle_inbound(sid="SM" + uuid.uuid4().hex, address=address, body=body)
    return Person.objects.get(address=address)


def hidden_inputs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def step_form(step: CheckinStep, **changes: object) -> dict[str, object]:
    data = {
        "tier": step.tier,
        "offset_days": step.offset_days,
        "kind": step.kind,
        "message_key": step.message_key,
        "active": "on" if step.active else "",
    }
    data.update(changes)
    return data


def test_the_plan_list_says_what_happens_to_pending_checkins(staff: Client) -> None:
    page = staff.get(reverse("admin:reminders_checkinstep_changelist")).content.decode()
    assert "Check-ins already pending keep their step and due time" in page


@pytest.mark.parametrize("model", ["checkinstep", "sendingwindow", "checkin"])
def test_it_lists_the_plan_the_window_and_the_checkins(staff: Client, model: str) -> None:
    triage_routine("+15551230101")
    assert staff.get(reverse(f"admin:reminders_{model}_changelist")).status_code == 200


def test_the_step_page_shows_both_languages_with_segments_and_what_happens_to_pending(
    staff: Client,
) -> None:
    step = CheckinStep.objects.get(tier=Tier.ROUTINE, offset_days=42)

    page = staff.get(reverse("admin:reminders_checkinstep_change", args=[step.pk])).content.decode()

    assert "it&#x27;s been 6 weeks" in page and "han pasado 6 semanas" in page
    assert "1 × GSM-7" in page
    assert "Check-ins already pending keep their step and due time" in page


def test_changing_an_offset_applies_to_people_scheduled_afterwards_only(staff: Client) -> None:
    before = triage_routine("+15551230102")
    first_due = Checkin.objects.get(person=before, step__offset_days=14).due_at
    step = CheckinStep.objects.get(tier=Tier.ROUTINE, offset_days=14)

    response = staff.post(
        reverse("admin:reminders_checkinstep_change", args=[step.pk]),
        step_form(step, offset_days=10),
    )
    assert response.status_code == 302

    after = triage_routine("+15551230103")
    assert Checkin.objects.get(person=before, step=step).due_at == first_due
    later = Checkin.objects.get(person=after, step=step)
    assert later.due_at - later.conversation.outcome_at == dt.timedelta(days=10)


def test_a_step_pointing_at_a_missing_text_is_refused_with_a_form_error(staff: Client) -> None:
    step = CheckinStep.objects.get(tier=Tier.SOON, offset_days=7)

    response = staff.post(
        reverse("admin:reminders_checkinstep_change", args=[step.pk]),
        step_form(step, message_key="checkin.no_such_text"),
    )

    assert response.status_code == 200
    assert "No message text has the key checkin.no_such_text" in response.content.decode()
    step.refresh_from_db()
    assert step.message_key == "checkin.soon_1w"


def test_staff_cannot_add_automatic_checkins_for_emergencies(staff: Client) -> None:
    response = staff.post(
        reverse("admin:reminders_checkinstep_add"),
        {
            "tier": int(Tier.EMERGENCY),
            "offset_days": 1,
            "kind": "pain",
            "message_key": "checkin.six_weeks",
            "active": "on",
        },
    )

    assert response.status_code == 200
    assert "a clinician follows them up" in response.content.decode()
    assert not CheckinStep.objects.filter(tier=Tier.EMERGENCY).exists()


def test_cancel_pending_action_stops_a_steps_checkins(staff: Client) -> None:
    person = triage_routine("+15551230104")
    step = CheckinStep.objects.get(tier=Tier.ROUTINE, offset_days=14)

    staff.post(
        reverse("admin:reminders_checkinstep_changelist"),
        {"action": "cancel_pending", "_selected_action": [step.pk]},
    )

    row = Checkin.objects.get(person=person, step=step)
    assert row.status == Checkin.Status.CANCELLED
    other = Checkin.objects.get(person=person, step__offset_days=42)
    assert other.status == Checkin.Status.PENDING


def test_there_is_one_sending_window_and_staff_can_move_it(staff: Client) -> None:
    window = SendingWindow.objects.get()
    assert staff.get(reverse("admin:reminders_sendingwindow_add")).status_code == 403

    response = staff.post(
        reverse("admin:reminders_sendingwindow_change", args=[window.pk]),
        {"start": "10:00", "end": "18:30"},
    )

    assert response.status_code == 302
    assert SendingWindow.current().start == dt.time(10, 0)


def test_staff_set_a_persons_time_zone_and_a_bad_one_is_refused(staff: Client) -> None:
    person = triage_routine("+15551230105")
    url = reverse("admin:triage_person_change", args=[person.pk])

    form = hidden_inputs(staff.get(url).content.decode())  # the inlines' management forms

    bad = staff.post(url, form | {"timezone": "Mars/Olympus"})
    assert bad.status_code == 200 and "is not a time zone name" in bad.content.decode()

    good = staff.post(url, form | {"timezone": "America/Chicago"})
    assert good.status_code == 302
    person.refresh_from_db()
    assert person.timezone == "America/Chicago"
    assert person.address == "+15551230105"  # nothing else editable


def test_the_person_page_lists_their_checkins(staff: Client) -> None:
    person = triage_routine("+15551230106")

    page = staff.get(reverse("admin:triage_person_change", args=[person.pk])).content.decode()

    assert "checkin.routine_2w" in page and "checkin.six_weeks" in page


def test_staff_see_which_checkins_twilio_may_have_taken_and_can_list_them(
    staff: Client,
) -> None:
    doubtful = Checkin.objects.filter(person=triage_routine("+15551230107")).first()
    clear = Checkin.objects.filter(person=triage_routine("+15551230108")).first()
    began = dt.datetime(2026, 5, 18, 14, 0, tzinfo=dt.UTC)
    Checkin.objects.filter(pk=doubtful.pk).update(
        status=Checkin.Status.FAILED,
        attempts=8,
        in_doubt_since=began,
        last_error="May have been sent: the last attempt got no answer from Twilio",
    )
    change = reverse("admin:reminders_checkin_change", args=[doubtful.pk])

    page = staff.get(change).content.decode()
    assert "Send in doubt since" in page
    assert "May 18, 2026" in page
    assert "look for the text in Twilio&#x27;s console" in page
    assert (
        "Send in doubt since"
        in staff.get(reverse("admin:reminders_checkin_change", args=[clear.pk])).content.decode()
    )

    changelist = reverse("admin:reminders_checkin_changelist")
    assert "By send in doubt" in staff.get(changelist).content.decode()
    listed = staff.get(changelist, {"in_doubt": "yes"}).content.decode()
    assert change in listed
    assert reverse("admin:reminders_checkin_change", args=[clear.pk]) not in listed
    assert "May have been sent" in listed
    assert change not in staff.get(changelist, {"in_doubt": "no"}).content.decode()
