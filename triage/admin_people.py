"""Django admin for people: subscription state for support, outcomes and the whole transcript
for clinicians, and the staff actions on a person (resend, cancel check-ins, opt out, erase).

What a page shows follows the user's permissions: the clinical parts (conversations, check-in
answers, transcript) need triage.view_conversation / triage.view_message; everyone who may view
a person sees the subscription fields and when check-ins are due. Numbers are always masked.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from reminders.models import Checkin
from reminders.services import OPEN, checkins_cancel
from triage.models import Conversation, Message, Person, mask
from triage.privacy import person_erase, person_opt_out
from triage.services import ResendRefused, message_resend_last, person_text_refusal

PERM_CLINICAL = "triage.view_conversation"
PERM_TRANSCRIPT = "triage.view_message"
PERM_RESEND = "triage.resend_message"
PERM_CANCEL = "reminders.change_checkin"
PERM_OPT_OUT = "triage.opt_out_person"
PERM_ERASE = "triage.erase_person"


def _when(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


def person_subscription(person: Person) -> str:
    """One line a support agent can read out: can this person be texted, and if not why."""
    states = []
    if person.erased_at:
        states.append(f"Erased {_when(person.erased_at)}")
    if person.opted_out_at:
        states.append(f"Opted out {_when(person.opted_out_at)}")
    if person.number_invalid_at:
        states.append(f"Number cannot receive texts since {_when(person.number_invalid_at)}")
    if person.kind != Person.Kind.PHONE:
        states.append(f"Not texted: {person.get_kind_display().lower()}")
    if person.simulated:
        states.append("Simulated (a staff member in the simulator)")
    return "; ".join(states) or "Subscribed: receives texts and check-ins"


def _url_name(action: str) -> str:
    return "triage_person_" + action.replace("-", "_")  # admin:triage_person_opt_out


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """Read-only but for the time zone, which staff set when a person tells them theirs."""

    list_display = (
        "masked",
        "channel",
        "kind",
        "country",
        "language",
        "subscription",
        "created_at",
    )
    list_filter = (
        "channel",
        "kind",
        "language",
        "country",
        "simulated",
        ("opted_out_at", admin.EmptyFieldListFilter),
        ("number_invalid_at", admin.EmptyFieldListFilter),
        ("erased_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("address", "phone")  # the full number finds them; lists show it masked
    fields = (
        "masked",
        "subscription",
        "channel",
        "kind",
        "country",
        "language",
        "timezone",
        "opted_out_at",
        "number_invalid_at",
        "erased_at",
        "simulated",
        "created_at",
    )
    actions = ["opt_out_selected", "cancel_checkins_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.fields if f != "timezone"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # erase keeps the counts; deleting would lose them

    def has_opt_out_permission(self, request) -> bool:
        return request.user.has_perm(PERM_OPT_OUT)

    def has_cancel_checkins_permission(self, request) -> bool:
        return request.user.has_perm(PERM_CANCEL)

    @admin.display(description="number", ordering="address")
    def masked(self, obj: Person) -> str:
        return "(erased)" if obj.erased_at else mask(obj.address)

    @admin.display(description="subscription")
    def subscription(self, obj: Person) -> str:
        return person_subscription(obj)

    # ------------------------------------------------------------ the person's page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        person = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if person is not None and self.has_view_or_change_permission(request, person):
            context.update(self._page_context(request, person))
        return super().change_view(request, object_id, form_url, context)

    def _page_context(self, request: HttpRequest, person: Person) -> dict:
        user = request.user
        clinical = user.has_perm(PERM_CLINICAL)
        checkins = list(Checkin.objects.filter(person=person).select_related("message"))
        context = {
            "clinical": clinical,
            "transcript_allowed": user.has_perm(PERM_TRANSCRIPT),
            "pending_checkins": [c for c in checkins if c.status in OPEN],
            "past_checkins": [c for c in checkins if c.status not in OPEN],
            "refusal": person_text_refusal(person),
            "can_resend": user.has_perm(PERM_RESEND),
            "can_cancel": user.has_perm(PERM_CANCEL),
            "can_opt_out": user.has_perm(PERM_OPT_OUT),
            "can_erase": user.has_perm(PERM_ERASE),
        }
        if clinical:
            context["outcomes"] = [
                {
                    "conversation": conv,
                    "rules": ", ".join(conv.reasons) or "-",
                    "url": reverse("admin:triage_conversation_change", args=[conv.pk]),
                }
                for conv in person.conversations.order_by("started_at", "id")
            ]
        if context["transcript_allowed"]:
            context["transcript"] = Message.objects.filter(person=person).order_by(
                "created_at", "id"
            )
        return context

    # ------------------------------------------------------------ actions on one person

    def get_urls(self):
        wrap = self.admin_site.admin_view  # staff only, CSRF-checked
        posts = {
            "resend": self.resend_view,
            "cancel-checkins": self.cancel_checkins_view,
            "opt-out": self.opt_out_view,
        }
        actions = [
            path(f"<path:object_id>/{name}/", wrap(require_POST(view)), name=_url_name(name))
            for name, view in posts.items()
        ]
        # GET: the confirmation page; POST confirm=yes: erase.
        actions.append(
            path("<path:object_id>/erase/", wrap(self.erase_view), name="triage_person_erase")
        )
        return actions + super().get_urls()

    def _person_for(self, request: HttpRequest, object_id: str, permission: str) -> Person:
        person = self.get_object(request, unquote(object_id))
        if person is None:
            raise Http404("No such person.")
        if not (
            self.has_view_or_change_permission(request, person)
            and request.user.has_perm(permission)
        ):
            raise PermissionDenied
        return person

    def _back(self, person: Person) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:triage_person_change", args=[person.pk]))

    def resend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        person = self._person_for(request, object_id, PERM_RESEND)
        try:
            message = message_resend_last(person_id=person.pk)
        except ResendRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return self._back(person)
        if message.status == Message.Status.FAILED:
            self.log_change(request, person, f"Resend failed (error {message.error_code}).")
            self.message_user(
                request,
                f"Twilio did not accept the text (error {message.error_code or 'unknown'}).",
                messages.ERROR,
            )
        else:
            self.log_change(request, person, f"Resent the last text (message {message.pk}).")
            self.message_user(request, "The last text was sent again.", messages.SUCCESS)
        return self._back(person)

    def cancel_checkins_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        person = self._person_for(request, object_id, PERM_CANCEL)
        count = checkins_cancel(person, "staff")
        self.log_change(request, person, f"Cancelled {count} pending check-in(s).")
        self.message_user(request, f"Cancelled {count} pending check-in(s).", messages.SUCCESS)
        return self._back(person)

    def opt_out_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        person = self._person_for(request, object_id, PERM_OPT_OUT)
        person_opt_out(person, reason="staff")
        self.log_change(request, person, "Opted out by staff: no more texts or check-ins.")
        self.message_user(request, "Opted out: this person gets no more texts.", messages.SUCCESS)
        return self._back(person)

    def erase_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        person = self._person_for(request, object_id, PERM_ERASE)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            person_erase(person)
            self.log_change(request, person, "Erased messages and answers.")
            self.message_user(request, "Erased: messages and answers are gone.", messages.SUCCESS)
            return self._back(person)
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase this person's messages and answers?",
            "opts": self.opts,
            "object": person,
            "masked": mask(person.address),
            "messages_count": Message.objects.filter(person=person).count(),
            "conversations_count": Conversation.objects.filter(person=person).count(),
            "checkins_count": Checkin.objects.filter(person=person).count(),
            "change_url": reverse("admin:triage_person_change", args=[person.pk]),
        }
        return TemplateResponse(request, "admin/triage/person/erase_confirmation.html", context)

    # ------------------------------------------------------------ actions on a selection

    @admin.action(description="Opt the selected people out", permissions=["opt_out"])
    def opt_out_selected(self, request, queryset) -> None:
        people = list(queryset)
        for person in people:
            person_opt_out(person, reason="staff")
            self.log_change(request, person, "Opted out by staff: no more texts or check-ins.")
        self.message_user(request, f"Opted out {len(people)} people.", messages.SUCCESS)

    @admin.action(
        description="Cancel pending check-ins of the selected people",
        permissions=["cancel_checkins"],
    )
    def cancel_checkins_selected(self, request, queryset) -> None:
        total = 0
        for person in queryset:
            count = checkins_cancel(person, "staff")
            total += count
            self.log_change(request, person, f"Cancelled {count} pending check-in(s).")
        self.message_user(request, f"Cancelled {total} pending check-in(s).", messages.SUCCESS)
