"""The simulator page (/simulator/): staff chat with the service as a phone number would.

Plain forms that POST and redirect back to the page, so it works without JavaScript. Views only
parse the form and call `clinic.simulator`; feedback goes through the messages framework.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic import simulator
from clinic.models import SavedConversation
from triage.conversation import State
from triage.models import Person, TierChoices

PERMISSION = "clinic.use_simulator"
SESSION_COUNTRY = "simulator_country"
MAX_TEXT = 1600  # the longest body Twilio delivers


def simulator_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff log in through the admin; without the simulator permission they get a 403."""

    @staff_member_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _person(request: HttpRequest) -> Person:
    country = request.session.get(SESSION_COUNTRY, "US")
    if country not in simulator.COUNTRIES:
        country = "US"
    return simulator.simulator_person(user_id=request.user.pk, country=country)


def _back(anchor: str = "composer") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("clinic:simulator") + f"#{anchor}")


def _saved_url(request: HttpRequest) -> str:
    if not request.user.has_perm("clinic.view_savedconversation"):
        return ""
    try:
        return reverse("admin:clinic_savedconversation_changelist")
    except NoReverseMatch:  # the saved conversations' admin is not registered
        return ""


@require_GET
@simulator_access
def simulator_page(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    conv = simulator.simulator_conversation(person)
    state = State.from_dict(conv.state if conv else None)
    next_checkin = simulator.simulator_next_checkin(person)
    now = timezone.now()
    context = {
        **admin.site.each_context(request),
        "title": "Simulator",
        "is_nav_sidebar_enabled": False,  # the chat needs the width
        "person": person,
        "country": person.country,
        "countries": [("US", "US (911)"), ("GB", "UK (999)")],
        "bubbles": simulator.simulator_bubbles(person),
        "conversation": conv,
        "tier_label": TierChoices(conv.tier).label if conv and conv.tier is not None else "",
        "reasons": list(conv.reasons) if conv else [],
        "phase": state.phase,
        "pending_question": state.pending or "",
        "days_since_outcome": (now - conv.outcome_at).days if conv and conv.outcome_at else None,
        "next_checkin": next_checkin,
        "next_checkin_days": (
            max(0, round((next_checkin.due_at - now).total_seconds() / 86400))
            if next_checkin
            else None
        ),
        "saved_url": _saved_url(request),
        "saved_count": SavedConversation.objects.filter(created_by=request.user).count(),
        "max_text": MAX_TEXT,
    }
    return render(request, "clinic/simulator.html", context)


@require_POST
@simulator_access
def simulator_text(request: HttpRequest) -> HttpResponse:
    # NUL is legal in a form field but not in a PostgreSQL text column (as in the webhook).
    text = request.POST.get("text", "").replace("\x00", "")[:MAX_TEXT]
    if not text.strip():
        messages.warning(request, "Type a text first.")
        return _back()
    simulator.simulator_send(person=_person(request), text=text)
    return _back()


@require_POST
@simulator_access
def simulator_fire(request: HttpRequest) -> HttpResponse:
    fired = simulator.simulator_fire_next_checkin(person=_person(request))
    if fired is None:
        messages.info(request, "No check-in pending.")
        return _back()
    checkin, shift = fired
    days = round(shift.total_seconds() / 86400)
    messages.success(
        request,
        f"Check-in {checkin.message_key} sent. The clock moved forward {days} day"
        f"{'' if days == 1 else 's'}; reply as the person would.",
    )
    return _back()


@require_POST
@simulator_access
def simulator_reset(request: HttpRequest) -> HttpResponse:
    simulator.simulator_reset(person=_person(request))
    messages.success(request, "Reset: a new conversation starts with your next text.")
    return _back()


@require_POST
@simulator_access
def simulator_country(request: HttpRequest) -> HttpResponse:
    country = request.POST.get("country", "")
    if country in simulator.COUNTRIES:
        request.session[SESSION_COUNTRY] = country
    else:
        messages.error(request, "Choose US or UK.")
    return _back()


@require_POST
@simulator_access
def simulator_save(request: HttpRequest) -> HttpResponse:
    try:
        case = simulator.simulator_save_case(
            person=_person(request),
            name=request.POST.get("name", "")[:120],
            created_by_id=request.user.pk,
        )
    except simulator.SimulatorError as exc:
        messages.error(request, str(exc))
        return _back("save")
    messages.success(
        request,
        f"Saved test conversation {case.name!r}: {len(case.text_list)} texts, expecting "
        f"{case.get_expected_tier_display()}.",
    )
    return _back("save")
