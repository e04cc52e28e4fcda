"""Run every saved test conversation against the current content: one PASS/FAIL line each.

Exit status 1 when any fails (0 when all pass or none are saved), so a deploy script or CI can
refuse content that changed what a patient is told.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.testcases import testcases_run


class Command(BaseCommand):
    help = "Run all saved test conversations; exit status 1 if any fails."

    def handle(self, *args, **options) -> None:
        results = testcases_run()
        for result in results:
            if result.passed:
                self.stdout.write(f"PASS  {result.case.name}: {result.summary}")
            else:
                self.stdout.write(self.style.ERROR(f"FAIL  {result.case.name}: {result.summary}"))
        failed = sum(1 for r in results if not r.passed)
        if not results:
            self.stdout.write("No saved test conversations.")
            return
        summary = f"{len(results) - failed} of {len(results)} saved test conversations pass"
        if failed:
            raise CommandError(f"{summary}; {failed} failed.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{summary}."))
