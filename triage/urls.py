from django.urls import path

from triage import views

urlpatterns = [
    path("twilio/inbound/", views.twilio_inbound, name="twilio-inbound"),
]
