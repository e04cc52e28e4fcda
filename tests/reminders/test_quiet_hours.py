"""Quiet hours: a check-in goes out only inside the sending window (default 09:00-20:00) of the
person's local day, whatever their time zone and across daylight-saving changes.

The first half drives real triages and the dispatcher with time-machine; the second tests
`next_send_time` and the zone lookup directly.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from reminders.models import Checkin, SendingWindow
from reminders.quiet_hours import next_send_time, person_zones, zones_for_number
from tests.scripts import ROUTINE_EN as ROUTINE
from triage.models import Person
from triage.services import conversation_handle_inbound
from triage.sms import locmem

NY = "+12125550123"
LOS_ANGELES = "+13105550123"
LONDON = "+442079460000"
IDAHO = "+12085550123"  # area code 208: Boise (Mountain) and the panhandle (Pacific)

NEW_YORK_TZ = ZoneInfo("America/New_York")
LOS_ANGELES_TZ = ZoneInfo("America/Los_Angeles")
BOISE_TZ = ZoneInfo("America/Boise")
TOKYO_TZ = ZoneInfo("Asia/Tokyo")
NINE, EIGHT_PM = dt.time(9, 0), dt.time(20, 0)

TWO_WEEKS = dt.timedelta(days=14)
MINUTE = dt.timedelta(minutes=1)

_sids = itertools.count(1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def triage(address: str) -> None:
    for body in ROUTINE:
        sid = f"SMquiet{next(_sids):08d}"
        conversation_handle_inbound(sid=sid, address=address, body=body)


def send_due() -> str:
    out = io.StringIO()
    call_command("send_due_checkins", stdout=out)
    return out.getvalue().strip()


def two_week_checkin(address: str) -> Checkin:
    return Checkin.objects.get(person__address=address, message_key="checkin.routine_2w")


def dispatch_until(clock: time_machine.Traveller, due: dt.datetime, opens: dt.datetime) -> None:
    """Run the dispatcher when the check-in is due and, if it must wait, just before and at
    `opens`, checking nothing went out before then."""
    clock.move_to(due)
    send_due()
    if opens > due:
        assert locmem.outbox == []
        clock.move_to(opens - MINUTE)
        send_due()
        assert locmem.outbox == []
        clock.move_to(opens)
        send_due()


DEFERRED = "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
SENT = "claimed=1 sent=1 deferred=0 failed=0 cancelled=0"
NOTHING = "claimed=0 sent=0 deferred=0 failed=0 cancelled=0"


# ---------------------------------------------------------------- through the dispatcher


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "due", "opens"),
    [
        # 03:00 EDT -> 09:00 EDT
        (NY, utc(2026, 4, 20, 7, 0), utc(2026, 4, 20, 13, 0)),
        # 21:30 PDT -> 09:00 PDT the next morning
        (LOS_ANGELES, utc(2026, 4, 21, 4, 30), utc(2026, 4, 21, 16, 0)),
        # 06:00 BST -> 09:00 BST
        (LONDON, utc(2026, 4, 20, 5, 0), utc(2026, 4, 20, 8, 0)),
        # 00:00 EST on the night clocks go forward (2026-03-08) -> 09:00 EDT, not 09:00 EST
        (NY, utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 13, 0)),
        # 00:30 EDT on the night clocks go back (2026-11-01) -> 09:00 EST, not 09:00 EDT
        (NY, utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 14, 0)),
        # 01:30 EST, the second 01:30 of that night -> 09:00 EST
        (NY, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 14, 0)),
        # 00:30 GMT on the night UK clocks go forward (2026-03-29) -> 09:00 BST
        (LONDON, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 8, 0)),
        # 09:30 in Boise is 08:30 in the Pacific part of the area code -> 09:00 Pacific
        (IDAHO, utc(2026, 4, 20, 15, 30), utc(2026, 4, 20, 16, 0)),
    ],
    ids=[
        "new-york-3am",
        "los-angeles-evening",
        "london-6am",
        "new-york-spring-forward",
        "new-york-fall-back",
        "new-york-fall-back-second-1.30",
        "london-spring-forward",
        "idaho-two-zones",
    ],
)
def test_a_checkin_due_at_night_waits_for_the_local_morning(
    locmem_sms, address, due, opens
) -> None:
    with time_machine.travel(due - TWO_WEEKS, tick=False) as clock:
        triage(address)

        clock.move_to(due)
        assert send_due() == DEFERRED
        assert two_week_checkin(address).send_after == opens
        assert two_week_checkin(address).status == Checkin.Status.PENDING

        clock.move_to(opens - MINUTE)
        assert send_due() == NOTHING
        assert locmem_sms == []

        clock.move_to(opens)
        assert send_due() == SENT
        assert [sms.to for sms in locmem_sms] == [address]
        assert two_week_checkin(address).sent_at == opens


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "zone", "due", "opens"),
    [
        # A New York number living in Los Angeles: 10:00 EDT is 07:00 there.
        (NY, "America/Los_Angeles", utc(2026, 4, 20, 14, 0), utc(2026, 4, 20, 16, 0)),
        # A New York number living in London: 04:00 EDT is 09:00 there, so it goes now.
        (NY, "Europe/London", utc(2026, 4, 20, 8, 0), utc(2026, 4, 20, 8, 0)),
    ],
    ids=["ny-number-in-los-angeles", "ny-number-in-london"],
)
def test_the_persons_time_zone_wins_over_their_numbers(
    locmem_sms, address, zone, due, opens
) -> None:
    with time_machine.travel(due - TWO_WEEKS, tick=False) as clock:
        triage(address)
        Person.objects.filter(address=address).update(timezone=zone)

        dispatch_until(clock, due, opens)

        assert [sms.to for sms in locmem_sms] == [address]
        assert two_week_checkin(address).sent_at == opens


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "opens"),
    [
        (dt.time(9, 0), dt.time(20, 0), utc(2026, 4, 20, 13, 0)),  # default: wait for 09:00
        (dt.time(7, 0), dt.time(21, 0), utc(2026, 4, 20, 11, 30)),  # 07:00 start: send now
        (dt.time(10, 30), dt.time(18, 0), utc(2026, 4, 20, 14, 30)),  # 10:30 start
    ],
    ids=["default-window", "earlier-window", "later-window"],
)
def test_staff_editing_the_sending_window_changes_when_checkins_go_out(
    locmem_sms, start, end, opens
) -> None:
    due = utc(2026, 4, 20, 11, 30)  # 07:30 in New York
    with time_machine.travel(due - TWO_WEEKS, tick=False) as clock:
        triage(NY)
        window = SendingWindow.current()
        window.start, window.end = start, end
        window.save()

        dispatch_until(clock, due, opens)

        assert [sms.to for sms in locmem_sms] == [NY]
        assert two_week_checkin(NY).sent_at == opens


@pytest.mark.django_db
def test_a_window_edit_after_a_deferral_applies_at_the_next_pass(locmem_sms) -> None:
    due = utc(2026, 4, 20, 7, 0)  # 03:00 in New York
    with time_machine.travel(due - TWO_WEEKS, tick=False) as clock:
        triage(NY)
        clock.move_to(due)
        assert send_due() == DEFERRED  # until 09:00 EDT (13:00 UTC)

        window = SendingWindow.current()
        window.start = dt.time(11, 0)
        window.save()

        clock.move_to(utc(2026, 4, 20, 13, 0))
        assert send_due() == DEFERRED  # claimed at 09:00 EDT, now outside the new window
        assert two_week_checkin(NY).send_after == utc(2026, 4, 20, 15, 0)
        clock.move_to(utc(2026, 4, 20, 15, 0))
        assert send_due() == SENT
        assert [sms.to for sms in locmem_sms] == [NY]


# ---------------------------------------------------------------- next_send_time


@pytest.mark.parametrize(
    ("moment", "start", "end", "expected"),
    [
        # inside the window: now
        (utc(2026, 4, 20, 14, 0), NINE, EIGHT_PM, utc(2026, 4, 20, 14, 0)),
        # the window's first minute counts as inside
        (utc(2026, 4, 20, 13, 0), NINE, EIGHT_PM, utc(2026, 4, 20, 13, 0)),
        # early morning: 09:00 the same day
        (utc(2026, 4, 20, 10, 0), NINE, EIGHT_PM, utc(2026, 4, 20, 13, 0)),
        # 20:00 sharp is outside: 09:00 the next day
        (utc(2026, 4, 21, 0, 0), NINE, EIGHT_PM, utc(2026, 4, 21, 13, 0)),
        # 23:00 EDT: 09:00 the next day
        (utc(2026, 4, 21, 3, 0), NINE, EIGHT_PM, utc(2026, 4, 21, 13, 0)),
        # Saturday 23:00 EST before the spring change: Sunday 09:00 EDT
        (utc(2026, 3, 8, 4, 0), NINE, EIGHT_PM, utc(2026, 3, 8, 13, 0)),
        # Saturday 22:00 EDT before the autumn change: Sunday 09:00 EST
        (utc(2026, 11, 1, 2, 0), NINE, EIGHT_PM, utc(2026, 11, 1, 14, 0)),
        # a window across midnight, 22:00-06:00: noon -> 22:00
        (utc(2026, 4, 20, 16, 0), dt.time(22), dt.time(6), utc(2026, 4, 21, 2, 0)),
        # ... 23:30 and 05:59 are inside
        (utc(2026, 4, 21, 3, 30), dt.time(22), dt.time(6), utc(2026, 4, 21, 3, 30)),
        (utc(2026, 4, 21, 9, 59), dt.time(22), dt.time(6), utc(2026, 4, 21, 9, 59)),
        # ... 06:00 is outside: 22:00 that evening
        (utc(2026, 4, 21, 10, 0), dt.time(22), dt.time(6), utc(2026, 4, 22, 2, 0)),
    ],
    ids=[
        "inside",
        "at-start",
        "before-start",
        "at-end",
        "late-evening",
        "spring-forward-night",
        "fall-back-night",
        "midnight-window-noon",
        "midnight-window-late",
        "midnight-window-early",
        "midnight-window-at-end",
    ],
)
def test_next_send_time_in_new_york(moment, start, end, expected) -> None:
    assert next_send_time(moment, (NEW_YORK_TZ,), start, end) == expected


@pytest.mark.parametrize(
    "zones",
    [(BOISE_TZ, LOS_ANGELES_TZ), (LOS_ANGELES_TZ, BOISE_TZ)],
    ids=["boise-first", "la-first"],
)
def test_a_number_spanning_zones_waits_until_the_window_is_open_in_all(zones) -> None:
    # 08:00 in Boise, 07:00 in Los Angeles.
    moment = utc(2026, 4, 20, 14, 0)
    assert next_send_time(moment, zones, NINE, EIGHT_PM) == utc(2026, 4, 20, 16, 0)
    # 19:30 in Boise is 18:30 in Los Angeles: inside both.
    evening = utc(2026, 4, 21, 1, 30)
    assert next_send_time(evening, zones, NINE, EIGHT_PM) == evening
    # 20:30 in Boise (19:30 in Los Angeles): closed in Boise until its 09:00.
    late = utc(2026, 4, 21, 2, 30)
    assert next_send_time(late, zones, NINE, EIGHT_PM) == utc(2026, 4, 21, 16, 0)


def test_zones_with_no_shared_window_fall_back_to_the_first_zone() -> None:
    # New York and Tokyo are 13 hours apart: 09:00-20:00 never overlaps.
    moment = utc(2026, 4, 20, 10, 0)  # 06:00 in New York, 19:00 in Tokyo
    assert next_send_time(moment, (NEW_YORK_TZ, TOKYO_TZ), NINE, EIGHT_PM) == utc(
        2026, 4, 20, 13, 0
    )
    moment = utc(2026, 4, 20, 14, 0)  # 10:00 in New York, 23:00 in Tokyo
    assert next_send_time(moment, (TOKYO_TZ, NEW_YORK_TZ), NINE, EIGHT_PM) == utc(2026, 4, 21, 0, 0)


# ---------------------------------------------------------------- which zones


@pytest.mark.parametrize(
    ("phone", "zones"),
    [
        (NY, ("America/New_York",)),
        (LOS_ANGELES, ("America/Los_Angeles",)),
        (LONDON, ("Europe/London",)),
        (IDAHO, ("America/Boise", "America/Los_Angeles")),
        ("not a number", ()),
    ],
)
def test_zones_for_number(phone, zones) -> None:
    assert zones_for_number(phone) == zones


@pytest.mark.parametrize(
    ("person_timezone", "phone", "expected"),
    [
        ("", LONDON, ("Europe/London",)),
        ("America/Chicago", LONDON, ("America/Chicago",)),
        ("Not/A_Zone", LONDON, ("Europe/London",)),  # a bad name: back to the number
        ("", "not a number", ("America/Denver",)),  # unknown number: the default zone
        ("", "", ("America/Denver",)),
    ],
)
def test_person_zones(person_timezone, phone, expected) -> None:
    zones = person_zones(person_timezone, phone, "America/Denver")
    assert tuple(str(z) for z in zones) == expected
