"""The clinic dashboard's numbers over a date range, per day or per week.

Outcomes by tier, time to outcome, check-in replies, pain still there at six weeks, opt-outs
and delivery failures: six aggregate queries whatever the range (percentiles are computed here
over the range's durations). People in the simulator are left out; erased people still count,
since erasing keeps their tiers, statuses and timestamps.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from reminders.models import Checkin
from triage.models import Conversation, Message, Person, TierChoices
from triage.understanding import BETTER, SAME, WORSE

DAY, WEEK = "day", "week"
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: a per-day chart wider than that says nothing
SIX_WEEKS_DAYS = 42  # a check-in step this many days after the outcome or later
FAILED_MESSAGE_STATUSES = (Message.Status.FAILED, Message.Status.UNDELIVERED)
TIERS = tuple(int(t) for t in TierChoices.values)


@dataclass(frozen=True)
class DateRange:
    """Local calendar dates, both ends included, and how to group them."""

    start: dt.date
    end: dt.date
    per: str = DAY

    def bounds(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00, the day after end 00:00) in `tz`."""
        first = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return first, after

    def buckets(self) -> list[dt.date]:
        """Each day, or the Monday of each week touching the range (first and last in part)."""
        if self.per == WEEK:
            day = self.start - dt.timedelta(days=self.start.weekday())
            step = dt.timedelta(days=7)
        else:
            day, step = self.start, dt.timedelta(days=1)
        out = []
        while day <= self.end:
            out.append(day)
            day += step
        return out


def dashboard_default_range(*, today: dt.date, per: str = DAY) -> DateRange:
    """The last 30 days, today included."""
    return DateRange(start=today - dt.timedelta(days=DEFAULT_DAYS - 1), end=today, per=per)


@dataclass(frozen=True)
class OutcomeTimes:
    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None
    median_texts: float | None


@dataclass(frozen=True)
class CheckinReplies:
    sent: int
    replied: int

    @property
    def rate(self) -> float | None:
        return self.replied / self.sent if self.sent else None


@dataclass(frozen=True)
class Persistence:
    """Replies to six-week check-ins: pain still there (a score above 0, or a trend with no
    score), gone (a score of 0: "it's gone" is read as 0), or no word about the pain."""

    replied: int
    persists: int
    gone: int

    @property
    def unclear(self) -> int:
        return self.replied - self.persists - self.gone

    @property
    def rate(self) -> float | None:
        answered = self.persists + self.gone
        return self.persists / answered if answered else None


@dataclass(frozen=True)
class Failures:
    messages: int = 0  # outbound texts Twilio or the carrier reported failed or undelivered
    checkins: int = 0  # check-ins that failed for good without such a text (never accepted)

    @property
    def total(self) -> int:
        return self.messages + self.checkins


@dataclass
class Dashboard:
    date_range: DateRange
    buckets: list[dt.date]
    outcomes: dict[dt.date, dict[int, int]]  # bucket -> tier -> conversations
    times: OutcomeTimes
    replies: CheckinReplies
    persistence: Persistence
    opt_outs: dict[dt.date, int]
    failures: dict[dt.date, Failures]
    tier_totals: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.tier_totals = {
            tier: sum(row.get(tier, 0) for row in self.outcomes.values()) for tier in TIERS
        }

    @property
    def outcome_total(self) -> int:
        return sum(self.tier_totals.values())

    @property
    def opt_out_total(self) -> int:
        return sum(self.opt_outs.values())

    @property
    def failure_total(self) -> Failures:
        return Failures(
            messages=sum(f.messages for f in self.failures.values()),
            checkins=sum(f.checkins for f in self.failures.values()),
        )


