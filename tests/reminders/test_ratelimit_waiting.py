"""A chunk that waits for slots other workers booked first still uses every slot it booked.

With several workers sharing the limit, a chunk's first slot can be seconds away. The chunk's
one-second sending budget runs from that slot, not from when it asked: otherwise it sent one
text, gave up the rest of its slots and booked again (10 workers' worth of slots for one text).
The clock is fake: nothing here measures elapsed time.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
import time_machine
from django.core.management import call_command

from reminders import dispatch, ratelimit
from reminders.ratelimit import get_limiter
from tests.scripts import ROUTINE_EN as ROUTINE
from triage.services import conversation_handle_inbound
from triage.sms import send_sms

_sids = itertools.count(1)


@pytest.mark.django_db
def test_it_sends_a_whole_chunk_after_waiting_for_other_workers_slots(
    settings, fake_clock, locmem_sms, monkeypatch
) -> None:
    settings.CHECKIN_MAX_PER_SECOND = 5  # a slot every 0.2 s (plus the margin); chunks of 5
    settings.REDIS_URL = None  # the in-process limiter, on the fake clock
    people = [f"+1212555{n:04d}" for n in range(200, 205)]
    sent_at: list[float] = []

    def send_and_note_when(to: str, body: str) -> str:
        sent_at.append(round(fake_clock.now - 1000.0, 6))
        return send_sms(to, body)

    monkeypatch.setattr(dispatch, "send_sms", send_and_note_when)
    start = dt.datetime(2026, 4, 6, 14, 0, tzinfo=dt.UTC)  # 10:00 in New York
    with time_machine.travel(start, tick=False) as clock:
        for address in people:
            for body in ROUTINE:
                conversation_handle_inbound(sid=f"SMwait{next(_sids)}", address=address, body=body)
        clock.move_to(start + dt.timedelta(days=14))
        # Two other workers booked the next two seconds (ten slots) just before this pass.
        assert get_limiter().reserve(10) == 0.0

        out = io.StringIO()
        call_command("send_due_checkins", stdout=out)

    assert out.getvalue().strip() == "claimed=5 sent=5 deferred=0 failed=0 cancelled=0"
    assert sorted(sms.to for sms in locmem_sms) == people
    # Its five slots, right after the other workers' ten, none skipped.
    slot = 0.2 * (1 + ratelimit.SAFETY_MARGIN)
    assert sent_at == pytest.approx([(10 + n) * slot for n in range(5)])
