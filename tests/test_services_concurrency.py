"""conversation_handle_inbound under concurrent deliveries, against a real PostgreSQL.

Twilio retries a webhook it thinks timed out, and a patient may send several texts in a burst;
gunicorn then handles them in parallel. The person's row lock and the unique MessageSid must
make that safe: one answer per MessageSid, and no lost update to the conversation state.
SQLite serialises all writers and has no SELECT ... FOR UPDATE, so these tests need Postgres.
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.test import Client
from twilio.request_validator import RequestValidator

from triage.models import Conversation, Message, Person
from triage.services import InboundResult, conversation_handle_inbound

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (row locks and concurrent writers); set DATABASE_URL=postgres://…",
    ),
]

PATIENT = "+15551230001"


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def run_together(
    calls: list[Callable[[], InboundResult]],
) -> tuple[list[InboundResult], list[BaseException]]:
    """Run the calls in threads released at the same instant; each closes its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list[InboundResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(call: Callable[[], InboundResult]) -> None:
        try:
            barrier.wait(timeout=10)
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a delivery hung (deadlock?)"
    return results, errors


def deliver(sid: str, body: str, address: str = PATIENT) -> Callable[[], InboundResult]:
    return lambda: conversation_handle_inbound(sid=sid, address=address, body=body)


@pytest.mark.parametrize("known_person", [False, True], ids=["first-text", "known-person"])
def test_it_answers_a_message_delivered_eight_times_at_once_exactly_once(
    known_person: bool,
) -> None:
    if known_person:
        conversation_handle_inbound(sid=new_sid(), address=PATIENT, body="my upper back hurts")
    inbound_before = Message.objects.filter(direction="in").count()
    outbound_before = Message.objects.filter(direction="out").count()
    sid = new_sid()

    results, errors = run_together([deliver(sid, "no")] * 8)

    assert errors == []
    assert len(results) == 8
    answered = [r for r in results if not r.duplicate]
    assert len(answered) == 1
    assert answered[0].replies
    assert all(r.replies == [] for r in results if r.duplicate)
    assert Message.objects.filter(provider_sid=sid).count() == 1
    assert Message.objects.filter(direction="in").count() == inbound_before + 1
    outbound = Message.objects.filter(direction="out").count() - outbound_before
    assert outbound == len(answered[0].replies)
    assert Person.objects.filter(address=PATIENT).count() == 1
    assert Conversation.objects.get().state["texts_in"] == (2 if known_person else 1)


@pytest.mark.parametrize("known_person", [False, True], ids=["first-texts", "known-person"])
def test_it_serialises_a_burst_of_texts_from_one_person(known_person: bool, settings: Any) -> None:
    if known_person:
        conversation_handle_inbound(sid=new_sid(), address=PATIENT, body="my upper back hurts")
    before = Message.objects.filter(direction="in").count()
    bodies = ["my upper back hurts", "no", "it hurts", "3 better", "hello?"]

    results, errors = run_together([deliver(new_sid(), body) for body in bodies])

    assert errors == []
    assert len(results) == 5
    assert not any(r.duplicate for r in results)
    assert all(r.replies for r in results), "every text gets an answer"
    assert Message.objects.filter(direction="in").count() == before + 5
    assert Person.objects.filter(address=PATIENT).count() == 1
    conv = Conversation.objects.get(person__address=PATIENT, status="active")
    assert Conversation.objects.count() == 1
    assert conv.state["texts_in"] == before + 5
    assert set(Message.objects.filter(direction="in").values_list("conversation", flat=True)) == {
        conv.pk
    }
    outbound = Message.objects.filter(direction="out", conversation=conv).count()
    assert outbound == sum(len(r.replies) for r in results) + (2 if known_person else 0)


def test_it_keeps_two_people_texting_at_once_apart() -> None:
    people = [f"+1555123{n:04d}" for n in range(6)]

    results, errors = run_together([deliver(new_sid(), "cant feel my legs", p) for p in people])

    assert errors == []
    assert all(r.emergency for r in results)
    assert Person.objects.count() == 6
    assert Conversation.objects.filter(tier=3).count() == 6


def test_it_answers_once_when_twilio_delivers_the_same_webhook_eight_times_at_once(
    signed_webhook: str,
) -> None:
    sid = new_sid()
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "0123456789abcdef" * 2,
        "From": PATIENT,
        "To": "+15005550006",
        "Body": "my upper back hurts",
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(signed_webhook).compute_signature(
        "http://testserver/twilio/inbound/", params
    )
    responses: list[Any] = []

    def post() -> Any:
        response = Client().post(
            "/twilio/inbound/",
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )
        responses.append(response)
        return InboundResult()

    _, errors = run_together([post] * 8)

    assert errors == []
    assert [r.status_code for r in responses] == [200] * 8
    answered = [
        texts
        for texts in ([m.text for m in ET.fromstring(r.content).iter("Message")] for r in responses)
        if texts
    ]
    assert len(answered) == 1
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == len(answered[0])


def test_it_holds_a_burst_over_the_senders_limit_however_the_texts_race(settings: Any) -> None:
    # Each text must count the ones handled before it, though they all wait on the same lock.
    settings.INBOUND_MAX_TEXTS = 3
    conversation_handle_inbound(sid=new_sid(), address=PATIENT, body="my upper back hurts")
    bodies = ["ok", "hmm", "sorry what", "wait", "hello", "again"]

    results, errors = run_together([deliver(new_sid(), body) for body in bodies])

    assert errors == []
    answered = [r for r in results if not r.ignored]
    held = [r for r in results if r.ignored]
    assert len(answered) == 2, "the limit is 3 texts, one was sent before the burst"
    assert len(held) == 4
    assert sorted(len(r.replies) for r in held) == [0, 0, 0, 1], "one notice, then silence"
    assert Message.objects.filter(direction="in", person__address=PATIENT).count() == 7
