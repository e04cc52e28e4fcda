"""SMS backend for local development: prints each text instead of sending it."""

from __future__ import annotations

import sys
import uuid
from typing import TextIO

from triage.sms.base import BaseSmsBackend


def mask_number(number: str) -> str:
    """'+15551230000' -> '+1555…0000': enough to tell conversations apart, not to dial."""
    if len(number) <= 9:
        return "…" + number[-4:]
    return number[:5] + "…" + number[-4:]


class ConsoleBackend(BaseSmsBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, to: str, body: str) -> str:
        # sys.stdout is looked up per call so pytest's capsys and redirects see the output.
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {mask_number(to)}: {body}\n")
        stream.flush()
        return f"console-{uuid.uuid4()}"
