"""The client's IP address for the admin login throttle (django-axes) behind a proxy.

Only used with TRUST_X_FORWARDED_FOR=true (settings.AXES_CLIENT_IP_CALLABLE); otherwise axes
reads REMOTE_ADDR, the socket's peer. A client can put anything in X-Forwarded-For; a proxy
appends the address it saw, so only the right-most entry is trustworthy, and only when exactly
one proxy we control stands in front.
"""

from __future__ import annotations

from django.http import HttpRequest


def client_ip_forwarded(request: HttpRequest) -> str | None:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last or request.META.get("REMOTE_ADDR")
