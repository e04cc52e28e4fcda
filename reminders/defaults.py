"""The default check-in plan, installed by a data migration and edited in admin afterwards.

Each step: the outcome tier it follows, days after the outcome, what it asks, and its message
key (texts in triage/defaults.py, under "checkin."). EMERGENCY has no automatic check-ins: a
clinician follows those people up.
"""

from __future__ import annotations

from triage.rules import Tier

# (tier, offset_days, kind, message_key)
PLAN: tuple[tuple[Tier, int, str, str], ...] = (
    (Tier.ROUTINE, 14, "pain", "checkin.routine_2w"),
    (Tier.ROUTINE, 42, "pain", "checkin.six_weeks"),
    (Tier.SOON, 7, "booked", "checkin.soon_1w"),
    (Tier.SOON, 42, "pain", "checkin.six_weeks"),
    (Tier.URGENT, 2, "booked", "checkin.urgent_2d"),
    (Tier.URGENT, 42, "pain", "checkin.six_weeks"),
)
