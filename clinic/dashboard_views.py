"""The dashboard page (/admin/dashboard/): reads the date filter, shows `clinic.dashboard`'s
numbers with `clinic.charts`' SVG inside the admin's look.

Staff with clinic.view_dashboard only (superusers and clinicians); the admin's own login
check comes first, so anonymous visitors land on the admin login page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from clinic.charts import TIER_COLOURS, TIER_NAMES, bucket_label, dashboard_charts
from clinic.dashboard import (
    DAY,
    DEFAULT_DAYS,
    MAX_DAYS,
    TIERS,
    WEEK,
    DateRange,
    dashboard_default_range,
    dashboard_numbers,
    duration_text,
)

PERMISSION = "clinic.view_dashboard"


def dashboard_filter(query: Mapping[str, str], *, today: dt.date) -> tuple[DateRange, list[str]]:
    """The range asked for in ?from=YYYY-MM-DD&to=YYYY-MM-DD&per=day|week, and what was wrong
    with it. A bad range falls back to the last 30 days; a bad grouping to per day."""
    problems = []
    per = (query.get("per") or DAY).strip()
    if per not in (DAY, WEEK):
        problems.append(f"Group per day or per week, not “{per}”; showing per day.")
        per = DAY
    default = dashboard_default_range(today=today, per=per)
    raw_from, raw_to = (query.get("from") or "").strip(), (query.get("to") or "").strip()
    try:
        start = dt.date.fromisoformat(raw_from) if raw_from else None
        end = dt.date.fromisoformat(raw_to) if raw_to else None
    except ValueError:
        problems.append(
            f"Dates are written YYYY-MM-DD (e.g. {today.isoformat()}); "
            f"showing the last {DEFAULT_DAYS} days."
        )
        return default, problems
    if start is None and end is None:
        return default, problems
    # One end given: the other makes a 30-day range with it (an end alone: up to today).
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        problems.append(
            f"The start date {start.isoformat()} is after the end date {end.isoformat()}; "
            f"showing the last {DEFAULT_DAYS} days."
        )
        return default, problems
    if (end - start).days + 1 > MAX_DAYS:
        problems.append(
            f"A range can be at most {MAX_DAYS} days; showing the last {DEFAULT_DAYS} days."
        )
        return default, problems
    return DateRange(start=start, end=end, per=per), problems


def percent_text(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%".replace(".0%", "%")


def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    date_range, problems = dashboard_filter(request.GET, today=timezone.localdate())
    numbers = dashboard_numbers(date_range=date_range)
    per = date_range.per
    outcome_rows = [
        {
            "label": bucket_label(day, per),
            "counts": [numbers.outcomes[day].get(tier, 0) for tier in TIERS],
            "total": sum(numbers.outcomes[day].values()),
        }
        for day in numbers.buckets
        if day in numbers.outcomes
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "problems": problems,
        "date_range": date_range,
        "per_choices": [(DAY, "Per day"), (WEEK, "Per week")],
        "numbers": numbers,
        "charts": dashboard_charts(numbers),
        "tiers": [
            {"name": TIER_NAMES[t], "colour": TIER_COLOURS[t], "total": numbers.tier_totals[t]}
            for t in TIERS
        ],
        "outcome_rows": outcome_rows,
        "median_time": duration_text(numbers.times.median),
        "p90_time": duration_text(numbers.times.p90),
        "reply_rate": percent_text(numbers.replies.rate),
        "persistence_rate": percent_text(numbers.persistence.rate),
    }
    return TemplateResponse(request, "clinic/dashboard.html", context)


# The admin's own checks first: active staff, or the admin login page; never cached.
dashboard_view = admin.site.admin_view(dashboard)
