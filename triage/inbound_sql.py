"""The inbound webhook's statements for a text mid-conversation, as plain SQL on PostgreSQL.

Building these statements with the ORM on every text cost more CPU than PostgreSQL spent
running them (benchmarks/webhook.py: about 1.2 ms of Python for the lock alone): here each is
built once per process from the models' metadata and its rows become model instances as the
ORM would make them (the same field conversions on the way in and out). Two statements:

- the person and their active conversation, locked together, the person first, exactly as
  `triage.services._person_locked` does with the ORM (and, for someone without one, the
  person alone, or a new person's INSERT with their erased-number lookup, and their first
  conversation's INSERT);
- the write (`text_store`): the INSERT of the text with its replies, the conversation's UPDATE,
  the person's if a text changed them (language, STOP), and the count of the sender's recent
  texts that the inbound limits need, all in one statement.

PostgreSQL only (`enabled()`); SQLite, used in development and by half the test runs, takes
the ORM path in triage/services.py, so both paths are tested. Rows are written without save():
Person, Conversation and Message have no save() of their own and no save signals
(tests/test_inbound_sql.py fails if one appears).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Field, Model
from django.utils import timezone

from triage import inbound_limits
from triage.models import Conversation, Message, Person, Suppression

Converter = Callable[[Any, Any, Any], Any]


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _fields(model: type[Model], *, with_pk: bool = True) -> list[Field]:
    return [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]


@cache
def _converters(model: type[Model]) -> list[tuple[int, list[Converter], Any]]:
    """Per column that needs one, the conversions the ORM applies to a value read (JSON)."""
    table = model._meta.db_table
    found = []
    for i, f in enumerate(_fields(model)):
        col = f.get_col(table)
        funcs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        if funcs:
            found.append((i, funcs, col))
    return found


def _db() -> Any:
    # The connection itself: each attribute read through django.db.connection (a proxy) looks
    # it up again, and preparing a text's rows reads hundreds.
    return connections[DEFAULT_DB_ALIAS]


def _instance(model: type[Model], values: Sequence[Any]) -> Model:
    values = list(values)
    db = _db()
    for i, funcs, col in _converters(model):
        for func in funcs:
            values[i] = func(values[i], col, db)
    return model.from_db(db.alias, None, values)


@cache
def _lock_sql() -> str:
    person, conv = Person._meta, Conversation._meta
    columns = [f"p.{_q(f.column)}" for f in _fields(Person)]
    columns += [f"c.{_q(f.column)}" for f in _fields(Conversation)]
    person_fk = conv.get_field("person").column
    return (
        f"SELECT {', '.join(columns)} FROM {_q(conv.db_table)} c"  # noqa: S608
        f" JOIN {_q(person.db_table)} p ON p.{_q(person.pk.column)} = c.{_q(person_fk)}"
        f" WHERE p.{_q('address')} = %s AND c.{_q('status')} = %s"
        f" ORDER BY c.{_q(conv.pk.column)} LIMIT 1"
        # The person first, as everywhere that locks both (no deadlock).
        " FOR NO KEY UPDATE OF p, c"
    )


def person_and_conversation_locked(address: str) -> tuple[Person, Conversation] | None:
    """The sender and their active conversation, both locked; None if there is no such pair."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), [address, Conversation.Status.ACTIVE.value])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_fields(Person))
    person = _instance(Person, row[:split])
    conv = _instance(Conversation, row[split:])
    Conversation.person.field.set_cached_value(conv, person)
    return person, conv


