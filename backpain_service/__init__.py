"""BackCheck's Django project package: settings, URLs, WSGI/ASGI and the Celery app."""

from backpain_service.celery import app as celery_app

__all__ = ["celery_app"]
