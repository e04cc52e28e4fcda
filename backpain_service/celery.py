"""The Celery app: `celery -A backpain_service worker` and `celery -A backpain_service beat`.

Configuration comes from Django settings prefixed CELERY_ (see settings.py), so the broker is
REDIS_URL when set and otherwise kombu's filesystem transport in var/celery-queue, which the
worker that `python3 dev.py run` starts (with beat embedded) uses without any server.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backpain_service.settings")

app = Celery("backpain_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
