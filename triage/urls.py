"""URL routes for the triage app; the Twilio webhooks are added here."""

urlpatterns: list = []
