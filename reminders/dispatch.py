"""The check-in dispatcher: claim due rows, send them, record the result. One code path for the
Celery beat task and for `manage.py send_due_checkins`.

Claiming
    A row is claimable when its status is pending (or sending with an expired lease) and
    `send_after` has passed. A claim sets status=sending, a fresh claim token and
    send_after = now + lease, in one statement: on PostgreSQL the candidates are picked with
    SELECT ... FOR UPDATE SKIP LOCKED, and everywhere the UPDATE repeats the claimable
    condition (compare-and-swap), so two dispatchers never claim the same row.

Sending
    A claimed batch is sent in chunks of at most about one second of sending. Each
    chunk is one transaction that locks its check-ins and their people (SKIP LOCKED: a person
    whose text is being handled right now is retried shortly), re-checks that the check-in is
    still due and wanted, sends, and marks each row sent together with the provider's message
    id before committing. An opt-out therefore either commits first (and is seen here) or
    waits for the chunk to finish: nothing is sent after it.

Lost check-ins and the send journal
    A worker killed between a text leaving and its chunk committing leaves the row claimed; it
    is claimed again when the lease expires (CHECKIN_LEASE_SECONDS), and the claim counts it in
    `reclaims`. To tell which of those texts went out, each send is noted in the send journal
    in Redis (reminders/journal.py): "attempted" just before it goes to Twilio, its message sid
    right after Twilio takes it. A reclaimed row found there with a sid is recorded as sent
    with it, not sent again. One found attempted without a sid (the text in flight when the
    worker died) is looked up at Twilio, in the texts it took for that number since the
    attempt (`_ask_provider`): found, it is recorded with that sid; not found, or Twilio cannot
    be asked, it is sent again (at least once: a check-in is never dropped on a guess).
    A send that got no answer (a timeout: `in_doubt_since`) is looked up the same way at the
    next try, and so is one that used up the last attempt: that row is not failed at once but
    claimed once more, after the backoff, only to ask Twilio. Taken, it is recorded sent; not
    taken, it is failed; Twilio unreachable, it is failed with a last error saying it may have
    gone out (`_give_up_in_doubt`).
    Without Redis, or with Redis unreachable, texts still go out, unjournaled: then a kill
    repeats its last, uncommitted chunk (about one second of sending), as before the journal.
    A pass that fails part way without dying (Redis, which holds the rate limit, unreachable)
    hands back the rows it had not recorded: they go out on the next pass, not after the lease.
    Rows whose text went out in a chunk that failed are counted in `reclaims` too.

Poison rows
    Reclaimed rows not in the journal are sent after the rest of their batch, one per
    transaction, each marked (`crashes`) in a commit of its own before it is sent and unmarked
    when its outcome is recorded. A row that kills its worker is thus the only one left marked;
    after CHECKIN_MAX_CRASHES such deaths it is failed with the reason in its last error
    (shown in admin), instead of being claimed again forever.

Measured under faults in docs/reliability.md ("Faults"), by tests/faults/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.db.models import (
    Case,
    F,
    Max,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from reminders import journal as send_journal
from reminders.models import Checkin, SendingWindow
from reminders.quiet_hours import next_send_time, person_zones
from reminders.ratelimit import get_limiter
from reminders.services import person_refused, retry_delay
from triage.conversation import UK_REGIONS, Content
from triage.models import Conversation, Message, Person, mask, redact
from triage.rules import Tier
from triage.selectors import content_load
from triage.sms import SmsError, get_backend, send_sms, sms_prepare

log = logging.getLogger(__name__)

CLAIMABLE = (Checkin.Status.PENDING, Checkin.Status.SENDING)
# How late a send may be against its rate-limit slot. Slots are (1 + SAFETY_MARGIN) / rate
# apart, so rate + 1 texts span 1.02 s: sending no more than 10 ms late leaves 10 ms for the
# journey before a one-second window could hold rate + 1 (reminders/ratelimit.py).
LATE_TOLERANCE = 0.010
BUSY_RETRY = dt.timedelta(seconds=15)  # the person's row was locked: they are texting us
CHUNK_SECONDS = 1.0  # longest a chunk sends while holding its people's row locks
# Asking Twilio about a text in flight when its worker died: texts it lists as created up to
# this long before the attempt count too, in case our clock runs ahead of Twilio's.
CLOCK_SKEW = dt.timedelta(seconds=60)


@dataclass
class Summary:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0  # lost check-ins found in the send journal: recorded, not sent again
    asked: int = 0  # lost check-ins in flight when their worker died, looked up at Twilio
    unjournaled: int = 0  # texts sent while the send journal was unreachable

    def add(self, other: Summary) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        text = (
            f"claimed={self.claimed} sent={self.sent} deferred={self.deferred} "
            f"failed={self.failed} cancelled={self.cancelled}"
        )
        # Only after a worker died or Redis failed: not part of every pass's line.
        for name in ("recovered", "asked", "unjournaled"):
            if count := getattr(self, name):
                text += f" {name}={count}"
        return text


FIELDS = (
    "claimed",
    "sent",
    "deferred",
    "failed",
    "cancelled",
    "recovered",
    "asked",
    "unjournaled",
)


@dataclass
class _Batch:
    """What every chunk of one claimed batch shares."""

    token: uuid.UUID
    content: Content
    window: SendingWindow
    journal: send_journal.SendJournal | None
    posted: list[int] = field(default_factory=list)  # rows whose text Twilio took
    noted: int | None = None  # the row whose attempt is in the journal already


# ---------------------------------------------------------------- claiming


def _lease_budget() -> int | None:
    """Texts the rate limit lets out in half a lease; None when unlimited."""
    rate = settings.CHECKIN_MAX_PER_SECOND
    return int(rate * settings.CHECKIN_LEASE_SECONDS / 2) if rate > 0 else None


def batch_size() -> int:
    """Rows per claim: at most what the rate limit can send in half a lease."""
    budget = _lease_budget()
    size = settings.CHECKIN_BATCH_SIZE
    return size if budget is None else min(size, max(1, budget))


def claim_batch(now: dt.datetime, limit: int) -> tuple[uuid.UUID, list[int]]:
    token = uuid.uuid4()
    lease_end = now + dt.timedelta(seconds=settings.CHECKIN_LEASE_SECONDS)
    due = Checkin.objects.filter(status__in=CLAIMABLE, send_after__lte=now)
    with transaction.atomic():
        # Simulated people (staff in the simulator) are never texted: their check-ins are fired
        # by hand there (clinic.simulator). Filtered here, not in `due`: the UPDATE below must
        # stay join-free for its compare-and-swap to hold.
        candidates = due.filter(person__simulated=False).order_by("send_after", "id")
        if connection.features.has_select_for_update_skip_locked:
            # of=self: lock the check-ins only, not the people joined for the filter above.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return token, []
        # Compare-and-swap: only rows still claimable are taken.
        due.filter(id__in=ids).update(
            status=Checkin.Status.SENDING,
            claim_token=token,
            claimed_at=now,
            send_after=lease_end,
            updated_at=now,
            # Still `sending` (the old value): the worker holding it never recorded it.
            reclaims=_plus_one_where(status=Checkin.Status.SENDING),
            journal_key=Coalesce(F("journal_key"), Value(token, output_field=UUIDField())),
        )
        claimed = list(
            Checkin.objects.filter(id__in=ids, claim_token=token).values_list("id", flat=True)
        )
    return token, claimed


def dispatch_due(
    *,
    now: dt.datetime | None = None,
    send: Callable[[list[int], uuid.UUID], Summary | None] | None = None,
    max_rows: int | None = None,
) -> Summary:
    """One pass: claim every due row (in batches) and hand each batch to `send`.

    `send` defaults to sending in this process; the Celery task passes one that enqueues.
    """
    now = now or timezone.now()
    send = send or send_batch
    size = batch_size()
    if max_rows is None and (budget := _lease_budget()) is not None:
        max_rows = max(size, budget)  # no more than can go out before the leases run out
    total = Summary()
    while max_rows is None or total.claimed < max_rows:
        limit = size if max_rows is None else min(size, max_rows - total.claimed)
        token, ids = claim_batch(now, limit)
        if not ids:
            break
        total.claimed += len(ids)
        result = send(ids, token)
        if result is not None:
            result.claimed = 0
            total.add(result)
        if len(ids) < limit:
            break
    return total


# ---------------------------------------------------------------- sending


def send_batch(ids: list[int], token: uuid.UUID | str) -> Summary:
    """Send a claimed batch, one transaction per chunk. Safe to run twice (token-checked).

    Rows a worker lost (`reclaims`) are first looked up in the send journal; those not found
    there go last, one at a time (`_send_alone`).
    """
    token = uuid.UUID(str(token))
    rate = settings.CHECKIN_MAX_PER_SECOND
    chunk = len(ids) if rate <= 0 else max(1, int(rate))
    summary = Summary()
    batch = _Batch(token, content_load(), SendingWindow.current(), send_journal.get_journal())
    try:
        lost = _lost(ids, token)
        journaled = _recover(lost, batch, summary) if lost else set()
        lost = [pk for pk in lost if pk not in journaled]
        apart = journaled.union(lost)
        remaining = [pk for pk in ids if pk not in apart]
        while remaining:
            part, left = _send_chunk(remaining[:chunk], batch)
            summary.add(part)
            remaining = left + remaining[chunk:]
        for pk in lost:
            summary.add(_send_alone(pk, batch))
    except Exception:
        # Redis (the rate limit) or the database failed part way. The failed chunk rolled
        # back; hand back what this batch had not recorded, so the next pass sends it instead
        # of waiting out the lease. With the database gone this fails too: the lease it is.
        with contextlib.suppress(DatabaseError):
            _release(ids, token, posted=batch.posted)
        raise
    # Rows of ours left behind (their person was busy): try again shortly.
    summary.deferred += _release(ids, token)
    return summary


def _release(ids: list[int], token: uuid.UUID, *, posted: list[int] | None = None) -> int:
    """Our claimed rows not yet recorded go back to pending, claimable after BUSY_RETRY.

    `posted`: rows whose text Twilio took in a chunk that then failed. They are counted as
    lost (`reclaims`), so the next pass reads the journal instead of sending them again.
    """
    return Checkin.objects.filter(
        id__in=ids, claim_token=token, status=Checkin.Status.SENDING
    ).update(
        status=Checkin.Status.PENDING,
        claim_token=None,
        send_after=timezone.now() + BUSY_RETRY,
        updated_at=timezone.now(),
        reclaims=_plus_one_where(id__in=posted or []),
    )


def _plus_one_where(**lookup: object) -> Case:
    """`reclaims`, plus one for the rows matching `lookup`, in an UPDATE's SET."""
    return Case(
        When(**lookup, then=F("reclaims") + 1),
        default=F("reclaims"),
        output_field=PositiveSmallIntegerField(),
    )


