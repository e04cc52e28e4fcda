"""Top-level URL routes: the admin, /healthz, and the triage app (Twilio webhooks)."""

from django.contrib import admin
from django.urls import include, path

from backpain_service.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("triage.urls")),
]
