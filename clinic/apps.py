from django.apps import AppConfig


class ClinicConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from clinic import alerts
        from triage import signals

        # triage never imports clinic: it sends these signals inside the inbound transaction.
        signals.outcome_recorded.connect(
            alerts.alert_on_outcome, dispatch_uid="clinic-alert-outcome"
        )
        signals.text_not_understood.connect(
            alerts.alert_on_not_understood, dispatch_uid="clinic-alert-not-understood"
        )