# ---------------------------------------------------------------- lost check-ins


def _lost(ids: list[int], token: uuid.UUID) -> list[int]:
    """Our rows whose last send is unaccounted for (a worker lost them, or Twilio's answer
    never came): those that killed a worker most often go last."""
    return list(
        Checkin.objects.filter(id__in=ids, claim_token=token, status=Checkin.Status.SENDING)
        .filter(Q(reclaims__gt=0) | Q(in_doubt_since__isnull=False))
        .order_by("crashes", "id")
        .values_list("id", flat=True)
    )


def _recover(ids: list[int], batch: _Batch, summary: Summary) -> set[int]:
    """Record as sent the lost rows whose text Twilio took, by the journal or by Twilio; fail
    those out of attempts that it did not take.

    Returns the ids not to send: found taken, or failed. Those found whose person was busy (row
    locked by a text being handled) are not recorded now and must not be sent either: they are
    handed back with the batch's other leftovers, and the next pass records them.
    """
    mine = Checkin.objects.filter(
        id__in=ids, claim_token=batch.token, status=Checkin.Status.SENDING
    )
    entries = batch.journal.lookup(mine.only("id", "journal_key")) if batch.journal else {}
    in_flight = {pk: entry for pk, entry in entries.items() if entry.sid is None}
    for pk in in_flight:
        del entries[pk]
    # Sends that timed out are on the row itself (the worker lived to record them).
    for pk, since in (
        mine.filter(in_doubt_since__isnull=False)
        .exclude(id__in=entries)
        .values_list("id", "in_doubt_since")
    ):
        earlier = in_flight.get(pk)
        in_flight[pk] = send_journal.Entry(None, min(since, earlier.sent_at) if earlier else since)
    unasked: set[int] = set()
    if in_flight:
        found, unasked = _ask_provider(mine, in_flight, batch, summary)
        entries.update(found)
    given_up = _give_up_in_doubt(
        mine.filter(id__in=in_flight).exclude(id__in=entries), unasked, summary
    )
    if not entries:
        return given_up
    with transaction.atomic():
        # The person's row too, as a chunk locks it: the message row inserted below needs a
        # share lock on it, and waiting for it while holding the check-in's could deadlock
        # with a STOP cancelling that check-in.
        rows = list(
            mine.filter(id__in=entries)
            .select_for_update(skip_locked=True, of=("self", "person"))
            .select_related("person", "conversation")
            .order_by("id")
        )
        messages = []
        for row in rows:
            entry = entries[row.pk]
            if row.reclaims:
                row.attempts += 1  # made by a worker that died before recording it
            body = checkin_text(row.person, row.message_key, batch.content)
            messages.append(_record_sent(row, entry.sid, entry.sent_at, body))
            summary.recovered += 1
            log.warning(
                "check-in %s: its last send went unrecorded or unanswered, but Twilio took it "
                "(%s, by the send journal or Twilio's list); recorded, not sent again",
                row.pk,
                entry.sid,
            )
        Message.objects.bulk_create(messages)
        for row in rows:
            row.message = row._message  # type: ignore[attr-defined]
        if rows:
            _save_sent(rows, timezone.now())
        _forget_on_commit(rows, batch)
    return set(entries) | given_up


