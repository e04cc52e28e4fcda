"""Privacy as a person and the clinic see it: staff opt a person out, erase them (their texts
and answers go, the counts stay, and their number is never texted first again), and old
transcripts are deleted after the retention period.

Texts are signed webhook POSTs, check-ins go out with `manage.py send_due_checkins` to the
locmem outbox, and time moves with time-machine.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client

from clinic.tasks import delete_old_transcripts
from reminders.models import Checkin
from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, text_signed
from triage.defaults import MESSAGES
from triage.models import Conversation, Message, Person, Suppression, TierChoices
from triage.privacy import (
    address_hash,
    is_suppressed,
    person_erase,
    person_opt_out,
    transcripts_delete_older_than,
)
from triage.services import InboundResult, conversation_handle_inbound
from triage.sms.locmem import OutboundSms

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

START = dt.datetime(2026, 4, 6, 14, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in New York
_numbers = itertools.count(200)


def a_number() -> str:
    return f"+1202555{next(_numbers):04d}"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def text(client: Client, from_: str, body: str) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def go_to(clock: time_machine.Coordinates, days: float) -> None:
    clock.move_to(START + dt.timedelta(days=days))


def send_due(outbox: list[OutboundSms]) -> list[OutboundSms]:
    before = len(outbox)
    call_command("send_due_checkins", stdout=StringIO())
    return outbox[before:]


def en(key: str) -> str:
    return MESSAGES[key]["en"]


def triaged(client: Client, number: str) -> Person:
    """A person with a routine outcome: check-ins due 14 and 42 days later."""
    for body in ROUTINE_EN:
        text(client, number, body)
    person = Person.objects.get(address=number)
    assert Checkin.objects.filter(person=person, status=Checkin.Status.PENDING).count() == 2
    return person


# ---------------------------------------------------------------- erase


def test_it_erases_texts_and_answers_but_keeps_the_counts(clock, client, locmem_sms):
    number, other = a_number(), a_number()
    person = triaged(client, number)
    triaged(client, other)
    go_to(clock, 14)
    assert {sms.to for sms in send_due(locmem_sms)} == {number, other}
    text(client, number, "3 better")
    conv = person.conversations.get()
    answered = Checkin.objects.get(person=person, status=Checkin.Status.SENT)
    assert (answered.pain_score, answered.trend) == (3, "better")
    # A text kept without a person (e.g. logged before the person existed) goes too.
    Message.objects.create(direction="out", address=number, body="hello", status="sent")
    others_messages = Message.objects.filter(address=other).count()

    person_erase(person)

    person.refresh_from_db()
    assert person.address == f"erased:{person.pk}"
    assert (person.phone, person.timezone) == ("", "")
    assert person.erased_at is not None and person.opted_out
    assert not Message.objects.filter(person=person).exists()
    assert not Message.objects.filter(address=number).exists()
    assert Message.objects.filter(address=other).count() == others_messages
    after = Conversation.objects.get(pk=conv.pk)
    assert after.state == {}
    assert (after.tier, after.reasons) == (TierChoices.ROUTINE, conv.reasons)
    assert (after.started_at, after.outcome_at) == (conv.started_at, conv.outcome_at)
    assert after.texts_to_outcome == conv.texts_to_outcome == len(ROUTINE_EN)
    assert after.language == "en"
    sent = Checkin.objects.get(pk=answered.pk)
    assert (sent.status, sent.sent_at, sent.replied_at) == (
        Checkin.Status.SENT,
        answered.sent_at,
        answered.replied_at,
    )
    assert (sent.pain_score, sent.trend, sent.message) == (None, "", None)
    later = Checkin.objects.get(person=person, due_at__gt=sent.due_at)
    assert later.status == Checkin.Status.CANCELLED
    assert Suppression.objects.filter(address_hash=address_hash(number)).count() == 1
    assert is_suppressed(number) and not is_suppressed(other)

    # The dispatcher never texts them again; the other patient still gets theirs.
    go_to(clock, 42)
    assert [sms.to for sms in send_due(locmem_sms)] == [other]


def test_it_can_erase_the_same_person_twice(client):
    number = a_number()
    person = triaged(client, number)
    person_erase(person)
    first = Person.objects.get(pk=person.pk)

    person_erase(person)

    again = Person.objects.get(pk=person.pk)
    assert (again.address, again.erased_at, again.opted_out_at) == (
        first.address,
        first.erased_at,
        first.opted_out_at,
    )
    assert Suppression.objects.count() == 1
    assert is_suppressed(number)


def test_it_never_texts_an_erased_number_first_when_it_texts_again(clock, client, locmem_sms):
    number = a_number()
    person_erase(triaged(client, number))

    replies = [text(client, number, body) for body in ROUTINE_EN]

    assert replies == [[]] * len(ROUTINE_EN)
    newcomer = Person.objects.get(address=number)
    assert newcomer.opted_out and newcomer.erased_at is None
    assert not Checkin.objects.filter(person=newcomer).exists()
    go_to(clock, 14)
    assert send_due(locmem_sms) == []
    go_to(clock, 42)
    assert send_due(locmem_sms) == []


def test_it_still_answers_an_emergency_from_an_erased_number(client):
    number = a_number()
    person_erase(triaged(client, number))

    replies = text(client, number, "i cant feel my legs")

    assert replies == [en("outcome.emergency")]
    assert "911" in replies[0]


def test_it_texts_an_erased_number_again_once_they_text_start(clock, client, locmem_sms):
    number = a_number()
    person_erase(triaged(client, number))
    text(client, number, "hello")

    assert text(client, number, "START") == [en("sys.optin")]

    assert not is_suppressed(number)
    person = Person.objects.get(address=number)
    assert not person.opted_out
    triaged(client, number)
    go_to(clock, 14)
    assert [sms.to for sms in send_due(locmem_sms)] == [number]


def test_it_suppresses_the_same_number_however_it_is_written(client):
    number = "+12025550199"
    person_erase(triaged(client, number))

    assert is_suppressed("whatsapp:+12025550199")
    assert is_suppressed(" +1 (202) 555-0199 ")
    assert not is_suppressed("+12025550198")
    assert number not in address_hash(number) and len(address_hash(number)) == 64


def test_it_erases_a_whatsapp_person_and_suppresses_their_sms_number_too(client):
    number = "+12025550177"
    text(client, f"whatsapp:{number}", "my upper back hurts")
    person = Person.objects.get(address=f"whatsapp:{number}")

    person_erase(person)

    assert not Message.objects.filter(address__endswith=number).exists()
    text(client, number, "my upper back hurts")
    assert Person.objects.get(address=number).opted_out


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: row locks between two requests"
)
def test_it_files_a_text_that_waited_for_an_erase_under_a_new_opted_out_person() -> None:
    number = a_number()
    conversation_handle_inbound(sid="SM" + uuid.uuid4().hex, address=number, body="back hurts")
    person = Person.objects.get(address=number)
    erased, release = threading.Event(), threading.Event()
    results: list[InboundResult] = []

    def erase() -> None:
        try:
            with transaction.atomic():
                person_erase(person)
                erased.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def text_in() -> None:
        try:
            results.append(
                conversation_handle_inbound(
                    sid="SM" + uuid.uuid4().hex, address=number, body="i cant feel my legs"
                )
            )
        finally:
            connections.close_all()

    eraser = threading.Thread(target=erase)
    eraser.start()
    assert erased.wait(timeout=30)
    texter = threading.Thread(target=text_in)
    texter.start()
    deadline = time.monotonic() + 30
    while _lock_waiters() == 0 and time.monotonic() < deadline:  # the text waits for the erase
        time.sleep(0.05)
    release.set()
    eraser.join(timeout=30)
    texter.join(timeout=30)

    assert [r.replies for r in results] == [[en("outcome.emergency")]]
    assert not Message.objects.filter(person=person).exists()
    newcomer = Person.objects.get(address=number)
    assert newcomer.pk != person.pk and newcomer.opted_out
    assert Message.objects.filter(person=newcomer, body="i cant feel my legs").exists()


# ---------------------------------------------------------------- staff opt-out


def test_it_opts_a_person_out_as_if_they_had_texted_stop(clock, client, locmem_sms):
    number = a_number()
    person = triaged(client, number)

    person_opt_out(person)
    first = Person.objects.get(pk=person.pk).opted_out_at
    go_to(clock, 1)
    person_opt_out(person, reason="asked by phone")

    person.refresh_from_db()
    assert person.opted_out_at == first is not None
    assert person.conversations.get().status == Conversation.Status.STOPPED
    statuses = set(Checkin.objects.filter(person=person).values_list("status", flat=True))
    assert statuses == {Checkin.Status.CANCELLED}
    assert text(client, number, "my back still hurts") == []
    assert text(client, number, "i cant feel my legs") == [en("outcome.emergency")]
    go_to(clock, 14)
    assert send_due(locmem_sms) == []


# ---------------------------------------------------------------- retention


def test_it_deletes_only_texts_older_than_the_retention_period(clock, client, locmem_sms):
    old, midway, waiting, recent = a_number(), a_number(), a_number(), a_number()
    triaged(client, old)
    text(client, midway, "my upper back hurts")  # stops answering after the first question
    go_to(clock, 14)
    send_due(locmem_sms)
    text(client, old, "3 better")
    assert text(client, old, "no") != []  # no new warning signs: the check-in is done
    go_to(clock, 30)
    triaged(client, waiting)  # its check-ins (day 44 and 72) are never sent below
    go_to(clock, 42)
    assert [sms.to for sms in send_due(locmem_sms)] == [old]
    go_to(clock, 140)
    text(client, recent, "my upper back hurts")
    go_to(clock, 150)
    cutoff = START + dt.timedelta(days=60)
    expected = Message.objects.filter(created_at__lt=cutoff).count()
    kept = set(Message.objects.filter(created_at__gte=cutoff).values_list("id", flat=True))
    states = {n: Conversation.objects.get(person__address=n).state for n in (midway, waiting)}

    assert transcripts_delete_older_than(90, batch=4) == expected > 4

    assert set(Message.objects.values_list("id", flat=True)) == kept
    assert Message.objects.filter(address=recent).count() >= 2
    checkins = Checkin.objects.filter(person__address=old)
    assert [(c.status, c.message, c.pain_score) for c in checkins] == [
        (Checkin.Status.SENT, None, 3),
        (Checkin.Status.SENT, None, None),
    ]
    conv = Conversation.objects.get(person__address=old)
    assert conv.tier == TierChoices.ROUTINE and conv.reasons
    assert conv.state["phase"] == "done"
    assert not {"symptoms", "answered", "age", "weeks", "pain_score", "scores"} & set(conv.state)
    # Mid-question, or with a check-in still to send: the state is what their next text needs.
    for number, state in states.items():
        assert Conversation.objects.get(person__address=number).state == state
    # The person whose answers went is answered as before: a late reply answers the check-in.
    assert text(client, old, "better") == [en("checkin.signs")]


def test_it_clears_the_answers_of_ended_conversations(clock, client):
    number = a_number()
    text(client, number, "my upper back hurts")
    text(client, number, "STOP")
    go_to(clock, 100)

    transcripts_delete_older_than(30)

    assert Conversation.objects.get(person__address=number).state == {}
    assert not Message.objects.filter(address=number).exists()


def test_it_runs_retention_from_the_daily_task_only_when_set(clock, client, settings):
    number = a_number()
    text(client, number, "my upper back hurts")
    go_to(clock, 10)
    texts = Message.objects.filter(address=number).count()
    settings.TRANSCRIPT_RETENTION_DAYS = 0

    assert delete_old_transcripts.delay().get() == 0
    assert Message.objects.filter(address=number).count() == texts >= 2

    settings.TRANSCRIPT_RETENTION_DAYS = 7
    assert delete_old_transcripts.delay().get() == texts
    assert not Message.objects.filter(address=number).exists()