def dashboard_numbers(*, date_range: DateRange, tz: dt.tzinfo | None = None) -> Dashboard:
    tz = tz or timezone.get_current_timezone()
    first, after = date_range.bounds(tz)
    per = date_range.per

    outcomes_qs = Conversation.objects.filter(
        outcome_at__gte=first,
        outcome_at__lt=after,
        tier__isnull=False,
        person__simulated=False,
    )
    outcomes: dict[dt.date, dict[int, int]] = defaultdict(dict)
    for bucket, tier, n in _per_bucket(outcomes_qs, "outcome_at", per, tz, "tier"):
        outcomes[bucket][tier] = n

    opt_outs = {
        bucket: n
        for bucket, n in _per_bucket(
            Person.objects.filter(opted_out_at__gte=first, opted_out_at__lt=after, simulated=False),
            "opted_out_at",
            per,
            tz,
        )
    }

    failed_messages = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status__in=FAILED_MESSAGE_STATUSES,
        created_at__gte=first,
        created_at__lt=after,
    ).exclude(person__simulated=True)
    # A check-in the carrier did not deliver keeps its failed text, counted above; the rest
    # failed before Twilio took them, and updated_at is when that was recorded.
    failed_checkins = Checkin.objects.filter(
        status=Checkin.Status.FAILED,
        updated_at__gte=first,
        updated_at__lt=after,
        person__simulated=False,
    ).exclude(message__status__in=FAILED_MESSAGE_STATUSES)
    texts_failed = dict(_per_bucket(failed_messages, "created_at", per, tz))
    checkins_failed = dict(_per_bucket(failed_checkins, "updated_at", per, tz))
    failures = {
        bucket: Failures(
            messages=texts_failed.get(bucket, 0), checkins=checkins_failed.get(bucket, 0)
        )
        for bucket in texts_failed.keys() | checkins_failed.keys()
    }

    replies, persistence = _checkin_counts(first, after)
    return Dashboard(
        date_range=date_range,
        buckets=date_range.buckets(),
        outcomes=dict(outcomes),
        times=_outcome_times(outcomes_qs),
        replies=replies,
        persistence=persistence,
        opt_outs=opt_outs,
        failures=failures,
    )


def _per_bucket(
    qs: QuerySet, field_name: str, per: str, tz: dt.tzinfo, *group_by: str
) -> list[tuple]:
    """(bucket date, *group_by values, count) rows: one GROUP BY query."""
    trunc = TruncWeek if per == WEEK else TruncDate
    rows = (
        qs.order_by()
        .annotate(bucket=trunc(field_name, tzinfo=tz))
        .values("bucket", *group_by)
        .annotate(n=Count("id"))
        .values_list("bucket", *group_by, "n")
    )
    return [(_as_date(row[0], tz), *row[1:]) for row in rows]


def _as_date(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value, tz) if timezone.is_aware(value) else value).date()
    return value


def _outcome_times(outcomes_qs: QuerySet) -> OutcomeTimes:
    seconds, texts = [], []
    for started_at, outcome_at, n in outcomes_qs.values_list(
        "started_at", "outcome_at", "texts_to_outcome"
    ):
        seconds.append((outcome_at - started_at).total_seconds())
        if n is not None:
            texts.append(n)
    seconds.sort()
    texts.sort()

    def as_duration(value: float | None) -> dt.timedelta | None:
        return None if value is None else dt.timedelta(seconds=round(value))

    return OutcomeTimes(
        count=len(seconds),
        median=as_duration(percentile(seconds, 0.5)),
        p90=as_duration(percentile(seconds, 0.9)),
        median_texts=percentile(texts, 0.5),
    )


def _checkin_counts(first: dt.datetime, after: dt.datetime) -> tuple[CheckinReplies, Persistence]:
    """Check-ins sent in the range: how many had a reply; at six weeks, what the replies said."""
    replied = Q(replied_at__isnull=False)
    six_weeks = replied & Q(step__offset_days__gte=SIX_WEEKS_DAYS)
    counts = Checkin.objects.filter(
        status=Checkin.Status.SENT,
        sent_at__gte=first,
        sent_at__lt=after,
        person__simulated=False,
    ).aggregate(
        sent=Count("id"),
        replied=Count("id", filter=replied),
        six_weeks=Count("id", filter=six_weeks),
        gone=Count("id", filter=six_weeks & Q(pain_score=0)),
        persists=Count(
            "id",
            filter=six_weeks
            & (Q(pain_score__gt=0) | Q(pain_score__isnull=True, trend__in=(BETTER, SAME, WORSE))),
        ),
    )
    return (
        CheckinReplies(sent=counts["sent"], replied=counts["replied"]),
        Persistence(replied=counts["six_weeks"], persists=counts["persists"], gone=counts["gone"]),
    )


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    below, above = sorted_values[low], sorted_values[high]
    return below + (above - below) * (position - low)


def duration_text(value: dt.timedelta | None) -> str:
    """Two most significant units: "45 s", "3 min 20 s", "1 h 5 min", "2 d 3 h"."""
    if value is None:
        return "–"
    seconds = round(value.total_seconds())
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    parts = []
    for name, size in units:
        amount, seconds = divmod(seconds, size)
        if amount or parts:
            parts.append((amount, name))
        if len(parts) == 2:
            break
    parts = [p for p in parts if p[0]] or [(0, "s")]
    return " ".join(f"{amount} {name}" for amount, name in parts)