def _ask_provider(
    mine: QuerySet[Checkin],
    in_flight: dict[int, send_journal.Entry],
    batch: _Batch,
    summary: Summary,
) -> tuple[dict[int, send_journal.Entry], set[int]]:
    """Of the lost rows whose last text got no answer, those Twilio took, and the ids of those
    Twilio could not be asked about.

    That is the text in flight when its worker died (attempted in the journal, no sid), or a
    send that timed out (`in_doubt_since`). Twilio is asked for the texts it took for the
    person's number since the attempt; one that is not on record here is that text. A text
    Twilio changed on the way (a messaging service's smart encoding) still counts: its body is
    only preferred, not required. A row Twilio took is noted in the journal with its sid, so a
    pass that must hand it back does not ask again.
    """
    found: dict[int, send_journal.Entry] = {}
    unasked: set[int] = set()
    for row in mine.filter(id__in=in_flight).select_related("person").order_by("id"):
        entry = in_flight[row.pk]
        summary.asked += 1
        person = row.person
        then = "failed (out of attempts)" if _out_of_attempts(row) else "sent again"
        try:
            taken = get_backend().taken_for(
                person.phone or person.address, entry.sent_at - CLOCK_SKEW
            )
        except (SmsError, ImproperlyConfigured) as exc:
            log.warning(
                "check-in %s: its last send got no answer, and Twilio could not be asked "
                "whether it went out (%s); it is %s",
                row.pk,
                redact(str(exc)),
                then,
            )
            unasked.add(row.pk)
            continue
        known = set(
            Message.objects.filter(provider_sid__in=[t.sid for t in taken]).values_list(
                "provider_sid", flat=True
            )
        )
        unknown = [t for t in taken if t.sid not in known]
        if not unknown:
            log.warning(
                "check-in %s: its last send got no answer; Twilio has no such text, so it is %s",
                row.pk,
                then,
            )
            continue
        body = checkin_text(person, row.message_key, batch.content)
        # Newest first from Twilio: the oldest since the attempt is the one in flight.
        text = next((t for t in reversed(unknown) if t.body == body), unknown[-1])
        found[row.pk] = send_journal.Entry(text.sid, text.created_at)
        if batch.journal is not None:
            batch.journal.record(row, text.sid, text.created_at)
    return found, unasked


