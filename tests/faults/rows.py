"""Due check-ins for the fault tests, made the same way in the test process and, for the private
PostgreSQL cluster, in a subprocess (tests/faults/test_postgres_restart.py).

Only Django and the apps are imported here, so the subprocess needs no pytest.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from reminders.models import Checkin, CheckinStep, SendingWindow
from triage.models import Conversation, Person
from triage.rules import Tier


def phone(prefix: int, n: int) -> str:
    """A US test number unique to (prefix, n): +1555 PPP NNNN."""
    return f"+1555{prefix:03d}{n:04d}"


def open_all_day() -> None:
    """The sending window is the whole day, so a test does not depend on the hour it runs at."""
    SendingWindow.objects.update_or_create(
        pk=SendingWindow.current().pk,
        defaults={"start": dt.time(0, 0), "end": dt.time(23, 59, 59, 999999)},
    )


def due_checkins(
    count: int, prefix: int = 0, *, due_in: dt.timedelta = dt.timedelta(minutes=-1)
) -> list[Checkin]:
    """`count` people, each with one active routine episode and its 2-week check-in, due a
    minute ago (or `due_in` from now)."""
    open_all_day()
    now = timezone.now()
    step = CheckinStep.objects.get(tier=Tier.ROUTINE, offset_days=14)
    people = Person.objects.bulk_create(
        Person(address=phone(prefix, n), phone=phone(prefix, n), country="US", timezone="UTC")
        for n in range(count)
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(person=p, tier=Tier.ROUTINE, outcome_at=now - step.offset) for p in people
    )
    return Checkin.objects.bulk_create(
        Checkin(
            person=c.person,
            conversation=c,
            step=step,
            tier=step.tier,
            kind=step.kind,
            message_key=step.message_key,
            due_at=now + due_in,
            send_after=now + due_in,
        )
        for c in conversations
    )
