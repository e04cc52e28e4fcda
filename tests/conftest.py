"""Shared fixtures: SMS (fake Twilio server, locmem outbox), Redis, and guards.

Guards that apply to every test:
- settings come from backpain_service/testenv.py: SMS_BACKEND=locmem, no real
  Twilio credentials, TWILIO_API_URL on a closed local port;
- any HTTP request to a *.twilio.com host fails the test;
- Celery tasks run inline, with or without REDIS_URL;
- with CI=true the session stops unless Postgres (DATABASE_URL) and Redis
  (REDIS_URL) are configured and reachable, so CI never passes by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings
from twilio.http.http_client import TwilioHttpClient

from tests.fake_twilio import FakeTwilio
from triage.sms import locmem
from triage.sms.twilio_http import Urllib3HttpClient

FAKE_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
FAKE_AUTH_TOKEN = "fake-twilio-auth-token"
FAKE_FROM_NUMBER = "+15005550006"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# Hypothesis profiles (tests/test_fuzz.py) ------------------------------------------------
# "ci": 10,000 examples a property, derandomized so a CI failure reproduces from the same
# commit, no deadline (shared CI machines are slow at times), no example database. "dev": a
# quick local run that keeps the failures it finds in .hypothesis/ and replays them first.
# HYPOTHESIS_PROFILE picks one explicitly, e.g. HYPOTHESIS_PROFILE=ci without CI=true.

FUZZ_HEALTH_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile(
    "ci",
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=FUZZ_HEALTH_CHECKS,
)
settings.register_profile(
    "dev", max_examples=300, deadline=None, suppress_health_check=FUZZ_HEALTH_CHECKS
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev"))


# CI service check ------------------------------------------------------------


def _ci_service_problems() -> list[str]:
    import psycopg
    import redis
    from django.conf import settings

    problems = []
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        problems.append(
            f"DATABASE_URL must be a postgres:// URL under CI, not {database['ENGINE']}"
        )
    else:
        params = {
            "dbname": database["NAME"],
            "user": database.get("USER"),
            "password": database.get("PASSWORD"),
            "host": database.get("HOST"),
            "port": database.get("PORT"),
        }
        try:
            psycopg.connect(**{k: v for k, v in params.items() if v}, connect_timeout=5).close()
        except psycopg.Error as exc:
            problems.append(f"cannot connect to Postgres at DATABASE_URL: {exc}")

    if not settings.REDIS_URL:
        problems.append("REDIS_URL must be set under CI")
    else:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            problems.append(f"cannot connect to Redis at REDIS_URL: {exc}")
    return problems


def pytest_sessionstart(session: pytest.Session) -> None:
    if in_ci() and (problems := _ci_service_problems()):
        pytest.exit("CI=true but services are missing:\n  " + "\n  ".join(problems), returncode=1)


# Guards ------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _never_reach_real_twilio() -> Iterator[None]:
    def guard(original: Any) -> Any:
        def guarded(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            host = (urlsplit(url).hostname or "").lower()
            if host == "twilio.com" or host.endswith(".twilio.com"):
                # pytest.fail raises a BaseException, so `except Exception` in the
                # code under test cannot swallow it.
                pytest.fail(f"a test tried to reach real Twilio: {method} {url}; use fake_twilio")
            return original(self, method, url, *args, **kwargs)

        return guarded

    with pytest.MonkeyPatch.context() as patch:
        # Both HTTP clients the Twilio backend may use (triage/sms/twilio.py).
        for client in (TwilioHttpClient, Urllib3HttpClient):
            patch.setattr(client, "request", guard(client.request))
        yield


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_run_inline() -> None:
    # No worker runs during the tests (but for the Celery integration test, which starts its
    # own processes): tasks run inline, the same with or without REDIS_URL.
    from backpain_service import celery_app

    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> None:
    locmem.outbox.clear()


@pytest.fixture(autouse=True)
def _fresh_content_cache() -> Iterator[None]:
    # Cached content outlives a test's rolled-back database (and, under CI, lives in the shared
    # Redis): every test starts and ends on a new content version.
    from triage.selectors import content_bump_version

    content_bump_version()
    yield
    content_bump_version()


# SMS fixtures --------------------------------------------------------------------


@pytest.fixture
def locmem_sms(settings: Any) -> list[locmem.OutboundSms]:
    """Texts sent during the test, oldest first (the default backend in tests)."""
    settings.SMS_BACKEND_CLASS = "triage.sms.locmem.LocmemBackend"
    locmem.outbox.clear()
    return locmem.outbox


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeTwilio]:
    """A running fake Twilio API with send_sms() routed to it through the real Twilio backend.

    Sends use FAKE_FROM_NUMBER; set settings.TWILIO_MESSAGING_SERVICE_SID to test that path.
    """
    with FakeTwilio(account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN) as fake:
        settings.SMS_BACKEND_CLASS = "triage.sms.twilio.TwilioBackend"
        settings.TWILIO_API_URL = fake.url
        settings.TWILIO_ACCOUNT_SID = FAKE_ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = FAKE_AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = FAKE_FROM_NUMBER
        settings.TWILIO_MESSAGING_SERVICE_SID = None
        yield fake


@pytest.fixture
def signed_webhook(settings: Any) -> str:
    """Twilio's webhooks checked as in production: a signature over the URL the request came to.

    Returns the token to sign with: the fake Twilio account's, as Twilio signs with the account's
    auth token (so it agrees with `fake_twilio` in a test that uses both). A module opts in with
    `pytestmark = pytest.mark.usefixtures("signed_webhook")`.
    """
    settings.TWILIO_AUTH_TOKEN = FAKE_AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURE = True
    settings.TWILIO_WEBHOOK_BASE_URL = None
    return FAKE_AUTH_TOKEN


# Services ------------------------------------------------------------------------


@pytest.fixture
def redis_url(settings: Any) -> str:
    """settings.REDIS_URL; skips without it on a developer machine, fails under CI."""
    if not settings.REDIS_URL:
        if in_ci():
            pytest.fail("REDIS_URL is not set, and CI must not skip Redis tests")
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    return str(settings.REDIS_URL)
