"""SMS backend for tests: keeps sent texts in `outbox`, like django.core.mail.outbox."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.utils import timezone

from triage.sms.base import BaseSmsBackend, TakenSms


@dataclass(frozen=True)
class OutboundSms:
    to: str
    body: str
    sid: str
    sent_at: dt.datetime = field(default_factory=timezone.now, compare=False)


outbox: list[OutboundSms] = []

# Not reset with the outbox, so ids stay unique across a whole test run.
_counter = itertools.count(1)


class LocmemBackend(BaseSmsBackend):
    def send(self, to: str, body: str) -> str:
        sid = f"SMlocmem{next(_counter)}"
        outbox.append(OutboundSms(to=to, body=body, sid=sid))
        return sid

    def taken_for(self, to: str, since: dt.datetime) -> list[TakenSms]:
        since = since.replace(microsecond=0)
        return [
            TakenSms(sms.sid, sms.body, sms.sent_at)
            for sms in reversed(outbox)
            if sms.to == to and sms.sent_at >= since
        ]
