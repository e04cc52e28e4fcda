"""ASGI entry point, for ASGI servers; production uses the WSGI one."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backpain_service.settings")

application = get_asgi_application()
