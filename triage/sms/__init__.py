"""Outbound SMS through a pluggable backend chosen by settings.SMS_BACKEND_CLASS.

    from triage.sms import SmsError, send_sms
    sid = send_sms("+15551230000", "Thanks, we got your message.")

Backends: twilio (real texts), console (prints), locmem (tests; see locmem.outbox).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from triage.sms.base import BaseSmsBackend, SmsError

__all__ = ["BaseSmsBackend", "SmsError", "get_backend", "send_sms", "sms_prepare"]


@cache
def _backend_for(class_path: str) -> BaseSmsBackend:
    # Backends read settings on every send, so one instance per class is safe
    # and lets the Twilio backend reuse its HTTP connections.
    backend_class = import_string(class_path)
    return backend_class()


def get_backend() -> BaseSmsBackend:
    return _backend_for(settings.SMS_BACKEND_CLASS)


def sms_prepare() -> None:
    """Build the backend's clients now rather than on the first send (see BaseSmsBackend)."""
    get_backend().prepare()


def send_sms(to: str, body: str) -> str:
    """Send one text; return the provider's message id. Raises SmsError."""
    return get_backend().send(to, body)
