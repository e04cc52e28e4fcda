"""Staff pages outside the model admin: the dashboard and the simulator."""

from django.urls import path  # noqa: F401

app_name = "clinic"

urlpatterns: list = []
