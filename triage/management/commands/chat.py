"""Chat with the service in the terminal as a phone number would (no Twilio, no server)."""

from __future__ import annotations

import sys
import uuid

from django.core.management.base import BaseCommand

from triage.services import conversation_handle_inbound


class Command(BaseCommand):
    help = "Text the service from the terminal: each line you type is an inbound SMS."

    def add_arguments(self, parser):
        parser.add_argument("number", nargs="?", default="+15551230000", help="your phone number")

    def handle(self, *args, number: str, **options):
        interactive = sys.stdin.isatty()
        if interactive:
            self.stdout.write(f"Texting BackCheck as {number}. Ctrl-D to quit.\n")
        for line in sys.stdin:
            body = line.rstrip("\n")
            if not interactive:
                self.stdout.write(f"you> {body}")
            result = conversation_handle_inbound(
                sid="SM" + uuid.uuid4().hex, address=number, body=body
            )
            for reply in result.replies:
                self.stdout.write(self.style.SUCCESS(f"BackCheck> {reply}"))
            if not result.replies:
                self.stdout.write("(no reply)")
