"""The Celery app: `celery -A backpain_service worker` and `celery -A backpain_service beat`.

Configuration comes from Django settings prefixed CELERY_ (see settings.py), so the broker is
REDIS_URL when set and otherwise kombu's filesystem transport in var/celery-queue, which the
worker that `python3 dev.py run` starts (with embedded beat) uses without any server.
"""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backpain_service.settings")

app = Celery("backpain_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def database_connections_retire_old(sender: Any = None, **_: Any) -> None:
    """Between tasks, retire database connections as Django does between requests.

    With CELERY_DB_REUSE_MAX set, Celery's Django fix-up no longer closes the connection around
    every task (each batch of check-ins paid for a new PostgreSQL backend), so this closes one
    that is past CONN_MAX_AGE, broken (CONN_HEALTH_CHECKS, errors) or left outside autocommit,
    before the next task uses it.
    """
    # An eager task runs inside its caller (a request, a test's transaction): not ours to close.
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