def _out_of_attempts(row: Checkin) -> bool:
    return row.attempts >= settings.CHECKIN_MAX_ATTEMPTS


def _give_up_in_doubt(rows: QuerySet[Checkin], unasked: set[int], summary: Summary) -> set[int]:
    """Fail the rows of `rows` (asked about, not found taken) that are out of attempts.

    Their last try got no answer, so they were claimed once more only to ask Twilio: not
    taken, they fail as any row out of attempts does; Twilio unreachable, the text may have
    gone out, and the last error says so, for staff to look in Twilio's console before sending
    it by hand. Returns their ids.
    """
    now = timezone.now()
    given_up: set[int] = set()
    for row in rows.filter(attempts__gte=settings.CHECKIN_MAX_ATTEMPTS).order_by("id"):
        last_error = row.last_error
        if row.pk in unasked:
            last_error = (
                "May have been sent: the last attempt got no answer from Twilio, and Twilio "
                "could not be asked whether it took the text. Check Twilio's console (Messaging "
                f"logs) for this number before sending it by hand. Last error: {row.last_error}"
            )
        # Compare-and-swap on our claim: a STOP may have cancelled it meanwhile.
        if rows.filter(pk=row.pk).update(
            status=Checkin.Status.FAILED, claim_token=None, last_error=last_error, updated_at=now
        ):
            given_up.add(row.pk)
            summary.failed += 1
            log.error(
                "check-in %s gave up after %s attempts, the last without an answer; Twilio %s",
                row.pk,
                row.attempts,
                "could not be asked whether it took it" if row.pk in unasked else "did not take it",
            )
    return given_up


