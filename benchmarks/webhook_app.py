"""The server side of benchmarks/webhook.py: the project's own settings and URLs plus the two
baseline views it is compared against, served by the same gunicorn in the same run.

- /bench/signature/: checks the Twilio signature and answers fixed TwiML (no database);
- /bench/insert/: the same, plus one raw INSERT of the text, committed (autocommit): the least a
  webhook that never loses a text can do.

Never part of the deployed service: only benchmarks.webhook starts a server with these settings.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from triage.views import signature_ok, twiml

BENCH_TABLE = "bench_inbound"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {BENCH_TABLE} (
    id bigserial PRIMARY KEY,
    sid varchar(64) UNIQUE NOT NULL,
    address varchar(64) NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
FIXED_REPLY = ["Thanks, we got your message."]


def _refused() -> HttpResponse:
    return HttpResponse("Invalid Twilio signature", status=403, content_type="text/plain")


@csrf_exempt
@require_POST
def signature_only(request: HttpRequest) -> HttpResponse:
    if not signature_ok(request):
        return _refused()
    return twiml(FIXED_REPLY)


@csrf_exempt
@require_POST
def insert_only(request: HttpRequest) -> HttpResponse:
    if not signature_ok(request):
        return _refused()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BENCH_TABLE} (sid, address, body) VALUES (%s, %s, %s)",
            [
                request.POST.get("MessageSid", ""),
                request.POST.get("From", ""),
                request.POST.get("Body", ""),
            ],
        )
    return twiml(FIXED_REPLY)


urlpatterns = [
    path("bench/signature/", signature_only),
    path("bench/insert/", insert_only),
    path("", include("backpain_service.urls")),
]
