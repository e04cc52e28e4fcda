"""Helpers for the check-in tests that play a patient through the signed webhook: triage by
text, time moved with time-machine, check-ins sent by `manage.py send_due_checkins`."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from io import StringIO

import time_machine
from django.core.management import call_command
from django.test import Client

from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import text_signed
from triage.models import Conversation
from triage.selectors import content_load
from triage.sms.locmem import OutboundSms

# A Monday, 10:00 in New York and 15:00 in London: every check-in day of the plan (2, 7, 14 and
# 42 days later) falls inside the 09:00-20:00 sending window of both. The `clock` fixture
# (tests/reminders/conftest.py) starts here.
OUTCOME_AT = dt.datetime(2026, 5, 4, 14, 0, tzinfo=dt.UTC)

_numbers = itertools.count(100)


def a_number() -> str:
    """A Washington DC number (New York time for quiet hours), new for each patient."""
    return f"+1202555{next(_numbers):04d}"


def text(client: Client, from_: str, body: str, **extra: str) -> list[str]:
    """Send one signed inbound SMS; return the replies the patient gets."""
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN, **extra)


def conversation(from_: str) -> Conversation:
    return Conversation.objects.filter(person__address=from_).latest("id")


def triage(client: Client, from_: str, bodies: list[str], tier: int) -> Conversation:
    for body in bodies:
        text(client, from_, body)
    conv = conversation(from_)
    assert conv.tier == tier, (conv.tier, conv.reasons)
    return conv


def at(days: float) -> dt.datetime:
    """`days` after the outcome."""
    return OUTCOME_AT + dt.timedelta(days=days)


def go_to(clock: time_machine.Coordinates, days: float) -> None:
    clock.move_to(at(days))


def send_due(outbox: list[OutboundSms]) -> list[OutboundSms]:
    """One `manage.py send_due_checkins` pass; the texts it sent."""
    before = len(outbox)
    call_command("send_due_checkins", stdout=StringIO())
    return outbox[before:]


def checkin_arrives(
    clock: time_machine.Coordinates, outbox: list[OutboundSms], days: float, to: str
) -> OutboundSms:
    """Move to `days` after the outcome and send what is due: exactly one check-in, to `to`."""
    go_to(clock, days)
    sent = send_due(outbox)
    assert [s.to for s in sent] == [to]
    return sent[0]


def msg(key: str, lang: str = "en", *, uk: bool = False) -> str:
    """The text the service sends for `key`, as a patient gets it."""
    return replace(content_load(), uk=uk).text(key, lang)
