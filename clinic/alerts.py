"""Clinician alerts: an emergency or urgent outcome, or a text still not understood after a
re-ask, becomes an `Alert` row, and the notifier tells on-call staff by email and SMS.

Recording
    The receivers of `triage.signals.outcome_recorded` and `text_not_understood` run inside the
    inbound text's transaction, under the person's row lock: the alert commits with the outcome
    or not at all. A conversation has at most one unacknowledged alert of each kind; a later
    one adds its rule ids to it. After commit the notifier task is kicked; if the broker is
    down, the next beat pass (ALERT_NOTIFY_INTERVAL) sends it instead.

Notifying
    `alerts_notify_due` claims due rows by pushing `notify_after` one lease ahead (picked with
    SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, and a compare-and-swap on `notify_after`
    everywhere, so two workers never claim the same alert), sends outside any transaction,
    then records the result. An unacknowledged emergency is due again after
    ALERT_RENOTIFY_MINUTES; a failed send after RETRY_AFTER; an alert whose worker died, after
    the lease. Emails and texts carry a masked number, rule ids and admin links: never what the
    person wrote, never their number.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from clinic.models import Alert
from triage.models import Conversation, Message, Rule, mask, redact
from triage.rules import Tier
from triage.segments import segment_info
from triage.sms import SmsError, send_sms

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=2)  # a worker that died mid-send: claimed again after this
RETRY_AFTER = dt.timedelta(minutes=1)  # short: an undelivered emergency alert must not wait
BATCH_SIZE = 50

HEADLINES = {
    Alert.Kind.EMERGENCY: "EMERGENCY outcome",
    Alert.Kind.URGENT: "URGENT outcome",
    Alert.Kind.UNPARSED: "Text not understood",
}


# ---------------------------------------------------------------- recording


def alert_record(
    *,
    conversation: Conversation,
    kind: str,
    tier: int | None,
    reasons: Iterable[str],
    now: dt.datetime | None = None,
) -> Alert | None:
    """A new alert due now, or the conversation's unacknowledged one of this kind updated.

    Call inside the inbound transaction. None for a simulated person (staff in the simulator).
    """
    person = conversation.person
    if person.simulated:
        return None
    now = now or timezone.now()
    reasons = list(dict.fromkeys(reasons))
    alert = (
        Alert.objects.filter(conversation=conversation, kind=kind, acknowledged_at=None)
        .order_by("-id")
        .first()
    )
    if alert is None:
        alert = Alert.objects.create(
            person=person,
            conversation=conversation,
            kind=kind,
            tier=tier,
            reasons=reasons,
            notify_after=now,
        )
        log.warning("alert %s: %s for %s", alert.pk, kind, mask(person.address))
        _kick_notifier_after_commit()
        return alert

    added = [r for r in reasons if r not in alert.reasons]
    alert.reasons = [*alert.reasons, *added]
    if tier is not None and (alert.tier is None or tier > alert.tier):
        alert.tier = tier
    fields = ["reasons", "tier"]
    if added and kind == Alert.Kind.EMERGENCY:
        # A new red flag is news on-call should have now, not at the next reminder.
        alert.notify_after = now
        fields.append("notify_after")
        _kick_notifier_after_commit()
    alert.save(update_fields=fields)
    return alert


def alert_on_outcome(
    sender, *, conversation: Conversation, tier: int | None, reasons, emergency=False, **kwargs
) -> None:
    """Receiver of triage.signals.outcome_recorded: URGENT and EMERGENCY outcomes."""
    if tier is None:
        return
    if emergency or tier >= Tier.EMERGENCY:
        kind = Alert.Kind.EMERGENCY
    elif tier >= Tier.URGENT:
        kind = Alert.Kind.URGENT
    else:
        return
    alert_record(conversation=conversation, kind=kind, tier=tier, reasons=reasons)


def alert_on_not_understood(
    sender, *, conversation: Conversation, message: Message, **kwargs
) -> None:
    """Receiver of triage.signals.text_not_understood (the body is never copied to the alert)."""
    # Before an outcome the conversation has no tier yet: the engine's tier and reasons so far
    # (e.g. F03, an emergency question left unclear) tell on-call what is at stake.
    state = conversation.state or {}
    reasons = state.get("reasons") or conversation.reasons or []
    tier = conversation.tier
    if tier is None and reasons:
        tier = state.get("tier")
    alert_record(conversation=conversation, kind=Alert.Kind.UNPARSED, tier=tier, reasons=reasons)


def _kick_notifier_after_commit() -> None:
    transaction.on_commit(_kick_notifier)


def _kick_notifier() -> None:
    from clinic.tasks import notify_alerts

    try:
        # retry=False: with the broker down, fail at once rather than hold up Twilio's webhook.
        notify_alerts.apply_async(retry=False)
    except Exception:  # noqa: BLE001  (the row is saved; beat's pass sends it)
        log.warning("could not start the alert notifier now; the next beat pass will send it")


def alert_acknowledge(*, alert_ids: Iterable[int], user, now: dt.datetime | None = None) -> int:
    """Mark alerts seen: no more reminders. Returns how many were newly acknowledged."""
    now = now or timezone.now()
    return Alert.objects.filter(pk__in=list(alert_ids), acknowledged_at=None).update(
        acknowledged_at=now, acknowledged_by=user, notify_after=None
    )


# ---------------------------------------------------------------- notifying


def alerts_notify_due(*, now: dt.datetime | None = None) -> int:
    """One pass: notify on-call staff of every due alert. Returns how many were notified."""
    now = now or timezone.now()
    notified = 0
    while True:
        lease_end, alerts = _claim(now, BATCH_SIZE)
        for alert in alerts:
            notified += _notify(alert, now=now, lease_end=lease_end)
        if len(alerts) < BATCH_SIZE:
            return notified


def _claim(now: dt.datetime, limit: int) -> tuple[dt.datetime, list[Alert]]:
    lease_end = now + CLAIM_LEASE
    due = Alert.objects.filter(notify_after__lte=now, acknowledged_at=None)
    claimed = []
    with transaction.atomic():
        candidates = due.order_by("notify_after", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        for pk, after in candidates.values_list("id", "notify_after")[:limit]:
            # Compare-and-swap: taken only if no one else moved notify_after meanwhile.
            if due.filter(pk=pk, notify_after=after).update(notify_after=lease_end):
                claimed.append(pk)
    alerts = Alert.objects.filter(pk__in=claimed).select_related("person").order_by("id")
    return lease_end, list(alerts)


def _notify(alert: Alert, *, now: dt.datetime, lease_end: dt.datetime) -> bool:
    emails, numbers = settings.ALERT_EMAILS, settings.ALERT_SMS_NUMBERS
    if not emails and not numbers:
        log.warning(
            "alert %s (%s): no ALERT_EMAILS or ALERT_SMS_NUMBERS set; it is only listed in admin",
            alert.pk,
            alert.kind,
        )
        _record(alert, now=now, lease_end=lease_end, sent=False)
        return True

    failed = False
    if emails:
        subject, body = alert_email(alert)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails)
        except Exception as exc:  # noqa: BLE001  (SMTP, DNS, TLS: all mean "try again")
            failed = True
            log.error(
                "alert %s: email to %s recipient(s) failed: %s",
                alert.pk,
                len(emails),
                redact(str(exc) or type(exc).__name__),
            )
    text = alert_sms(alert)
    for number in numbers:
        try:
            send_sms(number, text)
        except SmsError as exc:
            log.error("alert %s: text to %s failed: %s", alert.pk, mask(number), redact(str(exc)))
            # A number that can never take a text must not hold everyone else in a retry loop.
            failed = failed or not exc.permanent
        except Exception as exc:  # noqa: BLE001
            failed = True
            log.error(
                "alert %s: text to %s failed: %s",
                alert.pk,
                mask(number),
                redact(str(exc) or type(exc).__name__),
            )
    if failed:
        # Everyone is told again on the retry: a repeat beats a missed emergency.
        Alert.objects.filter(pk=alert.pk, notify_after=lease_end).update(
            notify_after=now + RETRY_AFTER
        )
        return False
    _record(alert, now=now, lease_end=lease_end, sent=True)
    return True


def _record(alert: Alert, *, now: dt.datetime, lease_end: dt.datetime, sent: bool) -> None:
    renotify = sent and alert.kind == Alert.Kind.EMERGENCY
    next_due = now + dt.timedelta(minutes=settings.ALERT_RENOTIFY_MINUTES) if renotify else None
    # One UPDATE: a second update of the same row in one transaction makes PostgreSQL re-check
    # its foreign keys, taking a share lock on the person that an inbound text may hold.
    still_ours = Q(notify_after=lease_end, acknowledged_at=None)  # not acknowledged meanwhile
    Alert.objects.filter(pk=alert.pk).update(
        notified_at=now,
        notify_count=F("notify_count") + (1 if sent else 0),
        notify_after=Case(
            When(still_ours, then=Value(next_due, output_field=DateTimeField())),
            default=F("notify_after"),
        ),
    )


# ---------------------------------------------------------------- what on-call staff read


def admin_url(path: str) -> str:
    base = settings.ADMIN_BASE_URL
    return base.rstrip("/") + path if base else path


def _reminder(alert: Alert) -> str:
    return f" (reminder {alert.notify_count + 1})" if alert.notify_count else ""


def alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body of the email about `alert`."""
    number = mask(alert.person.address)
    rule_ids = ", ".join(alert.reasons)
    headline = HEADLINES[alert.kind] + (f" ({rule_ids})" if rule_ids else "")
    subject = f"[{settings.SERVICE_NAME}] {headline} {number}{_reminder(alert)}"

    rules = Rule.objects.in_bulk(alert.reasons)
    lines = [
        f"{headline} for {number}{_reminder(alert)}",
        "",
        f"Kind: {alert.get_kind_display()}",
        f"Tier: {alert.get_tier_display() if alert.tier is not None else 'none yet'}",
        "Rules:" if alert.reasons else "Rules: none",
    ]
    for rule_id in alert.reasons:
        rule = rules.get(rule_id)
        if rule is None:
            lines.append(f"  {rule_id}")
            continue
        lines.append(f"  {rule_id}: {rule.question or '(no question)'}")
        if rule.trigger:
            lines.append(f"       trigger: {rule.trigger}")
    created = timezone.localtime(alert.created_at)
    lines += [
        f"Number: {number}",
        f"Raised: {created:%Y-%m-%d %H:%M %Z}",
        "",
        f"Person: {admin_url(reverse('admin:triage_person_change', args=[alert.person_id]))}",
        f"Alert (acknowledge here): {_alert_link(alert)}",
    ]
    if alert.kind == Alert.Kind.EMERGENCY:
        lines += [
            "",
            f"This is sent again every {settings.ALERT_RENOTIFY_MINUTES:g} minutes until "
            "someone acknowledges the alert.",
        ]
    return subject, "\n".join(lines) + "\n"


