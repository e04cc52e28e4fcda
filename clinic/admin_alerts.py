"""Admin for clinician alerts: the list on-call staff work from, and acknowledging (which stops
an emergency's reminders). Clinicians (clinic.view_alert / change_alert) and superusers only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from clinic.alerts import alert_acknowledge
from clinic.models import Alert
from triage.admin_people import PersonAdmin
from triage.models import Person, Rule, mask


class AcknowledgedFilter(admin.SimpleListFilter):
    title = "acknowledged"
    parameter_name = "acknowledged"

    def lookups(self, request, model_admin):
        return [("no", "No"), ("yes", "Yes")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(acknowledged_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(acknowledged_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "tier",
        "rule_ids",
        "number",
        "created_at",
        "notify_count",
        "is_acknowledged",
    )
    list_filter = ("kind", AcknowledgedFilter, "created_at")
    list_select_related = ("person",)
    actions = ["acknowledge_selected"]
    fields = (
        "kind",
        "tier",
        "rules",
        "number",
        "conversation_link",
        "created_at",
        "notify_count",
        "notified_at",
        "notify_after",
        "acknowledged_at",
        "acknowledged_by",
    )
    readonly_fields = fields
    change_form_template = "admin/clinic/alert/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False  # alerts come from outcomes only

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/acknowledge/",
                self.admin_site.admin_view(self.acknowledge_view),
                name="clinic_alert_acknowledge",
            )
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: acknowledging is the one change, through its own button.
        extra_context = {
            **(extra_context or {}),
            "title": "Alert",
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def acknowledge_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        alert = self.get_object(request, unquote(object_id))
        if alert is None:
            raise Http404("No such alert.")
        if not self.has_change_permission(request, alert):
            raise PermissionDenied
        if alert_acknowledge(alert_ids=[alert.pk], user=request.user):
            self.message_user(request, "Alert acknowledged: no more reminders.", messages.SUCCESS)
        else:
            self.message_user(request, "This alert was already acknowledged.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:clinic_alert_change", args=[alert.pk]))

    @admin.action(description="Acknowledge selected alerts", permissions=["change"])
    def acknowledge_selected(self, request, queryset) -> None:
        count = alert_acknowledge(
            alert_ids=queryset.values_list("pk", flat=True), user=request.user
        )
        self.message_user(request, f"{count} alert(s) acknowledged.", messages.SUCCESS)

    @admin.display(description="rules")
    def rule_ids(self, obj: Alert) -> str:
        return ", ".join(obj.reasons) or "-"

    @admin.display(description="rules")
    def rules(self, obj: Alert):
        if not obj.reasons:
            return "-"
        found = Rule.objects.in_bulk(obj.reasons)
        return format_html_join(
            "",
            "<div><strong>{}</strong> {}</div>",
            ((r, found[r].question if r in found else "") for r in obj.reasons),
        )

    @admin.display(description="number", ordering="person__address")
    def number(self, obj: Alert):
        url = reverse("admin:triage_person_change", args=[obj.person_id])
        return format_html('<a href="{}">{}</a>', url, mask(obj.person.address))

    @admin.display(description="conversation")
    def conversation_link(self, obj: Alert):
        if obj.conversation_id is None:
            return "-"
        url = reverse("admin:triage_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">Conversation {}</a>', url, obj.conversation_id)

    @admin.display(description="acknowledged", boolean=True, ordering="acknowledged_at")
    def is_acknowledged(self, obj: Alert) -> bool:
        return obj.acknowledged


# ---------------------------------------------------------------- alerts on a person's page


class PersonAlertInline(admin.TabularInline):
    """A person's alerts on their page, newest first, each linking to the alert (where it is
    acknowledged). Shown to whoever may view alerts (clinicians), never to support."""

    model = Alert
    fk_name = "person"
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    fields = ("alert_link", "kind", "tier", "rule_ids", "created_at", "acknowledged_at")
    readonly_fields = fields
    verbose_name_plural = "clinician alerts"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # acknowledging happens on the alert's own page, where it is logged

    @admin.display(description="alert")
    def alert_link(self, obj: Alert) -> str:
        url = reverse("admin:clinic_alert_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, f"#{obj.pk}")

    @admin.display(description="rules")
    def rule_ids(self, obj: Alert) -> str:
        return ", ".join(obj.reasons or []) or "-"


class PersonWithAlertsAdmin(PersonAdmin):
    """triage's person page plus the person's alerts (triage does not know about clinic)."""

    inlines = [*PersonAdmin.inlines, PersonAlertInline]


admin.site.unregister(Person)
admin.site.register(Person, PersonWithAlertsAdmin)