def _send_alone(pk: int, batch: _Batch) -> Summary:
    """One lost row in a transaction of its own, marked first in a commit of its own.

    If sending it kills the worker, the mark stays on this row only (not on the rest of the
    batch, already recorded or not yet started), and the next claim sees one more crash.
    """
    mine = Checkin.objects.filter(pk=pk, claim_token=batch.token, status=Checkin.Status.SENDING)
    if not mine.update(crashes=F("crashes") + 1):
        return Summary()
    summary, _ = _send_chunk([pk], batch)
    # Still ours and unrecorded: the chunk skipped it (its person was busy) or never reached
    # it. Nothing was sent, so the mark goes; a recorded outcome cleared it already.
    mine.update(crashes=F("crashes") - 1)
    return summary


def _forget_on_commit(rows: list[Checkin], batch: _Batch) -> None:
    journal = batch.journal
    if journal is not None and rows:
        transaction.on_commit(lambda: journal.forget(rows))


def _give_up_crashed(row: Checkin, summary: Summary) -> None:
    deaths = row.crashes - 1  # the mark for this attempt is not a death
    times = "once" if deaths == 1 else f"{deaths} times"
    row.status, row.claim_token, row.error_code = Checkin.Status.FAILED, None, None
    row.last_error = (
        f"Not retried: the worker died {times} while sending this check-in. It may have "
        "reached the person (check the sent messages and the worker logs); send it by hand "
        "if needed."
    )
    row.updated_at = timezone.now()
    summary.failed += 1
    log.error("check-in %s failed: its worker died %s while sending it", row.pk, times)


def _ineligible(row: Checkin) -> str | None:
    person, conv = row.person, row.conversation
    if person.opted_out:
        return "opted out"
    if person.number_invalid_at is not None or person.kind != Person.Kind.PHONE:
        return "number cannot receive texts"
    if conv.status != Conversation.Status.ACTIVE:
        return "newer triage" if conv.status == Conversation.Status.CLOSED else "opted out"
    if conv.tier is None or conv.tier >= Tier.EMERGENCY:
        return "escalated"
    if conv.tier > row.tier:
        return "escalated"
    return None


