"""People, their conversations and every message in and out; and the content staff edit in admin.

The conversation logic itself is pure (`triage.conversation`); a Conversation row only stores its
state as JSON next to the outcome (tier and rule ids) that clinicians browse.
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from triage.rules import EMERGENCY_RULE_IDS, RULE_TIERS, Tier
from triage.segments import segment_info


class TierChoices(models.IntegerChoices):
    ROUTINE = int(Tier.ROUTINE), "Routine (self-care)"
    SOON = int(Tier.SOON), "Soon (1-2 weeks)"
    URGENT = int(Tier.URGENT), "Urgent (today)"
    EMERGENCY = int(Tier.EMERGENCY), "Emergency (911 now)"


class LanguageChoices(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Spanish"


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    if value and value not in _timezone_names():
        raise ValidationError(f"{value!r} is not a time zone name (e.g. Europe/London).")


class Person(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone number"
        SHORT_CODE = "short_code", "Short code"  # automated senders: logged, never answered
        OTHER = "other", "Not a phone number"

    address = models.CharField(max_length=64, unique=True, help_text="As Twilio sends it in From.")
    phone = models.CharField(
        max_length=32, blank=True, help_text="E.164 when it is a phone number."
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SMS)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PHONE)
    country = models.CharField(max_length=2, blank=True, help_text="Region of the number.")
    language = models.CharField(max_length=8, choices=LanguageChoices.choices, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    number_invalid_at = models.DateTimeField(
        null=True, blank=True, help_text="Twilio said this number cannot receive texts."
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="IANA name, e.g. America/Chicago. Blank: guessed from the number.",
    )
    simulated = models.BooleanField(
        default=False,
        help_text="A staff member in the simulator: never texted, left out of the dashboard.",
    )
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="Messages and answers erased; only counts remain."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "people"
        permissions = [
            ("opt_out_person", "Can opt a person out of all texts"),
            ("erase_person", "Can erase a person's messages and answers"),
        ]

    def __str__(self) -> str:
        return mask(self.address)

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


def mask(address: str) -> str:
    """All but the last four characters hidden, for logs and lists."""
    return "…" + address[-4:] if len(address) > 4 else "…"


_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,}\d")


def redact(text: str) -> str:
    """Phone-number-like runs masked, e.g. in a provider's error ("The 'To' number +1555…")."""
    return _PHONE_LIKE.sub(lambda m: mask(re.sub(r"\D", "", m.group())), text)