@cache
def _store_sql(person_fields: tuple[str, ...], count: bool) -> str:
    msg = Message._meta
    fields = _fields(Message, with_pk=False)
    db = _db()
    cast = lambda f: f"%s::{f.cast_db_type(db)}"  # noqa: E731 - typed: UNION infers no types
    names = [f"v{i}" for i in range(len(fields))]
    inbound = ", ".join(f"{cast(f)} AS {n}" for f, n in zip(fields, names, strict=True))
    # The replies: one row per body of the array, every other column the same.
    reply = ", ".join("r.body" if f.name == "body" else cast(f) for f in fields)
    insert = (
        f"INSERT INTO {_q(msg.db_table)} ({', '.join(_q(f.column) for f in fields)})"  # noqa: S608
        f" SELECT {', '.join(names)} FROM (SELECT 0 AS n, {inbound}"
        f" UNION ALL SELECT r.n, {reply} FROM unnest(%s::text[]) WITH ORDINALITY AS r(body, n))"
        # In this order: ids (and so transcripts) keep it, the text before its replies.
        f" AS rows ORDER BY n RETURNING {_q(msg.pk.column)}"
        + (", (SELECT n FROM recent)" if count else "")
    )
    # A data-modifying WITH runs whether or not the INSERT reads it: one statement, one round
    # trip, for what person.save(), conv.save() and bulk_create() did in three.
    person = Person._meta
    updates = []
    if count:
        # The sender's texts before this one since a time, up to a limit: read with this
        # statement's snapshot, taken with the lock held, as inbound_limits counts them.
        updates.append(f"recent AS ({inbound_limits.RECENT_SQL})")
    if person_fields:
        sets = ", ".join(f"{_q(person.get_field(f).column)} = %s" for f in person_fields)
        updates.append(
            f"person_saved AS (UPDATE {_q(person.db_table)} SET {sets}"  # noqa: S608
            f" WHERE {_q(person.pk.column)} = %s)"
        )
    conv = Conversation._meta
    sets = ", ".join(f"{_q(f.column)} = %s" for f in _fields(Conversation, with_pk=False))
    updates.append(
        f"saved AS (UPDATE {_q(conv.db_table)} SET {sets}"  # noqa: S608
        f" WHERE {_q(conv.pk.column)} = %s)"
    )
    return f"WITH {', '.join(updates)} {insert}"


# Per kind of field, the Python types whose database value is the value itself (what
# get_db_prep_save returns for them on PostgreSQL, unchanged): most of a text's values, which
# skip the conversion calls. Anything else (JSON, enum members, naive datetimes, an int in a
# CharField) is converted as save() converts it.
_AS_IS: tuple[tuple[type[Field], tuple[type, ...]], ...] = (
    (models.ForeignKey, (int,)),
    (models.CharField, (str,)),
    (models.TextField, (str,)),
    (models.BooleanField, (bool,)),
    (models.IntegerField, (int,)),
    (models.DateTimeField, (dt.datetime,)),
)
_STANDARD_PREP = {f.get_db_prep_save for f in (Field, models.ForeignKey)}


@cache
def _as_is(field: Field) -> tuple[type, ...]:
    if type(field).get_db_prep_save not in _STANDARD_PREP:
        return ()
    return next((types for kind, types in _AS_IS if isinstance(field, kind)), ())


def _prepared(obj: Model, fields: list[Field], add: bool) -> list[Any]:
    # pre_save fills auto_now(_add) times, as save() and bulk_create() do.
    db = _db()
    values = []
    for f in fields:
        value = f.pre_save(obj, add)
        if value is not None and (
            type(value) not in _as_is(f)
            or (type(value) is dt.datetime and value.tzinfo is None)  # made aware, warned
        ):
            value = f.get_db_prep_save(value, db)
        values.append(value)
    return values


