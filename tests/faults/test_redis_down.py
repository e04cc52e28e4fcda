"""Redis stopped, or hung, while texts arrive and check-ins come due.

Redis holds the content cache (triage.selectors) and the shared send-rate limit
(reminders.ratelimit); PostgreSQL holds everything that matters. So with Redis gone a text is
still answered (the content is read from the database instead) and stored, and a dispatcher
pass sends nothing but loses nothing: its claims go back to pending, and the check-ins go out
on the first pass after Redis is back, once each.

Redis is also Celery's broker: an emergency text's clinician alert is kicked to a worker after
its commit, and that publish must fail (the alert row stays for beat's next pass) rather than
hang the reply.

A private redis-server is stopped (connections refused) and paused with SIGSTOP (connections
hang until the client's socket timeout); the shared Redis is never touched.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from django.test import Client
from django.utils import timezone

from backpain_service import celery_app
from backpain_service.env import cache_config
from clinic.models import Alert
from reminders.dispatch import BUSY_RETRY, dispatch_due
from reminders.models import Checkin
from tests.conftest import FAKE_AUTH_TOKEN, in_ci
from tests.faults.conftest import PrivateRedis
from tests.faults.rows import due_checkins, open_all_day
from tests.faults.scripted_twilio import ScriptedTwilio, point_settings_at
from tests.faults.support import Background, report
from tests.scripts import ROUTINE_EN, text_signed
from triage.models import Conversation, Message, Person
from triage.rules import Tier
from triage.selectors import content_bump_version

pytestmark = pytest.mark.django_db

DUE = 30  # check-ins that come due while Redis is away


@dataclass
class Outage:
    redis: PrivateRedis
    twilio: ScriptedTwilio

    def begin(self, how: str) -> None:
        self.redis.stop() if how == "stopped" else self.redis.pause()
        with pytest.raises(redis.RedisError):
            redis.Redis.from_url(self.redis.url, socket_timeout=0.5).ping()

    def end(self) -> None:
        self.redis.resume()
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.start()


@pytest.fixture
def outage(settings: Any, private_redis: PrivateRedis) -> Iterator[Outage]:
    """Cache and rate limiter on the private Redis, texts to a fake Twilio; Redis is running
    again (and empty) afterwards."""
    private_redis.stop()
    private_redis.start()
    settings.REDIS_URL = private_redis.url
    settings.CACHES = {"default": cache_config(private_redis.url)}
    # A rate above zero is what puts the limiter in Redis.
    settings.CHECKIN_MAX_PER_SECOND = 200
    content_bump_version()
    with ScriptedTwilio() as fake:
        point_settings_at(settings, fake)
        try:
            yield Outage(private_redis, fake)
        finally:
            private_redis.stop()
            private_redis.start()


def routine_replies(client: Client, number: str, texts: list[str]) -> list[list[str]]:
    return [text_signed(client, number, body, token=FAKE_AUTH_TOKEN) for body in texts]


def assert_triaged(number: str, texts: int) -> None:
    person = Person.objects.get(address=number)
    inbound = Message.objects.filter(person=person, direction=Message.Direction.INBOUND)
    assert inbound.count() == texts, "every text is stored"
    conv = Conversation.objects.get(person=person, status=Conversation.Status.ACTIVE)
    assert conv.tier == Tier.ROUTINE
    assert Checkin.objects.filter(person=person, status=Checkin.Status.PENDING).count() == 2


@pytest.mark.parametrize("how", ["stopped", "paused"])
def test_it_answers_and_stores_every_text_while_redis_is_away(
    outage: Outage, client: Client, how: str
) -> None:
    expected = routine_replies(client, "+15557000001", ROUTINE_EN)  # Redis up: the reference
    assert all(expected), "every text of the script gets an answer"

    half = 3
    replies = routine_replies(client, "+15557000002", ROUTINE_EN[:half])
    outage.begin(how)
    # A paused Redis costs each text one socket timeout, so that script is shorter.
    rest = ROUTINE_EN[half:] if how == "stopped" else ROUTINE_EN[half : half + 2]
    replies += routine_replies(client, "+15557000002", rest)
    outage.end()

    assert replies == expected[: len(replies)]
    if how == "stopped":
        assert_triaged("+15557000002", len(ROUTINE_EN))
    assert Message.objects.filter(
        person__address="+15557000002", direction=Message.Direction.INBOUND
    ).count() == len(replies)
    report(f"redis {how}: {len(rest)} texts answered and stored while Redis was away")


@pytest.mark.parametrize("how", ["stopped", "paused"])
def test_it_sends_checkins_that_came_due_once_redis_is_back(outage: Outage, how: str) -> None:
    open_all_day()
    rows = due_checkins(DUE, prefix=700)
    fake = outage.twilio
    outage.begin(how)

    with pytest.raises(redis.RedisError):
        dispatch_due()
    assert fake.requests == [], "nothing is sent without the shared rate limit"
    statuses = Counter(Checkin.objects.values_list("status", flat=True))
    assert statuses == {Checkin.Status.PENDING: DUE}, "claims handed back, nothing failed"
    assert set(Checkin.objects.values_list("attempts", flat=True)) == {0}

    outage.end()
    later = timezone.now() + BUSY_RETRY + dt.timedelta(seconds=1)
    summary = dispatch_due(now=later)

    assert summary.sent == DUE, summary.line()
    assert Counter(fake.numbers()) == Counter({row.person.phone: 1 for row in rows})
    assert Checkin.objects.filter(status=Checkin.Status.SENT).count() == DUE
    report(f"redis {how}: {DUE} check-ins due during the outage sent once after it")


@pytest.fixture
def real_broker(outage: Outage, settings: Any) -> Iterator[None]:
    """Celery publishes to the private Redis for real (the suite otherwise runs tasks inline)."""
    conf = celery_app.conf
    saved = {k: conf[k] for k in ("broker_url", "task_always_eager", "broker_transport_options")}
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if "visibility_timeout" not in options:
        reason = "the broker's Redis options are only in the settings with REDIS_URL set"
        pytest.fail(reason) if in_ci() else pytest.skip(reason)
    conf.update(broker_url=outage.redis.url, task_always_eager=False)
    conf.broker_transport_options = options

    def fresh_pools() -> None:
        # The producer pools were made for the previous broker URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    fresh_pools()
    try:
        yield
    finally:
        conf.update(saved)
        fresh_pools()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("how", ["stopped", "paused"])
def test_it_answers_an_emergency_while_the_broker_is_away(
    outage: Outage, real_broker: None, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The alert kick (after the commit, before the reply) fails instead of hanging."""
    outage.begin(how)
    reply = Background(
        lambda: text_signed(Client(), "+15557000003", "cant feel my legs", token=FAKE_AUTH_TOKEN),
        "emergency text",
    )
    reply.start()
    # A guard against hanging, not a speed requirement (Twilio itself waits 15 s).
    answered = reply.result(timeout=60)
    outage.end()

    assert answered and any("911" in text for text in answered)  # type: ignore[union-attr]
    conv = Conversation.objects.get(person__address="+15557000003")
    assert conv.tier == Tier.EMERGENCY
    assert Alert.objects.filter(conversation=conv).count() == 1, "the alert waits for beat"
    assert "could not start the alert notifier" in caplog.text, "the kick tried the broker"
    report(f"broker {how}: an emergency text answered, its alert stored for the next pass")
