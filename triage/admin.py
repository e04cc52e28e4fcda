"""Django admin: content staff edit (with SMS segment counts and a history they can revert),
conversations and messages read-only. People are in triage.admin_people.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from triage.models import (
    AnswerWord,
    ContentMessage,
    ContentVersion,
    Conversation,
    Keyword,
    Message,
    Rule,
    mask,
)
from triage.segments import segment_info

# The longest text Twilio takes (10 segments): a history diff shows whole texts, never "[…]".
DIFF_MAX_CHARS = 1600
# Bumped by every save; shown as its own column already, and noise in the list of changes.
DIFF_IGNORED_FIELDS = ["updated_at"]


def _segments_html(text: str):
    info = segment_info(text)
    colour = "green" if info.segments == 1 and info.encoding == "GSM-7" else "#b00"
    extra = f" — UCS-2 because of {' '.join(repr(c) for c in info.non_gsm)}" if info.non_gsm else ""
    return format_html('<span style="color:{}">{}{}</span>', colour, str(info), extra)


class ContentHistoryAdmin(SimpleHistoryAdmin):
    """Content with its history page: when, who and each field's old -> new value; staff who
    may change the content revert to any earlier version from there."""

    def get_historical_record_context_helper(self, request, historical_record):
        return HistoricalRecordContextHelper(
            self.model, historical_record, max_displayed_delta_change_chars=DIFF_MAX_CHARS
        )

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        previous = None
        for current in historical_records:  # newest first: each record diffed with the older
            if previous is not None:
                delta = previous.diff_against(
                    current,
                    excluded_fields=DIFF_IGNORED_FIELDS,
                    foreign_keys_are_objs=foreign_keys_are_objs,
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            # simple-history saves a revert for anyone who may merely view the content.
            obj = self.get_object(request, unquote(object_id))
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
            record = self.model.history.filter(history_id=version_id).first()
            if record is not None:
                when = timezone.localtime(record.history_date)
                request._content_revert_reason = f"Reverted to the version of {when:%Y-%m-%d %H:%M}"
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        reason = getattr(request, "_content_revert_reason", None)
        if reason:
            obj._change_reason = reason
        super().save_model(request, obj, form, change)


@admin.register(ContentMessage)
class ContentMessageAdmin(ContentHistoryAdmin):
    list_display = ("key", "language", "category", "short_text", "segments")
    list_filter = ("category", "language")
    search_fields = ("key", "text", "notes")
    readonly_fields = ("category", "segments", "updated_at")
    fields = ("key", "language", "text", "segments", "notes", "category", "updated_at")

    @admin.display(description="text")
    def short_text(self, obj: ContentMessage) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    @admin.display(description="segments / encoding")
    def segments(self, obj: ContentMessage):
        return _segments_html(obj.text) if obj.text else "-"


@admin.register(AnswerWord)
class AnswerWordAdmin(ContentHistoryAdmin):
    list_display = ("phrase", "meaning", "language")
    list_filter = ("meaning", "language")
    search_fields = ("phrase",)


@admin.register(Keyword)
class KeywordAdmin(ContentHistoryAdmin):
    list_display = ("phrase", "action")
    list_filter = ("action",)
    search_fields = ("phrase",)


@admin.register(Rule)
class RuleAdmin(ContentHistoryAdmin):
    list_display = ("rule_id", "tier", "enabled", "short_question", "short_source")
    list_filter = ("tier", "enabled")
    search_fields = ("rule_id", "question", "trigger", "source", "extra_phrases")
    readonly_fields = ("rule_id", "question_segments", "updated_at")
    fields = (
        "rule_id",
        "tier",
        "enabled",
        "question",
        "question_segments",
        "trigger",
        "source",
        "extra_phrases",
        "test_phrases",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_emergency:
            fields.append("enabled")  # the safety floor: emergency rules are always on
        return fields

    def has_add_permission(self, request) -> bool:
        return False  # a rule's condition is code; a row without code would do nothing

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_emergency:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would bypass the per-row check
        return actions

    @admin.display(description="question")
    def short_question(self, obj: Rule) -> str:
        return obj.question[:70]

    @admin.display(description="source")
    def short_source(self, obj: Rule) -> str:
        return obj.source[:70]

    @admin.display(description="question segments")
    def question_segments(self, obj: Rule):
        return _segments_html(obj.question) if obj.question else "-"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ContentVersion)
class ContentVersionAdmin(ReadOnlyAdmin):
    """Every content change, numbered: the number an outcome records as its content version."""

    list_display = ("id", "created_at", "changed_by", "summary")
    list_filter = ("changed_by",)
    search_fields = ("summary",)
    date_hierarchy = "created_at"
    fields = ("id", "created_at", "changed_by", "summary")
    readonly_fields = fields
    list_select_related = ("changed_by",)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "direction", "body", "status", "error_code", "analysis")


def rule_ids(reasons: list[str]) -> str:
    return ", ".join(reasons) if reasons else "-"


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "person",
        "status",
        "tier",
        "rules",
        "content_version",
        "texts_to_outcome",
        "started_at",
    )
    list_filter = ("tier", "status", "language", "started_at")
    search_fields = ("person__address", "reasons")
    inlines = [MessageInline]
    date_hierarchy = "started_at"
    list_select_related = ("person",)
    fields = (
        "person",
        "status",
        "tier",
        "rules",
        "content_version",
        "language",
        "texts_to_outcome",
        "started_at",
        "outcome_at",
        "updated_at",
        "state",
    )
    readonly_fields = ("rules", "started_at", "updated_at")

    @admin.display(description="rule ids", ordering="reasons")
    def rules(self, obj: Conversation) -> str:
        return rule_ids(obj.reasons)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "direction", "masked", "short_body", "status", "error_code")
    list_filter = ("direction", "status", "created_at")
    search_fields = ("body", "address", "provider_sid")
    date_hierarchy = "created_at"
    # The number masked here too (the address field would show it in full).
    fields = (
        "created_at",
        "person",
        "conversation",
        "direction",
        "masked",
        "body",
        "status",
        "error_code",
        "provider_sid",
        "num_media",
        "media_urls",
        "analysis",
    )
    readonly_fields = ("created_at", "masked")

    @admin.display(description="number")
    def masked(self, obj: Message) -> str:
        return mask(obj.address)

    @admin.display(description="body")
    def short_body(self, obj: Message) -> str:
        return obj.body[:80]


admin.site.site_header = "BackCheck administration"
admin.site.site_title = "BackCheck"
admin.site.index_title = "Content, people and conversations"

from triage import admin_people  # noqa: E402, F401  (registers PersonAdmin)
