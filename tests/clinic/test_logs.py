"""What lands in the logs: never a full phone number and never what anyone texted.

The logs are read from the console handler that settings.LOGGING configured for this very
process (its stream swapped for a StringIO), with every logger turned up to DEBUG, while whole
conversations go through the signed webhook and check-ins through the real Twilio client
talking to the fake Twilio server.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client

from backpain_service.logfilter import MaskPhoneNumbers, mask_numbers
from reminders.models import Checkin
from tests.conftest import FAKE_AUTH_TOKEN
from tests.fake_twilio import FakeTwilio
from tests.scripts import ROUTINE_EN, text_signed
from triage.models import Message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

START = dt.datetime(2026, 4, 6, 14, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in New York
PATIENT = "+12025550147"
EMERGENCY = "+12025550148"
STOPPER = "+447400123987"
LOGGERS = ("", "django", "django.request", "twilio", "celery", "urllib3", "triage", "reminders")


@pytest.fixture
def console() -> Iterator[StringIO]:
    """What the configured console handler writes, with everything logged at DEBUG."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert isinstance(handler, logging.StreamHandler)
    stream = StringIO()
    previous_stream = handler.setStream(stream)
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        handler.setStream(previous_stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def text(client: Client, from_: str, body: str) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def forms_of(number: str) -> list[str]:
    """A number as it could be written out: E.164, and its national digits."""
    return [number, number.lstrip("+"), number[2:] if number.startswith("+1") else number[3:]]


def test_it_logs_no_number_and_no_text_of_a_whole_conversation(
    client: Client, console: StringIO, fake_twilio: FakeTwilio
) -> None:
    connection.force_debug_cursor = True  # SQL logging as with DEBUG=True: it carries bodies
    try:
        with time_machine.travel(START, tick=False) as clock:
            for body in ROUTINE_EN:
                text(client, PATIENT, body)
            assert text(client, EMERGENCY, "i cant feel my legs")
            text(client, STOPPER, "my upper back hurts")
            text(client, STOPPER, "STOP")
            text(client, "12345", "Your code is 998877")  # a short code: logged, not answered

            clock.move_to(START + dt.timedelta(days=14))
            fake_twilio.fail_next(
                status=500, code=20500, message=f"Could not reach {PATIENT} just now"
            )
            call_command("send_due_checkins", stdout=StringIO())
            clock.move_to(START + dt.timedelta(days=14, hours=2))
            fake_twilio.fail_next(
                status=400,
                code=21211,
                message=f"The 'To' number {PATIENT} is not a valid phone number.",
            )
            call_command("send_due_checkins", stdout=StringIO())
    finally:
        connection.force_debug_cursor = False

    # The conversation happened as described, and was logged.
    checkin = Checkin.objects.filter(person__address=PATIENT).earliest("due_at")
    assert (checkin.status, checkin.error_code) == (Checkin.Status.FAILED, 21211)
    assert len(fake_twilio.requests) == 2
    logged = console.getvalue()
    assert "EMERGENCY outcome for …0148" in logged
    assert "will retry" in logged and "Could not reach …0147 just now" in logged
    assert "to …0147 refused" in logged and "The 'To' number …0147 is not" in logged

    for number in (PATIENT, EMERGENCY, STOPPER):
        for form in forms_of(number):
            assert form not in logged, form
    bodies = {m.body for m in Message.objects.all()} | set(ROUTINE_EN)
    assert len(bodies) > 10
    for body in bodies:
        if len(body) >= 12:  # shorter ones ("no", "none") are words any line may hold
            assert body not in logged, body


def test_it_masks_a_number_another_library_logs(console: StringIO) -> None:
    logging.getLogger("somelibrary.client").warning(
        "delivery to %s failed; see %s", "+1 (202) 555-0163", {"to": "whatsapp:+447400123456"}
    )

    line = console.getvalue()
    assert "delivery to …0163 failed; see {'to': 'whatsapp:…3456'}" in line
    assert "555-0163" not in line and "7400123456" not in line


def test_it_masks_numbers_in_a_logged_traceback(console: StringIO) -> None:
    try:
        raise ValueError("Key (address)=(+12025550171) already exists.")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /twilio/inbound/")

    logged = console.getvalue()
    assert "Key (address)=(…0171) already exists." in logged
    assert "2025550171" not in logged


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+12025550123", "…0123"),
        ("call 202-555-0123 or +44 7400 123456", "call …0123 or …3456"),
        ("sent at 2026-04-06 14:00:00.123+00:00", "sent at 2026-04-06 14:00:00.123+00:00"),
        ("from 192.168.10.200 port 8000", "from 192.168.10.200 port 8000"),
        ("claimed=100 sent=98 in 1024 ms", "claimed=100 sent=98 in 1024 ms"),
        ("check-in 123456 failed", "check-in 123456 failed"),
    ],
)
def test_it_masks_phone_numbers_but_not_times_addresses_or_counts(raw: str, masked: str) -> None:
    assert mask_numbers(raw) == masked


def test_it_masks_what_a_celery_worker_logs(settings: Any) -> None:
    from celery import signals

    logger = logging.getLogger("test-celery-worker")
    handler = logging.StreamHandler(StringIO())
    logger.addHandler(handler)
    try:
        signals.after_setup_logger.send(sender=None, logger=logger)
        signals.after_setup_logger.send(sender=None, logger=logger)
        assert sum(isinstance(f, MaskPhoneNumbers) for f in handler.filters) == 1
        logger.error("task failed for +12025550199")
        assert handler.stream.getvalue() == "task failed for …0199\n"
    finally:
        logger.removeHandler(handler)
