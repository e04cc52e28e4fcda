"""The clinic's side of the service: alerts for clinicians and saved test conversations.

`clinic` may import from `triage` and `reminders`; they never import from here (triage tells
the clinic about outcomes through the signals in `triage.signals`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from triage.models import Conversation, LanguageChoices, Person, TierChoices


class Alert(models.Model):
    """Something a clinician must look at. A row, so no notification is ever lost: the
    notifier (`clinic.alerts`) sends the due ones and re-notifies unacknowledged emergencies."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", "Emergency outcome"  # told to call 911/999 now
        URGENT = "urgent", "Urgent outcome"  # told to see a clinician today
        UNPARSED = "unparsed", "Text not understood after a re-ask"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="alerts")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    tier = models.IntegerField(choices=TierChoices.choices, null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True, help_text="Rule ids behind the tier.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the notifier should (re-)notify on-call staff; null once nothing more is due.
    notify_after = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_count = models.PositiveSmallIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["notify_after"],
                condition=Q(notify_after__isnull=False),
                name="alert_notify_due",
            )
        ]
        permissions = [("view_dashboard", "Can view the dashboard")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.person}"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class SavedConversation(models.Model):
    """A regression case: texts a person sends and the tier they must end with."""

    name = models.CharField(max_length=120, unique=True)
    texts = models.TextField(help_text="What the person texts, one message per line.")
    expected_tier = models.IntegerField(choices=TierChoices.choices)
    language = models.CharField(
        max_length=8, choices=LanguageChoices.choices, blank=True, help_text="Blank: detected."
    )
    uk_number = models.BooleanField(
        default=False, help_text="Texted from a +44 number (999 / A&E wording)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_passed = models.BooleanField(null=True, blank=True)
    last_result = models.TextField(blank=True, help_text="The replies and tier of the last run.")

    class Meta:
        ordering = ["name"]
        verbose_name = "saved test conversation"
        permissions = [("use_simulator", "Can chat with the service in the simulator")]

    def __str__(self) -> str:
        return self.name

    @property
    def text_list(self) -> list[str]:
        return [line.strip() for line in self.texts.splitlines() if line.strip()]
