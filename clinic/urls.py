"""Staff pages outside the model admin: the dashboard and the simulator."""

from django.urls import path

from clinic import dashboard_views, simulator_views

app_name = "clinic"

urlpatterns: list = []

# The dashboard: numbers over a date range, inside the admin (clinic.dashboard_views).
urlpatterns += [
    path("admin/dashboard/", dashboard_views.dashboard_view, name="dashboard"),
]

# The simulator: staff text the service without a phone (clinic.simulator_views).
urlpatterns += [
    path("simulator/", simulator_views.simulator_page, name="simulator"),
    path("simulator/text/", simulator_views.simulator_text, name="simulator_text"),
    path("simulator/fire/", simulator_views.simulator_fire, name="simulator_fire"),
    path("simulator/reset/", simulator_views.simulator_reset, name="simulator_reset"),
    path("simulator/country/", simulator_views.simulator_country, name="simulator_country"),
    path("simulator/save/", simulator_views.simulator_save, name="simulator_save"),
]
