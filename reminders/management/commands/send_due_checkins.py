"""`python manage.py send_due_checkins`: one dispatcher pass, in this process, no worker needed.

For cron-based installs and operators. Prints one line: claimed, sent, deferred, failed,
cancelled. Exits 0 even when some texts failed (they are recorded on their rows).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from reminders.dispatch import dispatch_due


class Command(BaseCommand):
    help = "Send the check-ins that are due now (one pass, in this process)."

    def handle(self, *args, **options) -> None:
        summary = dispatch_due()
        self.stdout.write(summary.line())
