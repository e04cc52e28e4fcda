"""Scheduling and cancelling check-ins. Called by triage.services under the person's row lock.

- An outcome (first, or a higher tier later) schedules that tier's active plan steps, due
  counted from now; rows are unique per (episode, step), so scheduling twice creates nothing.
- Any new outcome, an emergency, a new triage (RESTART) and an opt-out cancel what is pending.
  START never brings cancelled check-ins back.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from reminders import schedule_sql
from reminders.models import OPEN, Checkin, CheckinStep
from triage.models import Conversation, Message, Person
from triage.rules import Tier


def checkins_cancel_open(checkins: QuerySet[Checkin], reason: str) -> int:
    """Cancel those of `checkins` not yet sent (pending or claimed). Returns how many."""
    return checkins.filter(status__in=OPEN).update(
        status=Checkin.Status.CANCELLED,
        cancelled_reason=reason,
        claim_token=None,
        updated_at=timezone.now(),
    )


def checkins_cancel(person: Person, reason: str) -> int:
    """Cancel every check-in of the person not yet sent. Returns how many."""
    return checkins_cancel_open(Checkin.objects.filter(person=person), reason)


def person_refused(person: Person, *, opted_out: bool) -> None:
    """Twilio or the carrier says this person can never be texted (21610: they unsubscribed;
    otherwise the number cannot take texts): record it once and cancel what is pending."""
    field = "opted_out_at" if opted_out else "number_invalid_at"
    if getattr(person, field) is None:
        setattr(person, field, timezone.now())
        person.save(update_fields=[field, "updated_at"])
    checkins_cancel(person, "opted out" if opted_out else "number cannot receive texts")


def checkins_schedule(conversation: Conversation, tier: int, at: dt.datetime | None = None) -> None:
    """Replace the person's pending check-ins with the plan for `tier`, counted from `at`."""
    at = at or timezone.now()
    person = conversation.person
    plan = tier < Tier.EMERGENCY and not person.opted_out
    if schedule_sql.enabled():
        # The same in one statement (an outcome text is handled under the webhook's lock).
        schedule_sql.schedule(
            person_id=person.pk, conversation_id=conversation.pk, tier=tier, at=at, steps=plan
        )
        return
    steps: list[CheckinStep] = []
    if plan:
        steps = list(CheckinStep.objects.filter(tier=tier, active=True))
    # Everything else pending goes; this episode's rows for these very steps stay as they are
    # (scheduling the same plan twice must neither duplicate nor drop them).
    checkins_cancel_open(
        Checkin.objects.filter(person=person).exclude(conversation=conversation, step__in=steps),
        schedule_sql.CANCELLED_REASON,
    )
    if not steps:
        return
    rows = [
        Checkin(
            person=person,
            conversation=conversation,
            step=step,
            tier=step.tier,
            kind=step.kind,
            message_key=step.message_key,
            due_at=at + step.offset,
            send_after=at + step.offset,
        )
        for step in steps
    ]
    Checkin.objects.bulk_create(rows, ignore_conflicts=True)


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with jitter after `attempts` failed tries, capped."""
    base = settings.CHECKIN_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    seconds = min(settings.CHECKIN_RETRY_MAX_SECONDS, base)
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def checkin_delivery_failed(message: Message, error_code: int | None, permanent: bool) -> None:
    """Twilio accepted a check-in but the carrier did not deliver it: send it again later
    (unreachable phone, carrier trouble), or record it as failed when it never can be."""
    row = Checkin.objects.select_for_update().filter(message=message, status=Checkin.Status.SENT)
    row = row.first()
    if row is None:
        return
    now = timezone.now()
    row.error_code = error_code
    row.last_error = f"not delivered (Twilio error {error_code})"
    row.updated_at = now
    if permanent or row.attempts >= settings.CHECKIN_MAX_ATTEMPTS:
        row.status = Checkin.Status.FAILED
    else:
        # Back in the queue; the undelivered text stays in the transcript.
        row.status, row.send_after = Checkin.Status.PENDING, now + retry_delay(row.attempts)
        row.message, row.provider_sid, row.sent_at = None, "", None
    row.save()


def checkin_latest_sent(conversation: Conversation) -> Checkin | None:
    """The check-in a reply answers: the latest one sent in the episode, however long ago."""
    return (
        Checkin.objects.filter(conversation=conversation, status=Checkin.Status.SENT)
        .order_by("-sent_at", "-id")
        .first()
    )


def checkin_record_answer(checkin_id: int, pain_score: int | None, trend: str | None) -> None:
    now = timezone.now()
    updates: dict[str, object] = {"updated_at": now}
    if pain_score is not None:
        updates["pain_score"] = pain_score
    if trend:
        updates["trend"] = trend
    Checkin.objects.filter(pk=checkin_id).update(**updates)
    Checkin.objects.filter(pk=checkin_id, replied_at__isnull=True).update(replied_at=now)


def checkins_cancel_for_step(step: CheckinStep) -> int:
    """Admin action: stop the pending check-ins of a step (e.g. a step retired by mistake)."""
    return checkins_cancel_open(step.checkins.all(), "step cancelled by staff")
