"""`checkins_schedule` as one statement on PostgreSQL.

An outcome text schedules its tier's plan under the person's row lock, inside the webhook's
transaction: with the ORM that was three statements (the steps, the cancelling UPDATE, the
INSERT) and more Python building them than PostgreSQL spent running them. Here the same work is
one statement, built once per process from the models' metadata: the active steps of the tier,
everything else of the person's still open cancelled, and one row per step inserted unless this
episode already has it. All three parts read one snapshot, so they agree on the steps.

SQLite, used in development and by half the test runs, keeps the ORM path in
reminders/services.py; both are tested. Check-in rows are written without save(): Checkin has no
save() of its own and no save signals (tests/test_inbound_sql.py fails if one appears).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db import connection
from django.db.models import Field
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

from reminders.models import OPEN, Checkin, CheckinStep

CANCELLED_REASON = "new outcome"

# Columns copied from the step; due_at and send_after are counted from the outcome.
_FROM_STEP = {"step": "s.{id}", "tier": "s.{tier}", "kind": "s.{kind}", "message_key": "s.{key}"}
_DUE = "%s + s.{days} * interval '24 hours'"  # whole days of 24 h, whatever the session's zone


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _columns() -> list[tuple[Field, str | None]]:
    """The check-in columns the INSERT names and, per column, its SQL from the step (or None:
    a parameter, the field's default or the time now)."""
    step = CheckinStep._meta
    names = {
        "id": _q(step.pk.column),
        "tier": _q(step.get_field("tier").column),
        "kind": _q(step.get_field("kind").column),
        "key": _q(step.get_field("message_key").column),
        "days": _q(step.get_field("offset_days").column),
    }
    columns: list[tuple[Field, str | None]] = []
    for f in Checkin._meta.concrete_fields:
        if f.primary_key or isinstance(f.get_default(), DatabaseDefault):
            continue  # the database fills these
        if f.name in _FROM_STEP:
            columns.append((f, _FROM_STEP[f.name].format(**names)))
        elif f.name in ("due_at", "send_after"):
            columns.append((f, _DUE.format(**names)))
        else:
            columns.append((f, None))
    return columns


@cache
def _sql() -> str:
    c, s = Checkin._meta, CheckinStep._meta
    col = lambda name: _q(c.get_field(name).column)  # noqa: E731
    scol = lambda name: _q(s.get_field(name).column)  # noqa: E731
    columns = _columns()
    select = ", ".join("%s" if expr is None else expr for _, expr in columns)
    return (
        # The tier's active steps, in the plan's order (nothing when `schedule` is false).
        f"WITH steps AS (SELECT * FROM {_q(s.db_table)} WHERE {scol('tier')} = %s"  # noqa: S608
        f" AND {scol('active')} AND %s),"
        # Everything of the person's still open goes, except this episode's rows for these steps.
        f" cancelled AS (UPDATE {_q(c.db_table)} SET {col('status')} = %s,"
        f" {col('cancelled_reason')} = %s, {col('claim_token')} = NULL, {col('updated_at')} = %s"
        f" WHERE {col('person')} = %s AND {col('status')} IN ({', '.join(['%s'] * len(OPEN))})"
        f" AND NOT ({col('conversation')} = %s"
        f" AND {col('step')} IN (SELECT {scol('id')} FROM steps)))"
        f" INSERT INTO {_q(c.db_table)} ({', '.join(_q(f.column) for f, _ in columns)})"
        f" SELECT {select} FROM steps s"
        f" ORDER BY s.{scol('tier')} DESC, s.{scol('offset_days')}"
        f" ON CONFLICT ({col('conversation')}, {col('step')}) DO NOTHING"
    )


def schedule(
    *, person_id: int, conversation_id: int, tier: int, at: dt.datetime, steps: bool
) -> None:
    """Cancel the person's open check-ins but this episode's for the tier's active steps, and
    insert those steps' rows for the episode (none if `steps` is false). `at`: the outcome."""
    db = connection
    now_value = Checkin._meta.get_field("updated_at").get_db_prep_save(timezone.now(), db)
    at_value = Checkin._meta.get_field("due_at").get_db_prep_save(at, db)
    values = {"person": person_id, "conversation": conversation_id}
    row: list = []
    for f, expr in _columns():
        if expr is not None:
            if f.name in ("due_at", "send_after"):
                row.append(at_value)
            continue
        if f.name in values:
            row.append(values[f.name])
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            row.append(now_value)
        else:
            row.append(f.get_db_prep_save(f.get_default(), db))
    params = [
        tier,
        steps,
        Checkin.Status.CANCELLED.value,
        CANCELLED_REASON,
        now_value,
        person_id,
        *(status.value for status in OPEN),
        conversation_id,
        *row,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_sql(), params)
