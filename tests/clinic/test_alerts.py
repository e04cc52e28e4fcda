"""Clinician alerts: what on-call staff receive after an emergency, urgent or not-understood
conversation, when reminders stop, and who may see and acknowledge alerts in admin."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from clinic import roles
from clinic.alerts import alerts_notify_due
from clinic.models import Alert
from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import text_signed
from triage.models import Person
from triage.segments import segment_info
from triage.sms import SmsError
from triage.sms.base import BaseSmsBackend

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

PATIENT = "+15551239876"
ON_CALL_EMAIL = "oncall@clinic.example"
ON_CALL_PHONE = "+15557770001"
T0 = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)
EMERGENCY_TEXT = "cant feel my legs"
# Unclear twice at the emergency screen: a re-ask, then the safety net (F03).
UNCLEAR_TWICE = ["back hurts between my shoulders", "wdym", "idk"]
URGENT_SCRIPT = ["my upper back hurts", "no", "no", "B"]  # fever: U03


class DownSms(BaseSmsBackend):
    """Twilio answering 503."""

    def send(self, to: str, body: str) -> str:
        raise SmsError(f"Unable to create record: 'To' {to} service unavailable", status=503)


@pytest.fixture
def on_call(settings: Any, locmem_sms: list, mailoutbox: list) -> Any:
    settings.ALERT_EMAILS = [ON_CALL_EMAIL]
    settings.ALERT_SMS_NUMBERS = [ON_CALL_PHONE]
    settings.ALERT_RENOTIFY_MINUTES = 15.0
    settings.ADMIN_BASE_URL = "https://backcheck.example.org"
    return settings


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(T0, tick=False)
    return time_machine


def text(client: Client, body: str, from_: str = PATIENT) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def at(clock: Any, minutes: float) -> int:
    """Move to T0 + minutes and run one notifier pass."""
    clock.move_to(T0 + dt.timedelta(minutes=minutes), tick=False)
    return alerts_notify_due()


def staff_client(role: str | None) -> Client:
    User = get_user_model()
    if role == "superuser":
        user = User.objects.create_superuser("root", "root@clinic.example", "pw")
    else:
        user = User.objects.create_user(f"u-{role}", password="pw", is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------- emergencies


def test_it_emails_and_texts_on_call_once_about_an_emergency(
    client: Client, on_call: Any, clock: Any, mailoutbox: list, locmem_sms: list
) -> None:
    replies = text(client, EMERGENCY_TEXT)
    assert "911" in replies[0]

    alert = Alert.objects.get()
    assert (alert.kind, alert.tier) == (Alert.Kind.EMERGENCY, 3)
    assert "E02" in alert.reasons
    assert alert.person.address == PATIENT

    assert at(clock, 0) == 1
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [ON_CALL_EMAIL]
    assert email.subject.startswith("[BackCheck] EMERGENCY outcome (E02")
    assert "reminder" not in email.subject
    assert [sms.to for sms in locmem_sms] == [ON_CALL_PHONE]
    assert "EMERGENCY" in locmem_sms[0].body

    assert at(clock, 0.5) == 0
    assert len(mailoutbox) == 1 and len(locmem_sms) == 1


def test_it_reminds_on_call_after_15_minutes_until_someone_acknowledges(
    client: Client, on_call: Any, clock: Any, mailoutbox: list, locmem_sms: list
) -> None:
    text(client, EMERGENCY_TEXT)
    at(clock, 0)

    assert at(clock, 14) == 0
    assert len(mailoutbox) == 1 and len(locmem_sms) == 1

    assert at(clock, 15) == 1
    assert len(mailoutbox) == 2 and len(locmem_sms) == 2
    assert "(reminder 2)" in mailoutbox[1].subject
    assert "reminder 2" in locmem_sms[1].body

    clinician = staff_client(roles.CLINICIAN)
    response = clinician.post(
        reverse("admin:clinic_alert_changelist"),
        {"action": "acknowledge_selected", "_selected_action": [Alert.objects.get().pk]},
        follow=True,
    )
    assert "1 alert(s) acknowledged" in response.content.decode()

    assert at(clock, 30) == 0
    assert at(clock, 120) == 0
    assert len(mailoutbox) == 2 and len(locmem_sms) == 2
    alert = Alert.objects.get()
    assert alert.notify_count == 2
    assert alert.acknowledged_by.username == f"u-{roles.CLINICIAN}"


def test_it_stops_reminders_from_the_button_on_the_alert_page(
    client: Client, on_call: Any, clock: Any, mailoutbox: list
) -> None:
    text(client, EMERGENCY_TEXT)
    at(clock, 0)
    alert = Alert.objects.get()
    clinician = staff_client(roles.CLINICIAN)
    page_url = reverse("admin:clinic_alert_change", args=[alert.pk])
    ack_url = reverse("admin:clinic_alert_acknowledge", args=[alert.pk])

    page = clinician.get(page_url).content.decode()
    assert ack_url in page and ">Acknowledge</button>" in page

    response = clinician.post(ack_url, follow=True)
    assert "Alert acknowledged" in response.content.decode()
    assert ack_url not in response.content.decode()

    assert at(clock, 15) == 0
    assert at(clock, 45) == 0
    assert len(mailoutbox) == 1
    assert Alert.objects.get().acknowledged_at == T0


def test_it_adds_a_new_red_flag_to_the_open_alert_and_tells_on_call_at_once(
    client: Client, on_call: Any, clock: Any, mailoutbox: list
) -> None:
    text(client, "my legs are numb")
    at(clock, 0)

    clock.move_to(T0 + dt.timedelta(minutes=3), tick=False)
    text(client, "and now i cant control my bladder")

    alert = Alert.objects.get()
    assert len(alert.reasons) > 1 and alert.reasons[0] == "E02"
    assert at(clock, 3) == 1
    assert len(mailoutbox) == 2
    assert alert.reasons[-1] in mailoutbox[1].subject


def test_it_tells_on_call_right_after_the_webhook_commits(
    client: Client, on_call: Any, clock: Any, mailoutbox: list, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        text(client, EMERGENCY_TEXT)

    assert len(mailoutbox) == 1  # the kicked task ran (inline in tests), not waiting for beat
    assert Alert.objects.get().notify_count == 1


def test_it_keeps_the_alert_and_answers_the_patient_when_the_broker_is_down(
    client: Client, on_call: Any, clock: Any, mailoutbox: list, django_capture_on_commit_callbacks
) -> None:
    down = mock.patch(
        "clinic.tasks.notify_alerts.apply_async", side_effect=OSError("Connection refused")
    )
    with down, django_capture_on_commit_callbacks(execute=True):
        replies = text(client, EMERGENCY_TEXT)

    assert "911" in replies[0]
    assert Alert.objects.get().notify_count == 0
    assert at(clock, 0.5) == 1  # beat's pass
    assert len(mailoutbox) == 1


# ---------------------------------------------------------------- urgent and not understood


def test_it_notifies_an_urgent_outcome_once_and_never_again(
    client: Client, on_call: Any, clock: Any, mailoutbox: list, locmem_sms: list
) -> None:
    for body in URGENT_SCRIPT:
        text(client, body)

    alert = Alert.objects.get()
    assert (alert.kind, alert.tier, alert.reasons) == (Alert.Kind.URGENT, 2, ["U03"])
    assert at(clock, 0) == 1
    assert mailoutbox[0].subject.startswith("[BackCheck] URGENT outcome (U03)")
    for minutes in (15, 30, 24 * 60):
        assert at(clock, minutes) == 0
    assert len(mailoutbox) == 1 and len(locmem_sms) == 1


def test_it_raises_a_not_understood_alert_after_a_reask_and_a_give_up(
    client: Client, on_call: Any, clock: Any, mailoutbox: list
) -> None:
    text(client, UNCLEAR_TWICE[0])
    text(client, UNCLEAR_TWICE[1])
    assert not Alert.objects.exists(), "the first unclear answer is only asked again"

    text(client, UNCLEAR_TWICE[2])

    alert = Alert.objects.get()
    assert alert.kind == Alert.Kind.UNPARSED
    assert "F03" in alert.reasons
    assert at(clock, 0) == 1
    assert mailoutbox[0].subject.startswith("[BackCheck] Text not understood")
    assert "idk" not in mailoutbox[0].body and "wdym" not in mailoutbox[0].body


def test_it_creates_no_alert_for_a_simulated_person(client: Client, on_call: Any) -> None:
    Person.objects.create(address=PATIENT, phone=PATIENT, country="US", simulated=True)

    text(client, EMERGENCY_TEXT)
    for body in UNCLEAR_TWICE:
        text(client, body)

    assert not Alert.objects.exists()
    assert alerts_notify_due() == 0


# ---------------------------------------------------------------- delivery


def test_it_sends_a_failed_text_again_on_the_next_pass(
    client: Client, on_call: Any, clock: Any, locmem_sms: list, caplog: Any
) -> None:
    text(client, EMERGENCY_TEXT)
    on_call.SMS_BACKEND_CLASS = "tests.clinic.test_alerts.DownSms"
    with caplog.at_level(logging.ERROR, logger="clinic.alerts"):
        assert at(clock, 0) == 0

    assert "text to …0001 failed" in caplog.text
    assert ON_CALL_PHONE not in caplog.text
    alert = Alert.objects.get()
    assert alert.notify_count == 0 and alert.notify_after is not None

    on_call.SMS_BACKEND_CLASS = "triage.sms.locmem.LocmemBackend"
    assert at(clock, 0.5) == 0, "a short backoff, not a tight loop"
    assert at(clock, 2) == 1
    assert [sms.to for sms in locmem_sms] == [ON_CALL_PHONE]
    assert Alert.objects.get().notify_count == 1


def test_it_tells_on_call_the_masked_number_and_rules_but_not_what_was_written(
    client: Client, on_call: Any, clock: Any, mailoutbox: list, locmem_sms: list
) -> None:
    text(client, EMERGENCY_TEXT)
    at(clock, 0)
    alert = Alert.objects.get()

    email = mailoutbox[0]
    for content in (email.subject, email.body):
        assert "…9876" in content and "E02" in content
        assert "5551239876" not in content and EMERGENCY_TEXT not in content
    assert "Any new numbness" in email.body  # the rule's question
    assert (
        f"https://backcheck.example.org/admin/triage/person/{alert.person_id}/change/" in email.body
    )
    sms = locmem_sms[0].body
    assert "...9876" in sms and "E02" in sms
    assert "5551239876" not in sms and EMERGENCY_TEXT not in sms
    info = segment_info(sms)
    assert (info.encoding, info.segments) == ("GSM-7", 1)


def test_it_lists_the_alert_once_without_recipients_and_warns_once(
    client: Client, settings: Any, clock: Any, caplog: Any
) -> None:
    settings.ALERT_EMAILS, settings.ALERT_SMS_NUMBERS = [], []
    text(client, EMERGENCY_TEXT)

    with caplog.at_level(logging.WARNING, logger="clinic.alerts"):
        assert at(clock, 0) == 1
        assert at(clock, 15) == 0
        assert at(clock, 60) == 0
    assert caplog.text.count("no ALERT_EMAILS or ALERT_SMS_NUMBERS") == 1
    assert len(mail.outbox) == 0
    alert = Alert.objects.get()
    assert alert.notified_at == T0 and alert.notify_after is None
    page = staff_client(roles.CLINICIAN).get(reverse("admin:clinic_alert_changelist"))
    assert "…9876" in page.content.decode()


def test_it_never_lets_a_second_worker_take_an_alert_being_sent(
    client: Client, on_call: Any, clock: Any, mailoutbox: list
) -> None:
    from clinic.alerts import _claim

    text(client, EMERGENCY_TEXT)
    _, claimed = _claim(T0, 10)  # worker A, still sending

    assert len(claimed) == 1
    assert alerts_notify_due() == 0  # worker B
    assert len(mailoutbox) == 0
    assert at(clock, 3) == 1, "worker A died: claimed again once the lease ran out"


# ---------------------------------------------------------------- admin


def test_it_lists_alerts_with_a_masked_number_linking_to_the_person(
    client: Client, on_call: Any
) -> None:
    text(client, EMERGENCY_TEXT)
    person = Person.objects.get(address=PATIENT)

    page = staff_client(roles.CLINICIAN).get(reverse("admin:clinic_alert_changelist"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Emergency outcome" in html and "E02" in html
    assert f'href="/admin/triage/person/{person.pk}/change/">…9876</a>' in html
    assert PATIENT not in html


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("superuser", 200),
        (roles.CLINICIAN, 200),
        (roles.CONTENT_EDITOR, 403),
        (roles.SUPPORT, 403),
        (None, 403),
    ],
)
def test_it_shows_alerts_only_to_clinicians_and_superusers(
    client: Client, on_call: Any, role: str | None, status: int
) -> None:
    text(client, EMERGENCY_TEXT)
    alert = Alert.objects.get()
    staff = staff_client(role)

    assert staff.get(reverse("admin:clinic_alert_changelist")).status_code == status
    assert staff.get(reverse("admin:clinic_alert_change", args=[alert.pk])).status_code == status
    ack = staff.post(reverse("admin:clinic_alert_acknowledge", args=[alert.pk]))
    assert ack.status_code == (302 if status == 200 else 403)


def test_it_lets_no_one_add_alerts_and_only_superusers_delete_them(
    client: Client, on_call: Any
) -> None:
    text(client, EMERGENCY_TEXT)
    alert = Alert.objects.get()
    delete_url = reverse("admin:clinic_alert_delete", args=[alert.pk])
    clinician, superuser = staff_client(roles.CLINICIAN), staff_client("superuser")

    assert clinician.get(reverse("admin:clinic_alert_add")).status_code == 403
    assert superuser.get(reverse("admin:clinic_alert_add")).status_code == 403
    assert clinician.post(delete_url, {"post": "yes"}).status_code == 403
    assert Alert.objects.exists()
    assert superuser.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Alert.objects.exists()
