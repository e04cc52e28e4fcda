"""WSGI entry for benchmarks/webhook.py (gunicorn benchmarks.webhook_wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.webhook_settings")
application = get_wsgi_application()
