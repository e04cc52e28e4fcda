"""Top-level URL routes: staff pages (clinic), the admin, /healthz, the Twilio webhooks."""

from django.contrib import admin
from django.urls import include, path

from backpain_service.health import healthz

urlpatterns = [
    # Before the admin: the dashboard lives under admin/ but is not a model page.
    path("", include("clinic.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("triage.urls")),
]
