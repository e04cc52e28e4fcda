"""Admin: the check-in plan (editable), the sending window (one row), check-ins (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from reminders.models import Checkin, CheckinStep, SendingWindow
from reminders.services import OPEN, checkins_cancel_for_step, checkins_cancel_open
from triage import defaults as triage_defaults
from triage.admin import _segments_html
from triage.models import ContentMessage, LanguageChoices, mask

PENDING_NOTE = (
    "Changes apply to people whose check-ins are scheduled after you save (at their next "
    "outcome). Check-ins already pending keep their step and due time; their wording is read "
    "when they are sent, so edits to the message texts do reach them. To stop the pending "
    "check-ins of a step, select it in the list and run 'Cancel pending check-ins'."
)


def _message_texts(key: str) -> dict[str, str]:
    texts = dict(triage_defaults.MESSAGES.get(key, {}))
    for language, text in ContentMessage.objects.filter(key=key).values_list("language", "text"):
        texts[language] = text
    return texts


class CheckinStepForm(forms.ModelForm):
    class Meta:
        model = CheckinStep
        fields = ("tier", "offset_days", "kind", "message_key", "active")

    def clean_message_key(self) -> str:
        key = self.cleaned_data["message_key"]
        if key.startswith("checkin.") and not _message_texts(key):
            raise ValidationError(
                f"No message text has the key {key}: add it under Message texts first."
            )
        return key


@admin.register(CheckinStep)
class CheckinStepAdmin(admin.ModelAdmin):
    form = CheckinStepForm
    list_display = ("tier", "offset_days", "kind", "message_key", "active", "pending")
    list_filter = ("tier", "active", "kind")
    readonly_fields = ("texts", "updated_at")
    fieldsets = [
        (
            None,
            {
                "description": PENDING_NOTE,
                "fields": ("tier", "offset_days", "kind", "message_key", "texts", "active"),
            },
        ),
        ("History", {"fields": ("updated_at",)}),
    ]
    actions = ["cancel_pending"]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"subtitle": PENDING_NOTE, **(extra_context or {})})

    @admin.display(description="pending check-ins")
    def pending(self, obj: CheckinStep) -> int:
        return obj.checkins.filter(status__in=OPEN).count()

    @admin.display(description="texts sent (edit them under Message texts)")
    def texts(self, obj: CheckinStep):
        texts = _message_texts(obj.message_key) if obj.message_key else {}
        if not texts:
            return "-"
        return format_html_join(
            "",
            "<p><b>{}</b>: {}<br>{}</p>",
            (
                (LanguageChoices(lang).label, text, _segments_html(text))
                for lang, text in sorted(texts.items())
                if lang in LanguageChoices.values
            ),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Sent and pending check-ins point at their step: retire a step with "active" instead.
        return obj is not None and not obj.checkins.exists()

    @admin.action(description="Cancel pending check-ins of the selected steps")
    def cancel_pending(self, request, queryset) -> None:
        total = sum(checkins_cancel_for_step(step) for step in queryset)
        self.message_user(request, f"Cancelled {total} pending check-in(s).", messages.SUCCESS)


@admin.register(SendingWindow)
class SendingWindowAdmin(admin.ModelAdmin):
    list_display = ("__str__", "start", "end", "updated_at")
    fields = ("start", "end", "updated_at")
    readonly_fields = ("updated_at",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["start"].help_text = (
            "Check-ins go out only between these times of the person's local day (their time "
            "zone, else their number's). Emergency advice and replies to texts ignore this."
        )
        return form

    def has_add_permission(self, request) -> bool:
        return not SendingWindow.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Checkin)
class CheckinAdmin(admin.ModelAdmin):
    list_display = (
        "due_at",
        "masked",
        "tier",
        "message_key",
        "status",
        "attempts",
        "sent_at",
        "pain_score",
        "trend",
        "delivery",
        "cancelled_reason",
    )
    list_filter = ("status", "tier", "kind", "message_key")
    date_hierarchy = "due_at"
    search_fields = ("person__address", "provider_sid")
    actions = ["cancel_selected"]
    list_select_related = ("person", "message")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Checkin._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # check-ins come from outcomes, never by hand

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="number", ordering="person__address")
    def masked(self, obj: Checkin) -> str:
        return mask(obj.person.address)

    @admin.display(description="delivery")
    def delivery(self, obj: Checkin):
        if obj.message is None:
            return obj.last_error[:60] if obj.last_error else "-"
        code = f" ({obj.message.error_code})" if obj.message.error_code else ""
        return format_html("{}{}", obj.message.get_status_display(), code)

    @admin.action(description="Cancel the selected check-ins (those not sent yet)")
    def cancel_selected(self, request, queryset) -> None:
        count = checkins_cancel_open(queryset, "cancelled by staff")
        self.message_user(request, f"Cancelled {count} check-in(s).", messages.SUCCESS)
