from django.apps import AppConfig


class TriageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        from triage import signals  # noqa: F401  (connects the content-cache signals)
