"""Admin for saved test conversations (run them against the current content).

Content editors keep a list of texts with the tier each must end at; "Run all" (changelist),
"Run selected" (action) and "Run" (change page) replay them through the engine with the content
as it is now and show PASS/FAIL and the transcript. Running writes the case's last result, so it
needs the change permission.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from clinic.models import SavedConversation
from clinic.testcases import Result, testcase_run, testcases_run


def _badge(passed: bool | None):
    if passed is None:
        return format_html('<span class="clinic-badge clinic-badge--none">{}</span>', "not run")
    if passed:
        return format_html('<span class="clinic-badge clinic-badge--pass">{}</span>', "PASS")
    return format_html('<span class="clinic-badge clinic-badge--fail">{}</span>', "FAIL")


@admin.register(SavedConversation)
class SavedConversationAdmin(admin.ModelAdmin):
    list_display = ("name", "result", "expected_tier", "language", "uk_number", "last_run_at")
    list_filter = ("last_passed", "expected_tier", "language", "uk_number")
    search_fields = ("name", "texts")
    actions = ["run_selected"]
    readonly_fields = ("result", "last_run_at", "transcript", "created_by", "created_at")
    fieldsets = [
        (None, {"fields": ("name", "texts", "expected_tier", "language", "uk_number")}),
        ("Last run", {"fields": ("result", "last_run_at", "transcript")}),
        ("Created", {"fields": ("created_by", "created_at"), "classes": ("collapse",)}),
    ]

    @admin.display(description="last result", ordering="last_passed")
    def result(self, obj: SavedConversation):
        return _badge(obj.last_passed)

    @admin.display(description="transcript")
    def transcript(self, obj: SavedConversation):
        if not obj.last_result:
            return "-"
        return format_html('<pre class="clinic-transcript">{}</pre>', obj.last_result)

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    # ------------------------------------------------------------ running

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "run-all/",
                self.admin_site.admin_view(self.run_all_view),
                name="{}_{}_run_all".format(*info),
            ),
            path(
                "<path:object_id>/run/",
                self.admin_site.admin_view(self.run_view),
                name="{}_{}_run".format(*info),
            ),
        ]
        return own + super().get_urls()

    def has_run_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.has_run_permission(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.has_run_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def run_all_view(self, request: HttpRequest):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_run_permission(request):
            raise PermissionDenied
        self._report(request, testcases_run())
        return HttpResponseRedirect(reverse("admin:clinic_savedconversation_changelist"))

    def run_view(self, request: HttpRequest, object_id: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_run_permission(request):
            raise PermissionDenied
        case = get_object_or_404(SavedConversation, pk=object_id)
        self._report(request, [testcase_run(case)])
        return HttpResponseRedirect(
            reverse("admin:clinic_savedconversation_change", args=[case.pk])
        )

    @admin.action(description="Run selected test conversations", permissions=["change"])
    def run_selected(self, request: HttpRequest, queryset) -> None:
        self._report(request, testcases_run(queryset.order_by("name")))

    def _report(self, request: HttpRequest, results: list[Result]) -> None:
        if not results:
            self.message_user(request, "No saved test conversations to run.", messages.WARNING)
            return
        failed = [r for r in results if not r.passed]
        for r in failed:
            self.message_user(request, f"FAIL {r.case.name}: {r.summary}", messages.ERROR)
        passed = len(results) - len(failed)
        level = messages.ERROR if failed else messages.SUCCESS
        self.message_user(request, f"{passed} of {len(results)} passed.", level)
