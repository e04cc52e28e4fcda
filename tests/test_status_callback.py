"""Twilio's delivery status callbacks on /twilio/status/, signed and shaped as Twilio sends them.

Every test starts from a real check-in: a patient is triaged through the signed inbound webhook,
two weeks pass and `send_due_checkins` sends the check-in through the fake Twilio API, so the
outbound Message carries the MessageSid Twilio gave it. The callbacks then report on that SID.
"""

from __future__ import annotations

import datetime as dt
import uuid
from io import StringIO
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from twilio.request_validator import RequestValidator

from reminders.models import Checkin
from tests.conftest import FAKE_ACCOUNT_SID, FAKE_FROM_NUMBER
from tests.fake_twilio import FakeTwilio
from tests.scripts import ROUTINE_EN as ROUTINE
from tests.scripts import text_signed
from triage.models import Conversation, Message, Person

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "status-callback-test-auth-token"
STATUS_PATH = "/twilio/status/"
STATUS_URL = "http://testserver" + STATUS_PATH
PATIENT = "+12025550147"  # Washington DC: New York time for quiet hours
# A Monday, 10:00 in New York: the check-in two weeks later falls inside the sending window.
OUTCOME_AT = dt.datetime(2026, 5, 4, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _signed_webhooks(settings: Any) -> None:
    settings.TWILIO_VALIDATE_SIGNATURE = True
    settings.TWILIO_WEBHOOK_BASE_URL = None


@pytest.fixture
def twilio(fake_twilio: FakeTwilio, settings: Any) -> FakeTwilio:
    # fake_twilio sets the account's token; webhooks are signed with it, as Twilio does.
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    fake_twilio.auth_token = AUTH_TOKEN
    return fake_twilio


@pytest.fixture
def checkin_sent(client: Client, twilio: FakeTwilio) -> Message:
    """A routine patient's two-week check-in, sent through (fake) Twilio: its outbound Message."""
    with time_machine.travel(OUTCOME_AT, tick=False) as clock:
        for body in ROUTINE:
            inbound_text(client, body)
        assert Conversation.objects.get(person__address=PATIENT).tier == 0
        clock.move_to(OUTCOME_AT + dt.timedelta(days=14, minutes=1))
        call_command("send_due_checkins", stdout=StringIO())
    assert len(twilio.sent) == 1
    message = Message.objects.get(provider_sid=twilio.sent[0]["sid"])
    assert message.direction == Message.Direction.OUTBOUND
    assert message.status == Message.Status.QUEUED
    return message


def inbound_text(client: Client, body: str) -> list[str]:
    return text_signed(client, PATIENT, body, token=AUTH_TOKEN)


def callback_params(sid: str, status: str, error_code: int | str | None = None) -> dict:
    """The form Twilio posts to a message's StatusCallback URL."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": FAKE_ACCOUNT_SID,
        "From": FAKE_FROM_NUMBER,
        "To": PATIENT,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params


def post_status(client: Client, params: dict, *, signature: str | None = ""):
    """POST like Twilio. signature "" = sign for the status URL; None = no header at all."""
    headers = {}
    if signature == "":
        signature = RequestValidator(AUTH_TOKEN).compute_signature(STATUS_URL, params)
    if signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return client.post(
        STATUS_PATH, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def report(client: Client, sid: str, status: str, error_code: int | None = None) -> None:
    response = post_status(client, callback_params(sid, status, error_code))
    assert response.status_code == 204, response.content


def pending_checkins() -> int:
    return Checkin.objects.filter(person__address=PATIENT, status=Checkin.Status.PENDING).count()


def snapshot(message: Message) -> tuple:
    message.refresh_from_db()
    person = Person.objects.get(address=PATIENT)
    return (
        message.status,
        message.error_code,
        person.opted_out_at,
        person.number_invalid_at,
        pending_checkins(),
    )


# ---------------------------------------------------------------- delivery progress


def test_it_records_each_step_of_delivery_on_the_check_in_message(
    client: Client, checkin_sent: Message
) -> None:
    sid = checkin_sent.provider_sid
    seen = []
    for status in ("queued", "sent", "delivered"):
        report(client, sid, status)
        checkin_sent.refresh_from_db()
        seen.append(checkin_sent.status)

    assert seen == [Message.Status.QUEUED, Message.Status.SENT, Message.Status.DELIVERED]
    assert checkin_sent.error_code is None


def test_a_late_sent_callback_does_not_undo_delivered(
    client: Client, checkin_sent: Message
) -> None:
    sid = checkin_sent.provider_sid
    report(client, sid, "delivered")

    report(client, sid, "sent")
    report(client, sid, "queued")

    checkin_sent.refresh_from_db()
    assert checkin_sent.status == Message.Status.DELIVERED


def test_it_reads_the_sms_fields_when_message_fields_are_missing(
    client: Client, checkin_sent: Message
) -> None:
    params = callback_params(checkin_sent.provider_sid, "delivered")
    del params["MessageSid"], params["MessageStatus"]

    response = post_status(client, params)

    assert response.status_code == 204
    checkin_sent.refresh_from_db()
    assert checkin_sent.status == Message.Status.DELIVERED


# ---------------------------------------------------------------- failures


def test_an_unreachable_handset_is_recorded_and_the_person_keeps_their_check_ins(
    client: Client, checkin_sent: Message
) -> None:
    report(client, checkin_sent.provider_sid, "undelivered", 30003)

    checkin_sent.refresh_from_db()
    assert checkin_sent.status == Message.Status.UNDELIVERED
    assert checkin_sent.error_code == 30003
    person = Person.objects.get(address=PATIENT)
    assert person.opted_out_at is None
    assert person.number_invalid_at is None
    # The two-week check-in goes back in the queue (after a backoff) and the six-week one stays.
    assert pending_checkins() == 2


def test_a_check_in_that_was_not_delivered_is_sent_again_later(
    client: Client, checkin_sent: Message, twilio: FakeTwilio
) -> None:
    with time_machine.travel(OUTCOME_AT + dt.timedelta(days=14, minutes=2), tick=False):
        report(client, checkin_sent.provider_sid, "undelivered", 30003)
    two_weeks = Checkin.objects.get(person__address=PATIENT, message_key="checkin.routine_2w")
    assert two_weeks.status == Checkin.Status.PENDING and two_weeks.error_code == 30003

    with time_machine.travel(OUTCOME_AT + dt.timedelta(days=14, hours=1), tick=False):
        call_command("send_due_checkins", stdout=StringIO())

    assert len(twilio.sent) == 2
    assert twilio.sent[1]["body"] == twilio.sent[0]["body"]
    two_weeks.refresh_from_db()
    assert two_weeks.status == Checkin.Status.SENT
    assert two_weeks.provider_sid == twilio.sent[1]["sid"] != checkin_sent.provider_sid


def test_a_reply_after_an_undelivered_check_in_is_not_read_as_its_answer(
    client: Client, checkin_sent: Message
) -> None:
    report(client, checkin_sent.provider_sid, "undelivered", 30003)

    with time_machine.travel(OUTCOME_AT + dt.timedelta(days=14, minutes=5), tick=False):
        replies = inbound_text(client, "hello?")

    assert replies[0].startswith("Thanks for your message. Please follow the advice we sent.")


def test_a_carrier_opt_out_stops_every_check_in(
    client: Client, checkin_sent: Message, twilio: FakeTwilio
) -> None:
    report(client, checkin_sent.provider_sid, "failed", 21610)

    checkin_sent.refresh_from_db()
    assert checkin_sent.status == Message.Status.FAILED
    assert checkin_sent.error_code == 21610
    assert Person.objects.get(address=PATIENT).opted_out
    assert pending_checkins() == 0
    six_weeks = Checkin.objects.get(person__address=PATIENT, message_key="checkin.six_weeks")
    assert six_weeks.status == Checkin.Status.CANCELLED
    two_weeks = Checkin.objects.get(person__address=PATIENT, message_key="checkin.routine_2w")
    assert two_weeks.status == Checkin.Status.FAILED and two_weeks.error_code == 21610
    with time_machine.travel(OUTCOME_AT + dt.timedelta(days=43), tick=False):
        call_command("send_due_checkins", stdout=StringIO())
    assert len(twilio.sent) == 1  # only the two-week check-in, ever


@pytest.mark.parametrize("code", [30005, 30006, 21211, 21614])
def test_a_number_that_cannot_take_texts_is_marked_and_its_check_ins_stop(
    client: Client, checkin_sent: Message, code: int
) -> None:
    report(client, checkin_sent.provider_sid, "undelivered" if code >= 30000 else "failed", code)

    checkin_sent.refresh_from_db()
    assert checkin_sent.error_code == code
    person = Person.objects.get(address=PATIENT)
    assert person.number_invalid_at is not None
    assert not person.opted_out  # a bad number is not a STOP: START-style replies still work
    assert pending_checkins() == 0


def test_a_repeated_failure_callback_keeps_the_first_time_the_number_failed(
    client: Client, checkin_sent: Message
) -> None:
    report(client, checkin_sent.provider_sid, "undelivered", 30006)
    first = Person.objects.get(address=PATIENT).number_invalid_at

    report(client, checkin_sent.provider_sid, "failed", 30006)

    assert Person.objects.get(address=PATIENT).number_invalid_at == first


# ---------------------------------------------------------------- not ours, or not Twilio


def test_an_unknown_message_sid_is_acknowledged_and_changes_nothing(
    client: Client, checkin_sent: Message
) -> None:
    before = snapshot(checkin_sent)

    response = post_status(client, callback_params("SM" + uuid.uuid4().hex, "failed", 21610))

    assert response.status_code == 204
    assert snapshot(checkin_sent) == before


def test_a_callback_naming_an_inbound_message_changes_nothing(
    client: Client, checkin_sent: Message
) -> None:
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND).first()
    before = snapshot(checkin_sent)

    response = post_status(client, callback_params(inbound.provider_sid, "failed", 21610))

    assert response.status_code == 204
    inbound.refresh_from_db()
    assert inbound.status == Message.Status.RECEIVED
    assert snapshot(checkin_sent) == before


@pytest.mark.parametrize(
    "signature",
    [None, "", "bad"],
    ids=["missing", "for-another-token", "garbage"],
)
def test_an_unsigned_or_badly_signed_callback_is_refused(
    client: Client, checkin_sent: Message, signature: str | None
) -> None:
    params = callback_params(checkin_sent.provider_sid, "failed", 21610)
    if signature == "":
        signature = RequestValidator("another-token").compute_signature(STATUS_URL, params)
    before = snapshot(checkin_sent)

    response = post_status(client, params, signature=signature)

    assert response.status_code == 403
    assert snapshot(checkin_sent) == before


def test_a_signature_for_other_fields_is_refused(client: Client, checkin_sent: Message) -> None:
    signed = callback_params(checkin_sent.provider_sid, "delivered")
    tampered = callback_params(checkin_sent.provider_sid, "failed", 21610)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(STATUS_URL, signed)
    before = snapshot(checkin_sent)

    response = post_status(client, tampered, signature=signature)

    assert response.status_code == 403
    assert snapshot(checkin_sent) == before


def test_get_is_not_allowed(client: Client) -> None:
    assert client.get(STATUS_PATH).status_code == 405


@pytest.mark.parametrize(
    "change",
    [
        {"MessageSid": "", "SmsSid": ""},
        {"MessageSid": "SM123", "SmsSid": "SM123"},
        {"MessageSid": "not-a-sid", "SmsSid": "not-a-sid"},
        {"MessageSid": "SM" + "g" * 32, "SmsSid": "SM" + "g" * 32},
        {"MessageStatus": "", "SmsStatus": ""},
        {"MessageStatus": "exploded", "SmsStatus": "exploded"},
        {"ErrorCode": "abc"},
        {"ErrorCode": "-30003"},
        {"ErrorCode": "3.0"},
        {"ErrorCode": "²"},
        {"ErrorCode": "٣٠٠٠٣x"},
    ],
    ids=[
        "sid-missing",
        "sid-short",
        "sid-garbage",
        "sid-not-hex",
        "status-missing",
        "status-unknown",
        "code-letters",
        "code-negative",
        "code-decimal",
        "code-superscript",
        "code-arabic-digits-and-letter",
    ],
)
def test_a_malformed_callback_is_a_bad_request_and_changes_nothing(
    client: Client, checkin_sent: Message, change: dict
) -> None:
    params = callback_params(checkin_sent.provider_sid, "undelivered", 30006) | change
    before = snapshot(checkin_sent)

    response = post_status(client, params)

    assert response.status_code == 400
    assert snapshot(checkin_sent) == before


@pytest.mark.parametrize(("status", "expected"), [("partially_delivered", "delivered")])
def test_other_twilio_statuses_are_accepted(
    client: Client, checkin_sent: Message, status: str, expected: str
) -> None:
    report(client, checkin_sent.provider_sid, status)
    checkin_sent.refresh_from_db()
    assert checkin_sent.status == expected


def test_an_inbound_status_value_is_acknowledged_without_a_change(
    client: Client, checkin_sent: Message
) -> None:
    before = snapshot(checkin_sent)

    report(client, checkin_sent.provider_sid, "received")

    assert snapshot(checkin_sent) == before