def _send_chunk(ids: list[int], batch: _Batch) -> tuple[Summary, list[int]]:
    """Send what is ready of `ids` in one transaction; return the ids not reached in time.

    The transaction holds the people's row locks (so a STOP cannot slip past a send), so it
    ends after CHUNK_SECONDS of sending even when Twilio is slow: the rest, still claimed by
    this batch, go into the next chunk.
    """
    summary = Summary()
    left: list[int] = []
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Checkin.objects.select_for_update(skip_locked=True, of=("self", "person"))
            .select_related("person", "conversation")
            .filter(id__in=ids, claim_token=batch.token, status=Checkin.Status.SENDING)
            .order_by("id")
        )
        ready: list[Checkin] = []
        crashed: set[int] = set()
        newest = _newest_due(rows, now)
        for row in rows:
            reason = _ineligible(row)
            if reason:
                _cancel(row, reason, summary)
                continue
            if row.due_at < newest.get(row.conversation_id, row.due_at):
                # After downtime the 2-week check-in is still due when the 6-week one is:
                # only the later one goes, not two questions back to back.
                _cancel(row, "superseded by a later check-in", summary)
                continue
            if row.crashes > settings.CHECKIN_MAX_CRASHES:
                _give_up_crashed(row, summary)
                crashed.add(row.pk)
                continue
            person = row.person
            zones = person_zones(
                person.timezone, person.phone or person.address, settings.CHECKIN_DEFAULT_TIMEZONE
            )
            opens = next_send_time(now, zones, batch.window.start, batch.window.end)
            if opens > now:
                row.status, row.send_after, row.claim_token = Checkin.Status.PENDING, opens, None
                summary.deferred += 1
                continue
            ready.append(row)

        messages: list[Message] = []
        if ready:
            # A process's first send builds the Twilio client (tens of ms): done before booking
            # slots, or that text would leave late and bunch with another worker's next one.
            sms_prepare()
            wait = get_limiter().reserve(len(ready))
            interval = get_limiter().interval
            # The chunk's time budget runs from its first slot: waiting for the slots other
            # workers booked first is not sending, and counting it would leave the slots this
            # chunk booked unused (with 3 workers, one text a second went out instead of 10).
            started = time.monotonic()
            first_slot = started + wait
            refused: dict[int, str] = {}  # person id -> why Twilio refused their number
            for n, row in enumerate(ready):
                if row.person_id in refused:
                    # Their opt-out (or dead number) was recorded a moment ago in this chunk.
                    _cancel(row, refused[row.person_id], summary)
                    continue
                if n and time.monotonic() - first_slot > CHUNK_SECONDS:
                    left = [r.pk for r in ready[n:]]
                    break
                slot = started + wait + n * interval
                pause = slot - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                elif interval and -pause > LATE_TOLERANCE:
                    # Behind our slots (the process was descheduled): sending now would bunch
                    # texts into another worker's slots and break the rate. Give the rest of
                    # these slots up; the next chunk books new ones.
                    left = [r.pk for r in ready[n:]]
                    break
                following = ready[n + 1] if n + 1 < len(ready) else None
                message = _send_one(row, batch, summary, following)
                if message is not None:
                    messages.append(message)
                elif reason := _ineligible(row):
                    refused[row.person_id] = reason
        if messages:
            Message.objects.bulk_create(messages)
            for row in ready:
                if row.status == Checkin.Status.SENT:
                    row.message = row._message  # type: ignore[attr-defined]
        not_reached = set(left)
        _save_rows([row for row in rows if row.pk not in not_reached])
        if unmark := [
            r.pk for r in rows if r.crashes and r.pk not in not_reached and r.pk not in crashed
        ]:
            # An outcome was recorded: the worker lived through these sends.
            Checkin.objects.filter(pk__in=unmark).update(crashes=0)
        # Sent or refused, their outcome is now on record: the journal has no more to say.
        _forget_on_commit([row for row in ready if row.pk not in not_reached], batch)
    return summary, left