class Conversation(models.Model):
    """One triage episode: from the first text (or RESTART) to an outcome and beyond."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"  # the person's current episode; at most one
        CLOSED = "closed", "Closed"  # replaced by a newer episode (RESTART)
        STOPPED = "stopped", "Stopped"  # the person opted out

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    state = models.JSONField(default=dict)
    tier = models.IntegerField(choices=TierChoices.choices, null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True, help_text="Rule ids behind the tier.")
    language = models.CharField(max_length=8, blank=True)
    texts_to_outcome = models.PositiveIntegerField(null=True, blank=True)
    content_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The content version in use when the outcome was given."
    )
    started_at = models.DateTimeField(auto_now_add=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="one_active_conversation_per_person",
            )
        ]
        indexes = [models.Index(fields=["tier", "outcome_at"])]
        permissions = [("export_conversation", "Can export outcomes and transcripts as CSV")]

    def __str__(self) -> str:
        return f"Conversation {self.pk} with {self.person}"


class Message(models.Model):
    """Every SMS in and out, as sent or received. Inbound MessageSid is unique: idempotency."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"  # inbound, handled
        IGNORED = "ignored", "Ignored"  # inbound we do not answer (short code, opted out)
        REPLIED = "replied", "Replied in TwiML"  # outbound, in the webhook response
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"

    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    address = models.CharField(max_length=64)
    body = models.TextField(blank=True)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    num_media = models.PositiveSmallIntegerField(default=0)
    media_urls = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error_code = models.IntegerField(null=True, blank=True)
    analysis = models.JSONField(default=dict, blank=True, help_text="What the service read.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("resend_message", "Can resend a text to a person")]
        indexes = [
            # A sender's recent texts: the inbound rate limit and loop guard read this.
            models.Index(fields=["person", "direction", "created_at"], name="message_person_recent")
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {mask(self.address)}"


# ---------------------------------------------------------------- content


class ContentMessage(models.Model):
    class Category(models.TextChoices):
        QUESTION = "q", "Question"
        OUTCOME = "outcome", "Outcome"
        SYSTEM = "sys", "System"
        CHECKIN = "checkin", "Check-in"

    key = models.CharField(max_length=64)
    language = models.CharField(max_length=8, choices=LanguageChoices.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    text = models.TextField()
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="one_text_per_key_language")
        ]
        ordering = ["category", "key", "language"]
        verbose_name = "message text"

    def __str__(self) -> str:
        return f"{self.key} [{self.language}]"

    def save(self, *args, **kwargs):
        self.category = self.key.split(".", 1)[0] if "." in self.key else self.Category.SYSTEM
        super().save(*args, **kwargs)

    @property
    def segments(self):
        return segment_info(self.text)


class AnswerWord(models.Model):
    class Meaning(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNSURE = "unsure", "Unsure (re-ask)"

    language = models.CharField(max_length=8, choices=LanguageChoices.choices)
    phrase = models.CharField(max_length=64)
    meaning = models.CharField(max_length=8, choices=Meaning.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["language", "phrase"], name="one_meaning_per_phrase")
        ]
        ordering = ["language", "meaning", "phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} = {self.meaning}"


class Keyword(models.Model):
    class Action(models.TextChoices):
        OPT_OUT = "opt_out", "Opt out (STOP)"
        OPT_IN = "opt_in", "Opt back in (START)"
        HELP = "help", "Help (HELP)"
        RESTART = "restart", "Start a new check"
        LANG_EN = "lang_en", "Switch to English"
        LANG_ES = "lang_es", "Switch to Spanish"

    phrase = models.CharField(max_length=64, unique=True, help_text="Matched as the whole text.")
    action = models.CharField(max_length=16, choices=Action.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["action", "phrase"]

    def __str__(self) -> str:
        return self.phrase


class Rule(models.Model):
    """A red-flag rule's content. Its condition is code (triage.rules); this is the rest."""

    rule_id = models.CharField(max_length=8, primary_key=True)
    tier = models.IntegerField(choices=TierChoices.choices)
    question = models.TextField(blank=True, help_text="The question as in the clinical table.")
    trigger = models.TextField(blank=True)
    source = models.TextField(help_text="Citation: where this rule comes from.")
    enabled = models.BooleanField(default=True)
    extra_phrases = models.TextField(
        blank=True,
        help_text="More ways people say this, one per line. Added to the built-in vocabulary.",
    )
    test_phrases = models.TextField(
        blank=True,
        help_text="Texts that must always trigger this rule, one per line; checked before "
        "publishing (an edit that stops one matching is flagged).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(rule_id__startswith="E") | Q(enabled=True),
                name="emergency_rules_always_enabled",
            )
        ]

    def __str__(self) -> str:
        return self.rule_id

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_emergency:
            raise ValidationError("Emergency rules cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_emergency(self) -> bool:
        return self.rule_id in EMERGENCY_RULE_IDS

    def clean(self) -> None:
        floor = RULE_TIERS.get(self.rule_id)
        if floor is not None and self.tier < floor:
            raise ValidationError({"tier": f"{self.rule_id} cannot be lower than {floor.name}."})
        if self.is_emergency and not self.enabled:
            raise ValidationError({"enabled": "Emergency rules are a safety floor: always on."})


class ContentVersion(models.Model):
    """One row per content change (any message, answer word, keyword, rule or check-in step).

    Its id is the content version an outcome records (Conversation.content_version); the
    content as it was then is the objects' history as of `created_at`.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=200)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"v{self.pk}: {self.summary}"


class Suppression(models.Model):
    """A number that must never be texted again, kept as a hash after its person was erased."""

    address_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"suppressed {self.address_hash[:12]}…"
