"""SMS backend for tests: keeps sent texts in `outbox`, like django.core.mail.outbox."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from triage.sms.base import BaseSmsBackend


@dataclass(frozen=True)
class OutboundSms:
    to: str
    body: str
    sid: str


outbox: list[OutboundSms] = []

# Not reset with the outbox, so ids stay unique across a whole test run.
_counter = itertools.count(1)


class LocmemBackend(BaseSmsBackend):
    def send(self, to: str, body: str) -> str:
        sid = f"SMlocmem{next(_counter)}"
        outbox.append(OutboundSms(to=to, body=body, sid=sid))
        return sid
