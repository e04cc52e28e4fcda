"""CSV exports for clinicians: outcomes (one row per conversation with an outcome) and
transcripts (one row per message), from the Conversation list in admin.

Both are streamed row by row from a database cursor, so exporting a year of texts never holds
it in memory. Reachable as admin actions on the selected conversations and as links that export
what the list shows (its date, tier and other filters). Only staff with
triage.export_conversation may export; simulated people (the simulator) are always left out.
Numbers are masked; times are UTC (ISO 8601).

This module also registers the Conversation admin (triage's, plus the exports) in place of
triage's own: triage never imports from clinic.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Iterable, Iterator

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone

from triage.admin import ConversationAdmin
from triage.models import Conversation, Message, TierChoices, mask

log = logging.getLogger(__name__)

PERMISSION = "triage.export_conversation"

OUTCOME_HEADER = [
    "conversation_id",
    "started_at",
    "outcome_at",
    "tier",
    "rule_ids",
    "texts_to_outcome",
    "content_version",
    "language",
    "country",
    "number",
]
TRANSCRIPT_HEADER = [
    "conversation_id",
    "time",
    "direction",
    "number",
    "body",
    "status",
    "error_code",
]

# A cell starting with one of these is a formula to a spreadsheet; a patient's text must never
# run as one on a clinician's computer (OWASP "CSV injection"), so it gets a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as UTF-8 only with a byte-order mark (masked numbers start with "…").
BOM = "\ufeff"
CHUNK_ROWS = 2000


def _time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _blank(value: object) -> object:
    return "" if value is None else value


def outcome_rows(conversations: QuerySet[Conversation]) -> Iterator[list[object]]:
    """One row per conversation of `conversations` that has an outcome (OUTCOME_HEADER)."""
    rows = (
        conversations.filter(tier__isnull=False, person__simulated=False)
        .order_by("started_at", "id")
        .values_list(
            "id",
            "started_at",
            "outcome_at",
            "tier",
            "reasons",
            "texts_to_outcome",
            "content_version",
            "language",
            "person__country",
            "person__address",
        )
    )
    for (
        cid,
        started,
        outcome,
        tier,
        reasons,
        texts,
        version,
        lang,
        country,
        address,
    ) in rows.iterator(chunk_size=CHUNK_ROWS):
        yield [
            cid,
            _time(started),
            _time(outcome),
            TierChoices(tier).name.lower(),
            " ".join(reasons or []),
            _blank(texts),
            _blank(version),
            lang,
            country,
            mask(address),
        ]


def transcript_rows(conversations: QuerySet[Conversation]) -> Iterator[list[object]]:
    """One row per message of `conversations`, conversation by conversation, in order."""
    rows = (
        Message.objects.filter(conversation__in=conversations.values("pk"), person__simulated=False)
        .order_by("conversation_id", "created_at", "id")
        .values_list(
            "conversation_id", "created_at", "direction", "address", "body", "status", "error_code"
        )
    )
    for cid, created, direction, address, body, status, error_code in rows.iterator(
        chunk_size=CHUNK_ROWS
    ):
        yield [
            cid,
            _time(created),
            direction,
            mask(address),
            _text(body),
            status,
            _blank(error_code),
        ]


class _Echo:
    """csv.writer writes a row here and gets the line back, to stream it."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def csv_response(name: str, header: list[str], rows: Iterable[list[object]]):
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_stream(header, rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="backcheck-{name}-{stamp}.csv"'
    return response


EXPORTS = {
    "outcomes": (OUTCOME_HEADER, outcome_rows),
    "transcripts": (TRANSCRIPT_HEADER, transcript_rows),
}


def conversations_export(request: HttpRequest, kind: str, conversations: QuerySet[Conversation]):
    """The CSV of `kind` for `conversations`; 403 without triage.export_conversation."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    header, rows = EXPORTS[kind]
    log.info("user %s exported %s", request.user.pk, kind)
    return csv_response(kind, header, rows(conversations))


admin.site.unregister(Conversation)


@admin.register(Conversation)
class ExportingConversationAdmin(ConversationAdmin):
    """triage's Conversation admin with CSV exports of the selection or of the filtered list."""

    change_list_template = "admin/triage/conversation/change_list_export.html"
    actions = ["export_outcomes", "export_transcripts"]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(PERMISSION)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        exports = [
            path(
                f"export/{kind}.csv",
                wrap(self.export_view),
                {"kind": kind},
                name=f"triage_conversation_export_{kind}",
            )
            for kind in EXPORTS
        ]
        return exports + super().get_urls()

    def export_view(self, request: HttpRequest, kind: str):
        """What the list shows with the same query string (filters, dates, search), as CSV."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            conversations = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter in the export link.")
        return conversations_export(request, kind, conversations)

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        if self.has_export_permission(request):
            query = request.GET.urlencode()
            context["export_links"] = [
                (
                    f"Export {kind} (CSV)",
                    reverse(f"admin:triage_conversation_export_{kind}")
                    + (f"?{query}" if query else ""),
                )
                for kind in EXPORTS
            ]
        return super().changelist_view(request, context)

    @admin.action(
        description="Export outcomes of the selected conversations (CSV)", permissions=["export"]
    )
    def export_outcomes(self, request, queryset):
        return conversations_export(request, "outcomes", queryset)

    @admin.action(
        description="Export transcripts of the selected conversations (CSV)",
        permissions=["export"],
    )
    def export_transcripts(self, request, queryset):
        return conversations_export(request, "transcripts", queryset)
