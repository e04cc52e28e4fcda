"""Django admin: content staff edit (with SMS segment counts), people and transcripts read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from reminders.models import Checkin
from triage.models import (
    AnswerWord,
    ContentMessage,
    Conversation,
    Keyword,
    Message,
    Person,
    Rule,
    mask,
)
from triage.segments import segment_info


def _segments_html(text: str):
    info = segment_info(text)
    colour = "green" if info.segments == 1 and info.encoding == "GSM-7" else "#b00"
    extra = f" — UCS-2 because of {' '.join(repr(c) for c in info.non_gsm)}" if info.non_gsm else ""
    return format_html('<span style="color:{}">{}{}</span>', colour, str(info), extra)


@admin.register(ContentMessage)
class ContentMessageAdmin(admin.ModelAdmin):
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
class AnswerWordAdmin(admin.ModelAdmin):
    list_display = ("phrase", "meaning", "language")
    list_filter = ("meaning", "language")
    search_fields = ("phrase",)


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ("phrase", "action")
    list_filter = ("action",)
    search_fields = ("phrase",)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
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


class ConversationInline(ReadOnlyInline):
    model = Conversation
    fields = ("started_at", "status", "tier", "reasons", "texts_to_outcome", "outcome_at")
    show_change_link = True


class CheckinInline(ReadOnlyInline):
    model = Checkin
    fields = ("due_at", "message_key", "status", "sent_at", "pain_score", "trend", "replied_at")
    ordering = ("due_at",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Read-only but for the time zone, which staff set when a person tells them theirs."""

    list_display = (
        "masked",
        "channel",
        "kind",
        "country",
        "language",
        "opted_out_at",
        "created_at",
    )
    list_filter = (
        "channel",
        "kind",
        "language",
        "country",
        ("opted_out_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("address", "phone")
    inlines = [ConversationInline, CheckinInline]
    fields = (
        "masked",
        "channel",
        "kind",
        "country",
        "language",
        "timezone",
        "opted_out_at",
        "number_invalid_at",
        "created_at",
    )

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.fields if f != "timezone"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="number", ordering="address")
    def masked(self, obj: Person) -> str:
        return mask(obj.address)


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "status", "tier", "reasons", "texts_to_outcome", "started_at")
    list_filter = ("tier", "status", "language", "started_at")
    search_fields = ("person__address", "reasons")
    inlines = [MessageInline]
    date_hierarchy = "started_at"


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "direction", "masked", "short_body", "status", "error_code")
    list_filter = ("direction", "status", "created_at")
    search_fields = ("body", "address", "provider_sid")
    date_hierarchy = "created_at"

    @admin.display(description="number")
    def masked(self, obj: Message) -> str:
        return mask(obj.address)

    @admin.display(description="body")
    def short_body(self, obj: Message) -> str:
        return obj.body[:80]


admin.site.site_header = "BackCheck administration"
admin.site.site_title = "BackCheck"
admin.site.index_title = "Content, people and conversations"
