"""Check-ins a worker lost part way (killed, or its chunk failed) and the send journal.

A worker notes each send in the send journal (reminders/journal.py): attempted, then the sid
Twilio gave it, before the next leaves. When its claims come back, a check-in found there with
a sid is recorded as sent with it instead of being texted again; one only attempted (in flight
when the worker died) is looked up at Twilio and texted again only if Twilio has no such text;
one not found at all is texted again (never lost).
Redis being away never stops a text. A check-in whose send kills its worker every time is
failed for staff to see after CHECKIN_MAX_CRASHES deaths, and the rest of its batch still goes.

"Killed" here is a BaseException raised from inside the send (nothing of the dispatcher's
cleanup runs, its open transaction rolls back): tests/faults/ does the same with SIGKILL and a
real Redis. Redis is a small in-memory stand-in, but for the last test (a real server).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reminders import dispatch, journal
from reminders.dispatch import Summary, dispatch_due
from reminders.journal import SendJournal
from reminders.models import Checkin
from tests.faults.rows import due_checkins
from triage.models import Message, Person
from triage.sms import locmem

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """The worker dies: escapes every `except Exception` in the dispatcher."""


class MemoryRedis:
    """The three commands the journal uses; `down` makes each raise like a refused connection."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.down = False
        self.calls = 0

    def _call(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. refused.")

    def set(self, key: str, value: str, ex: int) -> None:
        self._call()
        self.data[key] = value

    def pipeline(self, transaction: bool = True) -> MemoryPipeline:
        return MemoryPipeline(self)

    def mget(self, keys: list[str]) -> list[str | None]:
        self._call()
        return [self.data.get(key) for key in keys]

    def unlink(self, *keys: str) -> None:
        self._call()
        for key in keys:
            self.data.pop(key, None)


class MemoryPipeline:
    """Buffered SETs, sent in one call (one round trip) by execute()."""

    def __init__(self, server: MemoryRedis) -> None:
        self.server = server
        self.writes: list[tuple[str, str]] = []

    def set(self, key: str, value: str, ex: int) -> None:
        self.writes.append((key, value))

    def execute(self) -> None:
        self.server._call()
        self.server.data.update(self.writes)


@pytest.fixture
def memory_redis(monkeypatch: pytest.MonkeyPatch, settings: Any) -> MemoryRedis:
    settings.CHECKIN_MAX_PER_SECOND = 0  # no pacing: the tests are about what is sent
    server = MemoryRedis()
    send_journal = SendJournal(server)
    monkeypatch.setattr(journal, "get_journal", lambda: send_journal)
    return server


@pytest.fixture
def outbox(locmem_sms: list[locmem.OutboundSms]) -> list[locmem.OutboundSms]:
    return locmem_sms


@pytest.fixture
def worker_dies(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """worker_dies(when=...) makes the worker die at the start of a send `when(to)` is true
    for (nothing sent); with taken=True, once Twilio has taken the text but before its answer
    is read (the text in flight). The count of deaths is in the returned function's `deaths`."""
    real_send = dispatch.send_sms
    state: dict[str, Any] = {"when": lambda to: False, "taken": False}

    def send_sms(to: str, body: str) -> str:
        if state["when"](to):
            die.deaths += 1  # type: ignore[attr-defined]
            if state["taken"]:
                real_send(to, body)
            raise Killed
        return real_send(to, body)

    def die(*, when: Callable[[str], bool], taken: bool = False) -> None:
        state["when"], state["taken"] = when, taken

    die.deaths = 0  # type: ignore[attr-defined]
    monkeypatch.setattr(dispatch, "send_sms", send_sms)
    yield die


def on_the_nth_send(n: int) -> Callable[[str], bool]:
    sends = iter(range(1, 10**6))
    return lambda to: next(sends) == n


def a_pass_dies_at_send(worker_dies: Callable[..., None], n: int, *, taken: bool = False) -> None:
    """One dispatcher pass whose worker dies at its n-th send (with taken: once Twilio has the
    text, before its answer is read)."""
    worker_dies(when=on_the_nth_send(n), taken=taken)
    with pytest.raises(Killed):
        dispatch_due()


def leases_run_out() -> None:
    """The dead worker's leases (or a retry delay) end: what the claim reads is send_after."""
    Checkin.objects.filter(status__in=["pending", "sending"]).update(
        send_after=timezone.now() - dt.timedelta(seconds=1)
    )


def texts_per_number(outbox: list[locmem.OutboundSms]) -> Counter[str]:
    return Counter(sms.to for sms in outbox)


def recorded(phone: str) -> tuple[str, str, int]:
    """(status, provider sid, outbound messages) of this number's check-in."""
    row = Checkin.objects.get(person__phone=phone)
    messages = Message.objects.filter(person=row.person, direction=Message.Direction.OUTBOUND)
    return row.status, row.provider_sid, messages.count()


# ---------------------------------------------------------------- a killed worker


def test_texts_a_killed_worker_sent_are_recorded_from_the_journal_not_sent_again(
    memory_redis, outbox, worker_dies, django_capture_on_commit_callbacks
) -> None:
    rows = due_checkins(4)
    phones = [row.person.phone for row in rows]
    a_pass_dies_at_send(worker_dies, 3)
    assert [sms.to for sms in outbox] == phones[:2]  # nothing of it committed
    assert set(Checkin.objects.values_list("status", flat=True)) == {"sending"}

    leases_run_out()
    with django_capture_on_commit_callbacks(execute=True):
        summary = dispatch_due()

    assert (summary.recovered, summary.sent) == (2, 2)
    assert texts_per_number(outbox) == {phone: 1 for phone in phones}
    sids = {sms.to: sms.sid for sms in outbox}
    assert {phone: recorded(phone) for phone in phones} == {
        phone: ("sent", sids[phone], 1) for phone in phones
    }
    assert dispatch_due().claimed == 0
    assert memory_redis.data == {}, "entries are dropped once their rows are recorded"


def test_a_lost_checkin_missing_from_the_journal_is_texted_again(
    memory_redis, outbox, worker_dies
) -> None:
    rows = due_checkins(3)
    phones = [row.person.phone for row in rows]
    a_pass_dies_at_send(worker_dies, 3)
    memory_redis.data.clear()  # e.g. Redis restarted empty meanwhile

    leases_run_out()
    summary = dispatch_due()

    # At least once: the two sent before the kill go twice rather than not at all.
    assert (summary.recovered, summary.sent) == (0, 3)
    assert texts_per_number(outbox) == {phones[0]: 2, phones[1]: 2, phones[2]: 1}
    assert all(recorded(phone)[0::2] == ("sent", 1) for phone in phones)


def test_a_journaled_text_to_someone_who_opted_out_since_is_recorded_and_nothing_sent(
    memory_redis, outbox, worker_dies
) -> None:
    rows = due_checkins(2)
    a_pass_dies_at_send(worker_dies, 2)
    first = rows[0].person
    Person.objects.filter(pk=first.pk).update(opted_out_at=timezone.now())
    Person.objects.filter(pk=rows[1].person.pk).update(opted_out_at=timezone.now())

    leases_run_out()
    summary = dispatch_due()

    # The text went out before their STOP: the record says so; nobody is texted after it.
    assert [sms.to for sms in outbox] == [first.phone]
    assert recorded(first.phone) == ("sent", outbox[0].sid, 1)
    assert Checkin.objects.get(person=rows[1].person).status == "cancelled"
    assert (summary.recovered, summary.sent, summary.cancelled) == (1, 0, 1)


def test_texts_of_a_chunk_that_failed_to_commit_are_not_sent_again(
    memory_redis, outbox, monkeypatch
) -> None:
    rows = due_checkins(3)
    real_save = dispatch._save_sent
    fail = iter([True])

    def save_sent(*args: Any) -> None:
        if next(fail, False):
            raise DatabaseError("server closed the connection unexpectedly")
        real_save(*args)

    monkeypatch.setattr(dispatch, "_save_sent", save_sent)
    with pytest.raises(DatabaseError):
        dispatch_due()
    assert len(outbox) == 3
    # Handed back at once (not after the lease), marked as lost.
    assert set(Checkin.objects.values_list("status", "reclaims")) == {("pending", 1)}

    leases_run_out()  # the short retry delay of a handed-back row
    summary = dispatch_due()

    assert (summary.recovered, summary.sent) == (3, 0)
    assert texts_per_number(outbox) == {row.person.phone: 1 for row in rows}
    assert set(Checkin.objects.values_list("status", flat=True)) == {"sent"}


def test_a_journal_entry_of_another_database_never_marks_a_checkin_sent(
    memory_redis, outbox, worker_dies
) -> None:
    (row,) = due_checkins(1)
    a_pass_dies_at_send(worker_dies, 1)
    row.refresh_from_db()
    # Same check-in id, another database's row (a restored backup, a test database made
    # again): its key has another journal_key.
    other = Checkin(pk=row.pk, journal_key=uuid.uuid4())
    SendJournal(memory_redis).record(other, "SMother", timezone.now())

    leases_run_out()
    summary = dispatch_due()

    assert (summary.recovered, summary.sent) == (0, 1)
    assert [sms.to for sms in outbox] == [row.person.phone]


# ---------------------------------------------------------------- the text in flight


def test_a_text_twilio_took_as_its_worker_died_is_found_at_twilio_not_sent_again(
    memory_redis, outbox, worker_dies, django_capture_on_commit_callbacks
) -> None:
    rows = due_checkins(3)
    phones = [row.person.phone for row in rows]
    a_pass_dies_at_send(worker_dies, 2, taken=True)
    assert [sms.to for sms in outbox] == phones[:2]  # the second went, its sid never read

    leases_run_out()
    with django_capture_on_commit_callbacks(execute=True):
        summary = dispatch_due()

    assert (summary.recovered, summary.asked, summary.sent) == (2, 1, 1)
    assert texts_per_number(outbox) == {phone: 1 for phone in phones}
    sids = {sms.to: sms.sid for sms in outbox}
    assert {phone: recorded(phone) for phone in phones} == {
        phone: ("sent", sids[phone], 1) for phone in phones
    }
    assert "asked=1" in summary.line()
    assert memory_redis.data == {}


def test_a_text_in_flight_that_twilio_never_took_is_sent_once(
    memory_redis, outbox, worker_dies, caplog
) -> None:
    rows = due_checkins(2)
    phones = [row.person.phone for row in rows]
    a_pass_dies_at_send(worker_dies, 2)  # dies with the second text on its way, not arrived
    leases_run_out()
    with caplog.at_level(logging.WARNING, logger="reminders.dispatch"):
        summary = dispatch_due()

    assert (summary.recovered, summary.asked, summary.sent) == (1, 1, 1)
    assert texts_per_number(outbox) == {phone: 1 for phone in phones}
    assert recorded(phones[1]) == ("sent", outbox[1].sid, 1)
    assert "Twilio has no such text, so it is sent again" in caplog.text


def test_a_text_in_flight_is_sent_again_when_twilio_cannot_be_asked(
    memory_redis, outbox, worker_dies, monkeypatch, caplog
) -> None:
    (row,) = due_checkins(1)
    a_pass_dies_at_send(worker_dies, 1, taken=True)

    def unreachable(self: object, to: str, since: dt.datetime) -> list[object]:
        raise dispatch.SmsError("Could not list Twilio messages: timed out")

    monkeypatch.setattr(locmem.LocmemBackend, "taken_for", unreachable)
    leases_run_out()
    with caplog.at_level(logging.WARNING, logger="reminders.dispatch"):
        summary = dispatch_due()

    # At least once: a check-in is never dropped on a guess.
    assert (summary.asked, summary.sent) == (1, 1)
    assert texts_per_number(outbox) == {row.person.phone: 2}
    assert recorded(row.person.phone) == ("sent", outbox[1].sid, 1)
    assert "Twilio could not be asked whether it went out" in caplog.text


def test_a_text_on_record_is_not_taken_for_the_one_in_flight(
    memory_redis, outbox, worker_dies
) -> None:
    (row,) = due_checkins(1)
    person = row.person
    a_pass_dies_at_send(worker_dies, 1)  # the check-in never reached Twilio...
    # ... but staff resent the last text meanwhile: Twilio lists it, and it is on record.
    resent = locmem.LocmemBackend().send(person.phone, "An earlier text, sent again by staff")
    Message.objects.create(
        person=person, direction=Message.Direction.OUTBOUND, address=person.address,
        body="An earlier text, sent again by staff", provider_sid=resent,
    )  # fmt: skip

    leases_run_out()
    summary = dispatch_due()

    assert (summary.asked, summary.sent) == (1, 1)
    assert [sms.body for sms in outbox][-1] != "An earlier text, sent again by staff"
    assert Checkin.objects.get(pk=row.pk).provider_sid == outbox[-1].sid != resent


# ---------------------------------------------------------------- Redis away


def test_texts_go_out_when_redis_is_down_and_redis_is_tried_once(
    memory_redis, outbox, caplog
) -> None:
    rows = due_checkins(3)
    memory_redis.down = True

    with caplog.at_level(logging.ERROR, logger="reminders.journal"):
        summary = dispatch_due()

    assert (summary.sent, summary.unjournaled) == (3, 3)
    assert texts_per_number(outbox) == {row.person.phone: 1 for row in rows}
    assert set(Checkin.objects.values_list("status", flat=True)) == {"sent"}
    # A hung Redis costs one socket timeout, not one per text.
    assert memory_redis.calls == 1
    assert "texts go out unjournaled" in caplog.text
    assert summary.line().endswith("unjournaled=3")


def test_lost_checkins_are_texted_again_when_the_journal_cannot_be_read(
    memory_redis, outbox, worker_dies
) -> None:
    rows = due_checkins(2)
    a_pass_dies_at_send(worker_dies, 2)
    memory_redis.down = True

    leases_run_out()
    summary = dispatch_due()

    assert (summary.recovered, summary.sent) == (0, 2)
    assert texts_per_number(outbox) == {rows[0].person.phone: 2, rows[1].person.phone: 1}
    assert set(Checkin.objects.values_list("status", flat=True)) == {"sent"}


# ---------------------------------------------------------------- a check-in that kills workers


@pytest.mark.parametrize("limit", [1, 5])
def test_a_checkin_that_kills_its_worker_every_time_is_failed_after_the_limit(
    memory_redis, outbox, worker_dies, settings, limit, client: Client
) -> None:
    settings.CHECKIN_MAX_CRASHES = limit
    rows = due_checkins(7)
    poison = rows[2].person.phone  # in the middle: neighbours on both sides
    others = [row.person.phone for row in rows if row.person.phone != poison]
    worker_dies(when=lambda to: to == poison)

    passes = [Summary()]
    for _ in range(limit + 3):
        leases_run_out()
        try:
            passes.append(dispatch_due())
        except Killed:
            pass

    # Died in the first (whole batch) pass, then once per pass sending it alone.
    assert worker_dies.deaths == 1 + limit
    assert texts_per_number(outbox) == {phone: 1 for phone in others}
    assert all(recorded(phone)[0::2] == ("sent", 1) for phone in others)
    failed = Checkin.objects.get(person__phone=poison)
    assert failed.status == "failed" and failed.claim_token is None
    times = "once" if limit == 1 else f"{limit} times"
    assert failed.last_error.startswith(f"Not retried: the worker died {times} while sending")
    assert sum(p.failed for p in passes) == 1
    assert dispatch_due().claimed == 0

    # Staff see it in the check-in list, with the reason.
    staff = get_user_model().objects.create_superuser("clinic", "c@example.org", "pw-12345")
    client.force_login(staff)
    page = client.get(reverse("admin:reminders_checkin_changelist"), {"status": "failed"})
    assert f"Not retried: the worker died {times}" in page.content.decode()


def test_neighbours_of_a_lost_checkin_are_not_counted_as_crashes(
    memory_redis, outbox, worker_dies, settings
) -> None:
    settings.CHECKIN_MAX_CRASHES = 1
    due_checkins(3)
    a_pass_dies_at_send(worker_dies, 1)  # dies once, on the first send, then never again

    leases_run_out()
    summary = dispatch_due()

    assert (summary.sent, summary.failed) == (3, 0)
    assert set(Checkin.objects.values_list("status", "reclaims", "crashes")) == {("sent", 1, 0)}


# ---------------------------------------------------------------- a real Redis


def test_the_journal_round_trip_on_redis(redis_url: str) -> None:
    send_journal = journal._journal(redis_url)
    row = Checkin(pk=424242, journal_key=uuid.uuid4())
    sent_at = dt.datetime(2026, 11, 22, 1, 2, 3, 456789, tzinfo=dt.UTC)

    assert send_journal.record(row, "SMabc", sent_at)

    assert send_journal.lookup([row]) == {row.pk: journal.Entry("SMabc", sent_at)}
    # The next text's attempt rides with a sid: one round trip, both noted.
    following = Checkin(pk=424243, journal_key=uuid.uuid4())
    assert send_journal.record(row, "SMdef", sent_at, then_attempt=following)
    assert send_journal.lookup([row, following]) == {
        row.pk: journal.Entry("SMdef", sent_at),
        following.pk: journal.Entry(None, sent_at),
    }
    send_journal.forget([following])
    key = journal.journal_entry_key(row)
    client = redis.Redis.from_url(redis_url)
    assert 0 < client.ttl(key) <= journal.TTL_SECONDS
    send_journal.forget([row])
    assert send_journal.lookup([row]) == {}