def _save_rows(rows: list[Checkin]) -> None:
    """Write back what a chunk did, in a few set-based statements (bulk_update's per-row CASE
    expressions cost more than the sends themselves)."""
    sent = [row for row in rows if row.status == Checkin.Status.SENT]
    cancelled: dict[str, list[int]] = {}
    deferred: dict[dt.datetime, list[int]] = {}
    other: list[Checkin] = []
    for row in rows:
        if row.status == Checkin.Status.CANCELLED:
            cancelled.setdefault(row.cancelled_reason, []).append(row.pk)
        elif row.status == Checkin.Status.PENDING and row.attempts == 0:
            deferred.setdefault(row.send_after, []).append(row.pk)  # quiet hours
        elif row.status != Checkin.Status.SENT:
            other.append(row)
    now = timezone.now()
    for reason, ids in cancelled.items():
        Checkin.objects.filter(pk__in=ids).update(
            status=Checkin.Status.CANCELLED,
            cancelled_reason=reason,
            claim_token=None,
            updated_at=now,
        )
    for opens, ids in deferred.items():
        Checkin.objects.filter(pk__in=ids).update(
            status=Checkin.Status.PENDING, send_after=opens, claim_token=None, updated_at=now
        )
    if other:  # failures and retries: few
        Checkin.objects.bulk_update(
            other,
            [
                "status",
                "send_after",
                "claim_token",
                "attempts",
                "last_error",
                "error_code",
                "cancelled_reason",
                "in_doubt_since",
                "updated_at",
            ],
        )
    if sent:
        _save_sent(sent, now)