def text_store(
    inbound: Message,
    replies: Sequence[str],
    *,
    reply: Message,
    conversation: Conversation,
    person: Person,
    person_fields: Sequence[str] = (),
    recent_since: dt.datetime | None = None,
) -> int | None:
    """Store a handled text in one statement: INSERT the text and its replies (`reply` with
    each body of `replies`, in order, after the text: ids keep that order), UPDATE every field
    of `conversation` (its save()) and `person_fields` of `person` (its
    save(update_fields=...)). The statement has one shape whatever the number of replies, so
    psycopg prepares it once and keeps its parameters under its cache's limit of 50.

    With `recent_since`, returns how many texts the person sent since then before this one,
    counted up to the limit, as inbound_limits counts them (None without)."""
    params: list[Any] = []
    person_fields = tuple(person_fields)
    count = recent_since is not None
    if count:
        params += inbound_limits.recent_params(person.pk, recent_since)
    if person_fields:
        params += _prepared(person, [Person._meta.get_field(f) for f in person_fields], False)
        params.append(person.pk)
    params += _prepared(conversation, _fields(Conversation, with_pk=False), False)
    params.append(conversation.pk)
    fields = _fields(Message, with_pk=False)
    params += _prepared(inbound, fields, True)
    template = zip(fields, _prepared(reply, fields, True), strict=True)
    params += [value for f, value in template if f.name != "body"]
    params.append(list(replies))
    with connection.cursor() as cursor:
        cursor.execute(_store_sql(person_fields, count), params)
        row = cursor.fetchone()
    inbound.pk = row[0]
    _saved(inbound)
    return row[1] if count else None


@cache
def _person_lock_sql() -> str:
    person = Person._meta
    columns = ", ".join(_q(f.column) for f in _fields(Person))
    return (
        f"SELECT {columns} FROM {_q(person.db_table)}"  # noqa: S608
        f" WHERE {_q('address')} = %s FOR NO KEY UPDATE"
    )


def person_locked(address: str) -> Person | None:
    with connection.cursor() as cursor:
        cursor.execute(_person_lock_sql(), [address])
        row = cursor.fetchone()
    return None if row is None else _instance(Person, row)


@cache
def _person_insert_sql() -> str:
    person, suppression = Person._meta, Suppression._meta
    fields = _fields(Person, with_pk=False)
    opted_out = person.get_field("opted_out_at")
    # An erased person texting again is never texted first: opted out from the start, unless
    # the row already says when (their suppression is looked up in the same statement).
    suppressed = (
        f"COALESCE(%s, CASE WHEN EXISTS (SELECT 1 FROM {_q(suppression.db_table)}"  # noqa: S608
        f" WHERE {_q('address_hash')} = %s) THEN %s END)"
    )
    values = ", ".join(suppressed if f is opted_out else "%s" for f in fields)
    return (
        f"INSERT INTO {_q(person.db_table)} ({', '.join(_q(f.column) for f in fields)})"  # noqa: S608
        f" SELECT {values}"
        f" ON CONFLICT ({_q('address')}) DO NOTHING"
        f" RETURNING {_q(person.pk.column)}, {_q(opted_out.column)}"
    )


def person_insert(person: Person, *, address_hash: str) -> bool:
    """INSERT a new person, opted out at once if `address_hash` is suppressed (an erased
    number); False if a concurrent request stored that address first (ON CONFLICT waits for
    it to commit: lock that row instead). No savepoint needed, unlike catching the
    IntegrityError of a plain INSERT."""
    fields = _fields(Person, with_pk=False)
    opted_out = Person._meta.get_field("opted_out_at")
    params: list[Any] = []
    for f, value in zip(fields, _prepared(person, fields, True), strict=True):
        params.append(value)
        if f is opted_out:
            params += [address_hash, f.get_db_prep_save(timezone.now(), _db())]
    with connection.cursor() as cursor:
        cursor.execute(_person_insert_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return False
    person.pk = row[0]
    person.opted_out_at = row[1]
    _saved(person)
    return True


@cache
def _insert_sql(model: type[Model]) -> str:
    fields = _fields(model, with_pk=False)
    return (
        f"INSERT INTO {_q(model._meta.db_table)}"  # noqa: S608
        f" ({', '.join(_q(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {_q(model._meta.pk.column)}"
    )


def insert(obj: Model) -> None:
    """INSERT a new row, as obj.save() would (for a model without a save() of its own)."""
    params = _prepared(obj, _fields(type(obj), with_pk=False), True)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(obj)), params)
        obj.pk = cursor.fetchone()[0]
    _saved(obj)


def _saved(obj: Model) -> None:
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
