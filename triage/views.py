"""Twilio webhooks. They validate the signature, parse the form, call a service, answer TwiML."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from triage.services import CALLBACK_STATUS, conversation_handle_inbound, message_record_status

log = logging.getLogger(__name__)

SID_RE = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")
MAX_MEDIA = 10  # Twilio sends at most ten MediaUrlN fields


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed. Behind a TLS-terminating proxy the request we see says http://
    and an internal host; TWILIO_WEBHOOK_BASE_URL names the public origin instead."""
    base = settings.TWILIO_WEBHOOK_BASE_URL
    if base:
        return base.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def signature_ok(request: HttpRequest) -> bool:
    if not settings.TWILIO_VALIDATE_SIGNATURE:
        return True
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(signed_url(request), request.POST, signature)


def twiml(replies: list[str]) -> HttpResponse:
    response = MessagingResponse()
    for reply in replies:
        response.message(reply)
    return HttpResponse(str(response), content_type="application/xml")


def bad_request(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=400, content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not signature_ok(request):
        return HttpResponse("Invalid Twilio signature", status=403, content_type="text/plain")
    # NUL is legal in a form field but not in a PostgreSQL text column.
    field = lambda name: (request.POST.get(name) or "").replace("\x00", "")  # noqa: E731
    sid = field("MessageSid") or field("SmsMessageSid")
    sender = field("From").strip()
    if not SID_RE.match(sid):
        return bad_request("MessageSid missing or malformed")
    if not sender or len(sender) > 64:
        return bad_request("From missing or too long")
    try:
        num_media = max(0, min(int(request.POST.get("NumMedia") or 0), MAX_MEDIA))
    except ValueError:
        return bad_request("NumMedia is not a number")
    media = [field(f"MediaUrl{i}") for i in range(num_media) if f"MediaUrl{i}" in request.POST]
    body = field("Body")
    result = conversation_handle_inbound(
        sid=sid, address=sender, body=body, num_media=num_media, media_urls=media
    )
    return twiml(result.replies)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Delivery status callbacks for the texts we sent (check-ins), signed like inbound ones."""
    if not signature_ok(request):
        return HttpResponse("Invalid Twilio signature", status=403, content_type="text/plain")
    sid = (request.POST.get("MessageSid") or request.POST.get("SmsSid") or "").strip()
    status = (request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or "").strip()
    if not SID_RE.match(sid):
        return bad_request("MessageSid missing or malformed")
    if status.lower() not in CALLBACK_STATUS:
        return bad_request("MessageStatus missing or unknown")
    raw_code = (request.POST.get("ErrorCode") or "").strip()
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses (a 500).
    if raw_code and not (raw_code.isascii() and raw_code.isdigit()):
        return bad_request("ErrorCode is not a number")
    code = int(raw_code) if raw_code and len(raw_code) < 10 else None
    if not message_record_status(sid, status.lower(), code):
        # Not ours (e.g. a TwiML reply, or a number shared with another app): nothing to do,
        # and an error would only make Twilio log failures.
        log.info("status callback for unknown message %s…", sid[:10])
    return HttpResponse(status=204)
