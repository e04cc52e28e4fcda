from django.apps import AppConfig


class RemindersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reminders"
    verbose_name = "Check-ins"

    def ready(self) -> None:
        from reminders.models import CheckinStep, SendingWindow
        from triage.signals import content_watch

        # The check-in plan is content too: each edit is a content version.
        content_watch(CheckinStep)
        content_watch(SendingWindow)
