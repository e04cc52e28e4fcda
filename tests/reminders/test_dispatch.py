"""Check-ins as a person gets them: scheduled by a triage outcome, sent once when due by the
dispatcher (`manage.py send_due_checkins`), never after a new triage, an emergency or STOP,
retried through Twilio outages and given up for good on a number that cannot take texts.

Conversations go through `conversation_handle_inbound`, as the webhook runs them. Time is frozen
with time-machine at START, 10:00 in New York, so a New York number is inside the default
09:00-20:00 sending window at START and at every whole number of days after it.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import time
from collections.abc import Iterator

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from reminders import dispatch
from reminders.dispatch import claim_batch, send_batch
from reminders.models import Checkin, CheckinStep
from reminders.services import checkins_schedule
from tests.conftest import FAKE_FROM_NUMBER
from tests.scripts import ROUTINE_EN as ROUTINE
from tests.scripts import SOON_7_WEEKS_EN as SOON
from tests.scripts import URGENT_FEVER_EN as URGENT
from triage.models import Conversation, Message, Person
from triage.rules import Tier
from triage.services import conversation_handle_inbound

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 4, 6, 14, 0, tzinfo=dt.UTC)  # Monday 10:00 EDT
DAY = dt.timedelta(days=1)
NY = "+12125550123"
NY_2 = "+12125550124"
LONDON = "+442079460000"
LOS_ANGELES = "+13105550123"

EMERGENCY = ["my legs r numb and tingly since this morning, upper back killing me"]
ROUTINE_ES = [
    "me duele la espalda alta",
    "no",
    "no",
    "nada",
    "2 mejor",
    "3 dias, dormi mal, 25",
    "nada",
]

NOTHING = "claimed=0 sent=0 deferred=0 failed=0 cancelled=0"

_sids = itertools.count(1)


# ---------------------------------------------------------------- helpers


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def text(address: str, body: str) -> list[str]:
    """One inbound text, as the webhook hands it over; returns the replies."""
    sid = f"SMtest{next(_sids):08d}"
    return conversation_handle_inbound(sid=sid, address=address, body=body).replies


def triage(address: str, texts: list[str] = ROUTINE) -> Conversation:
    for body in texts:
        text(address, body)
    return Conversation.objects.get(person__address=address, status=Conversation.Status.ACTIVE)


def checkins(address: str) -> list[Checkin]:
    return list(Checkin.objects.filter(person__address=address).order_by("due_at", "id"))


def pending(address: str) -> list[tuple[str, dt.datetime]]:
    return [
        (c.message_key, c.due_at) for c in checkins(address) if c.status == Checkin.Status.PENDING
    ]


def send_due() -> str:
    """One dispatcher pass through the management command; returns its summary line."""
    out = io.StringIO()
    call_command("send_due_checkins", stdout=out)
    return out.getvalue().strip()


# ---------------------------------------------------------------- scheduling


@pytest.mark.parametrize(
    ("texts", "plan"),
    [
        (ROUTINE, [("checkin.routine_2w", "pain", 14), ("checkin.six_weeks", "pain", 42)]),
        (SOON, [("checkin.soon_1w", "booked", 7), ("checkin.six_weeks", "pain", 42)]),
        (URGENT, [("checkin.urgent_2d", "booked", 2), ("checkin.six_weeks", "pain", 42)]),
        (EMERGENCY, []),
    ],
    ids=["routine", "soon", "urgent", "emergency"],
)
def test_each_outcome_schedules_its_tiers_checkins(clock, texts, plan) -> None:
    triage(NY, texts)

    assert [(c.message_key, c.kind, c.due_at, c.status) for c in checkins(NY)] == [
        (key, kind, START + days * DAY, Checkin.Status.PENDING) for key, kind, days in plan
    ]


def test_more_texts_after_the_outcome_schedule_nothing_twice(clock) -> None:
    triage(NY)
    clock.shift(dt.timedelta(hours=2))
    text(NY, "thanks")
    text(NY, "ok")

    assert pending(NY) == [
        ("checkin.routine_2w", START + 14 * DAY),
        ("checkin.six_weeks", START + 42 * DAY),
    ]


def test_the_database_refuses_a_second_checkin_for_the_same_step_of_an_episode(clock) -> None:
    conv = triage(NY)
    first = checkins(NY)[0]

    with pytest.raises(IntegrityError), transaction.atomic():
        Checkin.objects.create(
            person=conv.person,
            conversation=conv,
            step=first.step,
            tier=first.tier,
            kind=first.kind,
            message_key=first.message_key,
            due_at=first.due_at,
            send_after=first.due_at,
        )


def test_scheduling_an_episode_again_keeps_one_pending_checkin_per_step(clock) -> None:
    conv = triage(NY)

    checkins_schedule(conv, Tier.ROUTINE)

    assert pending(NY) == [
        ("checkin.routine_2w", START + 14 * DAY),
        ("checkin.six_weeks", START + 42 * DAY),
    ]
    assert Checkin.objects.count() == 2


def test_a_plan_edit_applies_to_people_triaged_afterwards(clock, locmem_sms) -> None:
    triage(NY)
    two_weeks = CheckinStep.objects.get(tier=Tier.ROUTINE, offset_days=14)
    two_weeks.offset_days = 10
    two_weeks.save()
    six_weeks = CheckinStep.objects.get(tier=Tier.ROUTINE, offset_days=42)
    six_weeks.active = False
    six_weeks.save()

    clock.shift(DAY)
    triage(NY_2)

    # Already scheduled: unchanged, including the step that is now inactive.
    assert pending(NY) == [
        ("checkin.routine_2w", START + 14 * DAY),
        ("checkin.six_weeks", START + 42 * DAY),
    ]
    # Triaged after the edit: the new offset, and no six-week check-in.
    assert pending(NY_2) == [("checkin.routine_2w", START + DAY + 10 * DAY)]

    clock.move_to(START + 14 * DAY)
    send_due()
    clock.move_to(START + 42 * DAY)
    send_due()
    assert sorted((sms.to, sms.body[:30]) for sms in locmem_sms) == [
        (NY, "BackCheck: it's been 2 weeks. "),
        (NY, "BackCheck: it's been 6 weeks. "),
        (NY_2, "BackCheck: it's been 2 weeks. "),
    ]


# ---------------------------------------------------------------- dispatching


def test_a_checkin_is_sent_once_when_it_is_due(clock, locmem_sms) -> None:
    triage(NY)

    clock.move_to(START + 14 * DAY - dt.timedelta(minutes=1))
    assert send_due() == NOTHING
    assert locmem_sms == []

    clock.move_to(START + 14 * DAY)
    assert send_due() == "claimed=1 sent=1 deferred=0 failed=0 cancelled=0"
    assert [sms.to for sms in locmem_sms] == [NY]
    assert locmem_sms[0].body.startswith("BackCheck: it's been 2 weeks. How is your back?")
    assert "call 911" in locmem_sms[0].body

    # Running the command again, now or later, never sends it again.
    assert send_due() == NOTHING
    clock.move_to(START + 30 * DAY)
    assert send_due() == NOTHING
    assert len(locmem_sms) == 1

    first = checkins(NY)[0]
    assert (first.status, first.sent_at, first.attempts) == ("sent", START + 14 * DAY, 1)


def test_the_six_week_checkin_follows_the_two_week_one(clock, locmem_sms) -> None:
    triage(NY)
    for days in range(1, 50):
        clock.move_to(START + days * DAY)
        send_due()

    assert [sms.body[:30] for sms in locmem_sms] == [
        "BackCheck: it's been 2 weeks. ",
        "BackCheck: it's been 6 weeks. ",
    ]


def test_the_command_summary_counts_what_happened(clock, locmem_sms) -> None:
    triage(NY)
    triage(LOS_ANGELES)  # 07:00 in Los Angeles at START: before its sending window
    clock.move_to(START + 14 * DAY)

    assert send_due() == "claimed=2 sent=1 deferred=1 failed=0 cancelled=0"
    assert [sms.to for sms in locmem_sms] == [NY]
    assert send_due() == NOTHING


def test_checkins_are_texted_in_the_persons_language_and_country(clock, locmem_sms) -> None:
    triage(NY, ROUTINE_ES)
    triage(LONDON)
    clock.move_to(START + 14 * DAY)

    send_due()

    bodies = {sms.to: sms.body for sms in locmem_sms}
    assert bodies[NY].startswith("BackCheck: han pasado 2 semanas.")
    assert bodies[LONDON].startswith("BackCheck: it's been 2 weeks.")
    assert "999" in bodies[LONDON] and "911" not in bodies[LONDON]


def test_a_sent_checkin_is_logged_with_twilios_message_sid(clock, fake_twilio) -> None:
    conv = triage(NY)
    clock.move_to(START + 14 * DAY)

    assert send_due() == "claimed=1 sent=1 deferred=0 failed=0 cancelled=0"

    [request] = fake_twilio.requests
    assert request.form["To"] == NY
    assert request.form["From"] == FAKE_FROM_NUMBER
    assert request.form["Body"].startswith("BackCheck: it's been 2 weeks.")
    [resource] = fake_twilio.sent
    message = Message.objects.get(provider_sid=resource["sid"])
    assert message.direction == Message.Direction.OUTBOUND
    assert message.status == Message.Status.QUEUED
    assert message.body == request.form["Body"]
    assert message.conversation == conv
    checkin = checkins(NY)[0]
    assert checkin.provider_sid == resource["sid"]
    assert checkin.message == message


# ---------------------------------------------------------------- cancelling


@pytest.mark.parametrize(
    ("later", "reason"),
    [
        (["RESTART"], "new triage"),
        (["my legs are numb now"], "new outcome"),
        (["STOP"], "opted out"),
        (["STOP", "START"], "opted out"),
    ],
    ids=["restart", "emergency", "stop", "stop-then-start"],
)
def test_later_texts_cancel_the_pending_checkins(clock, locmem_sms, later, reason) -> None:
    triage(NY)
    clock.move_to(START + 3 * DAY)
    for body in later:
        text(NY, body)

    assert [(c.status, c.cancelled_reason) for c in checkins(NY)] == [("cancelled", reason)] * 2

    for days in (14, 42):
        clock.move_to(START + days * DAY)
        assert send_due() == NOTHING
    assert locmem_sms == []


def test_a_claimed_checkin_is_not_sent_after_stop(clock, fake_twilio) -> None:
    triage(NY)
    clock.move_to(START + 14 * DAY)
    token, ids = claim_batch(timezone.now(), 10)
    assert len(ids) == 1

    text(NY, "STOP")  # arrives between the claim and the send
    summary = send_batch(ids, token)

    assert (summary.sent, fake_twilio.requests) == (0, [])
    assert (checkins(NY)[0].status, checkins(NY)[0].cancelled_reason) == ("cancelled", "opted out")


def test_an_opt_out_recorded_before_the_send_cancels_the_checkin(clock, fake_twilio) -> None:
    """An opt-out written by another path that did not cancel the check-ins (or raced it)."""
    triage(NY)
    clock.move_to(START + 14 * DAY)
    token, ids = claim_batch(timezone.now(), 10)
    Person.objects.filter(address=NY).update(opted_out_at=timezone.now())

    summary = send_batch(ids, token)

    assert (summary.sent, summary.cancelled) == (0, 1)
    assert fake_twilio.requests == []
    assert (checkins(NY)[0].status, checkins(NY)[0].cancelled_reason) == ("cancelled", "opted out")


# ---------------------------------------------------------------- eligibility at send time


def test_a_raised_tier_replaces_the_checkins_of_the_lower_one(clock, locmem_sms) -> None:
    triage(NY)
    clock.move_to(START + DAY)
    text(NY, "i have a fever now")  # URGENT: speak to someone today

    for days in range(2, 50):
        clock.move_to(START + days * DAY)
        send_due()

    assert [sms.body[:44] for sms in locmem_sms] == [
        "BackCheck: 2 days ago we advised speaking to",
        "BackCheck: it's been 6 weeks. How is your ba",
    ]
    assert [c.message_key for c in checkins(NY) if c.status == "sent"] == [
        "checkin.urgent_2d",
        "checkin.six_weeks",
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": Conversation.Status.CLOSED}, "newer triage"),
        ({"tier": int(Tier.URGENT)}, "escalated"),
        ({"tier": int(Tier.EMERGENCY)}, "escalated"),
    ],
    ids=["newer-triage", "higher-tier", "emergency"],
)
def test_a_checkin_no_longer_wanted_when_sent_is_cancelled(
    clock, fake_twilio, change, reason
) -> None:
    """The episode changed after the row was claimed (the dispatcher's own re-check)."""
    conv = triage(NY)
    clock.move_to(START + 14 * DAY)
    token, ids = claim_batch(timezone.now(), 10)
    Conversation.objects.filter(pk=conv.pk).update(**change)

    summary = send_batch(ids, token)

    assert (summary.sent, summary.cancelled) == (0, 1)
    assert fake_twilio.requests == []
    assert (checkins(NY)[0].status, checkins(NY)[0].cancelled_reason) == ("cancelled", reason)


# ---------------------------------------------------------------- Twilio failures


@pytest.mark.parametrize(("status", "code"), [(500, None), (429, 20429), (503, None)])
def test_a_twilio_outage_is_retried_with_growing_backoff(
    clock, fake_twilio, settings, status, code
) -> None:
    settings.CHECKIN_RETRY_BASE_SECONDS = 60
    settings.CHECKIN_RETRY_MAX_SECONDS = 3600
    triage(NY)
    due = START + 14 * DAY
    clock.move_to(due)
    fake_twilio.fail_next(status=status, code=code, times=2)

    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    first = checkins(NY)[0]
    assert (first.status, first.attempts, first.error_code) == ("pending", 1, code)
    assert 48 <= (first.send_after - due).total_seconds() <= 60

    # Not before the retry time.
    clock.move_to(first.send_after - dt.timedelta(seconds=1))
    assert send_due() == NOTHING

    clock.move_to(first.send_after)
    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    second = checkins(NY)[0]
    assert second.attempts == 2
    assert 96 <= (second.send_after - first.send_after).total_seconds() <= 120

    clock.move_to(second.send_after)
    assert send_due() == "claimed=1 sent=1 deferred=0 failed=0 cancelled=0"
    assert len(fake_twilio.requests) == 3
    assert [m["to"] for m in fake_twilio.sent] == [NY]
    sent = checkins(NY)[0]
    assert (sent.status, sent.attempts, sent.last_error, sent.error_code) == ("sent", 3, "", None)


def test_a_send_without_an_answer_that_twilio_never_took_is_retried(
    clock, fake_twilio, settings
) -> None:
    triage(NY)
    clock.move_to(START + 14 * DAY)
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # the connection fails: no answer at all

    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    row = checkins(NY)[0]
    assert (row.status, row.attempts, row.in_doubt_since) == ("pending", 1, START + 14 * DAY)
    assert "Could not reach Twilio" in row.last_error

    clock.move_to(row.send_after)
    settings.TWILIO_API_URL = fake_twilio.url
    # Twilio is asked first, has no such text: it is sent.
    assert send_due() == "claimed=1 sent=1 deferred=0 failed=0 cancelled=0 asked=1"
    row = checkins(NY)[0]
    assert (row.status, row.attempts, row.in_doubt_since) == ("sent", 2, None)
    assert [m["to"] for m in fake_twilio.sent] == [NY]
    assert [r.method for r in fake_twilio.listed] == ["GET"]


def the_late_text(fake_twilio) -> dict:
    """The one text Twilio took after the dispatcher stopped waiting (its answer comes late)."""
    for _ in range(100):
        if fake_twilio.sent:
            break
        time.sleep(0.05)
    [taken] = fake_twilio.sent
    return taken


def test_a_timed_out_text_twilio_took_is_recorded_not_sent_again(
    clock, fake_twilio, settings
) -> None:
    settings.TWILIO_TIMEOUT = 0.5
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.delay_next(1.0)  # taken, and answered after the dispatcher gave up

    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    taken = the_late_text(fake_twilio)

    clock.move_to(checkins(NY)[0].send_after)
    assert send_due() == "claimed=1 sent=0 deferred=0 failed=0 cancelled=0 recovered=1 asked=1"
    row = checkins(NY)[0]
    assert (row.status, row.provider_sid, row.attempts) == ("sent", taken["sid"], 1)
    assert len(fake_twilio.requests) == 1, "the text went once"
    outbound = Message.objects.filter(
        person__address=NY, direction="out", provider_sid=taken["sid"]
    )
    assert outbound.count() == 1


def test_a_last_attempt_that_timed_out_but_twilio_took_is_recorded_sent_not_failed(
    clock, fake_twilio, settings
) -> None:
    settings.CHECKIN_MAX_ATTEMPTS = 2
    settings.TWILIO_TIMEOUT = 0.5
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.fail_next(status=503)
    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"

    clock.move_to(checkins(NY)[0].send_after)
    fake_twilio.delay_next(1.0)  # the last attempt: taken, answered after the dispatcher gave up
    # Out of attempts, but not failed: Twilio may have the text.
    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    taken = the_late_text(fake_twilio)

    clock.move_to(checkins(NY)[0].send_after)
    assert send_due() == "claimed=1 sent=0 deferred=0 failed=0 cancelled=0 recovered=1 asked=1"
    row = checkins(NY)[0]
    assert (row.status, row.provider_sid, row.attempts, row.last_error) == (
        "sent",
        taken["sid"],
        2,
        "",
    )
    assert row.in_doubt_since is None
    assert len(fake_twilio.requests) == 2, "asked, not sent a third time"
    assert Message.objects.filter(direction="out", provider_sid=taken["sid"]).count() == 1


def test_a_last_attempt_without_an_answer_that_twilio_never_took_fails_without_a_resend(
    clock, fake_twilio, settings
) -> None:
    settings.CHECKIN_MAX_ATTEMPTS = 1
    triage(NY)
    clock.move_to(START + 14 * DAY)
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # the connection fails: no answer at all
    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"

    retry_at = checkins(NY)[0].send_after
    clock.move_to(retry_at)
    settings.TWILIO_API_URL = fake_twilio.url
    assert send_due() == "claimed=1 sent=0 deferred=0 failed=1 cancelled=0 asked=1"
    row = checkins(NY)[0]
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("Could not reach Twilio")
    assert [r.method for r in fake_twilio.listed] == ["GET"]
    clock.move_to(retry_at + DAY)
    assert send_due() == NOTHING
    assert fake_twilio.requests == [] and fake_twilio.sent == []


def test_a_last_attempt_without_an_answer_fails_saying_it_may_have_gone_when_twilio_is_away(
    clock, fake_twilio, settings
) -> None:
    settings.CHECKIN_MAX_ATTEMPTS = 1
    triage(NY)
    clock.move_to(START + 14 * DAY)
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # neither the send nor the question gets in
    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"

    retry_at = checkins(NY)[0].send_after
    clock.move_to(retry_at)
    assert send_due() == "claimed=1 sent=0 deferred=0 failed=1 cancelled=0 asked=1"
    row = checkins(NY)[0]
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("May have been sent")
    assert "Check Twilio's console" in row.last_error
    assert "Could not reach Twilio" in row.last_error
    settings.TWILIO_API_URL = fake_twilio.url
    clock.move_to(retry_at + DAY)
    assert send_due() == NOTHING
    assert fake_twilio.requests == []


def test_sending_gives_up_after_the_maximum_attempts(clock, fake_twilio, settings) -> None:
    settings.CHECKIN_MAX_ATTEMPTS = 3
    settings.CHECKIN_RETRY_BASE_SECONDS = 60
    settings.CHECKIN_RETRY_MAX_SECONDS = 100
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.fail_next(status=503, times=10)

    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    clock.move_to(checkins(NY)[0].send_after)
    assert send_due() == "claimed=1 sent=0 deferred=1 failed=0 cancelled=0"
    retry_at = checkins(NY)[0].send_after
    clock.move_to(retry_at)
    assert send_due() == "claimed=1 sent=0 deferred=0 failed=1 cancelled=0"

    row = checkins(NY)[0]
    assert (row.status, row.attempts) == ("failed", 3)
    assert "HTTP 503" in row.last_error
    clock.move_to(retry_at + DAY)
    assert send_due() == NOTHING
    assert len(fake_twilio.requests) == 3
    # The six-week check-in is still to come.
    assert pending(NY) == [("checkin.six_weeks", START + 42 * DAY)]


def test_the_backoff_stops_growing_at_the_maximum(clock, fake_twilio, settings) -> None:
    settings.CHECKIN_RETRY_BASE_SECONDS = 60
    settings.CHECKIN_RETRY_MAX_SECONDS = 100
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.fail_next(status=500, times=4)

    waits = []
    for _ in range(4):
        send_due()
        row = checkins(NY)[0]
        waits.append((row.send_after - timezone.now()).total_seconds())
        clock.move_to(row.send_after)

    assert 48 <= waits[0] <= 60
    assert all(80 <= wait <= 100 for wait in waits[1:])


def test_twilio_saying_unsubscribed_opts_the_person_out(clock, fake_twilio) -> None:
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.fail_next(status=400, code=21610)

    assert send_due() == "claimed=1 sent=0 deferred=0 failed=1 cancelled=0"

    assert Person.objects.get(address=NY).opted_out_at == START + 14 * DAY
    assert [(c.message_key, c.status, c.cancelled_reason, c.error_code) for c in checkins(NY)] == [
        ("checkin.routine_2w", "failed", "", 21610),
        ("checkin.six_weeks", "cancelled", "opted out", None),
    ]
    clock.move_to(START + 42 * DAY)
    assert send_due() == NOTHING
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize("code", [21211, 21614])
def test_a_number_that_cannot_take_texts_is_not_retried(clock, fake_twilio, code) -> None:
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.fail_next(status=400, code=code)

    assert send_due() == "claimed=1 sent=0 deferred=0 failed=1 cancelled=0"

    person = Person.objects.get(address=NY)
    assert person.number_invalid_at == START + 14 * DAY
    assert not person.opted_out
    assert [(c.status, c.cancelled_reason, c.error_code) for c in checkins(NY)] == [
        ("failed", "", code),
        ("cancelled", "number cannot receive texts", None),
    ]
    clock.move_to(START + 42 * DAY)
    assert send_due() == NOTHING
    assert len(fake_twilio.requests) == 1


def test_after_unsubscribed_in_a_pass_nothing_more_is_sent_to_that_person(
    clock, fake_twilio
) -> None:
    """The dispatcher was down for six weeks: both check-ins are due in the same batch."""
    triage(NY)
    clock.move_to(START + 42 * DAY)
    fake_twilio.fail_next(status=400, code=21610)  # the next request only

    assert send_due() == "claimed=2 sent=0 deferred=0 failed=1 cancelled=1"

    assert len(fake_twilio.requests) == 1
    assert fake_twilio.sent == []
    assert [(c.status, c.cancelled_reason) for c in checkins(NY)] == [
        ("cancelled", "superseded by a later check-in"),
        ("failed", ""),
    ]
    assert Person.objects.get(address=NY).opted_out


# ---------------------------------------------------------------- claims and leases


def test_two_dispatchers_never_claim_the_same_checkin(clock) -> None:
    triage(NY)
    clock.move_to(START + 14 * DAY)

    _, first = claim_batch(timezone.now(), 10)
    _, second = claim_batch(timezone.now(), 10)

    assert len(first) == 1
    assert second == []


def test_a_checkin_left_by_a_killed_worker_is_sent_once_its_lease_expires(
    clock, locmem_sms, settings
) -> None:
    settings.CHECKIN_LEASE_SECONDS = 300
    triage(NY)
    due = START + 14 * DAY
    clock.move_to(due)
    token, ids = claim_batch(timezone.now(), 10)  # ... and the worker is killed here
    assert len(ids) == 1

    clock.move_to(due + dt.timedelta(seconds=299))
    assert send_due() == NOTHING
    assert locmem_sms == []

    clock.move_to(due + dt.timedelta(seconds=300))
    assert send_due() == "claimed=1 sent=1 deferred=0 failed=0 cancelled=0"
    assert [sms.to for sms in locmem_sms] == [NY]

    # The old worker's claim is void: replaying it sends nothing.
    assert send_batch(ids, token).sent == 0
    assert send_due() == NOTHING
    assert len(locmem_sms) == 1


def test_after_downtime_only_the_latest_due_checkin_of_an_episode_goes(clock, locmem_sms) -> None:
    triage(NY)

    clock.shift(43 * DAY)  # both the 2-week and the 6-week check-in are overdue
    call_command("send_due_checkins", stdout=io.StringIO())

    assert [sms.body[:35] for sms in locmem_sms] == ["BackCheck: it's been 6 weeks. How i"]
    two_weeks = Checkin.objects.get(person__address=NY, step__offset_days=14)
    assert two_weeks.status == Checkin.Status.CANCELLED
    assert two_weeks.cancelled_reason == "superseded by a later check-in"


def test_a_slow_provider_splits_a_batch_into_short_transactions_and_sends_each_once(
    clock, locmem_sms, monkeypatch
) -> None:
    # Each chunk holds its people's row locks while it sends; with a slow Twilio it must stop
    # after CHUNK_SECONDS and leave the rest of the batch to the next chunk. 0 s: one per chunk.
    monkeypatch.setattr("reminders.dispatch.CHUNK_SECONDS", 0.0)
    chunks: list[list[int]] = []
    real_send_chunk = dispatch._send_chunk

    def send_chunk(ids, *args):
        chunks.append(list(ids))
        return real_send_chunk(ids, *args)

    monkeypatch.setattr("reminders.dispatch._send_chunk", send_chunk)
    people = [NY, NY_2, "+12125550125"]
    for address in people:
        triage(address)

    clock.move_to(START + 14 * DAY)
    assert send_due() == "claimed=3 sent=3 deferred=0 failed=0 cancelled=0"

    assert sorted(sms.to for sms in locmem_sms) == sorted(people)
    assert [len(ids) for ids in chunks] == [3, 2, 1]  # one text per transaction
    assert all(c.status == Checkin.Status.SENT for a in people for c in checkins(a)[:1])
    assert send_due() == NOTHING


def test_a_provider_error_naming_the_number_is_logged_masked(clock, fake_twilio, caplog) -> None:
    triage(NY)
    clock.move_to(START + 14 * DAY)
    fake_twilio.fail_next(
        status=400,
        code=21211,
        message="The 'To' number +1 212-555-0123 is not a valid phone number.",
    )

    with caplog.at_level("INFO", logger="reminders.dispatch"):
        send_due()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused" in logged and "…0123" in logged
    assert "555-0123" not in logged and "2125550123" not in logged
