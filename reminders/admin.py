"""Admin: the check-in plan (editable, with history), the sending window (one row), check-ins
(read-only; their answers only for staff who may see conversations)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from reminders.models import Checkin, CheckinStep, SendingWindow
from reminders.services import OPEN, checkins_cancel_for_step, checkins_cancel_open
from triage import defaults as triage_defaults
from triage.admin import ContentHistoryAdmin, _segments_html
from triage.models import ContentMessage, LanguageChoices, mask, redact

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
class CheckinStepAdmin(ContentHistoryAdmin):
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
class SendingWindowAdmin(ContentHistoryAdmin):
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


# What a check-in says about a person's care: shown only with triage.view_conversation.
CLINICAL_FIELDS = frozenset(
    {"tier", "kind", "step", "message_key", "pain_score", "trend", "replied_at", "conversation"}
)


def _clinical(request) -> bool:
    return request.user.has_perm("triage.view_conversation")


class SendInDoubtFilter(admin.SimpleListFilter):
    """Check-ins whose last send got no answer from Twilio, so it may have taken the text:
    pending ones are asked about before their next try; failed ones may still have gone out."""

    title = "send in doubt"
    parameter_name = "in_doubt"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(in_doubt_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(in_doubt_since__isnull=True)
        return queryset


IN_DOUBT_NOTE = (
    "Twilio gave no answer to a send begun then, so it may have taken the text. Twilio is asked "
    "before any further try, and a text it took is recorded as sent, not sent again. If this "
    "check-in failed saying it may have been sent, look for the text in Twilio's console before "
    "sending it by hand."
)


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
    list_filter = ("status", SendInDoubtFilter, "tier", "kind", "message_key")
    date_hierarchy = "due_at"
    search_fields = ("person__address", "provider_sid")
    actions = ["cancel_selected"]
    list_select_related = ("person", "message")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_fields(self, request, obj=None):
        # All read-only. The provider's error text can name the number (Twilio's 21211): shown
        # redacted. Support cancels check-ins without seeing care: no tier, step or answer.
        shown_as = {"last_error": "error", "in_doubt_since": "in_doubt"}
        names = [shown_as.get(f.name, f.name) for f in Checkin._meta.fields]
        return names if _clinical(request) else [n for n in names if n not in CLINICAL_FIELDS]

    def get_list_display(self, request):
        if _clinical(request):
            return self.list_display
        return [f for f in self.list_display if f not in CLINICAL_FIELDS]

    def get_list_filter(self, request):
        if _clinical(request):
            return self.list_filter
        return [f for f in self.list_filter if f not in CLINICAL_FIELDS]

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
            return redact(obj.last_error)[:60] if obj.last_error else "-"
        code = f" ({obj.message.error_code})" if obj.message.error_code else ""
        return format_html("{}{}", obj.message.get_status_display(), code)

    @admin.display(description="last error")
    def error(self, obj: Checkin) -> str:
        return redact(obj.last_error)

    @admin.display(description="send in doubt since")
    def in_doubt(self, obj: Checkin):
        if obj.in_doubt_since is None:
            return "-"
        return format_html(
            '{}<div class="help">{}</div>',
            display_for_value(obj.in_doubt_since, "-"),
            IN_DOUBT_NOTE,
        )

    @admin.action(
        description="Cancel the selected check-ins (those not sent yet)", permissions=["change"]
    )
    def cancel_selected(self, request, queryset) -> None:
        count = checkins_cancel_open(queryset, "cancelled by staff")
        self.message_user(request, f"Cancelled {count} check-in(s).", messages.SUCCESS)
