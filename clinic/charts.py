"""Bar charts as inline SVG, drawn on the server: no JavaScript, no library, nothing fetched.

Each chart is an image with a title and a description for screen readers, labelled axes and a
<title> on every bar (the browser shows it as a tooltip). The page puts the same numbers in a
table. Tiers have one colour everywhere (TIER_COLOURS).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from clinic.dashboard import TIERS, WEEK, Dashboard
from triage.models import TierChoices

# Green to dark red as the tier rises; distinct in lightness too, for colour-blind readers.
TIER_COLOURS = {
    int(TierChoices.ROUTINE): "#4f9d69",
    int(TierChoices.SOON): "#e3b505",
    int(TierChoices.URGENT): "#e0621b",
    int(TierChoices.EMERGENCY): "#8e1021",
}
TIER_NAMES = {int(value): label for value, label in TierChoices.choices}
OPT_OUT_COLOUR = "#5b6c8f"
FAILED_TEXT_COLOUR = "#a23b72"
FAILED_CHECKIN_COLOUR = "#d98cb3"

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 40, 64  # room for the y labels, legend and x labels
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[int]


def bar_chart_svg(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    ticks: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    y_label: str,
) -> SafeString:
    """Bars stacked per label, bottom up in the order of `series`; a bar per non-zero value.

    `labels` name each column in tooltips ("Mon 3 Mar 2025"); `ticks` are the short x-axis
    texts ("3 Mar"), thinned out so they never overlap.
    """
    count = len(labels)
    totals = [sum(s.values[i] for s in series) for i in range(count)]
    top, step = _scale(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(count, 1)
    bar_w = max(slot * 0.7, 0.5)
    base = TOP + plot_h

    def y_of(value: float) -> float:
        return base - value / top * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="clinic-chart" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    # y axis: grid lines and values
    out.append('<g class="y-axis" font-size="11" text-anchor="end" fill="#555">')
    for i in range(int(top / step) + 1):
        value = i * step
        y = _f(y_of(value))
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#ddd" />'
            f'<text x="{LEFT - 6}" y="{_f(y_of(value) + 4)}">{value}</text>'
        )
    out.append("</g>")
    out.append(
        f'<text class="axis-label" font-size="12" fill="#333" text-anchor="middle" '
        f'transform="translate(14 {_f(TOP + plot_h / 2)}) rotate(-90)">{escape(y_label)}</text>'
    )
    # bars
    out.append('<g class="bars">')
    for i, label in enumerate(labels):
        x = LEFT + i * slot + (slot - bar_w) / 2
        stacked = 0
        for s in series:
            value = s.values[i]
            if not value:
                continue
            y_top = y_of(stacked + value)
            out.append(
                f'<rect class="bar" x="{_f(x)}" y="{_f(y_top)}" width="{_f(bar_w)}" '
                f'height="{_f(y_of(stacked) - y_top)}" fill="{s.colour}" '
                f'data-series="{escape(s.name)}" data-value="{value}">'
                f"<title>{escape(label)}: {escape(s.name)} {value}</title></rect>"
            )
            stacked += value
    out.append("</g>")
    # x axis: baseline, thinned-out tick labels, axis name
    every = math.ceil(count / MAX_X_LABELS) if count else 1
    out.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#888" />'
        '<g class="x-axis" font-size="11" text-anchor="middle" fill="#555">'
    )
    for i in range(0, count, every):
        out.append(
            f'<text x="{_f(LEFT + (i + 0.5) * slot)}" y="{base + 16}">{escape(ticks[i])}</text>'
        )
    out.append("</g>")
    out.append(
        f'<text class="axis-label" font-size="12" fill="#333" text-anchor="middle" '
        f'x="{_f(LEFT + plot_w / 2)}" y="{HEIGHT - 12}">{escape(x_label)}</text>'
    )
    if not any(totals):
        out.append(
            f'<text font-size="14" fill="#777" text-anchor="middle" x="{_f(LEFT + plot_w / 2)}" '
            f'y="{_f(TOP + plot_h / 2)}">Nothing in this range</text>'
        )
    out.append(_legend(series))
    out.append("</svg>")
    return mark_safe("".join(out))  # every text in it went through escape()


def _legend(series: Sequence[Series]) -> str:
    out = ['<g class="legend" font-size="12" fill="#333">']
    x = LEFT
    for s in series:
        out.append(
            f'<rect x="{x}" y="12" width="12" height="12" fill="{s.colour}" />'
            f'<text x="{x + 16}" y="22">{escape(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    out.append("</g>")
    return "".join(out)


def _scale(largest: int) -> tuple[int, int]:
    """The axis top and grid step: 1, 2 or 5 times a power of ten, about five lines."""
    if largest <= 0:
        return 1, 1
    rough = largest / 5
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return step * math.ceil(largest / step), step


def _f(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


# ------------------------------------------------------------------ the dashboard's charts


def bucket_label(day: dt.date, per: str) -> str:
    """ "Mon 3 Mar 2025" or "Week of 3 Mar 2025" (no %-d: not every platform has it)."""
    date = f"{day.day} {day:%b %Y}"
    return f"Week of {date}" if per == WEEK else f"{day:%a} {date}"


def dashboard_charts(dashboard: Dashboard) -> dict[str, SafeString]:
    """The dashboard's three charts: outcomes by tier, opt-outs, delivery failures."""
    per = dashboard.date_range.per
    buckets = dashboard.buckets
    labels = [bucket_label(day, per) for day in buckets]
    years = dashboard.date_range.start.year != dashboard.date_range.end.year
    ticks = [f"{day.day} {day:%b}" + (f" {day:%y}" if years else "") for day in buckets]
    x_label = "Week starting" if per == WEEK else "Day"
    span = f"{labels[0]} to {labels[-1]}" if labels else "no dates"
    tier_series = [
        Series(
            TIER_NAMES[tier],
            TIER_COLOURS[tier],
            [dashboard.outcomes.get(day, {}).get(tier, 0) for day in buckets],
        )
        for tier in TIERS
    ]
    totals = ", ".join(f"{TIER_NAMES[tier]} {dashboard.tier_totals[tier]}" for tier in TIERS)
    failures = dashboard.failure_total
    return {
        "outcomes": bar_chart_svg(
            chart_id="chart-outcomes",
            title=f"Outcomes by tier per {per}",
            desc=f"Triage outcomes per {per}, stacked by tier, {span}. Totals: {totals}.",
            labels=labels,
            ticks=ticks,
            series=tier_series,
            x_label=x_label,
            y_label="Outcomes",
        ),
        "opt_outs": bar_chart_svg(
            chart_id="chart-opt-outs",
            title=f"Opt-outs per {per}",
            desc=f"People who opted out per {per}, {span}: {dashboard.opt_out_total} in all.",
            labels=labels,
            ticks=ticks,
            series=[
                Series("Opt-outs", OPT_OUT_COLOUR, [dashboard.opt_outs.get(d, 0) for d in buckets])
            ],
            x_label=x_label,
            y_label="People",
        ),
        "failures": bar_chart_svg(
            chart_id="chart-failures",
            title=f"Delivery failures per {per}",
            desc=f"Texts not delivered and check-ins that could not be sent per {per}, {span}: "
            f"{failures.messages} texts and {failures.checkins} check-ins.",
            labels=labels,
            ticks=ticks,
            series=[
                Series(
                    "Texts not delivered",
                    FAILED_TEXT_COLOUR,
                    [
                        dashboard.failures[d].messages if d in dashboard.failures else 0
                        for d in buckets
                    ],
                ),
                Series(
                    "Check-ins not sent",
                    FAILED_CHECKIN_COLOUR,
                    [
                        dashboard.failures[d].checkins if d in dashboard.failures else 0
                        for d in buckets
                    ],
                ),
            ],
            x_label=x_label,
            y_label="Failures",
        ),
    }
