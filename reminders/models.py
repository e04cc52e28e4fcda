"""Check-ins: the plan staff edit (steps per outcome tier, the sending window) and one row per
check-in a person is due.

A check-in is a row, never a delayed Celery task: `reminders.dispatch` claims due rows, sends
them and records the result in the same transaction, so a restart, a lost task or a second
dispatcher can neither lose nor duplicate one.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from triage.models import Conversation, Message, Person, TierChoices


class CheckinStep(models.Model):
    """One check-in of a tier's plan: when (days after the outcome) and what is asked."""

    class Kind(models.TextChoices):
        PAIN = "pain", "How is the pain? (better / same / worse / 0-10)"
        BOOKED = "booked", "Did you book / see a clinician? (yes / no)"

    tier = models.IntegerField(choices=TierChoices.choices)
    offset_days = models.PositiveIntegerField(help_text="Days after the outcome.")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PAIN)
    message_key = models.CharField(
        max_length=64,
        help_text="The message text sent (Message texts, one per language; a _gb variant "
        "is used for +44 numbers).",
    )
    active = models.BooleanField(
        default=True, help_text="Inactive steps are not scheduled for anyone new."
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-tier", "offset_days"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "offset_days"], name="one_step_per_day"),
            models.CheckConstraint(
                condition=~Q(tier=int(TierChoices.EMERGENCY)),
                name="no_automatic_emergency_checkins",
            ),
        ]
        verbose_name = "check-in plan step"

    def __str__(self) -> str:
        return f"{TierChoices(self.tier).name.title()} +{self.offset_days}d ({self.message_key})"

    @property
    def offset(self) -> dt.timedelta:
        return dt.timedelta(days=self.offset_days)

    def clean(self) -> None:
        if self.tier == TierChoices.EMERGENCY:
            raise ValidationError(
                {"tier": "Emergencies get no automatic check-ins: a clinician follows them up."}
            )
        if self.message_key and not self.message_key.startswith("checkin."):
            raise ValidationError({"message_key": "Check-in texts are keyed checkin.…"})


class SendingWindow(models.Model):
    """The hours of the person's local day when check-ins may go out (one row)."""

    start = models.TimeField(default=dt.time(9, 0))
    end = models.TimeField(default=dt.time(20, 0))
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "sending window"

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} local time"

    def clean(self) -> None:
        if self.start == self.end:
            raise ValidationError("The window must not be empty: start and end differ.")

    @classmethod
    def current(cls) -> SendingWindow:
        return cls.objects.order_by("pk").first() or cls()


class Checkin(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for send_after
        SENDING = "sending", "Claimed by a dispatcher"  # leased until send_after
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="checkins")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="checkins"
    )
    step = models.ForeignKey(CheckinStep, on_delete=models.PROTECT, related_name="checkins")
    # Copied from the step when scheduled: editing the plan never moves a pending check-in.
    tier = models.IntegerField(choices=TierChoices.choices)
    kind = models.CharField(max_length=8, choices=CheckinStep.Kind.choices)
    message_key = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    # When the row may next be claimed: due_at, a later quiet-hours or retry time, or (while
    # SENDING) the end of the claim's lease. The claim query reads only this and status.
    send_after = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Names the row in the send journal (reminders/journal.py): the token of its first claim,
    # random, so a journal entry written for another database's row with this id never matches.
    journal_key = models.UUIDField(null=True, blank=True, editable=False)
    # Claims that ended with nothing recorded: the worker died or hung past its lease, or its
    # chunk failed after texts went out. While non-zero the journal is read before sending,
    # and the row is sent alone, in its own transaction.
    reclaims = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Consecutive sends of this row (sent alone) during which the worker died. At
    # CHECKIN_MAX_CRASHES the row is failed instead of killing workers forever.
    # db_default: workers of the previous release may still insert rows while this deploys.
    crashes = models.PositiveSmallIntegerField(default=0, db_default=0)
    # When the earliest send still unaccounted for began: its answer never came (Twilio timed
    # out or the connection dropped), so Twilio may have taken it. Before the next try Twilio
    # is asked which texts it took for the number since then. Cleared once recorded sent.
    in_doubt_since = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="checkin"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=32, blank=True)
    # The person's answer (the latest check-in sent takes any reply, however late).
    replied_at = models.DateTimeField(null=True, blank=True)
    pain_score = models.PositiveSmallIntegerField(null=True, blank=True)
    trend = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # One row per step of an episode: scheduling twice cannot create a second.
            models.UniqueConstraint(fields=["conversation", "step"], name="one_checkin_per_step"),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=Q(status__in=["pending", "sending"]),
                name="checkin_claimable",
            ),
            models.Index(fields=["person", "status"], name="checkin_person_status"),
        ]

    def __str__(self) -> str:
        # No message key here: it names the tier, which support staff must not see.
        return f"Check-in for {self.person} due {self.due_at:%Y-%m-%d}"


# Not sent yet: waiting, or claimed by a dispatcher. What cancelling cancels.
OPEN = (Checkin.Status.PENDING, Checkin.Status.SENDING)
