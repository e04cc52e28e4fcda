"""The dashboard as clinicians read it: /admin/dashboard/ over a known month of outcomes,
check-ins, opt-outs and failed texts (timestamps set directly), checked against the numbers
worked out by hand below; the date filter, per-week grouping, the SVG bars, who may see it,
and the "Clinic tools" box on the admin's front page.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import types
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import include, path

from clinic import dashboard_views
from clinic.dashboard import DateRange, dashboard_numbers, percentile
from clinic.roles import CLINICIAN, CONTENT_EDITOR, SUPPORT
from reminders.models import Checkin, CheckinStep
from triage.models import Conversation, Message, Person
from triage.rules import Tier

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 31, 12, 0, tzinfo=dt.UTC)  # a Monday; default range 2-31 March
URL = "/admin/dashboard/"
SVG = "{http://www.w3.org/2000/svg}"
_numbers = itertools.count(1000)


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"2025-{day}T{time}:00+00:00")


def a_person(**fields) -> Person:
    address = f"+1202555{next(_numbers):04d}"
    return Person.objects.create(address=address, phone=address, **fields)


def an_outcome(
    day: str, time: str, tier: Tier, *, minutes: int, texts: int | None, **person
) -> Conversation:
    conversation = Conversation.objects.create(person=a_person(**person))
    outcome_at = at(day, time)
    Conversation.objects.filter(pk=conversation.pk).update(
        tier=int(tier),
        texts_to_outcome=texts,
        started_at=outcome_at - dt.timedelta(minutes=minutes),
        outcome_at=outcome_at,
    )
    return conversation


def a_checkin(
    tier: Tier,
    offset_days: int,
    *,
    sent: str | None,
    replied: bool = False,
    pain_score: int | None = None,
    trend: str = "",
    status: str = Checkin.Status.SENT,
    **person,
) -> Checkin:
    conversation = Conversation.objects.create(person=a_person(**person))
    step = CheckinStep.objects.get(tier=int(tier), offset_days=offset_days)
    sent_at = at(sent) if sent else None
    return Checkin.objects.create(
        person=conversation.person,
        conversation=conversation,
        step=step,
        tier=step.tier,
        kind=step.kind,
        message_key=step.message_key,
        due_at=sent_at or NOW,
        send_after=sent_at or NOW,
        status=status,
        sent_at=sent_at,
        replied_at=sent_at + dt.timedelta(hours=2) if replied else None,
        pain_score=pain_score,
        trend=trend,
    )


def a_text(
    day: str, status: str, *, direction: str = Message.Direction.OUTBOUND, **person
) -> Message:
    who = a_person(**person)
    message = Message.objects.create(
        person=who, direction=direction, address=who.address, body="Hello", status=status
    )
    Message.objects.filter(pk=message.pk).update(created_at=at(day))
    return message


def a_failed_checkin(day: str, *, message: Message | None = None) -> Checkin:
    checkin = a_checkin(Tier.ROUTINE, 14, sent=None, status=Checkin.Status.FAILED)
    Checkin.objects.filter(pk=checkin.pk).update(message=message, updated_at=at(day))
    return checkin


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def month(clock: None) -> None:
    """The numbers the tests expect, worked out by hand:

    Outcomes in March (minutes to outcome; texts): 10 Mar routine (2; 5), routine (4; 6),
    urgent at 23:30 (6; 4); 12 Mar soon (8; 7), emergency (10; 3), routine of an erased person
    (20; 8); 17 Mar routine (60; unknown). Median 8 min; 90th percentile 20 + 0.4 x 40 = 36
    min; median texts of 3,4,5,6,7,8 = 5.5. Left out: 20 Feb (before the range), a simulated
    emergency, a conversation with no outcome yet.

    Check-ins sent in March: 7, of which 5 replied. At six weeks 4 replies: a score of 4 and
    "same" (pain still there), a 0 (gone), one with no word on the pain: 2 of 3 = 66.7%.

    Opt-outs: 2 on 3 Mar, 1 on 20 Mar. Failures: 3 Mar, 2 texts and a check-in that never
    went; 25 Mar, 2 texts (one of them a failed check-in's, counted once).
    """
    an_outcome("03-10", "09:00", Tier.ROUTINE, minutes=2, texts=5)
    an_outcome("03-10", "15:00", Tier.ROUTINE, minutes=4, texts=6)
    an_outcome("03-10", "23:30", Tier.URGENT, minutes=6, texts=4)
    an_outcome("03-12", "08:00", Tier.SOON, minutes=8, texts=7)
    an_outcome("03-12", "10:00", Tier.EMERGENCY, minutes=10, texts=3)
    an_outcome("03-12", "11:00", Tier.ROUTINE, minutes=20, texts=8, erased_at=at("03-20"))
    an_outcome("03-17", "10:00", Tier.ROUTINE, minutes=60, texts=None)
    an_outcome("02-20", "10:00", Tier.ROUTINE, minutes=1000, texts=9)
    an_outcome("03-10", "10:00", Tier.EMERGENCY, minutes=1, texts=2, simulated=True)
    Conversation.objects.create(person=a_person())  # still being asked: no outcome

    a_checkin(Tier.ROUTINE, 14, sent="03-05", replied=True, pain_score=3)
    a_checkin(Tier.ROUTINE, 14, sent="03-06")
    a_checkin(Tier.ROUTINE, 42, sent="03-07", replied=True, pain_score=4, trend="same")
    a_checkin(Tier.ROUTINE, 42, sent="03-08", replied=True, pain_score=0, trend="better")
    a_checkin(Tier.SOON, 42, sent="03-09", replied=True, trend="same")
    a_checkin(Tier.SOON, 42, sent="03-09", replied=True)  # "yes I booked": nothing on pain
    a_checkin(Tier.ROUTINE, 42, sent="03-11")
    a_checkin(Tier.ROUTINE, 14, sent="02-25", replied=True, pain_score=2)
    a_checkin(Tier.ROUTINE, 42, sent="03-10", replied=True, pain_score=5, simulated=True)
    a_checkin(Tier.ROUTINE, 42, sent=None, status=Checkin.Status.PENDING)

    a_person(opted_out_at=at("03-03", "10:00"))
    a_person(opted_out_at=at("03-03", "18:00"))
    a_person(opted_out_at=at("03-20"))
    a_person(opted_out_at=at("02-10"))
    a_person(opted_out_at=at("03-03"), simulated=True)

    a_text("03-03", Message.Status.FAILED)
    a_text("03-03", Message.Status.UNDELIVERED)
    a_text("03-03", Message.Status.DELIVERED)
    a_text("03-03", Message.Status.RECEIVED, direction=Message.Direction.INBOUND)
    a_text("03-03", Message.Status.FAILED, simulated=True)
    a_text("02-01", Message.Status.FAILED)
    a_text("03-25", Message.Status.FAILED)
    a_failed_checkin("03-03")
    a_failed_checkin("03-25", message=a_text("03-25", Message.Status.UNDELIVERED))


def a_user(role: str | None = None, *, superuser: bool = False) -> User:
    user = User.objects.create_user(
        f"user{next(_numbers)}", password="pw-12345", is_staff=True, is_superuser=superuser
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def clinician(client: Client) -> Client:
    client.force_login(a_user(CLINICIAN))
    return client


def page(client: Client, query: str = "") -> tuple[dict, str]:
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.context, response.content.decode()


def table_rows(html: str) -> list[list[str]]:
    """The outcomes table as text, row by row (header, buckets, total)."""
    table = re.search(r'<table class="dashboard-table" id="outcomes-table">.*?</table>', html, re.S)
    assert table, "no outcomes table"
    root = ET.fromstring(table.group())
    return [["".join(cell.itertext()).strip() for cell in row] for row in root.iter("tr")]


def chart(html: str, chart_id: str) -> ET.Element:
    svg = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, re.S)
    assert svg, f"no chart {chart_id}"
    return ET.fromstring(svg.group())


def bars(svg: ET.Element) -> list[tuple[str, float]]:
    """(tooltip, height) of each bar, left to right, bottom up."""
    return [
        (rect.find(f"{SVG}title").text, float(rect.get("height")))
        for rect in svg.iter(f"{SVG}rect")
        if rect.get("class") == "bar"
    ]


# ---------------------------------------------------------------- the numbers


def test_it_counts_outcomes_per_tier_per_day_leaving_out_simulated_people(
    month: None, clinician: Client
) -> None:
    context, html = page(clinician)

    assert context["numbers"].outcomes == {
        dt.date(2025, 3, 10): {Tier.ROUTINE: 2, Tier.URGENT: 1},
        dt.date(2025, 3, 12): {Tier.SOON: 1, Tier.EMERGENCY: 1, Tier.ROUTINE: 1},
        dt.date(2025, 3, 17): {Tier.ROUTINE: 1},
    }
    assert table_rows(html) == [
        ["Day", "Routine (self-care)", "Soon (1-2 weeks)", "Urgent (today)",
         "Emergency (911 now)", "Total"],
        ["Mon 10 Mar 2025", "2", "0", "1", "0", "3"],
        ["Wed 12 Mar 2025", "1", "1", "0", "1", "3"],
        ["Mon 17 Mar 2025", "1", "0", "0", "0", "1"],
        ["Total", "4", "1", "1", "1", "7"],
    ]  # fmt: skip


def test_it_shows_median_and_90th_percentile_time_to_outcome_and_median_texts(
    month: None, clinician: Client
) -> None:
    context, html = page(clinician)

    times = context["numbers"].times
    assert (times.count, times.median, times.p90, times.median_texts) == (
        7,
        dt.timedelta(minutes=8),
        dt.timedelta(minutes=36),
        5.5,
    )
    figure = re.search(r'id="figure-time-to-outcome">(.*?)</dl>', html, re.S).group(1)
    assert re.findall(r"<dd>(.*?)</dd>", figure) == ["8 min", "36 min", "5.5"]


def test_it_shows_the_checkin_response_rate(month: None, clinician: Client) -> None:
    context, html = page(clinician)

    replies = context["numbers"].replies
    assert (replies.sent, replies.replied) == (7, 5)
    assert "<dd>71.4%</dd>" in html and "5 replied of 7 check-ins sent" in html


def test_it_shows_how_many_still_have_pain_at_six_weeks(month: None, clinician: Client) -> None:
    context, html = page(clinician)

    persistence = context["numbers"].persistence
    assert (persistence.replied, persistence.persists, persistence.gone) == (4, 2, 1)
    figure = re.search(r'id="figure-persistence">(.*?)</dl>', html, re.S).group(1)
    assert "<dd>66.7%</dd>" in figure
    assert "2 still in pain, 1 pain gone" in figure
    assert "of 4 replies to a six-week check-in (1 said nothing about the pain" in figure


def test_it_counts_opt_outs_per_day(month: None, clinician: Client) -> None:
    context, html = page(clinician)

    assert context["numbers"].opt_outs == {dt.date(2025, 3, 3): 2, dt.date(2025, 3, 20): 1}
    drawn = bars(chart(html, "chart-opt-outs"))
    assert [title for title, _ in drawn] == [
        "Mon 3 Mar 2025: Opt-outs 2",
        "Thu 20 Mar 2025: Opt-outs 1",
    ]
    assert drawn[0][1] == pytest.approx(2 * drawn[1][1], abs=0.2)


def test_it_counts_failed_texts_and_checkins_once_each(month: None, clinician: Client) -> None:
    context, html = page(clinician)

    failures = context["numbers"].failures
    assert {day: (f.messages, f.checkins) for day, f in failures.items()} == {
        dt.date(2025, 3, 3): (2, 1),
        dt.date(2025, 3, 25): (2, 0),
    }
    figure = re.search(r'id="figure-failures">(.*?)</dl>', html, re.S).group(1)
    assert "<dd>5</dd>" in figure and "4 texts not delivered, 1 check-ins not sent" in figure
    assert [title for title, _ in bars(chart(html, "chart-failures"))] == [
        "Mon 3 Mar 2025: Texts not delivered 2",
        "Mon 3 Mar 2025: Check-ins not sent 1",
        "Tue 25 Mar 2025: Texts not delivered 2",
    ]


def test_it_computes_the_page_in_a_handful_of_queries(
    month: None, django_assert_max_num_queries
) -> None:
    year = DateRange(start=dt.date(2024, 4, 1), end=dt.date(2025, 3, 31))
    with django_assert_max_num_queries(6):
        numbers = dashboard_numbers(date_range=year)

    assert numbers.outcome_total == 8 and len(numbers.buckets) == 365


@pytest.mark.parametrize(
    "values, q, expected",
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 60.0], 0.9, 36.0),
    ],
)
def test_it_interpolates_percentiles_between_ranks(
    values: list[float], q: float, expected: float | None
) -> None:
    found = percentile(values, q)
    assert found == expected if expected is None else found == pytest.approx(expected)


# ---------------------------------------------------------------- filter and grouping


def test_it_includes_rows_from_an_earlier_range_when_asked(month: None, clinician: Client) -> None:
    context, html = page(clinician, "?from=2025-02-01&to=2025-03-31")

    numbers = context["numbers"]
    assert numbers.outcomes[dt.date(2025, 2, 20)] == {Tier.ROUTINE: 1}
    assert numbers.outcome_total == 8
    assert (numbers.replies.sent, numbers.replies.replied) == (8, 6)
    assert numbers.opt_out_total == 4
    assert numbers.failure_total.messages == 5
    assert 'name="from" value="2025-02-01"' in html


def test_it_leaves_out_rows_outside_a_narrow_range(month: None, clinician: Client) -> None:
    context, _ = page(clinician, "?from=2025-03-11&to=2025-03-12")

    numbers = context["numbers"]
    assert numbers.outcomes == {
        dt.date(2025, 3, 12): {Tier.SOON: 1, Tier.EMERGENCY: 1, Tier.ROUTINE: 1}
    }
    assert numbers.times.median == dt.timedelta(minutes=10)
    assert (numbers.replies.sent, numbers.opt_out_total, numbers.failure_total.total) == (1, 0, 0)
    assert numbers.buckets == [dt.date(2025, 3, 11), dt.date(2025, 3, 12)]


@pytest.mark.parametrize(
    "query, message",
    [
        ("?from=banana&to=2025-03-12", "Dates are written YYYY-MM-DD"),
        ("?from=2025-02-30", "Dates are written YYYY-MM-DD"),
        ("?from=2025-03-20&to=2025-03-01", "The start date 2025-03-20 is after the end date"),
        ("?from=2000-01-01&to=2025-03-01", "A range can be at most 731 days"),
    ],
)
def test_it_explains_a_bad_range_and_shows_the_last_30_days(
    month: None, clinician: Client, query: str, message: str
) -> None:
    context, html = page(clinician, query)

    assert message in html and "showing the last 30 days" in html
    assert context["date_range"] == DateRange(start=dt.date(2025, 3, 2), end=dt.date(2025, 3, 31))
    assert context["numbers"].outcome_total == 7


def test_it_defaults_to_the_last_30_days_per_day(clock: None, clinician: Client) -> None:
    context, html = page(clinician)

    assert context["date_range"] == DateRange(start=dt.date(2025, 3, 2), end=dt.date(2025, 3, 31))
    assert 'name="from" value="2025-03-02"' in html and 'name="to" value="2025-03-31"' in html
    assert "No outcomes in this range." in html and "Nothing in this range" in html


def test_it_groups_per_week_from_monday(month: None, clinician: Client) -> None:
    context, html = page(clinician, "?from=2025-03-02&to=2025-03-31&per=week")

    numbers = context["numbers"]
    assert numbers.buckets[:2] == [dt.date(2025, 2, 24), dt.date(2025, 3, 3)]
    assert numbers.outcomes == {
        dt.date(2025, 3, 10): {Tier.ROUTINE: 3, Tier.URGENT: 1, Tier.SOON: 1, Tier.EMERGENCY: 1},
        dt.date(2025, 3, 17): {Tier.ROUTINE: 1},
    }
    assert table_rows(html)[1:3] == [
        ["Week of 10 Mar 2025", "3", "1", "1", "1", "6"],
        ["Week of 17 Mar 2025", "1", "0", "0", "0", "1"],
    ]
    assert numbers.opt_outs == {dt.date(2025, 3, 3): 2, dt.date(2025, 3, 17): 1}


def test_it_counts_days_in_the_clinics_time_zone(clock: None, clinician: Client, settings) -> None:
    settings.TIME_ZONE = "America/New_York"
    an_outcome("03-11", "02:00", Tier.SOON, minutes=5, texts=4)  # 10 Mar, 22:00 in New York
    a_person(opted_out_at=at("03-02", "04:00"))  # 1 Mar in New York: before the range

    context, _ = page(clinician, "?from=2025-03-02&to=2025-03-10")

    assert context["numbers"].outcomes == {dt.date(2025, 3, 10): {Tier.SOON: 1}}
    assert context["numbers"].opt_out_total == 0


def test_it_ignores_an_unknown_grouping_with_a_message(month: None, clinician: Client) -> None:
    context, html = page(clinician, "?per=month")

    assert "Group per day or per week, not “month”; showing per day." in html
    assert context["date_range"].per == "day"


# ---------------------------------------------------------------- the chart


def test_it_draws_one_bar_per_tier_and_day_with_a_tooltip(month: None, clinician: Client) -> None:
    _, html = page(clinician)
    svg = chart(html, "chart-outcomes")

    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Outcomes by tier per day"
    assert "Routine (self-care) 4" in svg.find(f"{SVG}desc").text
    drawn = bars(svg)
    assert [title for title, _ in drawn] == [
        "Mon 10 Mar 2025: Routine (self-care) 2",
        "Mon 10 Mar 2025: Urgent (today) 1",
        "Wed 12 Mar 2025: Routine (self-care) 1",
        "Wed 12 Mar 2025: Soon (1-2 weeks) 1",
        "Wed 12 Mar 2025: Emergency (911 now) 1",
        "Mon 17 Mar 2025: Routine (self-care) 1",
    ]
    heights = [height for _, height in drawn]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.2)  # drawn to 0.1 px
    assert all(h == pytest.approx(heights[1], abs=0.1) for h in heights[1:])
    labels = {text.text for text in svg.iter(f"{SVG}text")}
    assert {"Day", "Outcomes", "Routine (self-care)"} <= labels


def test_it_gives_each_tier_the_same_colour_in_every_bar(month: None, clinician: Client) -> None:
    _, html = page(clinician)

    colours: dict[str, set[str]] = {}
    for rect in chart(html, "chart-outcomes").iter(f"{SVG}rect"):
        if rect.get("class") == "bar":
            colours.setdefault(rect.get("data-series"), set()).add(rect.get("fill"))
    assert all(len(fills) == 1 for fills in colours.values())
    assert len({fill for fills in colours.values() for fill in fills}) == 4


def test_it_fetches_nothing_from_elsewhere(month: None, clinician: Client) -> None:
    _, html = page(clinician)

    content = html.split('<div id="content-main">', 1)[1]
    assert (
        "<script" not in content
        and "https://" not in content
        and "http://" not in (content.replace("http://www.w3.org/2000/svg", ""))
    )


# ---------------------------------------------------------------- who may see it


@pytest.mark.parametrize(
    "role, superuser, status",
    [
        (CLINICIAN, False, 200),
        (None, True, 200),
        (CONTENT_EDITOR, False, 403),
        (SUPPORT, False, 403),
        (None, False, 403),
    ],
)
def test_it_shows_the_dashboard_only_to_those_allowed(
    client: Client, role: str | None, superuser: bool, status: int
) -> None:
    client.force_login(a_user(role, superuser=superuser))

    response = client.get(URL)

    assert response.status_code == status
    if status == 200:
        assert "Outcomes by tier" in response.content.decode()
        assert 'id="site-name"' in response.content.decode()  # the admin's header


def test_it_sends_anonymous_visitors_to_the_admin_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/dashboard/"


# ---------------------------------------------------------------- the admin's front page


def clinic_tools(client: Client) -> list[str]:
    response = client.get("/admin/")
    assert response.status_code == 200
    box = re.search(r'id="clinic-tools">(.*?)</table>', response.content.decode(), re.S)
    return re.findall(r'<a href="([^"]+)">', box.group(1)) if box else []


def test_it_links_the_clinic_tools_each_role_may_use(client: Client) -> None:
    client.force_login(a_user(CLINICIAN))
    assert clinic_tools(client) == ["/admin/dashboard/", "/simulator/"]

    client.force_login(a_user(CONTENT_EDITOR))
    assert clinic_tools(client) == ["/simulator/"]

    client.force_login(a_user(SUPPORT))
    assert clinic_tools(client) == []


def test_it_leaves_out_a_tool_whose_page_is_not_routed(client: Client, settings) -> None:
    urls = types.ModuleType("urls_without_the_simulator")
    dashboard = path("admin/dashboard/", dashboard_views.dashboard_view, name="dashboard")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("", include(([dashboard], "clinic"))),
        path("admin/", admin.site.urls),
    ]
    settings.ROOT_URLCONF = urls
    client.force_login(a_user(CLINICIAN))

    assert clinic_tools(client) == ["/admin/dashboard/"]