def _alert_link(alert: Alert) -> str:
    return admin_url(reverse("admin:clinic_alert_change", args=[alert.pk]))


SMS_WORDS = {
    Alert.Kind.EMERGENCY: "EMERGENCY",
    Alert.Kind.URGENT: "URGENT",
    Alert.Kind.UNPARSED: "NOT UNDERSTOOD",
}


def _fits(text: str) -> bool:
    info = segment_info(text)
    return info.encoding == "GSM-7" and info.segments == 1


def alert_sms(alert: Alert) -> str:
    """One GSM-7 segment: kind, masked number, rule ids and, if it fits, the alert's link."""
    number = "..." + alert.person.address[-4:]  # mask()'s "…" would force UCS-2
    head = f"{settings.SERVICE_NAME} {SMS_WORDS[alert.kind]} {number}"
    rules = f" {','.join(alert.reasons)}" if alert.reasons else ""
    reminder = _reminder(alert)
    link = _alert_link(alert)
    for text in (
        f"{head}{rules}{reminder}: {link}",
        f"{head}{rules}{reminder}. See admin alerts.",
        f"{head}{reminder}. See admin alerts.",
    ):
        if _fits(text):
            return text
    fallback = "".join(c if _fits(c) else "?" for c in f"{head}{reminder}")
    return fallback[:160]