def _save_sent(rows: list[Checkin], now: dt.datetime) -> None:
    """One UPDATE ... FROM (VALUES ...) for the sent rows: PostgreSQL and SQLite 3.33+."""
    ops = connection.ops
    table = connection.ops.quote_name(Checkin._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params: list[object] = []
    for row in rows:
        params += [
            row.pk,
            row.provider_sid,
            row.message.pk if row.message else None,
            row.attempts,
            ops.adapt_datetimefield_value(row.sent_at),
        ]
    sql = (
        f"WITH v (id, sid, mid, attempts, sent_at) AS (VALUES {values}) "
        f"UPDATE {table} SET status = %s, claim_token = NULL, provider_sid = v.sid, "
        "message_id = CAST(v.mid AS bigint), attempts = CAST(v.attempts AS integer), "
        "sent_at = v.sent_at, last_error = '', error_code = NULL, in_doubt_since = NULL, "
        f"updated_at = %s FROM v WHERE {table}.id = CAST(v.id AS bigint)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, Checkin.Status.SENT, ops.adapt_datetimefield_value(now)])


def _newest_due(rows: list[Checkin], now: dt.datetime) -> dict[int, dt.datetime]:
    """Per episode, the due time of its latest check-in that is due, being sent or sent."""
    if not rows:
        return {}
    return dict(
        Checkin.objects.filter(
            conversation_id__in={row.conversation_id for row in rows},
            status__in=(*CLAIMABLE, Checkin.Status.SENT),
            due_at__lte=now,
        )
        .values("conversation_id")
        .annotate(newest=Max("due_at"))
        .values_list("conversation_id", "newest")
    )


def _cancel(row: Checkin, reason: str, summary: Summary) -> None:
    row.status, row.cancelled_reason, row.claim_token = Checkin.Status.CANCELLED, reason, None
    row.updated_at = timezone.now()
    summary.cancelled += 1


def checkin_text(person: Person, message_key: str, content: Content) -> str:
    """The text of a check-in as this person gets it: their language, UK wording for +44."""
    lang = person.language or "en"
    return replace(content, uk=person.country in UK_REGIONS).text(message_key, lang)


def _send_one(
    row: Checkin, batch: _Batch, summary: Summary, following: Checkin | None = None
) -> Message | None:
    """Send `row`'s text, journaled; `following`, the next row to go, has its attempt noted
    with this row's sid, in one Redis round trip (if it is not sent after all, its entry only
    ever causes a lookup at Twilio, and the next attempt replaces it)."""
    person = row.person
    now = timezone.now()
    row.updated_at = now
    row.attempts += 1
    body = checkin_text(person, row.message_key, batch.content)
    to = person.phone or person.address
    if batch.journal is not None and batch.noted != row.pk:
        # Should the worker die before Twilio's answer is noted, this says to ask Twilio.
        batch.journal.attempt(row, now)
    batch.noted = None
    try:
        sid = send_sms(to, body)
    except (SmsError, ImproperlyConfigured) as exc:
        if isinstance(exc, SmsError) and exc.in_doubt:
            # Twilio may have taken it: the next try asks Twilio first (`_recover`).
            began = row.in_doubt_since
            row.in_doubt_since = min(began, now) if began else now
        _record_failure(row, exc, summary)
        return None
    # Before anything else: from here until the chunk commits, only this note tells a worker
    # that reclaims the row that the text went out.
    if batch.journal is not None:
        if batch.journal.record(row, sid, now, then_attempt=following):
            batch.noted = following.pk if following is not None else None
        else:
            summary.unjournaled += 1
    batch.posted.append(row.pk)
    summary.sent += 1
    return _record_sent(row, sid, now, body)


def _record_sent(row: Checkin, sid: str, sent_at: dt.datetime, body: str) -> Message:
    """Mark `row` sent as `sid` (saved by _save_sent) and return its outbound message."""
    person = row.person
    row.status, row.provider_sid, row.sent_at, row.claim_token = (
        Checkin.Status.SENT,
        sid,
        sent_at,
        None,
    )
    row.updated_at = timezone.now()
    row.last_error, row.error_code = "", None
    message = Message(
        person=person,
        conversation=row.conversation,
        direction=Message.Direction.OUTBOUND,
        address=person.address,
        body=body,
        provider_sid=sid,
        status=Message.Status.QUEUED,
    )
    row._message = message  # type: ignore[attr-defined]
    return message


def _record_failure(row: Checkin, exc: Exception, summary: Summary) -> None:
    person = row.person
    now = timezone.now()
    row.claim_token = None
    row.last_error = str(exc)[:500]
    code = getattr(exc, "code", None)
    row.error_code = code
    recipient_refused = isinstance(exc, SmsError) and (exc.opted_out or exc.invalid_number)
    # Bad credentials or settings are ours to fix: keep retrying instead of failing everyone.
    config_problem = isinstance(exc, ImproperlyConfigured) or getattr(exc, "status", None) in (
        401,
        403,
    )
    if recipient_refused:
        person_refused(person, opted_out=exc.opted_out)  # type: ignore[union-attr]
        row.status = Checkin.Status.FAILED
        summary.failed += 1
        log.info("check-in %s to %s refused: %s", row.pk, mask(person.address), redact(str(exc)))
    elif isinstance(exc, SmsError) and exc.permanent and not config_problem:
        row.status = Checkin.Status.FAILED
        summary.failed += 1
        log.warning(
            "check-in %s to %s failed for good: %s", row.pk, mask(person.address), redact(str(exc))
        )
    elif _out_of_attempts(row) and row.in_doubt_since is None:
        row.status = Checkin.Status.FAILED
        summary.failed += 1
        log.error(
            "check-in %s gave up after %s attempts: %s", row.pk, row.attempts, redact(str(exc))
        )
    elif _out_of_attempts(row):
        # Out of attempts, but Twilio may have taken a text whose answer never came. Claimed
        # once more, after the backoff that gives Twilio time to list it, only to ask Twilio
        # (`_recover`): recorded sent if it took it, failed if not. Nothing is sent again.
        row.status = Checkin.Status.PENDING
        row.send_after = now + retry_delay(row.attempts)
        summary.deferred += 1
        log.warning(
            "check-in %s is out of attempts; Twilio is asked at %s whether it took a text that "
            "got no answer: %s",
            row.pk,
            row.send_after,
            redact(str(exc)),
        )
    else:
        row.status = Checkin.Status.PENDING
        row.send_after = now + retry_delay(row.attempts)
        summary.deferred += 1
        level = logging.ERROR if config_problem else logging.INFO
        log.log(level, "check-in %s will retry at %s: %s", row.pk, row.send_after, redact(str(exc)))
