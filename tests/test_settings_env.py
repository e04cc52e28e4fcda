"""Tests for backpain_service/env.py: every bad environment value stops start-up, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backpain_service import env

REPO = Path(__file__).resolve().parent.parent
TWILIO_OK = {
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM_NUMBER": "+15005550006",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("1", True),
        ("YES", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("Off", False),
    ],
)
def test_it_parses_booleans(raw: str, expected: bool) -> None:
    assert env.env_bool({"DEBUG": raw}, "DEBUG", default=not expected) is expected


def test_it_uses_the_default_for_unset_or_empty_booleans() -> None:
    assert env.env_bool({}, "DEBUG", default=True) is True
    assert env.env_bool({"DEBUG": " "}, "DEBUG", default=False) is False


def test_it_rejects_a_non_boolean_naming_the_setting() -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.env_bool({"DEBUG": "maybe"}, "DEBUG", default=False)
    assert str(excinfo.value) == "DEBUG must be a boolean (true/false/1/0/yes/no), got 'maybe'"


def test_it_splits_comma_lists() -> None:
    assert env.env_list({"ALLOWED_HOSTS": "a.org, b.org,,"}, "ALLOWED_HOSTS") == ["a.org", "b.org"]
    assert env.env_list({}, "ALLOWED_HOSTS", default=["x"]) == ["x"]


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan"])
def test_it_rejects_timeouts_that_are_not_positive_numbers(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="TWILIO_TIMEOUT"):
        env.env_float({"TWILIO_TIMEOUT": raw}, "TWILIO_TIMEOUT", default=10.0)


def test_it_parses_a_timeout() -> None:
    assert env.env_float({"TWILIO_TIMEOUT": "2.5"}, "TWILIO_TIMEOUT", default=10.0) == 2.5


def test_it_requires_a_secret_key_when_not_debugging() -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env.secret_key({}, debug=False)
    assert env.secret_key({}, debug=True).startswith("django-insecure")
    assert env.secret_key({"SECRET_KEY": "s3cret"}, debug=False) == "s3cret"


def test_it_parses_the_default_sqlite_url() -> None:
    config = env.database_config("sqlite:////srv/backcheck/var/db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/backcheck/var/db.sqlite3"


def test_it_parses_postgres_urls_with_persistent_checked_connections() -> None:
    config = env.database_config("postgres://app:p%40ss@db.internal:5433/backcheck")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("app", "p@ss")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "backcheck")
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True
    options = config["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 5)


def test_prepared_statements_can_be_turned_off_in_the_url_for_a_transaction_pooler() -> None:
    url = "postgres://app@pgbouncer:6432/backcheck?server_side_binding=false&prepare_threshold=none"
    options = env.database_config(url)["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (False, None)
    options = env.database_config("postgres://a@h/db?prepare_threshold=0")["OPTIONS"]
    assert options["prepare_threshold"] == 0


@pytest.mark.parametrize(
    ("query", "setting"),
    [("server_side_binding=nope", "server_side_binding"), ("prepare_threshold=x", "threshold")],
)
def test_a_bad_prepared_statement_option_names_itself(query: str, setting: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"DATABASE_URL.*{setting}"):
        env.database_config(f"postgres://a@h/db?{query}")


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "db.sqlite3", "postgres://u@h:port/db", "postgres://u@h/"]
)
def test_it_rejects_database_urls_it_cannot_use(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database_config(url)


def test_it_uses_redis_for_the_cache_only_when_configured() -> None:
    assert env.cache_config(None)["BACKEND"].endswith("LocMemCache")
    redis = env.cache_config("redis://127.0.0.1:6379/0")
    assert redis == {
        "BACKEND": "backpain_service.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        # a hung Redis costs a text a second, not redis-py's 5 s a call (tests/faults)
        "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
    }


@pytest.mark.parametrize(
    ("name", "value", "schemes"),
    [
        ("REDIS_URL", "http://127.0.0.1:6379", ("redis", "rediss")),
        ("REDIS_URL", "127.0.0.1:6379", ("redis", "rediss")),
        ("TWILIO_API_URL", "ftp://api.twilio.com", ("http", "https")),
        ("TWILIO_API_URL", "https://", ("http", "https")),
    ],
)
def test_it_rejects_urls_with_the_wrong_scheme(name: str, value: str, schemes: tuple[str]) -> None:
    with pytest.raises(ImproperlyConfigured, match=name):
        env.env_url({name: value}, name, schemes)


def test_it_strips_the_trailing_slash_from_urls() -> None:
    assert env.env_url({"U": "https://x.org/"}, "U", ("https",)) == "https://x.org"


def test_it_rejects_a_webhook_base_url_that_is_not_http() -> None:
    with pytest.raises(ImproperlyConfigured, match="TWILIO_WEBHOOK_BASE_URL"):
        env.origin_url({"TWILIO_WEBHOOK_BASE_URL": "sms.example.org"}, "TWILIO_WEBHOOK_BASE_URL")
    with pytest.raises(ImproperlyConfigured, match="TWILIO_WEBHOOK_BASE_URL"):
        env.origin_url({"TWILIO_WEBHOOK_BASE_URL": "https://x.org/?a=1"}, "TWILIO_WEBHOOK_BASE_URL")


def test_it_rejects_an_unknown_log_level() -> None:
    assert env.log_level({"LOG_LEVEL": "debug"}) == "DEBUG"
    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL"):
        env.log_level({"LOG_LEVEL": "chatty"})


def test_it_defaults_to_the_console_sms_backend_without_twilio_credentials() -> None:
    assert env.sms_backend_class({}) == "triage.sms.console.ConsoleBackend"


def test_it_defaults_to_twilio_when_twilio_is_configured() -> None:
    assert env.sms_backend_class(TWILIO_OK) == "triage.sms.twilio.TwilioBackend"


def test_it_accepts_a_messaging_service_instead_of_a_from_number() -> None:
    config = {**TWILIO_OK, "TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG1"}
    assert env.sms_backend_class(config) == "triage.sms.twilio.TwilioBackend"


def test_it_lets_sms_backend_override_the_default() -> None:
    assert env.sms_backend_class({**TWILIO_OK, "SMS_BACKEND": "locmem"}).endswith("LocmemBackend")


def test_it_rejects_an_unknown_sms_backend() -> None:
    with pytest.raises(ImproperlyConfigured, match="SMS_BACKEND.*carrier-pigeon"):
        env.sms_backend_class({"SMS_BACKEND": "carrier-pigeon"})


@pytest.mark.parametrize(
    "missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"]
)
def test_it_rejects_the_twilio_backend_without_its_settings(missing: str) -> None:
    config = {**TWILIO_OK, "SMS_BACKEND": "twilio"}
    del config[missing]
    with pytest.raises(ImproperlyConfigured, match=f"SMS_BACKEND=twilio needs .*{missing}"):
        env.sms_backend_class(config)


def test_it_allows_skipping_signature_validation_only_when_debugging() -> None:
    off = {"TWILIO_VALIDATE_SIGNATURE": "false"}
    assert env.validate_signature(off, debug=True) is False
    assert env.validate_signature({}, debug=False) is True
    with pytest.raises(ImproperlyConfigured, match="TWILIO_VALIDATE_SIGNATURE"):
        env.validate_signature(off, debug=False)


def test_it_refuses_to_start_with_a_bad_setting() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**os.environ, "DEBUG": "maybe"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DEBUG must be a boolean (true/false/1/0/yes/no), got 'maybe'" in result.stderr


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("CHECKIN_MAX_PER_SECOND", "-1", "CHECKIN_MAX_PER_SECOND must be a number of at least 0"),
        ("CHECKIN_MAX_PER_SECOND", "fast", "CHECKIN_MAX_PER_SECOND must be a number, got 'fast'"),
        ("CHECKIN_BATCH_SIZE", "2.5", "CHECKIN_BATCH_SIZE must be a whole number, got '2.5'"),
        ("CHECKIN_BATCH_SIZE", "0", "CHECKIN_BATCH_SIZE must be a whole number of at least 1"),
        ("CHECKIN_LEASE_SECONDS", "5", "CHECKIN_LEASE_SECONDS must be a number of at least 10"),
        ("CHECKIN_DEFAULT_TIMEZONE", "Mars/Base", "CHECKIN_DEFAULT_TIMEZONE must be a time zone"),
    ],
)
def test_it_refuses_to_start_with_a_bad_checkin_setting(name: str, raw: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**os.environ, name: raw},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_it_reads_checkin_numbers() -> None:
    assert env.env_number({"X": "2.5"}, "X", 1.0, minimum=0) == 2.5
    assert env.env_number({}, "X", 1.0, minimum=0) == 1.0
    assert env.env_number({"X": "0"}, "X", 1.0, minimum=0) == 0
    assert env.env_number({"X": "200"}, "X", 100, minimum=1, integer=True) == 200
    assert env.env_timezone({"TZ_NAME": "Europe/London"}, "TZ_NAME", "UTC") == "Europe/London"
