"""WSGI entry point, served by gunicorn in production (`gunicorn backpain_service.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backpain_service.settings")

application = get_wsgi_application()
