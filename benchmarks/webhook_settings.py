"""Settings for benchmarks/webhook.py's server: the project's, with the baseline views added."""

from backpain_service.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.webhook_app"
